//! What can go wrong in the application layer, in its own terms. The routes turn it into
//! an HTTP answer (`crate::error`, the one place where statuses are chosen).

use std::sync::Arc;

use japps_hub::HubError;

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ApplicationError {
    /// What the caller sent cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this (the operator's policy, or the hub said no).
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    NotFound(String),
    /// An upload larger than the configured limit.
    #[error("{0}")]
    TooLarge(String),
    /// The request conflicts with the server's state (already running, still stopping…).
    #[error("{0}")]
    Conflict(String),
    /// The hub failed in a way the caller must hear about in words.
    #[error("{0}")]
    HubFailed(String),
    /// The caller has too much work in progress (e.g. clones, image decodes): try again
    /// after `retry_after`.
    #[error("{detail}")]
    Busy {
        detail: String,
        retry_after: std::time::Duration,
    },
    /// A fault of japps itself (e.g. a panic in a worker thread).
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Hub(Arc<HubError>),
}

impl From<HubError> for ApplicationError {
    fn from(err: HubError) -> Self {
        Self::Hub(Arc::new(err))
    }
}

/// The app definition's refusals keep their kind: a bad request, or not allowed here.
impl From<japps_domain::AppError> for ApplicationError {
    fn from(err: japps_domain::AppError) -> Self {
        match err {
            japps_domain::AppError::Invalid(message) => Self::Invalid(message),
            japps_domain::AppError::NotAllowed(message) => Self::NotAllowed(message),
        }
    }
}
