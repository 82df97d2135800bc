//! `japps launch` from start to exit: read the environment, listen at once, prepare and
//! start the app while the startup page shows its progress, wait until it is ready, proxy,
//! report activity, and stop cleanly.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use japps_auth::Forwarding;
use japps_hub::{HubClient, HubClientConfig, ServiceToken};
use nix::sys::signal::Signal;
use secrecy::ExposeSecret;
use tokio::sync::watch;

use crate::LaunchError;
use crate::activity::{self, Activity};
use crate::auth::Gate;
use crate::command::{self, CommandContext, EnvManager};
use crate::logs::{LogBuffer, Source};
use crate::options::{AuthType, LaunchOptions, OVERRIDES_ENV, Settings, truthy};
use crate::process::{AppProcess, Invocation, describe, run_step, signal_group};
use crate::proxy::{Proxy, Target};
use crate::server::{Launcher, Phase, router};
use crate::server_env::ServerEnv;
use crate::spec::{APP_ENV, AppSpec, Framework, Repository};
use japps_domain::launcher_args::LauncherRules;

/// How long a clone may take before the start is given up.
const CLONE_TIMEOUT: Duration = Duration::from_secs(300);
/// Time the app gets to stop on SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Between readiness probes, and each probe's own limit.
const PROBE_EVERY: Duration = Duration::from_millis(500);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How the launcher ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Stopped by SIGTERM (the hub stopping the server): success.
    Stopped,
    /// The app could not start or crashed: the hub should see the server fail.
    Failed,
}

/// Runs the launcher until `shutdown` resolves or the app fails. `args` are the launch
/// command's own arguments: known flags are used, anything else (arguments spawners
/// append for Jupyter servers) is ignored with a note.
/// The version of the hub's `japps serve`, which the japps spawner passes to every app.
const SERVICE_VERSION_ENV: &str = "JAPPS_SERVICE_VERSION";

/// A warning when this launcher and the hub's service are different japps versions: the
/// app definition and the pages they share may not match.
fn version_note(service: Option<&str>) -> Option<String> {
    let other = japps_domain::build_info::differing_version(service?)?;
    let mine = japps_domain::build_info::LONG_VERSION;
    tracing::warn!("this launcher is japps {mine}, the hub's service is japps {other}");
    Some(format!(
        "warning: this launcher is japps {mine}, the hub's japps service is {other}; \
         install the same version in the app's environment"
    ))
}

pub async fn run(
    args: &[String],
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Exit, LaunchError> {
    let env = Arc::new(ServerEnv::from_env()?);
    let spec_json = std::env::var(APP_ENV).map_err(|_| {
        LaunchError::Config(format!(
            "{APP_ENV} is not set: the japps spawner passes the app definition in it"
        ))
    })?;
    let spec = AppSpec::from_json(&spec_json)?;
    let (flags, mut notes) = LaunchOptions::from_args(args);
    let raw_overrides = std::env::var(OVERRIDES_ENV).ok();
    let (overrides, override_notes) = raw_overrides
        .as_deref()
        .map(LaunchOptions::from_overrides)
        .unwrap_or_default();
    notes.extend(override_notes);
    let (overrides, policy_note) = overrides.without_policy();
    notes.extend(policy_note);
    // The same rules the service applied when the app was saved: an app stored before
    // the operator changed them, or written to the hub directly, meets them here.
    let rules = flags.rules(args);
    if let Some(reason) = raw_overrides
        .as_deref()
        .and_then(japps_domain::launcher_args::override_flags)
        .and_then(|words| rules.refuse_overrides(&words))
    {
        notes.push(format!(
            "{OVERRIDES_ENV}: {reason}; the operator's rule applies"
        ));
    }
    let options = if rules.final_args.is_empty() {
        flags.overridden_by(overrides)
    } else {
        overrides.overridden_by(flags)
    };
    let keep_alive_env = std::env::var("JH_APPS_KEEP_ALIVE").is_ok_and(|v| truthy(&v));
    let mut settings = resolve_settings(&options, &spec, &env, keep_alive_env);
    notes.extend(apply_rules(&mut settings, &rules, &options, &spec));
    let repository = options
        .repo
        .clone()
        .map(|url| Repository {
            url,
            git_ref: options.repobranch.clone(),
        })
        .or_else(|| spec.repository.clone());

    // A clone URL may carry credentials; whatever shows the output (the pages, stdout)
    // must not show them, nor may the notes about the arguments that named the URL.
    let secrets = repository
        .as_ref()
        .map(|repo| japps_domain::git::url_secrets(&repo.url))
        .unwrap_or_default();
    let logs = Arc::new(LogBuffer::new(settings.log_buffer_size, true).with_secrets(secrets));
    notes.extend(version_note(
        std::env::var(SERVICE_VERSION_ENV).ok().as_deref(),
    ));
    for note in notes {
        logs.push(Source::Launcher, &note);
    }

    let hub = HubClient::new(HubClientConfig::new(
        env.api_url.clone(),
        ServiceToken::new(env.api_token.expose_secret().to_owned()),
    ))?;

    // Listen before anything slow: the hub's spawn waits for this address to answer.
    let listener = tokio::net::TcpListener::bind((env.bind_host.as_str(), env.bind_port))
        .await
        .map_err(|err| {
            LaunchError::Start(format!(
                "cannot listen on {}:{}: {err}",
                env.bind_host, env.bind_port
            ))
        })?;

    let port = match options.destport.filter(|port| *port != 0) {
        Some(port) => port,
        None => free_port()?,
    };
    // A clone goes into a fresh directory that lives as long as the launcher.
    let clone_dir = match &repository {
        Some(_) => Some(
            tempfile::Builder::new()
                .prefix(&format!("japps-{}-", safe(&env.server_name)))
                .tempdir()?,
        ),
        None => None,
    };
    let examples = tempfile::Builder::new()
        .prefix("japps-examples-")
        .tempdir()?;
    let workdir: PathBuf = match (&options.workdir, &clone_dir) {
        (Some(dir), Some(clone)) if dir.is_relative() => clone.path().join(dir),
        (Some(dir), _) => dir.clone(),
        (None, Some(clone)) => clone.path().to_owned(),
        (None, None) => std::env::current_dir()?,
    };
    let conda_env = options.conda_env.clone().or_else(|| spec.conda_env.clone());
    let env_manager = EnvManager::from_env();
    let strip_prefix = options
        .strip_prefix
        .unwrap_or_else(|| command::strips_prefix(spec.framework));

    let activity = Arc::new(Activity::new());
    let proxy = Proxy::new(
        Target {
            port,
            prefix: env.prefix.clone(),
            strip_prefix,
            forwarding: Forwarding {
                own_client_id: env.client_id.clone(),
                authorization: settings.forward_authorization,
            },
        },
        Arc::clone(&activity),
    );
    let (phase_tx, phase_rx) = watch::channel(Phase::Starting);
    let launcher = Arc::new(Launcher {
        env: Arc::clone(&env),
        gate: Gate::new(Arc::clone(&env), hub.clone()),
        proxy,
        logs: Arc::clone(&logs),
        phase: phase_rx,
        public: settings.authtype == AuthType::None,
        app_name: spec.display_name.clone(),
    });
    tracing::info!(
        "japps launch: {} ({}) for {}/{} on {}:{} → app on 127.0.0.1:{port}",
        spec.display_name,
        spec.framework.name(),
        env.user,
        env.server_name,
        env.bind_host,
        env.bind_port
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let server = {
        let app = router(Arc::clone(&launcher)).into_make_service_with_connect_info::<SocketAddr>();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let graceful = async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            // Relayed WebSocket messages and streamed bodies go out in several writes;
            // without TCP_NODELAY each waits for the visitor's delayed ACK (~40 ms).
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            if let Err(err) = axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .await
            {
                tracing::error!("the launcher's server failed: {err}");
            }
        })
    };
    let reporter = settings.activity_interval.map(|interval| {
        tokio::spawn(activity::report(
            Arc::clone(&activity),
            hub.clone(),
            env.user.clone(),
            env.server_name.clone(),
            interval,
            settings.keep_alive,
        ))
    });

    let running = std::sync::Mutex::new(None);
    let life = app_life(AppLife {
        spec: &spec,
        env: &env,
        port,
        repository: repository
            .as_ref()
            .zip(clone_dir.as_ref().map(tempfile::TempDir::path)),
        workdir: &workdir,
        examples_dir: examples.path(),
        conda_env: conda_env.as_deref(),
        env_manager,
        ready_check_path: options.ready_check_path.as_deref(),
        ready_timeout: settings.ready_timeout,
        proxy: &launcher.proxy,
        logs: &logs,
        phase: &phase_tx,
        running: &running,
    });

    // Whatever ends first: SIGTERM, or the app's life (a failure).
    tokio::pin!(life);
    tokio::pin!(shutdown);
    let exit = tokio::select! {
        () = &mut shutdown => {
            logs.push(Source::Launcher, "stopping the app (SIGTERM)");
            let group = *running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(group) = group {
                signal_group(group, Signal::SIGTERM);
                // `life` ends when the app has exited; after the grace, nothing is left alive.
                let _ = tokio::time::timeout(STOP_GRACE, &mut life).await;
                signal_group(group, Signal::SIGKILL);
            }
            Exit::Stopped
        }
        ended = &mut life => {
            let reason = logs.redact(&ended.to_string());
            logs.push(Source::Launcher, &format!("failed: {reason}"));
            let _ = phase_tx.send(Phase::Failed { reason });
            // Keep the failure page up for the owner, unless the hub stops us first.
            tokio::select! {
                () = tokio::time::sleep(settings.exit_grace) => {}
                () = &mut shutdown => {}
            }
            Exit::Failed
        }
    };
    let _ = stop_tx.send(true);
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    // In-flight requests get a moment; long-lived ones (WebSockets, SSE) don't hold us.
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    logs.flush_stdout(Duration::from_secs(2)).await;
    Ok(exit)
}

/// The launcher's settings: flags and overrides first, then what the app definition and
/// the hub's environment imply, then the defaults.
fn resolve_settings(
    options: &LaunchOptions,
    spec: &AppSpec,
    env: &ServerEnv,
    keep_alive_env: bool,
) -> Settings {
    // JupyterLab checks the hub's access scopes itself (jupyterhub.singleuser), so a
    // second login in front of it would only cost a round trip; its logs keep ours.
    let open = spec.public || spec.framework == Framework::JupyterLab;
    Settings {
        authtype: options.authtype.unwrap_or(if open {
            AuthType::None
        } else {
            AuthType::Oauth
        }),
        keep_alive: options
            .keep_alive
            .unwrap_or(spec.keep_alive || keep_alive_env),
        ready_timeout: Duration::from_secs(
            options
                .ready_timeout
                .unwrap_or(Settings::DEFAULT_READY_TIMEOUT),
        ),
        activity_interval: match options
            .activity_interval
            .or(env.activity_interval)
            .unwrap_or(Settings::DEFAULT_ACTIVITY_INTERVAL)
        {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        },
        log_buffer_size: options
            .log_buffer_size
            .unwrap_or(Settings::DEFAULT_LOG_LINES),
        exit_grace: Duration::from_secs(options.exit_grace.unwrap_or(Settings::DEFAULT_EXIT_GRACE)),
        // JupyterLab authenticates API calls with the hub token in `Authorization`.
        forward_authorization: options
            .forward_authorization
            .unwrap_or(spec.framework == Framework::JupyterLab),
    }
}

/// Settings the operator's rules forbid are turned off; returns a note for the app's log
/// for each.
fn apply_rules(
    settings: &mut Settings,
    rules: &LauncherRules,
    options: &LaunchOptions,
    spec: &AppSpec,
) -> Vec<String> {
    let mut notes = Vec::new();
    // JupyterLab's own default (no login in front, it checks access itself) is not
    // "public"; a public flag or an explicit --authtype=none is.
    let asked_open = spec.public || options.authtype == Some(AuthType::None);
    if !rules.allow_public && settings.authtype == AuthType::None && asked_open {
        settings.authtype = AuthType::Oauth;
        notes.push(
            "this deployment does not allow public apps (c.JAppsConfig.allow_public_apps): \
             visitors log in through the hub"
                .into(),
        );
    }
    if !rules.allow_keep_alive && settings.keep_alive {
        settings.keep_alive = false;
        notes.push(
            "this deployment does not allow keep-alive (c.JAppsConfig.allow_keep_alive): \
             only real traffic is reported to the hub"
                .into(),
        );
    }
    notes
}

/// What the app's life needs from the launcher.
struct AppLife<'a> {
    spec: &'a AppSpec,
    env: &'a ServerEnv,
    port: u16,
    /// The repository to clone, and the fresh directory to clone it into.
    repository: Option<(&'a Repository, &'a Path)>,
    workdir: &'a Path,
    examples_dir: &'a Path,
    conda_env: Option<&'a str>,
    env_manager: EnvManager,
    ready_check_path: Option<&'a str>,
    ready_timeout: Duration,
    proxy: &'a Proxy,
    logs: &'a Arc<LogBuffer>,
    phase: &'a watch::Sender<Phase>,
    /// The app's process group while it runs, for SIGTERM.
    running: &'a std::sync::Mutex<Option<nix::unistd::Pid>>,
}

/// Clones, starts the app, waits until it is ready (then sets [`Phase::Ready`]) and until
/// it exits. Returns why it ended: an app's life ends only in failure (SIGTERM is handled
/// by the caller, which drops this future).
async fn app_life(life: AppLife<'_>) -> LaunchError {
    match app_life_inner(&life).await {
        Ok(never) => match never {},
        Err(err) => err,
    }
}

async fn app_life_inner(life: &AppLife<'_>) -> Result<std::convert::Infallible, LaunchError> {
    let AppLife {
        spec,
        env,
        port,
        logs,
        ..
    } = *life;
    if let Some((repo, dir)) = life.repository {
        clone(repo, dir, logs).await?;
    }
    // After the clone: the app's file is looked up in it.
    let command = command::build(
        spec,
        &CommandContext {
            port,
            prefix: &env.prefix,
            workdir: life.workdir,
            examples_dir: life.examples_dir,
            env_manager: life.env_manager,
            conda_env: life.conda_env,
        },
    )?;
    let mut app_env = command.env.clone();
    // The app listens inside; the hub's address is the launcher's.
    app_env.push((
        "JUPYTERHUB_SERVICE_URL".into(),
        format!("http://127.0.0.1:{port}{}", env.prefix),
    ));
    let words =
        std::iter::once(command.program.as_str()).chain(command.args.iter().map(String::as_str));
    logs.push(
        Source::Launcher,
        &format!("starting: {}", shlex::try_join(words).unwrap_or_default()),
    );
    let mut process = AppProcess::spawn(
        &Invocation {
            program: &command.program,
            args: &command.args,
            env: &app_env,
            cwd: life.workdir,
        },
        logs,
    )?;
    *life
        .running
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = process.group();
    let ready_path = life.ready_check_path.unwrap_or(&command.ready_path);
    let started = Instant::now();
    let outcome = tokio::select! {
        status = process.wait() => Err(format!(
            "the app exited before it was ready ({})",
            status.map_or_else(|e| e.to_string(), describe)
        )),
        ready = wait_ready(life.proxy, ready_path, life.ready_timeout) => ready,
    };
    if let Err(reason) = outcome {
        process.terminate(Duration::from_secs(2)).await;
        return Err(LaunchError::Start(reason));
    }
    logs.push(
        Source::Launcher,
        &format!("ready after {:.1} s", started.elapsed().as_secs_f64()),
    );
    let _ = life.phase.send(Phase::Ready);
    let status = process.wait().await;
    Err(LaunchError::Start(format!(
        "the app exited ({})",
        status.map_or_else(|e| e.to_string(), describe)
    )))
}

/// Polls `path` until the app answers (anything below 500) or `timeout` passes.
async fn wait_ready(proxy: &Proxy, path: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut last = String::from("no answer yet");
    while Instant::now() < deadline {
        match proxy.probe(path, PROBE_TIMEOUT).await {
            Ok(status) if status < 500 => return Ok(()),
            Ok(status) => last = format!("{path} answered {status}"),
            Err(err) => last = err,
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
    Err(format!(
        "the app did not become ready within {} s (last check of {path}: {last})",
        timeout.as_secs()
    ))
}

/// Clones `repo` into `dir`. The URL is shown without its credentials; git's own output
/// goes through `logs`, which masks them wherever git repeats them.
async fn clone(repo: &Repository, dir: &Path, logs: &Arc<LogBuffer>) -> Result<(), LaunchError> {
    let shown = japps_domain::git::redact_url(&repo.url);
    logs.push(
        Source::Launcher,
        &format!(
            "cloning {shown} {}",
            repo.git_ref.as_deref().unwrap_or("(default branch)")
        ),
    );
    let mut args: Vec<String> = vec![
        "clone".into(),
        "--depth=1".into(),
        "--recurse-submodules".into(),
        "--shallow-submodules".into(),
    ];
    if let Some(git_ref) = &repo.git_ref {
        args.push(format!("--branch={git_ref}"));
    }
    args.extend(["--".into(), repo.url.clone(), dir.display().to_string()]);
    // Never wait for a password prompt nobody can answer.
    let env = [("GIT_TERMINAL_PROMPT".to_owned(), "0".to_owned())];
    run_step(
        &Invocation {
            program: "git",
            args: &args,
            env: &env,
            cwd: dir,
        },
        logs,
        CLONE_TIMEOUT,
    )
    .await
    .map_err(|err| LaunchError::Start(format!("cannot clone {shown}: {err}")))
}

fn free_port() -> Result<u16, LaunchError> {
    let socket = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(socket.local_addr()?.port())
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod version_tests {
    use super::version_note;

    #[test]
    fn a_different_service_version_is_a_warning() {
        let mine = japps_domain::build_info::VERSION;
        assert_eq!(version_note(None), None);
        assert_eq!(version_note(Some(&format!("{mine} (abc)"))), None);
        let note = version_note(Some("0.0.1 (abc)")).unwrap();
        assert!(note.contains("service is 0.0.1"), "{note}");
        assert!(note.contains(mine), "{note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_env(activity_interval: Option<&str>) -> ServerEnv {
        ServerEnv::from_lookup(|name| {
            match name {
                "JUPYTERHUB_SERVICE_URL" => Some("http://127.0.0.1:5000/user/a/app/"),
                "JUPYTERHUB_API_URL" => Some("http://127.0.0.1:8081/hub/api"),
                "JUPYTERHUB_API_TOKEN" => Some("token"),
                "JUPYTERHUB_CLIENT_ID" => Some("jupyterhub-user-a-app"),
                "JUPYTERHUB_USER" => Some("a"),
                "JUPYTERHUB_ACTIVITY_INTERVAL" => activity_interval,
                _ => None,
            }
            .map(str::to_owned)
        })
        .unwrap()
    }

    fn spec(json: &str) -> AppSpec {
        AppSpec::from_json(json).unwrap()
    }

    #[test]
    fn who_may_visit() {
        let env = server_env(None);
        let none = LaunchOptions::default();
        let private = spec(r#"{"framework":"panel"}"#);
        let public = spec(r#"{"framework":"panel","public":true}"#);
        let lab = spec(r#"{"framework":"jupyterlab"}"#);
        assert_eq!(
            resolve_settings(&none, &private, &env, false).authtype,
            AuthType::Oauth
        );
        assert_eq!(
            resolve_settings(&none, &public, &env, false).authtype,
            AuthType::None
        );
        assert_eq!(
            resolve_settings(&none, &lab, &env, false).authtype,
            AuthType::None
        );
        let forced = LaunchOptions {
            authtype: Some(AuthType::Oauth),
            ..LaunchOptions::default()
        };
        assert_eq!(
            resolve_settings(&forced, &public, &env, false).authtype,
            AuthType::Oauth
        );
    }

    #[test]
    fn the_operators_rules_win() {
        let env = server_env(None);
        let public = spec(r#"{"framework":"panel","public":true,"keep_alive":true}"#);
        let lab = spec(r#"{"framework":"jupyterlab"}"#);
        let strict = LauncherRules {
            allow_public: false,
            allow_keep_alive: false,
            final_args: Vec::new(),
        };
        let none = LaunchOptions::default();
        let mut settings = resolve_settings(&none, &public, &env, false);
        let notes = apply_rules(&mut settings, &strict, &none, &public);
        assert_eq!(settings.authtype, AuthType::Oauth);
        assert!(!settings.keep_alive);
        assert_eq!(notes.len(), 2, "{notes:?}");
        // JupyterLab checks access itself: not a public app.
        let mut settings = resolve_settings(&none, &lab, &env, false);
        assert!(apply_rules(&mut settings, &strict, &none, &lab).is_empty());
        assert_eq!(settings.authtype, AuthType::None);
        let (asked, _) = LaunchOptions::from_overrides("--authtype=none --keep-alive");
        let private = spec(r#"{"framework":"panel"}"#);
        let mut settings = resolve_settings(&asked, &private, &env, false);
        apply_rules(&mut settings, &strict, &asked, &private);
        assert_eq!(settings.authtype, AuthType::Oauth);
        assert!(!settings.keep_alive);
        let mut settings = resolve_settings(&none, &public, &env, true);
        assert!(
            apply_rules(
                &mut settings,
                &LauncherRules {
                    allow_public: true,
                    allow_keep_alive: true,
                    final_args: Vec::new(),
                },
                &none,
                &public
            )
            .is_empty()
        );
        assert_eq!(settings.authtype, AuthType::None);
    }

    #[test]
    fn authorization_reaches_only_jupyterlab_unless_asked() {
        let env = server_env(None);
        let none = LaunchOptions::default();
        let panel = spec(r#"{"framework":"panel"}"#);
        let lab = spec(r#"{"framework":"jupyterlab"}"#);
        assert!(!resolve_settings(&none, &panel, &env, false).forward_authorization);
        assert!(resolve_settings(&none, &lab, &env, false).forward_authorization);
        let (asked, problems) = LaunchOptions::from_overrides("--forward-authorization");
        assert!(problems.is_empty());
        assert!(resolve_settings(&asked, &panel, &env, false).forward_authorization);
        let (refused, _) = LaunchOptions::from_overrides("--forward-authorization=false");
        assert!(!resolve_settings(&refused, &lab, &env, false).forward_authorization);
    }

    #[test]
    fn keep_alive_and_activity() {
        let none = LaunchOptions::default();
        let app = spec(r#"{"framework":"panel"}"#);
        let kept = spec(r#"{"framework":"panel","keep_alive":true}"#);
        let env = server_env(None);
        assert!(!resolve_settings(&none, &app, &env, false).keep_alive);
        assert!(resolve_settings(&none, &app, &env, true).keep_alive);
        assert!(resolve_settings(&none, &kept, &env, false).keep_alive);
        let defaults = resolve_settings(&none, &app, &env, false);
        assert_eq!(defaults.activity_interval, Some(Duration::from_secs(300)));
        assert_eq!(defaults.ready_timeout, Duration::from_secs(300));
        let hub_says = resolve_settings(&none, &app, &server_env(Some("60")), false);
        assert_eq!(hub_says.activity_interval, Some(Duration::from_secs(60)));
        let off = LaunchOptions {
            activity_interval: Some(0),
            ..LaunchOptions::default()
        };
        assert_eq!(
            resolve_settings(&off, &app, &server_env(Some("60")), false).activity_interval,
            None
        );
    }
}
