//! The hub's OS process: started in its own process group, logging to a file, and stopped
//! gently (SIGTERM lets the hub stop its proxy and services) before anything harsher.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

#[derive(Debug)]
pub(crate) struct HubProcess {
    child: Mutex<Child>,
}

impl HubProcess {
    pub(crate) fn spawn(venv: &Path, dir: &Path, config: &Path, env: &[(String, String)]) -> Self {
        use std::os::unix::process::CommandExt;

        // Appended: a restarted hub's log follows the first run's.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("hub.log"))
            .expect("open hub.log");
        let mut command = Command::new(venv.join("bin/jupyterhub"));
        command
            .arg("-f")
            .arg(config)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0);
        // The hub passes only some variables to its services; make sure none of ours
        // pretends to be hub-provided.
        for (name, _) in std::env::vars() {
            if name.starts_with("JUPYTERHUB_") || name.starts_with("JPY_") {
                command.env_remove(name);
            }
        }
        crate::mark(&mut command);
        command.env("PATH", path_with(venv));
        // The venvs can be shared by several checkouts of the repository, and their
        // editable install of the plugin points at one of them: the hub must run this
        // checkout's plugin.
        command.env("PYTHONPATH", crate::workspace_root().join("python"));
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "info,japps_hub=debug");
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));
        let child = command.spawn().expect("start jupyterhub");
        Self {
            child: Mutex::new(child),
        }
    }

    /// The hub's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }

    pub(crate) fn exit_status(&self) -> Option<ExitStatus> {
        self.child.lock().unwrap().try_wait().ok().flatten()
    }

    /// SIGTERM, up to 15 s for the hub's own cleanup, then SIGKILL for the whole group and
    /// the proxy (which the hub starts in a session of its own).
    pub(crate) fn stop(&self, dir: &Path) {
        let mut child = self.child.lock().unwrap();
        let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid fits i32"));
        if child.try_wait().ok().flatten().is_none() {
            let _ = kill(pid, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(15);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = killpg(pid, Signal::SIGKILL);
        let _ = child.wait();
        if let Ok(text) = std::fs::read_to_string(dir.join("proxy.pid"))
            && let Ok(proxy) = text.trim().parse::<i32>()
        {
            let _ = kill(Pid::from_raw(proxy), Signal::SIGKILL);
        }
    }
}

fn path_with(venv: &Path) -> String {
    let bin = venv.join("bin");
    match std::env::var("PATH") {
        Ok(path) => format!("{}:{path}", bin.display()),
        Err(_) => bin.display().to_string(),
    }
}

/// The children of `parent` that lead a process group of their own: the processes the hub
/// starts in new sessions (its proxy, managed services, single-user servers). Linux only;
/// elsewhere none.
pub(crate) fn session_children(parent: u32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.get(1).and_then(|ppid| ppid.parse::<u32>().ok()) == Some(parent)
                && fields.get(2).and_then(|pgrp| pgrp.parse::<i32>().ok()) == Some(*pid)
        })
        .collect()
}
