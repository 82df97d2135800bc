//! `japps launch` as a process on its own (no hub: public apps, activity off), for what
//! needs no hub to check: the startup page while the app starts, a git repository cloned
//! before start, conda activation, per-app overrides, SIGTERM stopping the app's
//! whole process group, SIGKILL of the launcher taking the app and its children along, and
//! the operator's policy flags. Everything a visitor does through a hub is in `real_hub/launcher.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use japps_testkit::{echo_app, free_port};
use serde_json::{Value, json};

struct Launch {
    child: Child,
    base: String,
    output: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Launch {
    /// Starts `japps launch` for `app` (JAPPS_APP) with `env` on top of a server's standard
    /// environment.
    fn start(app: Value, env: &[(&str, &str)], cwd: &Path) -> Self {
        Self::start_with(app, env, cwd, &[])
    }

    /// [`Launch::start`] with more launcher flags (the operator's).
    fn start_with(app: Value, env: &[(&str, &str)], cwd: &Path, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let output = dir.path().join("launcher.log");
        let log = std::fs::File::create(&output).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_japps"));
        command
            // `--ip` stands for the arguments spawners append; they are ignored.
            .args(["launch", "--activity-interval=0", "--ip=127.0.0.1"])
            .args(args)
            .current_dir(cwd)
            .env(
                "JUPYTERHUB_SERVICE_URL",
                format!("http://127.0.0.1:{port}/user/alice/app/"),
            )
            .env("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/app/")
            // Nothing listens there: public apps with activity off never call the hub.
            .env("JUPYTERHUB_API_URL", "http://127.0.0.1:9/hub/api")
            .env("JUPYTERHUB_API_TOKEN", "server-token")
            .env("JUPYTERHUB_CLIENT_ID", "jupyterhub-user-alice-app")
            .env("JUPYTERHUB_USER", "alice")
            .env("JUPYTERHUB_SERVER_NAME", "app")
            .env("JAPPS_APP", app.to_string())
            .envs(env.iter().copied())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null());
        japps_testkit::mark(&mut command);
        let child = command.spawn().unwrap();
        Self {
            child,
            base: format!("http://127.0.0.1:{port}/user/alice/app/"),
            output,
            _dir: dir,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    async fn get(&self, path: &str, accept: &str) -> reqwest::Response {
        let url = format!("{}{path}", self.base);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match reqwest::Client::new()
                .get(&url)
                .header("Accept", accept)
                .send()
                .await
            {
                Ok(response) => return response,
                Err(err) if Instant::now() > deadline => {
                    panic!("GET {url}: {err}\n{}", self.output())
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn wait_phase(&self, want: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let status: Value = self
                .get("_japps/api/status", "application/json")
                .await
                .json()
                .await
                .unwrap();
            if status["phase"] == want {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("never {want}:\n{}", self.output());
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "launcher did not exit on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Launch {
    /// SIGTERM first: the launcher then stops the app's own process group, which a SIGKILL
    /// of the launcher alone would leave running.
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn echo(flags: &str) -> String {
    format!(
        "python3 {} --port {{port}} --root-path {{root_path}} {flags}",
        echo_app().display()
    )
}

fn process_running(marker: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", "--", marker])
        .output()
        .is_ok_and(|out| out.status.success())
}

#[tokio::test]
async fn startup_page_then_the_app_then_sigterm_stops_everything() {
    let marker = format!("--startup-delay 2.{}", free_port());
    let mut launch = Launch::start(
        json!({"framework": "custom", "public": true, "display_name": "Slow <starter>",
               "custom_command": echo(&marker)}),
        &[],
        &std::env::temp_dir(),
    );
    // At once, while the app warms up: a page for browsers, a retryable 503 for scripts.
    let page = launch.get("", "text/html").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Starting the app"), "{html}");
    assert!(
        html.contains("Slow &lt;starter&gt;"),
        "the name is escaped: {html}"
    );
    let api = launch.get("headers", "application/json").await;
    assert_eq!(api.status(), 503);
    assert_eq!(api.headers()["retry-after"], "2");

    launch.wait_phase("ready").await;
    let seen: Value = launch
        .get("headers", "application/json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["path"], "/headers");
    assert!(
        launch.output().contains("echo app listening"),
        "app output reaches stdout"
    );

    assert!(process_running(&marker));
    let status = launch.terminate();
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    assert!(!process_running(&marker), "the app outlived the launcher");
}

#[tokio::test]
async fn a_repository_is_cloned_before_start() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::copy(echo_app(), repo.path().join("served_app.py")).unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "app"]);
    git(&["checkout", "-q", "-b", "release"]);
    std::fs::write(repo.path().join("VERSION"), "release\n").unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "release"]);

    let launch = Launch::start(
        json!({"framework": "custom", "public": true,
               "repository": {"url": format!("file://{}", repo.path().display()), "ref": "release"},
               // Relative paths: the app runs in the fresh clone of the `release` branch.
               "custom_command": "sh -c 'echo \"checked out: $(cat VERSION)\"; exec python3 served_app.py --port {port} --root-path {root_path}'"}),
        &[],
        &std::env::temp_dir(),
    );
    launch.wait_phase("ready").await;
    let output = launch.output();
    assert!(output.contains("cloning file://"), "{output}");
    assert!(output.contains("checked out: release"), "{output}");
    assert_eq!(launch.get("ready", "application/json").await.status(), 200);
}

#[tokio::test]
async fn a_framework_apps_file_is_found_in_its_clone() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args)
            .current_dir(repo.path())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::create_dir(repo.path().join("dashboards")).unwrap();
    std::fs::write(repo.path().join("dashboards/sales.py"), "print('hello')\n").unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "app"]);
    // Streamlit is not installed here: the start gets as far as running it, which shows
    // the file was looked up in the clone (it is nowhere else).
    let launch = Launch::start(
        json!({"framework": "streamlit", "public": true, "python_exec": "python3",
               "filepath": "dashboards/sales.py",
               "repository": {"url": format!("file://{}", repo.path().display())}}),
        &[("JHUB_APP_PROXY_ARGS", "--exit-grace=1")],
        &std::env::temp_dir(),
    );
    let failed = launch.wait_phase("failed").await;
    let output = launch.output();
    assert!(output.contains("cloning file://"), "{output}");
    assert!(output.contains("dashboards/sales.py"), "{output}");
    assert!(output.contains("No module named streamlit"), "{output}");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("exited before it was ready"),
        "{failed}"
    );
}

#[tokio::test]
async fn conda_environments_wrap_the_command() {
    // A stand-in `conda` on PATH that records how it was called and runs the command.
    let bin = tempfile::tempdir().unwrap();
    let conda = bin.path().join("conda");
    std::fs::write(
        &conda,
        "#!/bin/sh\n[ \"$1\" = run ] && shift\n[ \"$1\" = --no-capture-output ] && shift\n\
         [ \"$1\" = -n ] && { echo \"fake conda activating $2\"; shift 2; }\nexec \"$@\"\n",
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&conda).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&conda, permissions).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let launch = Launch::start(
        json!({"framework": "custom", "public": true, "conda_env": "analysis", "custom_command": echo("")}),
        &[("PATH", &path)],
        &std::env::temp_dir(),
    );
    launch.wait_phase("ready").await;
    let output = launch.output();
    assert!(
        output.contains("fake conda activating analysis"),
        "{output}"
    );
    assert_eq!(launch.get("ready", "application/json").await.status(), 200);
}

#[tokio::test]
async fn per_app_overrides_apply() {
    // Overrides from the app's environment: a 1 s ready timeout and grace, and a flag
    // the launcher does not know, which is reported and skipped.
    let launch = Launch::start(
        json!({"framework": "custom", "public": true, "custom_command": echo("--never-ready")}),
        &[(
            "JHUB_APP_PROXY_ARGS",
            "--ready-timeout=1 --exit-grace=1 --bogus-flag",
        )],
        &std::env::temp_dir(),
    );
    let failed = launch.wait_phase("failed").await;
    assert!(
        failed["reason"].as_str().unwrap().contains("within 1 s"),
        "{failed}"
    );
    let output = launch.output();
    assert!(
        output.contains("JHUB_APP_PROXY_ARGS: ignoring \"--bogus-flag\""),
        "{output}"
    );
    // The grace passes and the launcher exits non-zero, so the hub sees the failure.
    let mut launch = launch;
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = launch.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the launcher stayed up after the failure"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status.code(), Some(1));
}

#[tokio::test]
async fn clone_url_credentials_are_never_shown() {
    // Nothing listens on the port: git fails, and may say so with the URL.
    let closed = free_port();
    let secret = "s3cret-clone-token";
    let url = format!("https://user:{secret}@127.0.0.1:{closed}/x.git?access_token={secret}");
    let launch = Launch::start(
        json!({"framework": "custom", "public": true, "custom_command": echo(""),
               "repository": {"url": url}}),
        &[(
            "JHUB_APP_PROXY_ARGS",
            &format!("--exit-grace=1 --bogus={url}"),
        )],
        &std::env::temp_dir(),
    );
    let failed = launch.wait_phase("failed").await;
    let reason = failed["reason"].as_str().unwrap();
    assert!(
        reason.contains("cannot clone https://127.0.0.1:"),
        "{reason}"
    );
    let page = launch.get("", "text/html").await.text().await.unwrap();
    let output = launch.output();
    assert!(output.contains("cloning https://127.0.0.1:"), "{output}");
    assert!(
        output.contains("ignoring"),
        "the note about --bogus is there: {output}"
    );
    for (what, text) in [("reason", reason), ("page", &page), ("stdout", &output)] {
        assert!(!text.contains(secret), "{what} shows the secret:\n{text}");
    }
}

/// Whether `pid` is still a live process (a zombie waiting for a reaper is not).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

fn read_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn sigkill_of_the_launcher_takes_the_app_and_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("app.sh");
    // A grandchild that sleeps, one that shrugs off SIGTERM and SIGHUP, then the app.
    std::fs::write(
        &script,
        format!(
            "sleep 1000 &\necho $! > \"$1/sleeper\"\n\
             sh -c 'trap \"\" TERM HUP INT; while :; do sleep 1; done' &\n\
             echo $! > \"$1/stubborn\"\necho $$ > \"$1/app\"\n\
             exec python3 {} --port \"$2\" --root-path \"$3\"\n",
            echo_app().display()
        ),
    )
    .unwrap();
    let command = format!(
        "sh {} {} {{port}} {{root_path}}",
        script.display(),
        dir.path().display()
    );
    let mut launch = Launch::start(
        json!({"framework": "custom", "public": true, "custom_command": command}),
        &[],
        &std::env::temp_dir(),
    );
    launch.wait_phase("ready").await;
    let pids: Vec<i32> = ["app", "sleeper", "stubborn"]
        .iter()
        .map(|name| read_pid(&dir.path().join(name)))
        .collect();
    assert!(pids.iter().all(|pid| alive(*pid)), "{pids:?}");

    launch.child.kill().unwrap();
    launch.child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|pid| alive(*pid)) {
        assert!(
            Instant::now() < deadline,
            "still running 5 s after the launcher was killed: {:?}\n{}",
            pids.iter().filter(|pid| alive(**pid)).collect::<Vec<_>>(),
            launch.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_operators_policy_flags_win_over_the_app() {
    // A public, keep-alive app under an operator who allows neither; the app's own
    // JHUB_APP_PROXY_ARGS tries to grant itself both back.
    let launch = Launch::start_with(
        json!({"framework": "custom", "public": true, "keep_alive": true,
               "custom_command": echo("")}),
        &[(
            "JHUB_APP_PROXY_ARGS",
            "--allow-public --authtype=none --ready-timeout=600",
        )],
        &std::env::temp_dir(),
        &[
            "--ready-timeout=60",
            "--allow-public=false",
            "--allow-keep-alive=false",
            "--launcher-args-final",
        ],
    );
    // Not logged in: sent to log in, not to the app.
    let deadline = Instant::now() + Duration::from_secs(20);
    let response = loop {
        match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(&launch.base)
            .header("Accept", "text/html")
            .send()
            .await
        {
            Ok(response) => break response,
            Err(err) => {
                assert!(Instant::now() < deadline, "{err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert!(
        response.status().is_redirection(),
        "{:?}\n{}",
        response.status(),
        launch.output()
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains("/hub/api/oauth2/authorize") || location.contains("_japps/login"),
        "{location}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let output = launch.output();
        if output.contains("does not allow public apps")
            && output.contains("does not allow keep-alive")
            && output.contains("only the operator sets them")
            && output.contains("the operator's rule applies")
        {
            break;
        }
        assert!(Instant::now() < deadline, "{output}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
