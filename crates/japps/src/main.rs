//! The `japps` binary: parses the command line, sets up logging, and hands over to the
//! library crates. Nothing else lives here.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "japps", version = japps_domain::build_info::LONG_VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the japps service (JSON API and launcher pages). JupyterHub starts it as a managed
    /// service through the plugin; it reads the JUPYTERHUB_* environment the hub provides
    /// and the plugin's JAPPS_CONFIG.
    Serve,
    /// Run one app as a JupyterHub server: the japps spawner starts this for every app,
    /// with the app definition in JAPPS_APP. It listens on JUPYTERHUB_SERVICE_URL at
    /// once, shows a startup page with live output, starts the app and proxies visitors
    /// who may use it. Flags (also per app in JHUB_APP_PROXY_ARGS): --ready-timeout=SECS,
    /// --ready-check-path=PATH, --keep-alive, --activity-interval=SECS, --strip-prefix=BOOL,
    /// --conda-env=NAME, --workdir=DIR, --log-buffer-size=LINES, --exit-grace=SECS,
    /// --authtype=oauth|none. Other arguments are ignored.
    Launch {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check the setup, with the japps service's environment (as the hub gives it): the
    /// hub's version, the service token's scopes, OAuth, the session key, the public URL,
    /// then the plugin's checks of the hub's configuration file. One line per check (ok,
    /// warn, FAIL with what to do); exit status 1 when a check fails.
    Doctor,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Serve => run_serve(),
        Command::Launch { args } => run_launch(&args),
        Command::Doctor => run_doctor(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `RUST_LOG` picks the level (default `info`); `JAPPS_LOG_FORMAT=json` gives one JSON object
/// per line for log collectors. Logs go to stderr, which the hub passes through.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in log files or collectors.
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var("JAPPS_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn run_serve() -> anyhow::Result<()> {
    let settings = japps_service::Settings::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = japps_service::bind(&settings.bind_host, settings.bind_port)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}",
                    settings.bind_host, settings.bind_port
                )
            })?;
        let state = japps_service::AppState::new(settings)?;
        japps_service::serve(listener, state, shutdown_signal()).await?;
        Ok(())
    })
}

fn run_launch(args: &[String]) -> anyhow::Result<()> {
    // One app's proxy: two worker threads are plenty and keep the footprint small on a
    // machine that runs many servers.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match runtime.block_on(japps_launcher::run(args, shutdown_signal()))? {
        japps_launcher::Exit::Stopped => Ok(()),
        // The reason is already in the app's log and on its page; exit non-zero so the
        // hub records the server as failed.
        japps_launcher::Exit::Failed => std::process::exit(1),
    }
}

fn run_doctor() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(japps_service::doctor::run(std::env::vars()));
    // The report is the command's output (stdout); logs stay on stderr.
    std::io::Write::write_all(&mut std::io::stdout(), report.text.as_bytes())
        .context("cannot write the report")?;
    if report.failed {
        std::process::exit(1);
    }
    Ok(())
}

/// Resolves on SIGTERM (what the hub and Kubernetes send) or Ctrl-C.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!("cannot listen for SIGTERM: {err}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
