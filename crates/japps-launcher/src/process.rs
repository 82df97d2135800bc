//! Running the app (and the git clone before it) as a child process group whose output
//! goes to the [`LogBuffer`].
//!
//! Nothing of the group may outlive the launcher, even when the launcher is killed with
//! SIGKILL and has no chance to clean up (the hub gives up on a server by killing it, an
//! OOM killer picks it, a node drains):
//!
//! - the group's leader gets `PR_SET_PDEATHSIG` = SIGKILL, so the kernel kills it the
//!   moment the launcher's thread that started it ends. The launcher starts apps from its
//!   main thread or a runtime worker, which live as long as the launcher; never from a
//!   blocking-pool thread, which the runtime ends when idle;
//! - a guard process joins the group (so the group id cannot be reused while it waits)
//!   and blocks reading a socket only the launcher holds the other end of. The kernel
//!   closes that end whenever the launcher ends, however it ends; the guard then
//!   SIGKILLs the whole group, itself included. It ignores SIGTERM, SIGINT and SIGHUP, so
//!   a graceful stop of the group leaves it watching until the final SIGKILL.
//!
//! What remains: a process that leaves the group (`setsid`, `setpgid`; daemons, Jupyter
//! kernels, which watch their parent and exit with it) and an app that kills the guard
//! first (it runs as the same user).

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use nix::sys::signal::{SigHandler, Signal, killpg, raise, signal};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, setpgid};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::LaunchError;
use crate::logs::{LineSplitter, LogBuffer, Source};

/// A program to run: what [`crate::command::build`] produced, or git.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: &'a Path,
}

/// A running child in its own process group, so that stopping it stops everything it
/// started too (shells, conda run, framework workers).
#[derive(Debug)]
pub struct AppProcess {
    child: Child,
    pgid: Option<Pid>,
    readers: Vec<JoinHandle<()>>,
    /// Our end of the guard's socket: dropping it (or the launcher dying) fires the guard.
    guard: Option<UnixStream>,
}

impl AppProcess {
    /// Starts `invocation` with stdout and stderr captured line by line into `logs`.
    pub fn spawn(invocation: &Invocation<'_>, logs: &Arc<LogBuffer>) -> Result<Self, LaunchError> {
        let mut command = Command::new(invocation.program);
        command
            .args(invocation.args)
            .envs(invocation.env.iter().map(|(k, v)| (k, v)))
            .current_dir(invocation.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            // If the launcher dies without cleaning up, the app must not live on unseen.
            .kill_on_drop(true);
        let launcher = getpid();
        // The one place the launcher needs unsafe code: the kernel's parent-death signal
        // can only be set between fork and exec.
        #[allow(unsafe_code)]
        // SAFETY: the hook runs between fork and exec and only makes system calls
        // (prctl, getppid), which are async-signal-safe; it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
                // The launcher may have died before the line above took effect.
                if getppid() != launcher {
                    return Err(std::io::Error::other("the launcher is gone"));
                }
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|err| {
            LaunchError::Start(format!("cannot start {:?}: {err}", invocation.program))
        })?;
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(read_lines(stdout, Source::Stdout, Arc::clone(logs)));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(read_lines(stderr, Source::Stderr, Arc::clone(logs)));
        }
        let guard = pgid.and_then(|pgid| match spawn_guard(pgid) {
            Ok(end) => Some(end),
            Err(err) => {
                logs.push(
                    Source::Launcher,
                    &format!(
                        "warning: cannot start the guard that stops the app if the launcher \
                         is killed: {err}"
                    ),
                );
                None
            }
        });
        Ok(Self {
            child,
            pgid,
            readers,
            guard,
        })
    }

    /// The process group, for stopping it from elsewhere while another task waits on it.
    pub fn group(&self) -> Option<Pid> {
        self.pgid
    }

    /// Waits for the process to exit, and for its last output lines to be read.
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        for reader in self.readers.drain(..) {
            // Grandchildren may hold the pipes open; don't wait for them forever.
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
        Ok(status)
    }

    /// SIGTERM to the whole group, then SIGKILL after `grace` if anything is left.
    pub async fn terminate(&mut self, grace: Duration) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, Signal::SIGTERM);
            if tokio::time::timeout(grace, self.child.wait())
                .await
                .is_err()
            {
                let _ = killpg(pgid, Signal::SIGKILL);
            } else {
                // The leader is gone; stragglers in its group get no second chance.
                let _ = killpg(pgid, Signal::SIGKILL);
            }
        }
        let _ = self.child.kill().await;
    }
}

impl Drop for AppProcess {
    /// Stragglers of a leader that exited on its own go too. The group id is still ours:
    /// the guard, a member, keeps it from being reused until it is gone itself.
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
        self.guard.take();
    }
}

/// Forks the guard of group `pgid` (see the module's documentation) and returns the
/// launcher's end of its socket. A fork without exec needs no helper program in the app's
/// image (distroless, other architectures): the unsafe code is what that costs.
#[allow(unsafe_code)]
fn spawn_guard(pgid: Pid) -> std::io::Result<UnixStream> {
    // Both ends are close-on-exec: the app and later children never hold them.
    let (ours, theirs) = UnixStream::pair()?;
    // SAFETY: the child only makes async-signal-safe system calls (signal, setpgid, read,
    // kill) on memory that exists before the fork, and never returns into Rust code that
    // could allocate or take a lock: it ends by killing its own group, or itself.
    match unsafe { fork() }.map_err(std::io::Error::from)? {
        ForkResult::Child => {
            drop(ours);
            for stop in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
                // SAFETY: SIG_IGN installs no handler code.
                let _ = unsafe { signal(stop, SigHandler::SigIgn) };
            }
            let _ = setpgid(Pid::from_raw(0), pgid);
            let mut byte = [0_u8; 1];
            loop {
                match nix::unistd::read(theirs.as_fd(), &mut byte) {
                    Ok(0) => break,
                    Err(nix::errno::Errno::EINTR) | Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = raise(Signal::SIGKILL);
            #[allow(clippy::empty_loop)]
            loop {}
        }
        ForkResult::Parent { child } => {
            drop(theirs);
            // Also from here, so the guard is in the group before the app can leave
            // anything behind; EACCES/ESRCH mean the child did it first or is gone.
            let _ = setpgid(child, pgid);
            // Reaped when it ends, so it never lingers as a zombie.
            std::thread::spawn(move || {
                let _ = nix::sys::wait::waitpid(child, None);
            });
            Ok(ours)
        }
    }
}

/// Sends `signal` to the process group `pgid` (ignoring a group that is already gone).
pub fn signal_group(pgid: Pid, signal: Signal) {
    let _ = killpg(pgid, signal);
}

/// Copies `pipe` into `logs` line by line, holding at most one (bounded) line at a time.
fn read_lines<R>(mut pipe: R, source: Source, logs: Arc<LogBuffer>) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut chunk = vec![0_u8; 8 * 1024];
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        loop {
            match pipe.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    splitter.feed(&chunk[..n], &mut lines);
                    for line in lines.drain(..) {
                        logs.push(source, &line);
                    }
                }
            }
        }
        if let Some(line) = splitter.finish() {
            logs.push(source, &line);
        }
    })
}

/// Runs a preparation step (git clone) to completion with its output logged, killing it
/// after `timeout`.
pub async fn run_step(
    invocation: &Invocation<'_>,
    logs: &Arc<LogBuffer>,
    timeout: Duration,
) -> Result<(), LaunchError> {
    let mut process = AppProcess::spawn(invocation, logs)?;
    match tokio::time::timeout(timeout, process.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(LaunchError::Start(format!(
            "{} failed ({})",
            invocation.program,
            describe(status)
        ))),
        Ok(Err(err)) => Err(LaunchError::Start(format!(
            "{} failed: {err}",
            invocation.program
        ))),
        Err(_) => {
            process.terminate(Duration::from_secs(2)).await;
            Err(LaunchError::Start(format!(
                "{} did not finish within {} s",
                invocation.program,
                timeout.as_secs()
            )))
        }
    }
}

/// "exit status 3" / "killed by signal 9", for people.
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["-c".into(), script.into()]
    }

    #[tokio::test]
    async fn output_is_captured_per_stream() {
        let logs = Arc::new(LogBuffer::new(100, false));
        let args = sh("echo out; echo err >&2; printf 'no newline'; exit 4");
        let dir = std::env::temp_dir();
        let invocation = Invocation {
            program: "sh",
            args: &args,
            env: &[],
            cwd: &dir,
        };
        let mut process = AppProcess::spawn(&invocation, &logs).unwrap();
        let status = process.wait().await.unwrap();
        assert_eq!(describe(status), "exit status 4");
        let lines: Vec<(Source, String)> = logs
            .tail(10)
            .into_iter()
            .map(|l| (l.source, l.text))
            .collect();
        assert!(lines.contains(&(Source::Stdout, "out".into())), "{lines:?}");
        assert!(lines.contains(&(Source::Stderr, "err".into())), "{lines:?}");
        assert!(
            lines.contains(&(Source::Stdout, "no newline".into())),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn terminate_stops_the_whole_group() {
        let logs = Arc::new(LogBuffer::new(100, false));
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-survived");
        // The grandchild ignores nothing special; it must die with the group.
        let args = sh(&format!(
            "(sleep 3; touch {}) & echo started; wait",
            marker.display()
        ));
        let invocation = Invocation {
            program: "sh",
            args: &args,
            env: &[],
            cwd: dir.path(),
        };
        let mut process = AppProcess::spawn(&invocation, &logs).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        process.terminate(Duration::from_secs(2)).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(
            !marker.exists(),
            "a process of the app's group outlived terminate()"
        );
    }

    #[tokio::test]
    async fn steps_fail_with_a_reason_or_time_out() {
        let logs = Arc::new(LogBuffer::new(100, false));
        let dir = std::env::temp_dir();
        let fail = sh("exit 2");
        let invocation = Invocation {
            program: "sh",
            args: &fail,
            env: &[],
            cwd: &dir,
        };
        let err = run_step(&invocation, &logs, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("exit status 2"), "{err}");
        let slow = sh("sleep 10");
        let invocation = Invocation {
            program: "sh",
            args: &slow,
            env: &[],
            cwd: &dir,
        };
        let err = run_step(&invocation, &logs, Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("did not finish"), "{err}");
        let missing = Invocation {
            program: "/no/such/program",
            args: &[],
            env: &[],
            cwd: &dir,
        };
        assert!(
            run_step(&missing, &logs, Duration::from_secs(1))
                .await
                .is_err()
        );
    }

    fn texts(logs: &LogBuffer) -> Vec<(Source, String)> {
        logs.tail(100)
            .into_iter()
            .map(|l| (l.source, l.text))
            .collect()
    }

    #[tokio::test]
    async fn a_100_mb_line_is_cut_and_the_output_goes_on() {
        let logs = Arc::new(LogBuffer::new(100, false));
        let dir = std::env::temp_dir();
        let args = sh("echo first; head -c 100000000 /dev/zero | tr '\\0' x; echo; echo after");
        let invocation = Invocation {
            program: "sh",
            args: &args,
            env: &[],
            cwd: &dir,
        };
        let mut process = AppProcess::spawn(&invocation, &logs).unwrap();
        let status = tokio::time::timeout(Duration::from_secs(60), process.wait())
            .await
            .expect("the reader keeps up")
            .unwrap();
        assert!(status.success());
        let lines = texts(&logs);
        assert_eq!(
            lines.len(),
            3,
            "{:?}",
            lines.iter().map(|(_, t)| t.len()).collect::<Vec<_>>()
        );
        assert_eq!(lines[0].1, "first");
        assert!(lines[1].1.len() <= crate::logs::MAX_LINE_BYTES);
        assert!(lines[1].1.starts_with("xxxx"));
        assert!(lines[1].1.ends_with(crate::logs::CUT_MARKER));
        assert_eq!(lines[2].1, "after");
    }

    #[tokio::test]
    async fn a_line_that_never_ends_shows_while_the_app_runs() {
        let logs = Arc::new(LogBuffer::new(100, false));
        let dir = std::env::temp_dir();
        let args = sh("yes | tr -d '\\n'");
        let invocation = Invocation {
            program: "sh",
            args: &args,
            env: &[],
            cwd: &dir,
        };
        let mut process = AppProcess::spawn(&invocation, &logs).unwrap();
        let mut shown = Vec::new();
        for _ in 0..100 {
            shown = texts(&logs);
            if !shown.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process.terminate(Duration::from_secs(2)).await;
        assert_eq!(shown.len(), 1);
        assert!(shown[0].1.starts_with("yyyy") && shown[0].1.ends_with(crate::logs::CUT_MARKER));
    }

    #[tokio::test]
    async fn progress_bars_and_plain_lines_mix() {
        let logs = Arc::new(LogBuffer::new(100, false));
        let dir = std::env::temp_dir();
        let args = sh(
            "echo start; printf '\\r 10%%'; sleep 0.3; printf '\\r 20%%\\r 30%%'; sleep 0.3; \
             printf '\\r100%%\\n'; printf 'win\\r\\n' >&2; echo end",
        );
        let invocation = Invocation {
            program: "sh",
            args: &args,
            env: &[],
            cwd: &dir,
        };
        let mut process = AppProcess::spawn(&invocation, &logs).unwrap();
        process.wait().await.unwrap();
        let stdout: Vec<String> = texts(&logs)
            .into_iter()
            .filter(|(source, _)| *source == Source::Stdout)
            .map(|(_, text)| text)
            .collect();
        // Redraws completed by one read collapse into the last of them.
        assert_eq!(stdout, ["start", " 20%", "100%", "end"]);
        assert!(texts(&logs).contains(&(Source::Stderr, "win".into())));
    }
}
