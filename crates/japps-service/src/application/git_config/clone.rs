//! The sandboxed `git clone`: a shallow clone of one branch into a fresh directory, with an
//! empty environment, no configuration, hooks, prompts or credential helpers, only the
//! allowed transports, and stopped (its whole process group) at its time or size limit.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use japps_domain::git::redact_credentials;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::network::Pin;
use super::policy::{Transports, protocols};
use super::{GitPolicy, GitRepository, human_bytes};

/// Clones running at once; further requests wait (within their time limit).
pub(super) const MAX_CONCURRENT_CLONES: usize = 4;
/// How often the clone's size is measured.
const SIZE_POLL: Duration = Duration::from_millis(100);
/// How much of git's error output is kept for the log.
const MAX_GIT_STDERR: usize = 4096;
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

pub(super) static CLONES: Semaphore = Semaphore::const_new(MAX_CONCURRENT_CLONES);

/// Why a clone failed; logged, mostly not shown.
#[derive(Debug, thiserror::Error)]
pub(super) enum CloneError {
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
    pub(super) fn user_detail(&self, policy: &GitPolicy) -> Option<String> {
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

/// The arguments of `git`: the configuration that makes cloning an untrusted URL safe, then
/// the shallow clone itself.
fn git_args(
    source: &str,
    git_ref: &str,
    dest: &Path,
    transports: Transports,
    pin: Option<&Pin>,
) -> Vec<String> {
    let file = if transports.local { "always" } else { "never" };
    let mut args: Vec<String> = Vec::new();
    let mut config = |setting: &str| {
        args.push("-c".into());
        args.push(setting.to_owned());
    };
    config("protocol.allow=never");
    for protocol in protocols(transports) {
        config(&format!("protocol.{protocol}.allow=always"));
    }
    config(&format!("protocol.file.allow={file}"));
    config("protocol.ext.allow=never");
    config("core.hooksPath=/dev/null");
    config("core.fsmonitor=false");
    config("credential.helper=");
    config("submodule.recurse=false");
    // A redirect could lead to an address that was never checked.
    config("http.followRedirects=false");
    if let Some(Pin(pin)) = pin {
        // git's own lookup could get another answer than the one checked (DNS rebinding).
        config(&format!("http.curloptResolve={pin}"));
    }
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
pub(super) async fn clone(
    source: &str,
    pin: Option<&Pin>,
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
            policy.transports(),
            pin,
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
            protocols(policy.transports()).join(":"),
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

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Transports = Transports {
        local: false,
        git: false,
    };

    #[test]
    fn git_is_told_to_be_careful() {
        let pin = Pin("h:443:203.0.114.5".into());
        let args = git_args(
            "https://h/r",
            "main",
            Path::new("/tmp/x/repo"),
            NONE,
            Some(&pin),
        );
        let joined = args.join(" ");
        for part in [
            "-c protocol.allow=never",
            "-c protocol.https.allow=always",
            "-c protocol.file.allow=never",
            "-c protocol.ext.allow=never",
            "-c core.hooksPath=/dev/null",
            "-c http.followRedirects=false",
            "-c http.curloptResolve=h:443:203.0.114.5",
            "clone --quiet --depth 1 --single-branch --branch main --no-tags --no-recurse-submodules --template= -- https://h/r /tmp/x/repo",
        ] {
            assert!(joined.contains(part), "{part} in {joined}");
        }
        assert!(!joined.contains("protocol.file.allow=always"));
        assert!(!joined.contains("protocol.git.allow=always"));
        let local = Transports {
            local: true,
            git: false,
        };
        let local = git_args("/srv/r", "main", Path::new("/tmp/x/repo"), local, None).join(" ");
        assert!(local.contains("protocol.file.allow=always"), "{local}");
        assert!(!local.contains("protocol.file.allow=never"), "{local}");
    }
}
