//! `japps launch`: the process JupyterHub starts for every app server.
//!
//! It binds `JUPYTERHUB_SERVICE_URL` at once and answers with a startup page (so the hub's
//! spawn never times out) while it clones the app's repository, activates its environment
//! and starts the app; it streams that output live, polls the app until it is ready, then
//! proxies visitors to it after checking with the hub that they may use this server.
//! It reports real traffic to the hub as activity and keeps the app's logs for the owner.
//!
//! Module map:
//! - [`spec`]: what to run (the app definition the spawner hands over);
//! - [`options`]: launcher settings (flags, and per-app overrides in `JHUB_APP_PROXY_ARGS`);
//! - [`server_env`]: the standard single-user environment the hub gives a server;
//! - [`command`]: the command line per framework, and the built-in example apps;
//! - [`process`], [`logs`]: running the app and keeping its output;
//! - [`launch`]: the launcher from start to exit (clone, start, wait until the app
//!   answers, stop);
//! - [`proxy`]: streaming HTTP/1.1 and WebSocket forwarding;
//! - [`auth`]: hub OAuth for visitors;
//! - [`activity`]: telling the hub the app is in use;
//! - [`pages`], [`server`]: the launcher's own pages and the request router.

pub mod activity;
pub mod auth;
pub mod command;
pub mod error;
pub mod launch;
pub mod logs;
pub mod options;
pub mod pages;
pub mod process;
pub mod proxy;
pub mod server;
pub mod server_env;
pub mod spec;

pub use error::LaunchError;
pub use launch::{Exit, run};

/// Cookies the launcher sets start with this; they are never forwarded to the app.
pub const COOKIE_PREFIX: &str = "japps-launch";

/// The launcher's own paths live under `{prefix}_japps/`, out of the app's way.
pub const OWN_PATH: &str = "_japps/";
