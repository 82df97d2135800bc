//! The launcher's one error type.

/// Why the launcher cannot start or run the app.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The environment or the app definition is incomplete or malformed.
    #[error("invalid launch configuration: {0}")]
    Config(String),
    /// The app could not be prepared or started (clone, environment, command).
    #[error("{0}")]
    Start(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Hub(#[from] japps_hub::HubError),
}
