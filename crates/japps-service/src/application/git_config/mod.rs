//! `app-config-from-git/`: an app's definition read from a git repository.
//!
//! The repository is cloned (shallow, one branch) into a fresh temporary directory, and its
//! `conda-project.yml` `variables:` become the app: `JHUB_APP_CONFIG_<field>` variables fill
//! the form's fields, every other variable goes to `env`. The answer keeps jhub-apps' shape
//! (`JHubAppConfig`) and its error wording, but not its holes:
//! - only `https://` and `http://` URLs are cloned, unless the operator allows local
//!   repositories (`c.JAppsConfig.allow_local_git_repositories`) or `git://`
//!   (`git_allow_private_addresses`): never `ssh`, `ext::` or other remote helpers. Git
//!   itself is told the same (`GIT_ALLOW_PROTOCOL`), so a submodule cannot switch to
//!   another transport either;
//! - the host must be on the operator's list (`git_allowed_hosts`) when there is one, and
//!   every address it resolves to must be public unless `git_allow_private_addresses`; git
//!   is pinned to the checked addresses and follows no redirect ([`network`]);
//! - a user runs at most [`MAX_CLONES_PER_USER`] clones at once (429 beyond);
//! - git runs with an empty environment (no service token reaches it), a private `HOME`,
//!   no system or global git configuration, no hooks, no prompts, no credential helpers;
//! - a clone is stopped (its whole process group killed) when it takes longer than
//!   `git_clone_timeout` or writes more than `git_clone_max_bytes`; at most
//!   [`clone::MAX_CONCURRENT_CLONES`] run at once; the temporary directory is always removed;
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
//!
//! Parts: [`policy`] (what may be cloned, paths confined to the clone), [`clone`] (the
//! sandboxed `git clone`), [`conda_project`] (reading `conda-project.yml`); this module
//! puts them together. URL redaction is `japps_domain::git`, shared with the launcher.

mod clone;
mod conda_project;
mod network;
mod policy;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::Duration;

use japps_domain::JAppsConfig;
use japps_domain::git::{redact_url, shorten};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use utoipa::ToSchema;

use self::clone::{CLONES, CloneError, clone};
use self::conda_project::{app_fields, invalid_project, parse_conda_project, read_project_file};
use self::network::check_destination;
use self::policy::{Transports, check_length, check_ref, check_url, inside};
use crate::application::ApplicationError;
use crate::application::thumbnails::{self, ThumbnailPolicy};

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
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, ApplicationError> {
        let body: RepositoryBody = serde_json::from_slice(body).map_err(|err| {
            ApplicationError::Invalid(format!(
                "the body must be JSON {{\"url\": ..., \"config_directory\": \".\", \"ref\": \"main\"}}: {err}"
            ))
        })?;
        let url = body
            .url
            .filter(|url| !url.is_empty())
            .ok_or_else(|| ApplicationError::Invalid("`url` is required".into()))?;
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
    /// Host names and `*.domain` patterns that may be cloned from; empty for any.
    pub(crate) allowed_hosts: Vec<String>,
    /// Loopback, private, link-local… addresses (and `git://`) may be cloned from.
    pub(crate) allow_private_addresses: bool,
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
            allowed_hosts: config.git_allowed_hosts.clone(),
            allow_private_addresses: config.git_allow_private_addresses,
            timeout: Duration::from_secs(config.git_clone_timeout.max(1)),
            max_bytes: config.git_clone_max_bytes,
            thumbnail: ThumbnailPolicy::from_config(config),
            temp_root: std::env::temp_dir(),
        }
    }

    fn transports(&self) -> Transports {
        Transports {
            local: self.allow_local,
            git: self.allow_private_addresses,
        }
    }
}

/// Clones one user may run at once: a user with a slow server cannot hold every one of
/// the [`clone::MAX_CONCURRENT_CLONES`] slots.
pub(crate) const MAX_CLONES_PER_USER: usize = 2;
/// What a user over their limit is told to wait.
const RETRY_AFTER: Duration = Duration::from_secs(5);

static CLONES_BY_USER: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Mutex::default);

/// One of a user's clone slots, given back when dropped.
#[derive(Debug)]
struct UserSlot(String);

impl UserSlot {
    fn take(user: &str) -> Option<Self> {
        let mut counts = CLONES_BY_USER
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(user.to_owned()).or_default();
        if *count >= MAX_CLONES_PER_USER {
            return None;
        }
        *count += 1;
        Some(Self(user.to_owned()))
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut counts = CLONES_BY_USER
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.0) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.0);
            }
        }
    }
}

/// Clones the repository and reads the app's definition from it. Runs to its end (or its
/// time limit) once started, so callers should spawn it: the temporary clone is then
/// removed even when the client goes away.
pub(crate) async fn app_config_from_git(
    user: &str,
    repository: GitRepository,
    policy: GitPolicy,
) -> Result<JHubAppConfig, ApplicationError> {
    let source = check_url(&repository.url, policy.transports())?;
    check_ref(&repository.git_ref)?;
    check_length("config_directory", &repository.config_directory)?;
    let shown = redact_url(&repository.url);
    let failed = |reason: &str| {
        tracing::warn!(url = %shown, git_ref = %repository.git_ref, reason, "repository clone failed");
        ApplicationError::Invalid(format!("Repository clone failed: {shown}"))
    };

    let Some(_slot) = UserSlot::take(user) else {
        return Err(ApplicationError::Busy {
            detail: format!(
                "You already have {MAX_CLONES_PER_USER} repositories being read; try again \
                 when one of them is done"
            ),
            retry_after: RETRY_AFTER,
        });
    };
    let deadline = Instant::now() + policy.timeout;
    let pin = check_destination(&source, &policy, deadline).await?;
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

    let cloned = clone(
        &source,
        pin.as_ref(),
        &repository,
        work.path(),
        &policy,
        deadline,
    )
    .await;
    let result = match cloned {
        // Reading the configuration decodes the repository's thumbnail: in its turn.
        Ok(()) => match thumbnails::decode_turn().await {
            Ok(_turn) => {
                let root = work.path().join("repo");
                let repository = repository.clone();
                let policy = policy.clone();
                tokio::task::spawn_blocking(move || read_app_config(&root, repository, &policy))
                    .await
                    .unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()))
            }
            Err(busy) => Err(busy),
        },
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
            Err(ApplicationError::Invalid(match detail {
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

/// Reads the app's definition from a finished clone at `root`. Blocking (file reads and
/// the thumbnail's decoding).
fn read_app_config(
    root: &Path,
    repository: GitRepository,
    policy: &GitPolicy,
) -> Result<JHubAppConfig, ApplicationError> {
    let root = root.canonicalize().map_err(|err| {
        tracing::warn!(error = %err, "the clone has no root directory");
        ApplicationError::Invalid(format!(
            "Repository clone failed: {}",
            redact_url(&repository.url)
        ))
    })?;
    let missing_directory = || {
        ApplicationError::Invalid(format!(
            "Path '{}' doesn't exists in the repository.",
            shorten(&repository.config_directory)
        ))
    };
    let directory = inside(&root, &repository.config_directory).ok_or_else(missing_directory)?;
    if !directory.is_dir() {
        return Err(missing_directory());
    }
    let text = read_project_file(&root, &directory, &repository.config_directory)?;
    let variables = parse_conda_project(&text).map_err(invalid_project)?;
    let fields = app_fields(variables).map_err(|errors| {
        ApplicationError::Invalid(format!("Validation error: {}", errors.join("; ")))
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

/// The thumbnail at `path` (relative to the repository's root) as a data URL, checked and
/// scaled like an upload.
fn read_thumbnail(
    root: &Path,
    path: &str,
    policy: &ThumbnailPolicy,
) -> Result<String, ApplicationError> {
    let shown = shorten(path);
    let not_a_file = || {
        ApplicationError::Invalid(format!(
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
        return Err(ApplicationError::Invalid(format!(
            "Validation error: thumbnail_path: '{shown}' is larger than {}",
            human_bytes(limit)
        )));
    }
    thumbnails::data_url_from_upload(&bytes, policy).map_err(|err| {
        ApplicationError::Invalid(format!(
            "Validation error: thumbnail_path: '{shown}': {err}"
        ))
    })
}

fn human_bytes(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

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
            let Err(ApplicationError::Invalid(_)) = GitRepository::from_json(bad) else {
                panic!("{:?}", String::from_utf8_lossy(bad));
            };
        }
    }

    /// A directory tree with escapes of every kind.
    pub(crate) fn tree() -> (tempfile::TempDir, PathBuf) {
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
            let Err(ApplicationError::Invalid(detail)) = read_thumbnail(&root, escape, &policy())
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
        let Err(ApplicationError::Invalid(detail)) =
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
        let Err(ApplicationError::Invalid(detail)) = read_thumbnail(&root, "sub/logo.png", &small)
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

    fn detail(result: Result<JHubAppConfig, ApplicationError>) -> String {
        match result {
            Err(ApplicationError::Invalid(detail)) => detail,
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
            "user-1",
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
                "user-2",
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
                "user-3",
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
                "user-4",
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
            // A git:// server on loopback.
            allow_private_addresses: true,
            ..git_policy()
        };
        let started = std::time::Instant::now();
        let text = detail(
            app_config_from_git(
                "user-5",
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

    /// A listener that holds every connection and counts them.
    async fn silent_server() -> (
        u16,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        tokio::task::JoinHandle<()>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = seen.clone();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(socket);
            }
        });
        (port, seen, hold)
    }

    #[tokio::test]
    async fn git_connects_to_the_pinned_address_only() {
        // `pinned.invalid` resolves nowhere: git reaches the server only through the pin.
        let (port, seen, hold) = silent_server().await;
        let temp_root = tempfile::tempdir().unwrap();
        std::fs::create_dir(temp_root.path().join("home")).unwrap();
        let policy = GitPolicy {
            timeout: Duration::from_secs(1),
            ..git_policy()
        };
        let pin = network::Pin(format!("pinned.invalid:{port}:127.0.0.1"));
        let source = format!("http://pinned.invalid:{port}/r.git");
        let deadline = Instant::now() + policy.timeout;
        let result = clone(
            &source,
            Some(&pin),
            &repository("."),
            temp_root.path(),
            &policy,
            deadline,
        )
        .await;
        assert!(matches!(result, Err(CloneError::TimedOut(_))), "{result:?}");
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
        hold.abort();
    }

    #[tokio::test]
    async fn a_user_runs_at_most_two_clones_at_once() {
        let (port, _seen, hold) = silent_server().await;
        let temp_root = tempfile::tempdir().unwrap();
        let policy = GitPolicy {
            timeout: Duration::from_secs(2),
            temp_root: temp_root.path().to_owned(),
            allow_private_addresses: true,
            ..git_policy()
        };
        let request = || GitRepository {
            url: format!("http://127.0.0.1:{port}/repo.git"),
            config_directory: ".".into(),
            git_ref: "main".into(),
        };
        let slow = |user: &'static str| {
            let (request, policy) = (request(), policy.clone());
            tokio::spawn(async move { app_config_from_git(user, request, policy).await })
        };
        let first = slow("greedy");
        let second = slow("greedy");
        let other = slow("patient");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Err(ApplicationError::Busy {
            detail: refusal,
            retry_after,
        }) = app_config_from_git("greedy", request(), policy.clone()).await
        else {
            panic!("a third clone of one user is refused");
        };
        assert!(refusal.contains("already have 2 repositories"), "{refusal}");
        assert_eq!(retry_after, RETRY_AFTER);
        for task in [first, second, other] {
            let text = detail(task.await.unwrap());
            assert!(text.ends_with("(it took longer than 2 seconds)"), "{text}");
        }
        // Finished clones give their slots back.
        assert!(UserSlot::take("greedy").is_some());
        hold.abort();
    }
}
