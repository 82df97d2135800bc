//! `app-config-from-git/`: an app's definition read from a git repository.
//!
//! The repository is cloned (shallow, one branch) into a fresh temporary directory, and its
//! `conda-project.yml` `variables:` become the app: `JHUB_APP_CONFIG_<field>` variables fill
//! the form's fields, every other variable goes to `env`. The answer keeps jhub-apps' shape
//! (`JHubAppConfig`) and its error wording, but not its holes:
//! - only `https://`, `http://` and `git://` URLs are cloned, unless the operator allows
//!   local repositories (`c.JAppsConfig.allow_local_git_repositories`): never `ssh`, `ext::`
//!   or other remote helpers. Git itself is told the same (`GIT_ALLOW_PROTOCOL`), so a
//!   redirect or a submodule cannot switch to another transport either;
//! - git runs with an empty environment (no service token reaches it), a private `HOME`,
//!   no system or global git configuration, no hooks, no prompts, no credential helpers;
//! - a clone is stopped (its whole process group killed) when it takes longer than
//!   `git_clone_timeout` or writes more than `git_clone_max_bytes`; at most
//!   [`MAX_CONCURRENT_CLONES`] run at once; the temporary directory is always removed;
//! - `config_directory`, `conda-project.yml` and `thumbnail_path` must stay inside the clone,
//!   symbolic links included (jhub-apps returns any file of the service's host through
//!   `thumbnail_path`);
//! - the thumbnail goes through the same checks as an upload (content type, size, scaled
//!   down);
//! - credentials in a URL are never echoed in an error or written to the log, and git's own
//!   messages are only logged (they could map the service's network for the caller).
//!
//! Relative paths in the variables (`filepath`, `thumbnail_path`) are relative to the
//! repository's root, as in jhub-apps (and as jhub-app-proxy runs the app).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use japps_domain::JAppsConfig;
use serde::{Deserialize, Serialize};
use serde_norway::Value as Yaml;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;
use utoipa::ToSchema;

use crate::application::thumbnails::{self, ThumbnailPolicy};
use crate::error::ServiceError;

/// Clones running at once; further requests wait (within their time limit).
pub(crate) const MAX_CONCURRENT_CLONES: usize = 4;
/// The largest `conda-project.yml` read.
const MAX_PROJECT_FILE_BYTES: u64 = 1024 * 1024;
/// How often the clone's size is measured.
const SIZE_POLL: Duration = Duration::from_millis(100);
/// How much of git's error output is kept for the log.
const MAX_GIT_STDERR: usize = 4096;
/// The longest URL, ref or path accepted.
const MAX_INPUT_CHARS: usize = 4096;
/// The variables that name app fields start with this.
const FIELD_PREFIX: &str = "JHUB_APP_CONFIG_";
/// Variables of the process environment git still gets: the way out (proxies) and the
/// certificates it trusts.
const PASSED_ENV: [&str; 14] = [
    "PATH",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "TZ",
];

static CLONES: Semaphore = Semaphore::const_new(MAX_CONCURRENT_CLONES);

/// The repository to read: the request body, echoed in the answer (jhub-apps'
/// `Repository`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct GitRepository {
    /// An `https://`, `http://` or `git://` URL.
    #[schema(example = "https://github.com/example/dashboard.git")]
    pub(crate) url: String,
    /// The directory of `conda-project.yml`, relative to the repository's root.
    #[schema(default = ".", example = ".")]
    pub(crate) config_directory: String,
    /// The branch or tag to clone.
    #[serde(rename = "ref")]
    #[schema(default = "main", example = "main")]
    pub(crate) git_ref: String,
}

/// The body as sent: `config_directory` and `ref` may be missing or null.
#[derive(Debug, Deserialize)]
struct RepositoryBody {
    url: Option<String>,
    config_directory: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

impl GitRepository {
    /// Parses the request body: JSON `{url, config_directory=".", ref="main"}`.
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, ServiceError> {
        let body: RepositoryBody = serde_json::from_slice(body).map_err(|err| {
            ServiceError::BadRequest(format!(
                "the body must be JSON {{\"url\": ..., \"config_directory\": \".\", \"ref\": \"main\"}}: {err}"
            ))
        })?;
        let url = body
            .url
            .filter(|url| !url.is_empty())
            .ok_or_else(|| ServiceError::BadRequest("`url` is required".into()))?;
        Ok(Self {
            url,
            config_directory: body
                .config_directory
                .filter(|dir| !dir.is_empty())
                .unwrap_or_else(|| ".".to_owned()),
            git_ref: body.git_ref.unwrap_or_else(|| "main".to_owned()),
        })
    }
}

/// An app's definition read from a repository (jhub-apps' `JHubAppConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub(crate) struct JHubAppConfig {
    pub(crate) display_name: String,
    pub(crate) description: String,
    /// The repository's thumbnail as a `data:` URL (checked and scaled down like an
    /// upload), or `""`.
    pub(crate) thumbnail: String,
    /// Relative to the repository's root.
    pub(crate) filepath: String,
    /// A name from `frameworks/`.
    pub(crate) framework: String,
    pub(crate) custom_command: String,
    pub(crate) public: bool,
    pub(crate) keep_alive: bool,
    /// Every variable of `conda-project.yml` that does not name a field.
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) repository: GitRepository,
}

/// The operator's limits on cloning.
#[derive(Debug, Clone)]
pub(crate) struct GitPolicy {
    /// `file://` URLs and local paths may be cloned.
    pub(crate) allow_local: bool,
    pub(crate) timeout: Duration,
    pub(crate) max_bytes: u64,
    pub(crate) thumbnail: ThumbnailPolicy,
    /// Where the temporary clones go (the system's temporary directory).
    pub(crate) temp_root: PathBuf,
}

impl GitPolicy {
    pub(crate) fn from_config(config: &JAppsConfig) -> Self {
        Self {
            allow_local: config.allow_local_git_repositories,
            timeout: Duration::from_secs(config.git_clone_timeout.max(1)),
            max_bytes: config.git_clone_max_bytes,
            thumbnail: ThumbnailPolicy::from_config(config),
            temp_root: std::env::temp_dir(),
        }
    }
}

/// Clones the repository and reads the app's definition from it. Runs to its end (or its
/// time limit) once started, so callers should spawn it: the temporary clone is then
/// removed even when the client goes away.
pub(crate) async fn app_config_from_git(
    repository: GitRepository,
    policy: GitPolicy,
) -> Result<JHubAppConfig, ServiceError> {
    let source = check_url(&repository.url, policy.allow_local)?;
    check_ref(&repository.git_ref)?;
    check_length("config_directory", &repository.config_directory)?;
    let shown = display_url(&repository.url);
    let failed = |reason: &str| {
        tracing::warn!(url = %shown, git_ref = %repository.git_ref, reason, "repository clone failed");
        ServiceError::BadRequest(format!("Repository clone failed: {shown}"))
    };

    let deadline = Instant::now() + policy.timeout;
    let Ok(Ok(_permit)) = tokio::time::timeout_at(deadline, CLONES.acquire()).await else {
        return Err(failed("too many clones in progress"));
    };
    let temp_root = policy.temp_root.clone();
    let work = tokio::task::spawn_blocking(move || {
        tempfile::Builder::new()
            .prefix("japps-git-")
            .tempdir_in(temp_root)
            .and_then(|dir| std::fs::create_dir(dir.path().join("home")).map(|()| dir))
    })
    .await
    .map_err(|_| failed("could not create a temporary directory"))?
    .map_err(|err| failed(&format!("could not create a temporary directory: {err}")))?;

    let cloned = clone(&source, &repository, work.path(), &policy, deadline).await;
    let result = match cloned {
        Ok(()) => {
            let root = work.path().join("repo");
            let repository = repository.clone();
            let policy = policy.clone();
            tokio::task::spawn_blocking(move || read_app_config(&root, repository, &policy))
                .await
                .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()))
        }
        Err(err) => {
            let detail = err.user_detail(&policy);
            if let CloneError::Spawn(spawn) = &err {
                tracing::error!(error = %spawn, "git could not be run: is it installed?");
            }
            tracing::warn!(
                url = %shown,
                git_ref = %repository.git_ref,
                reason = %err,
                "repository clone failed"
            );
            Err(ServiceError::BadRequest(match detail {
                Some(detail) => format!("Repository clone failed: {shown} ({detail})"),
                None => format!("Repository clone failed: {shown}"),
            }))
        }
    };
    let path = work.path().to_owned();
    match tokio::task::spawn_blocking(move || work.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            tracing::error!(path = %path.display(), error = %err, "could not remove a clone");
        }
        Err(err) => {
            tracing::error!(path = %path.display(), error = %err, "could not remove a clone")
        }
    }
    result
}

// --- what may be cloned ----------------------------------------------------------------

/// The transports git may use for a clone.
fn protocols(allow_local: bool) -> &'static [&'static str] {
    if allow_local {
        &["https", "http", "git", "file"]
    } else {
        &["https", "http", "git"]
    }
}

/// Checks a repository URL against the policy and returns what git is given: the URL as
/// parsed (so git sees what was checked), or a local path when those are allowed.
pub(crate) fn check_url(url: &str, allow_local: bool) -> Result<String, ServiceError> {
    let refused = || {
        ServiceError::BadRequest(format!(
            "Repository URL not allowed: {} (use an https://, http:// or git:// URL{})",
            display_url(url),
            if allow_local {
                ", a file:// URL or an absolute path"
            } else {
                ""
            }
        ))
    };
    if url.chars().count() > MAX_INPUT_CHARS
        || url.starts_with('-')
        || url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(refused());
    }
    match Url::parse(url) {
        Ok(parsed) => {
            let scheme = parsed.scheme();
            // `Url` accepts `https:host`; git wants the `//`, and so do we.
            let spelled = url
                .get(..scheme.len() + 3)
                .is_some_and(|start| start.eq_ignore_ascii_case(&format!("{scheme}://")));
            let allowed = match scheme {
                "https" | "http" | "git" => parsed.host_str().is_some_and(|h| !h.is_empty()),
                "file" => allow_local && parsed.host_str().is_none_or(str::is_empty),
                _ => false,
            };
            if spelled && allowed {
                Ok(parsed.to_string())
            } else {
                Err(refused())
            }
        }
        // Not a URL: `/srv/repo`, `host:path`, `./repo`, `ext::cmd`…
        Err(_) if allow_local && url.starts_with('/') => Ok(url.to_owned()),
        Err(_) => Err(refused()),
    }
}

/// A branch or tag name git would accept (a subset of `git check-ref-format`).
fn check_ref(git_ref: &str) -> Result<(), ServiceError> {
    let valid = !git_ref.is_empty()
        && git_ref.chars().count() <= 255
        && !git_ref.starts_with(['-', '/', '.'])
        && !git_ref.ends_with(['/', '.'])
        && !git_ref.ends_with(".lock")
        && !git_ref.contains("..")
        && !git_ref.contains("@{")
        && !git_ref.contains("//")
        && !git_ref.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        });
    if valid {
        Ok(())
    } else {
        Err(ServiceError::BadRequest(format!(
            "ref {:?} is not a valid branch or tag name",
            truncate(git_ref)
        )))
    }
}

fn check_length(field: &str, value: &str) -> Result<(), ServiceError> {
    if value.chars().count() > MAX_INPUT_CHARS {
        return Err(ServiceError::BadRequest(format!("{field} is too long")));
    }
    Ok(())
}

/// The URL as errors and logs show it: without user name, password or query (which may
/// hold a token), without control characters, and not too long.
pub(crate) fn display_url(url: &str) -> String {
    let shown = match Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        _ => strip_userinfo(url),
    };
    truncate(&shown)
}

/// `scheme://user:pw@host/…` and `user@host:path` without the part before `@`.
fn strip_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(at) => url.split_at(at + 3),
        None => ("", url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}{}{path}", &authority[at + 1..]),
        None => url.to_owned(),
    }
}

fn truncate(text: &str) -> String {
    const SHOWN: usize = 200;
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.chars().count() > SHOWN {
        let mut short: String = clean.chars().take(SHOWN).collect();
        short.push('…');
        short
    } else {
        clean
    }
}

// --- the clone -------------------------------------------------------------------------

/// Why a clone failed; logged, mostly not shown.
#[derive(Debug, thiserror::Error)]
enum CloneError {
    #[error("git could not be run: {0}")]
    Spawn(std::io::Error),
    #[error("the clone took longer than {0:?}")]
    TimedOut(Duration),
    #[error("the clone wrote more than {0} bytes")]
    TooLarge(u64),
    #[error("git failed ({status}): {stderr}")]
    Git { status: String, stderr: String },
    #[error("waiting for git failed: {0}")]
    Wait(std::io::Error),
}

impl CloneError {
    /// What the caller is told beyond jhub-apps' words: only the limits japps adds.
    fn user_detail(&self, policy: &GitPolicy) -> Option<String> {
        match self {
            Self::TimedOut(_) => Some(format!(
                "it took longer than {} seconds",
                policy.timeout.as_secs()
            )),
            Self::TooLarge(_) => Some(format!(
                "the repository is larger than {}",
                human_bytes(policy.max_bytes)
            )),
            _ => None,
        }
    }
}

fn human_bytes(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The arguments of `git`: the configuration that makes cloning an untrusted URL safe, then
/// the shallow clone itself.
fn git_args(source: &str, git_ref: &str, dest: &Path, allow_local: bool) -> Vec<String> {
    let file = if allow_local { "always" } else { "never" };
    let mut args: Vec<String> = Vec::new();
    let mut config = |setting: &str| {
        args.push("-c".into());
        args.push(setting.to_owned());
    };
    config("protocol.allow=never");
    for protocol in protocols(allow_local) {
        config(&format!("protocol.{protocol}.allow=always"));
    }
    config(&format!("protocol.file.allow={file}"));
    config("protocol.ext.allow=never");
    config("core.hooksPath=/dev/null");
    config("core.fsmonitor=false");
    config("credential.helper=");
    config("submodule.recurse=false");
    config("http.followRedirects=initial");
    args.extend(
        [
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--single-branch",
            "--branch",
            git_ref,
            "--no-tags",
            "--no-recurse-submodules",
            "--template=",
            "--",
            source,
        ]
        .map(str::to_owned),
    );
    args.push(dest.to_string_lossy().into_owned());
    args
}

/// Runs `git clone` into `<work>/repo` with `<work>/home` as its home, within the time and
/// size limits.
async fn clone(
    source: &str,
    repository: &GitRepository,
    work: &Path,
    policy: &GitPolicy,
    deadline: Instant,
) -> Result<(), CloneError> {
    let dest = work.join("repo");
    let home = work.join("home");
    let mut command = Command::new("git");
    command
        .args(git_args(
            source,
            &repository.git_ref,
            &dest,
            policy.allow_local,
        ))
        .current_dir(work)
        .env_clear();
    for name in PASSED_ENV {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env(
            "GIT_ALLOW_PROTOCOL",
            protocols(policy.allow_local).join(":"),
        )
        .env("GIT_LFS_SKIP_SMUDGE", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(CloneError::Spawn)?;
    // git's helpers (remote-https, index-pack) run in its process group: stopping the
    // clone stops them too.
    let mut group = GroupGuard(child.id().and_then(|id| i32::try_from(id).ok()));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| tokio::spawn(read_capped(pipe)));

    let mut poll = tokio::time::interval(SIZE_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let outcome = loop {
        tokio::select! {
            status = child.wait() => break status.map_err(CloneError::Wait),
            () = tokio::time::sleep_until(deadline) => {
                group.kill();
                let _ = child.wait().await;
                break Err(CloneError::TimedOut(policy.timeout));
            }
            _ = poll.tick() => {
                if dir_size(dest.clone()).await > policy.max_bytes {
                    group.kill();
                    let _ = child.wait().await;
                    break Err(CloneError::TooLarge(policy.max_bytes));
                }
            }
        }
    };
    group.disarm();
    let stderr = match stderr {
        Some(task) => tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default(),
        None => String::new(),
    };
    let status = outcome?;
    if !status.success() {
        return Err(CloneError::Git {
            status: status.to_string(),
            stderr: redact_credentials(&stderr, &repository.url),
        });
    }
    // Whatever was written after the last measurement.
    if dir_size(dest).await > policy.max_bytes {
        return Err(CloneError::TooLarge(policy.max_bytes));
    }
    Ok(())
}

/// Kills the clone's process group unless disarmed (after git was waited for).
#[derive(Debug)]
struct GroupGuard(Option<i32>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(group) = self.0 {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(group),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// git's error output, the first [`MAX_GIT_STDERR`] bytes of it (the rest is read and
/// dropped so that git never blocks on a full pipe).
async fn read_capped(mut pipe: tokio::process::ChildStderr) -> String {
    let mut kept = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = MAX_GIT_STDERR.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
            }
        }
    }
    String::from_utf8_lossy(&kept).trim().replace('\n', " | ")
}

/// git's messages without the URL's credentials and query (git hides a password in most
/// messages, not in all).
fn redact_credentials(text: &str, url: &str) -> String {
    let Ok(parsed) = Url::parse(url) else {
        return text.to_owned();
    };
    let mut secrets: Vec<String> = Vec::new();
    if let Some(query) = parsed.query() {
        secrets.push(query.to_owned());
    }
    if let Some(password) = parsed.password() {
        secrets.push(password.to_owned());
        if let Ok(decoded) = percent_decode(password) {
            secrets.push(decoded);
        }
    }
    if !parsed.username().is_empty() {
        secrets.push(parsed.username().to_owned());
        if let Ok(decoded) = percent_decode(parsed.username()) {
            secrets.push(decoded);
        }
    }
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        text = text.replace(secret.as_str(), "***");
    }
    text
}

fn percent_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes)
}

/// The bytes under `dir` (symbolic links count as themselves, never followed).
async fn dir_size(dir: PathBuf) -> u64 {
    tokio::task::spawn_blocking(move || {
        let mut total = 0_u64;
        let mut pending = vec![dir];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(metadata) = entry.path().symlink_metadata() else {
                    continue;
                };
                if metadata.is_dir() {
                    pending.push(entry.path());
                } else {
                    total = total.saturating_add(metadata.len());
                }
            }
        }
        total
    })
    .await
    .unwrap_or(0)
}

// --- reading the clone ------------------------------------------------------------------

/// Reads the app's definition from a finished clone at `root`. Blocking (file reads and
/// the thumbnail's decoding).
fn read_app_config(
    root: &Path,
    repository: GitRepository,
    policy: &GitPolicy,
) -> Result<JHubAppConfig, ServiceError> {
    let root = root.canonicalize().map_err(|err| {
        tracing::warn!(error = %err, "the clone has no root directory");
        ServiceError::BadRequest(format!(
            "Repository clone failed: {}",
            display_url(&repository.url)
        ))
    })?;
    let missing_directory = || {
        ServiceError::BadRequest(format!(
            "Path '{}' doesn't exists in the repository.",
            truncate(&repository.config_directory)
        ))
    };
    let directory = inside(&root, &repository.config_directory).ok_or_else(missing_directory)?;
    if !directory.is_dir() {
        return Err(missing_directory());
    }
    let text = read_project_file(&root, &directory, &repository.config_directory)?;
    let variables = parse_conda_project(&text).map_err(invalid_project)?;
    let fields = app_fields(variables).map_err(|errors| {
        ServiceError::BadRequest(format!("Validation error: {}", errors.join("; ")))
    })?;
    let thumbnail = match &fields.thumbnail_path {
        Some(path) => read_thumbnail(&root, path, &policy.thumbnail)?,
        None => String::new(),
    };
    Ok(JHubAppConfig {
        display_name: fields.display_name,
        description: fields.description,
        thumbnail,
        filepath: fields.filepath,
        framework: fields.framework,
        custom_command: fields.custom_command,
        public: fields.public,
        keep_alive: fields.keep_alive,
        env: fields.env,
        repository,
    })
}

/// `relative` under `root` (a canonical path) when it names something there: no absolute
/// path, no `..`, and no symbolic link leading out. The answer is canonical.
pub(crate) fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    if relative.contains('\0') {
        return None;
    }
    let path = Path::new(relative);
    if !path
        .components()
        .all(|part| matches!(part, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    let resolved = root.join(path).canonicalize().ok()?;
    resolved.starts_with(root).then_some(resolved)
}

fn invalid_project(reason: String) -> ServiceError {
    tracing::info!(reason = %reason, "invalid conda-project");
    ServiceError::BadRequest(format!("Invalid conda-project: {reason}"))
}

/// `conda-project.yml` (or `.yaml`) in `directory`, inside the clone, at most
/// [`MAX_PROJECT_FILE_BYTES`].
fn read_project_file(
    root: &Path,
    directory: &Path,
    shown_dir: &str,
) -> Result<Vec<u8>, ServiceError> {
    for name in ["conda-project.yml", "conda-project.yaml"] {
        let candidate = directory.join(name);
        if candidate.symlink_metadata().is_err() {
            continue;
        }
        let path = candidate
            .canonicalize()
            .ok()
            .filter(|path| path.starts_with(root) && path.is_file())
            .ok_or_else(|| invalid_project(format!("{name} is not a file in the repository")))?;
        let file = std::fs::File::open(&path)
            .map_err(|err| invalid_project(format!("{name} cannot be read: {err}")))?;
        let mut bytes = Vec::new();
        file.take(MAX_PROJECT_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| invalid_project(format!("{name} cannot be read: {err}")))?;
        if bytes.len() as u64 > MAX_PROJECT_FILE_BYTES {
            return Err(invalid_project(format!(
                "{name} is larger than {}",
                human_bytes(MAX_PROJECT_FILE_BYTES)
            )));
        }
        return Ok(bytes);
    }
    Err(invalid_project(format!(
        "no conda-project.yml in '{}'",
        truncate(shown_dir)
    )))
}

/// The `variables:` of a `conda-project.yml`, in file order; a variable without a value is
/// `None`. The reason for a refusal never quotes the file (it could be anything).
pub(crate) fn parse_conda_project(bytes: &[u8]) -> Result<Vec<(String, Option<String>)>, String> {
    let document: Yaml = serde_norway::from_slice(bytes).map_err(|err| match err.location() {
        Some(at) => format!(
            "conda-project.yml is not valid YAML (line {}, column {})",
            at.line(),
            at.column()
        ),
        None => "conda-project.yml is not valid YAML".to_owned(),
    })?;
    let Yaml::Mapping(project) = untag(document) else {
        return Err("conda-project.yml must be a mapping".to_owned());
    };
    let variables = match project.get("variables").cloned().map(untag) {
        None | Some(Yaml::Null) => return Ok(Vec::new()),
        Some(Yaml::Mapping(variables)) => variables,
        Some(_) => return Err("`variables` must be a mapping of names to values".to_owned()),
    };
    variables
        .into_iter()
        .map(|(name, value)| {
            let name = scalar(untag(name))
                .flatten()
                .ok_or_else(|| "variable names must be strings".to_owned())?;
            let value = scalar(untag(value))
                .ok_or_else(|| format!("variable {} must be a single value", truncate(&name)))?;
            Ok((name, value))
        })
        .collect()
}

fn untag(value: Yaml) -> Yaml {
    match value {
        Yaml::Tagged(tagged) => untag(tagged.value),
        other => other,
    }
}

/// A scalar as text: `Some(None)` for null, `None` for a sequence or mapping.
fn scalar(value: Yaml) -> Option<Option<String>> {
    match value {
        Yaml::Null => Some(None),
        Yaml::Bool(b) => Some(Some(b.to_string())),
        Yaml::Number(n) => Some(Some(n.to_string())),
        Yaml::String(s) => Some(Some(s)),
        Yaml::Sequence(_) | Yaml::Mapping(_) | Yaml::Tagged(_) => None,
    }
}

/// The app's fields, from the variables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppFields {
    pub(crate) display_name: String,
    pub(crate) description: String,
    pub(crate) framework: String,
    pub(crate) filepath: String,
    pub(crate) custom_command: String,
    pub(crate) public: bool,
    pub(crate) keep_alive: bool,
    pub(crate) thumbnail_path: Option<String>,
    pub(crate) env: BTreeMap<String, String>,
}

/// `JHUB_APP_CONFIG_<field>` variables → fields, every other variable → `env` (a variable
/// without a value becomes `""`). Field variables jhub-apps does not read
/// (`JHUB_APP_CONFIG_env`, unknown names) are ignored, as jhub-apps ignores them. Every
/// problem is reported, not only the first.
pub(crate) fn app_fields(
    variables: Vec<(String, Option<String>)>,
) -> Result<AppFields, Vec<String>> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut env = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, value) in variables {
        if let Some(field) = name.strip_prefix(FIELD_PREFIX) {
            if let Some(value) = value {
                fields.insert(field.to_owned(), value);
            }
            continue;
        }
        if name.is_empty() || name.contains(['=', '\0']) {
            errors.push(format!("env: {:?} is not a variable name", truncate(&name)));
            continue;
        }
        let value = value.unwrap_or_default();
        if value.contains('\0') {
            errors.push(format!(
                "env: the value of {} contains a NUL character",
                truncate(&name)
            ));
            continue;
        }
        env.insert(name, value);
    }
    let mut take = |field: &str| fields.remove(field).unwrap_or_default();
    let display_name = take("display_name");
    if display_name.trim().is_empty() {
        errors.push(format!(
            "display_name: field required (set {FIELD_PREFIX}display_name)"
        ));
    }
    let description = take("description");
    let mut framework = take("framework");
    if framework.is_empty() {
        // jhub-apps' default.
        "panel".clone_into(&mut framework);
    }
    if japps_domain::frameworks::framework(&framework).is_none() {
        let known: Vec<&str> = japps_domain::frameworks::FRAMEWORKS
            .iter()
            .map(|framework| framework.name())
            .collect();
        errors.push(format!(
            "framework: {:?} is not a framework japps knows ({})",
            truncate(&framework),
            known.join(", ")
        ));
    }
    let filepath = take("filepath");
    let custom_command = take("custom_command");
    let mut flag = |field: &str, errors: &mut Vec<String>| {
        let value = fields.remove(field).unwrap_or_default();
        parse_bool(&value).unwrap_or_else(|| {
            errors.push(format!(
                "{field}: {:?} is not true or false",
                truncate(&value)
            ));
            false
        })
    };
    let public = flag("public", &mut errors);
    let keep_alive = flag("keep_alive", &mut errors);
    let thumbnail_path = fields
        .remove("thumbnail_path")
        .filter(|path| !path.is_empty());
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(AppFields {
        display_name,
        description,
        framework,
        filepath,
        custom_command,
        public,
        keep_alive,
        thumbnail_path,
        env,
    })
}

/// A boolean as pydantic reads one from text (jhub-apps' coercion); empty means false.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
        "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
        _ => None,
    }
}

/// The thumbnail at `path` (relative to the repository's root) as a data URL, checked and
/// scaled like an upload.
fn read_thumbnail(
    root: &Path,
    path: &str,
    policy: &ThumbnailPolicy,
) -> Result<String, ServiceError> {
    let shown = truncate(path);
    let not_a_file = || {
        ServiceError::BadRequest(format!(
            "Validation error: thumbnail_path: '{shown}' is not a file in the repository"
        ))
    };
    let file = inside(root, path)
        .filter(|file| file.is_file())
        .ok_or_else(not_a_file)?;
    let limit = u64::try_from(policy.max_upload_bytes).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    std::fs::File::open(&file)
        .and_then(|handle| handle.take(limit.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(|_| not_a_file())?;
    if bytes.len() as u64 > limit {
        return Err(ServiceError::BadRequest(format!(
            "Validation error: thumbnail_path: '{shown}' is larger than {}",
            human_bytes(limit)
        )));
    }
    thumbnails::data_url_from_upload(&bytes, policy).map_err(|err| {
        ServiceError::BadRequest(format!(
            "Validation error: thumbnail_path: '{shown}': {err}"
        ))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn refused(url: &str, allow_local: bool) -> String {
        match check_url(url, allow_local) {
            Err(ServiceError::BadRequest(detail)) => detail,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn remote_urls_are_allowed() {
        for url in [
            "https://github.com/org/repo.git",
            "https://github.com/org/repo",
            "http://127.0.0.1:8080/repo.git",
            "git://example.org/repo.git",
            "HTTPS://github.com/org/repo",
        ] {
            assert!(check_url(url, false).is_ok(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        // git gets the URL as it was checked.
        assert_eq!(
            check_url("https://GitHub.com/org/repo", false).unwrap(),
            "https://github.com/org/repo"
        );
    }

    #[test]
    fn other_urls_are_refused() {
        for url in [
            "file:///etc",
            "/srv/repo",
            "./repo",
            "repo",
            "ssh://git@github.com/org/repo.git",
            "git@github.com:org/repo.git",
            "github.com:org/repo",
            "ext::sh -c touch% /tmp/pwned",
            "ext::sh",
            "fd::3",
            "git+ssh://host/repo",
            "ftp://host/repo",
            "https:github.com/org/repo",
            "-uhttps://github.com/org/repo",
            " https://github.com/org/repo",
            "https://github.com/org/repo\n",
            "https://github.com/org/re po",
            "https:\\\\github.com\\org",
            "",
        ] {
            let detail = refused(url, false);
            assert!(
                detail.starts_with("Repository URL not allowed: "),
                "{detail}"
            );
        }
    }

    #[test]
    fn local_repositories_need_the_setting() {
        assert!(check_url("file:///srv/repo", true).is_ok());
        assert!(check_url("/srv/repo", true).is_ok());
        assert_eq!(check_url("/srv/repo", true).unwrap(), "/srv/repo");
        refused("file://otherhost/srv/repo", true);
        refused("./repo", true);
        refused("ssh://host/repo", true);
        refused("ext::sh -c id", true);
        refused("ext::sh", true);
        let detail = refused("file:///srv/repo", false);
        assert_eq!(
            detail,
            "Repository URL not allowed: file:///srv/repo (use an https://, http:// or git:// URL)"
        );
    }

    #[test]
    fn credentials_never_appear_in_errors() {
        for (url, shown) in [
            (
                "ssh://alice:hunter22@host/repo",
                "Repository URL not allowed: ssh://host/repo",
            ),
            (
                "ftp://tok3n@host/repo?access_token=s3cret",
                "Repository URL not allowed: ftp://host/repo",
            ),
            (
                "alice:hunter22@host:repo",
                "Repository URL not allowed: host:repo",
            ),
            (
                "weird://alice:hunter22@[bad/repo",
                "Repository URL not allowed: weird://[bad/repo",
            ),
        ] {
            let detail = refused(url, false);
            assert!(detail.starts_with(shown), "{detail}");
            assert!(
                !detail.contains("hunter22") && !detail.contains("s3cret"),
                "{detail}"
            );
        }
        assert_eq!(
            display_url("https://x-access-token:ghp_abc@github.com/org/repo.git"),
            "https://github.com/org/repo.git"
        );
        assert_eq!(
            redact_credentials(
                "fatal: could not read from https://bob:pa%20ss@host/r: pa ss bob",
                "https://bob:pa%20ss@host/r"
            ),
            "fatal: could not read from https://***:***@host/r: *** ***"
        );
        assert_eq!(
            redact_credentials(
                "fatal: repository 'https://host/r?token=abc/' not found",
                "https://host/r?token=abc"
            ),
            "fatal: repository 'https://host/r?***/' not found"
        );
        assert!(display_url(&"a".repeat(10_000)).chars().count() < 300);
    }

    #[test]
    fn refs_are_checked() {
        for good in ["main", "v1.2.3", "feature/x", "release-2024_01", "ü"] {
            assert!(check_ref(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-b",
            "--upload-pack=x",
            "a..b",
            "a b",
            "a\nb",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "/a",
            "a/",
            "a.lock",
            "@{-1}",
            ".hidden",
            "a//b",
        ] {
            assert!(check_ref(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_body_has_defaults() {
        let repo = GitRepository::from_json(br#"{"url": "https://h/r"}"#).unwrap();
        assert_eq!(repo.config_directory, ".");
        assert_eq!(repo.git_ref, "main");
        let repo = GitRepository::from_json(
            br#"{"url": "https://h/r", "config_directory": null, "ref": "dev"}"#,
        )
        .unwrap();
        assert_eq!(
            (repo.config_directory.as_str(), repo.git_ref.as_str()),
            (".", "dev")
        );
        assert_eq!(
            serde_json::to_value(&repo).unwrap(),
            serde_json::json!({"url": "https://h/r", "config_directory": ".", "ref": "dev"})
        );
        for bad in [
            &b"{}"[..],
            b"{\"url\": \"\"}",
            b"not json",
            b"[1]",
            b"{\"url\": 5}",
            b"",
        ] {
            let Err(ServiceError::BadRequest(_)) = GitRepository::from_json(bad) else {
                panic!("{:?}", String::from_utf8_lossy(bad));
            };
        }
    }

    fn vars(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn variables_map_to_fields_and_env() {
        let fields = app_fields(vars(&[
            ("JHUB_APP_CONFIG_display_name", Some("Sales dashboard")),
            ("JHUB_APP_CONFIG_description", Some("Numbers")),
            ("JHUB_APP_CONFIG_framework", Some("streamlit")),
            ("JHUB_APP_CONFIG_filepath", Some("app/main.py")),
            ("JHUB_APP_CONFIG_custom_command", Some("")),
            ("JHUB_APP_CONFIG_keep_alive", Some("false")),
            ("JHUB_APP_CONFIG_public", Some("True")),
            ("JHUB_APP_CONFIG_thumbnail_path", Some("img/logo.png")),
            ("JHUB_APP_CONFIG_env", Some("ignored")),
            ("JHUB_APP_CONFIG_something_new", Some("ignored")),
            ("API_URL", Some("https://example.org")),
            ("conda_env", Some("analytics")),
            ("EMPTY", None),
        ]))
        .unwrap();
        assert_eq!(
            fields,
            AppFields {
                display_name: "Sales dashboard".into(),
                description: "Numbers".into(),
                framework: "streamlit".into(),
                filepath: "app/main.py".into(),
                custom_command: String::new(),
                public: true,
                keep_alive: false,
                thumbnail_path: Some("img/logo.png".into()),
                env: BTreeMap::from([
                    ("API_URL".into(), "https://example.org".into()),
                    ("EMPTY".into(), String::new()),
                    ("conda_env".into(), "analytics".into()),
                ]),
            }
        );
    }

    #[test]
    fn fields_have_jhub_apps_defaults() {
        let fields = app_fields(vars(&[("JHUB_APP_CONFIG_display_name", Some("X"))])).unwrap();
        assert_eq!(fields.framework, "panel");
        assert_eq!(fields.description, "");
        assert!(!fields.public && !fields.keep_alive);
        assert_eq!(fields.thumbnail_path, None);
        assert!(fields.env.is_empty());
    }

    #[test]
    fn bad_fields_are_all_reported() {
        let errors = app_fields(vars(&[
            ("JHUB_APP_CONFIG_framework", Some("fortran")),
            ("JHUB_APP_CONFIG_public", Some("maybe")),
            ("JHUB_APP_CONFIG_keep_alive", Some("2")),
            ("A=B", Some("x")),
        ]))
        .unwrap_err();
        let text = errors.join("; ");
        assert_eq!(errors.len(), 5, "{text}");
        for part in [
            "display_name: field required",
            "framework: \"fortran\"",
            "public: \"maybe\"",
            "keep_alive: \"2\"",
            "env: \"A=B\"",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn booleans_are_coerced_like_pydantic() {
        for (text, value) in [
            ("false", false),
            ("False", false),
            ("0", false),
            ("no", false),
            ("", false),
            ("true", true),
            ("TRUE", true),
            ("1", true),
            ("yes", true),
            ("on", true),
        ] {
            assert_eq!(parse_bool(text), Some(value), "{text}");
        }
        assert_eq!(parse_bool("2"), None);
    }

    #[test]
    fn conda_project_variables_are_read() {
        let yaml = br#"
name: sales
environments:
  default: [environment.yml]
variables:
  JHUB_APP_CONFIG_display_name: Sales
  JHUB_APP_CONFIG_keep_alive: false
  PORT: 8080
  RATIO: 0.5
  UNSET:
  QUOTED: !!str 12
commands: {}
"#;
        assert_eq!(
            parse_conda_project(yaml).unwrap(),
            vars(&[
                ("JHUB_APP_CONFIG_display_name", Some("Sales")),
                ("JHUB_APP_CONFIG_keep_alive", Some("false")),
                ("PORT", Some("8080")),
                ("RATIO", Some("0.5")),
                ("UNSET", None),
                ("QUOTED", Some("12")),
            ])
        );
        assert_eq!(parse_conda_project(b"name: x\n").unwrap(), vec![]);
        assert_eq!(parse_conda_project(b"variables:\n").unwrap(), vec![]);
    }

    #[test]
    fn bad_conda_projects_are_refused_without_quoting_them() {
        for (yaml, reason) in [
            (&b""[..], "must be a mapping"),
            (b"- a\n- b\n", "must be a mapping"),
            (b"just text", "must be a mapping"),
            (b"variables: [A, B]\n", "`variables` must be a mapping"),
            (
                b"variables:\n  A: [1, 2]\n",
                "variable A must be a single value",
            ),
            (
                b"variables:\n  A: {b: c}\n",
                "variable A must be a single value",
            ),
            (b"variables:\n  [x]: 1\n", "variable names must be strings"),
            (b"variables:\n  A: 1\n  A: 2\n", "not valid YAML"),
            (
                b"variables: {SECRET: \"unterminated\n",
                "not valid YAML (line",
            ),
            (b"a: 1\n---\nb: 2\n", "not valid YAML"),
            (b"\xff\xfe\x00", "not valid YAML"),
        ] {
            let err = parse_conda_project(yaml).unwrap_err();
            assert!(
                err.contains(reason),
                "{:?}: {err}",
                String::from_utf8_lossy(yaml)
            );
            assert!(
                !err.contains("SECRET") && !err.contains("unterminated"),
                "{err}"
            );
        }
    }

    #[test]
    fn yaml_bombs_are_refused_quickly() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let prev = level - 1;
            bomb.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        bomb.push_str("variables:\n  BOOM: *a11\n");
        let started = std::time::Instant::now();
        // 10^12 strings if expanded; refused after a bounded number of alias expansions
        // (well under a second in a release build).
        assert!(parse_conda_project(bomb.as_bytes()).is_err());
        assert!(started.elapsed() < Duration::from_secs(10));
        let deep = format!("variables: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_conda_project(deep.as_bytes()).is_err());
    }

    /// A directory tree with escapes of every kind.
    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(root.join("sub/file.txt"), "inside").unwrap();
        std::fs::write(dir.path().join("outside.txt"), "secret").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("passwd")).unwrap();
        std::os::unix::fs::symlink("../outside.txt", root.join("up")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
        std::os::unix::fs::symlink("sub/file.txt", root.join("ok-link")).unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn paths_stay_inside_the_clone() {
        let (_dir, root) = tree();
        assert_eq!(inside(&root, ".").unwrap(), root);
        assert_eq!(inside(&root, "").unwrap(), root);
        assert_eq!(inside(&root, "sub").unwrap(), root.join("sub"));
        assert_eq!(
            inside(&root, "./sub/deeper/").unwrap(),
            root.join("sub/deeper")
        );
        assert_eq!(inside(&root, "ok-link").unwrap(), root.join("sub/file.txt"));
        for escape in [
            "..",
            "../outside.txt",
            "../../etc/passwd",
            "sub/../../outside.txt",
            "sub/../sub",
            "/etc/passwd",
            "/",
            "passwd",
            "up",
            "etc",
            "etc/hostname",
            "missing",
            "sub/\0",
        ] {
            assert_eq!(inside(&root, escape), None, "{escape:?}");
        }
    }

    fn policy() -> ThumbnailPolicy {
        ThumbnailPolicy::from_config(&JAppsConfig::default())
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn thumbnails_are_read_inside_the_clone_only() {
        let (_dir, root) = tree();
        std::fs::write(root.join("sub/logo.png"), png(800, 200)).unwrap();
        let url = read_thumbnail(&root, "sub/logo.png", &policy()).unwrap();
        assert!(url.starts_with("data:image/"), "{}", &url[..30]);
        for escape in [
            "../../etc/passwd",
            "/etc/passwd",
            "passwd",
            "up",
            "sub",
            "missing.png",
        ] {
            let Err(ServiceError::BadRequest(detail)) = read_thumbnail(&root, escape, &policy())
            else {
                panic!("{escape}");
            };
            assert!(
                detail.contains("is not a file in the repository"),
                "{detail}"
            );
            assert!(!detail.contains("root:"), "{detail}");
        }
        // Not an image: refused with 400, whatever the upload check says.
        let Err(ServiceError::BadRequest(detail)) =
            read_thumbnail(&root, "sub/file.txt", &policy())
        else {
            panic!("a text file is not a thumbnail");
        };
        assert!(
            detail.starts_with("Validation error: thumbnail_path: 'sub/file.txt'"),
            "{detail}"
        );
        // Larger than an upload may be.
        let small = ThumbnailPolicy {
            max_upload_bytes: 100,
            max_side: 64,
        };
        let Err(ServiceError::BadRequest(detail)) = read_thumbnail(&root, "sub/logo.png", &small)
        else {
            panic!("too large");
        };
        assert!(detail.contains("larger than 100 bytes"), "{detail}");
    }

    fn write_project(root: &Path, dir: &str, yaml: &str) {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join("conda-project.yml"), yaml).unwrap();
    }

    fn repository(dir: &str) -> GitRepository {
        GitRepository {
            url: "https://example.org/repo.git".into(),
            config_directory: dir.into(),
            git_ref: "main".into(),
        }
    }

    fn git_policy() -> GitPolicy {
        GitPolicy::from_config(&JAppsConfig::default())
    }

    fn detail(result: Result<JHubAppConfig, ServiceError>) -> String {
        match result {
            Err(ServiceError::BadRequest(detail)) => detail,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_clone_is_read_into_the_jhub_apps_shape() {
        let (_dir, root) = tree();
        std::fs::write(root.join("logo.png"), png(20, 10)).unwrap();
        write_project(
            &root,
            "sub/deeper",
            "variables:\n  JHUB_APP_CONFIG_display_name: Deep\n  JHUB_APP_CONFIG_thumbnail_path: logo.png\n  JHUB_APP_CONFIG_public: 'false'\n  TOKEN_URL: x\n",
        );
        let config = read_app_config(&root, repository("sub/deeper"), &git_policy()).unwrap();
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["display_name"], "Deep");
        assert_eq!(json["framework"], "panel");
        assert_eq!(json["public"], false);
        assert_eq!(json["env"], serde_json::json!({"TOKEN_URL": "x"}));
        assert_eq!(
            json["repository"],
            serde_json::json!({"url": "https://example.org/repo.git", "config_directory": "sub/deeper", "ref": "main"})
        );
        assert!(
            json["thumbnail"]
                .as_str()
                .unwrap()
                .starts_with("data:image/")
        );
        let mut keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "custom_command",
                "description",
                "display_name",
                "env",
                "filepath",
                "framework",
                "keep_alive",
                "public",
                "repository",
                "thumbnail"
            ]
        );
    }

    #[test]
    fn clone_errors_have_jhub_apps_words() {
        let (_dir, root) = tree();
        write_project(
            &root,
            ".",
            "variables:\n  JHUB_APP_CONFIG_display_name: Root\n",
        );
        for dir in ["missing", "../", "/etc", "etc", "sub/file.txt", "up"] {
            assert_eq!(
                detail(read_app_config(&root, repository(dir), &git_policy())),
                format!("Path '{dir}' doesn't exists in the repository."),
            );
        }
        assert!(
            detail(read_app_config(&root, repository("sub"), &git_policy()))
                .starts_with("Invalid conda-project: no conda-project.yml in 'sub'")
        );
        // A project file that is a link out of the clone is never read.
        std::os::unix::fs::symlink("/etc/passwd", root.join("sub/conda-project.yml")).unwrap();
        let text = detail(read_app_config(&root, repository("sub"), &git_policy()));
        assert!(
            text.starts_with("Invalid conda-project: conda-project.yml is not a file"),
            "{text}"
        );
        // `.yaml` is read too.
        std::fs::write(
            root.join("sub/deeper/conda-project.yaml"),
            "variables:\n  JHUB_APP_CONFIG_display_name: Yaml\n  JHUB_APP_CONFIG_framework: cobol\n",
        )
        .unwrap();
        let text = detail(read_app_config(
            &root,
            repository("sub/deeper"),
            &git_policy(),
        ));
        assert!(
            text.starts_with("Validation error: framework: \"cobol\""),
            "{text}"
        );
        write_project(&root, "big", &format!("x: \"{}\"\n", "a".repeat(2 << 20)));
        let text = detail(read_app_config(&root, repository("big"), &git_policy()));
        assert!(text.contains("larger than 1 MiB"), "{text}");
    }

    #[test]
    fn git_is_told_to_be_careful() {
        let args = git_args("https://h/r", "main", Path::new("/tmp/x/repo"), false);
        let joined = args.join(" ");
        for part in [
            "-c protocol.allow=never",
            "-c protocol.https.allow=always",
            "-c protocol.file.allow=never",
            "-c protocol.ext.allow=never",
            "-c core.hooksPath=/dev/null",
            "clone --quiet --depth 1 --single-branch --branch main --no-tags --no-recurse-submodules --template= -- https://h/r /tmp/x/repo",
        ] {
            assert!(joined.contains(part), "{part} in {joined}");
        }
        assert!(!joined.contains("protocol.file.allow=always"));
        let local = git_args("/srv/r", "main", Path::new("/tmp/x/repo"), true).join(" ");
        assert!(local.contains("protocol.file.allow=always"), "{local}");
        assert!(!local.contains("protocol.file.allow=never"), "{local}");
    }

    /// A local repository with one commit on `main`.
    fn local_repo(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.org")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.org")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        git(&["init", "--quiet", "--initial-branch=main"]);
        git(&["add", "--all"]);
        git(&["commit", "--quiet", "--message", "app"]);
        dir
    }

    fn local_policy(temp_root: &Path) -> GitPolicy {
        GitPolicy {
            allow_local: true,
            temp_root: temp_root.to_owned(),
            ..git_policy()
        }
    }

    /// What a test's temporary root holds.
    fn leftovers(temp_root: &Path) -> Vec<String> {
        std::fs::read_dir(temp_root)
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[tokio::test]
    async fn a_local_clone_gives_the_config_and_leaves_nothing_behind() {
        let repo = local_repo(&[
            (
                "conda-project.yml",
                b"variables:\n  JHUB_APP_CONFIG_display_name: Local\n  JHUB_APP_CONFIG_framework: gradio\n  MODE: demo\n",
            ),
            ("app.py", b"print('hi')\n"),
        ]);
        let temp_root = tempfile::tempdir().unwrap();
        let url = format!("file://{}", repo.path().display());
        let config = app_config_from_git(
            GitRepository {
                url: url.clone(),
                config_directory: ".".into(),
                git_ref: "main".into(),
            },
            local_policy(temp_root.path()),
        )
        .await
        .unwrap();
        assert_eq!(config.display_name, "Local");
        assert_eq!(config.framework, "gradio");
        assert_eq!(config.env["MODE"], "demo");
        assert_eq!(config.repository.url, url);
        assert_eq!(
            leftovers(temp_root.path()),
            Vec::<String>::new(),
            "the clone is removed"
        );

        // A missing branch: jhub-apps' words.
        let text = detail(
            app_config_from_git(
                GitRepository {
                    url: url.clone(),
                    config_directory: ".".into(),
                    git_ref: "no-such-branch".into(),
                },
                local_policy(temp_root.path()),
            )
            .await,
        );
        assert_eq!(text, format!("Repository clone failed: {url}"));
        // Local repositories are refused by default, before anything runs.
        let text = detail(
            app_config_from_git(
                GitRepository {
                    url,
                    config_directory: ".".into(),
                    git_ref: "main".into(),
                },
                GitPolicy {
                    temp_root: temp_root.path().to_owned(),
                    ..git_policy()
                },
            )
            .await,
        );
        assert!(
            text.starts_with("Repository URL not allowed: file://"),
            "{text}"
        );
        assert_eq!(
            leftovers(temp_root.path()),
            Vec::<String>::new(),
            "failed clones are removed too"
        );
    }

    #[tokio::test]
    async fn a_clone_over_the_size_limit_is_stopped() {
        // Random bytes do not compress: the pack is as large as the file.
        let mut noise = vec![0_u8; 3 << 20];
        getrandom::fill(&mut noise).unwrap();
        let repo = local_repo(&[
            ("conda-project.yml", b"variables: {}\n"),
            ("noise.bin", &noise),
        ]);
        let temp_root = tempfile::tempdir().unwrap();
        let policy = GitPolicy {
            max_bytes: 1 << 20,
            ..local_policy(temp_root.path())
        };
        let text = detail(
            app_config_from_git(
                GitRepository {
                    url: format!("file://{}", repo.path().display()),
                    config_directory: ".".into(),
                    git_ref: "main".into(),
                },
                policy,
            )
            .await,
        );
        assert!(
            text.ends_with("(the repository is larger than 1 MiB)"),
            "{text}"
        );
        assert_eq!(leftovers(temp_root.path()), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_slow_clone_is_stopped_at_its_time_limit() {
        // A git:// server that accepts and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let temp_root = tempfile::tempdir().unwrap();
        let policy = GitPolicy {
            timeout: Duration::from_secs(1),
            temp_root: temp_root.path().to_owned(),
            ..git_policy()
        };
        let started = std::time::Instant::now();
        let text = detail(
            app_config_from_git(
                GitRepository {
                    url: format!("git://127.0.0.1:{port}/repo.git"),
                    config_directory: ".".into(),
                    git_ref: "main".into(),
                },
                policy,
            )
            .await,
        );
        assert!(text.ends_with("(it took longer than 1 seconds)"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(leftovers(temp_root.path()), Vec::<String>::new());
        hold.abort();
    }
}
