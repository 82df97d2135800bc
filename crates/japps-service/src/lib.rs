//! `japps serve`: the service JupyterHub runs (or that runs beside it as an external
//! service). HTTP handlers stay thin; the hub is only reached through `japps-hub`.

mod application;
mod auth;
pub mod doctor;
pub mod error;
mod request_id;
mod router;
mod routes;
mod schema;
mod security_headers;
pub mod server;
pub mod settings;
pub mod state;
mod web;

pub use error::ServiceError;
pub use router::router;
pub use server::{bind, serve};
pub use settings::Settings;
pub use state::AppState;

/// The japps version, reported by `/status` and sent to the hub in the user agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
