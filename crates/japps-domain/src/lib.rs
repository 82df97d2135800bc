//! The japps domain: what an app, a framework and the operator's configuration are.
//!
//! Nothing in this crate performs I/O, so everything here is testable with plain unit tests
//! and shared by the service (`japps serve`) and the launcher (`japps launch`).

pub mod app;
pub mod build_info;
pub mod config;
pub mod frameworks;
pub mod git;
pub mod launcher_args;
pub mod naming;
pub mod profiles;
pub mod scopes;
pub mod sharing;
pub mod theme;

pub use app::{AppError, AppOptions, AppPolicy};
pub use config::{
    AdditionalService, AppsAuthType, Banner, Banners, ConfigError, JAppsConfig, StartupApp,
};
