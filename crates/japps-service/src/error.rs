//! The service's one error type, and the one place where errors become HTTP responses.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::{LOCATION, RETRY_AFTER};
use axum::response::{IntoResponse, Response};
use japps_hub::HubError;

use crate::application::ApplicationError;
use crate::settings::ConfigError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The environment or `JAPPS_CONFIG` cannot be used; fatal at startup.
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Hub(Arc<HubError>),
    #[error("{0}")]
    BadRequest(String),
    /// No or invalid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// An upload larger than the configured limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request conflicts with the server's state (already running, still stopping…).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The hub failed in a way the caller must hear about in words, not a status.
    #[error("{0}")]
    BadGateway(String),
    /// Something the service needs is missing for now (e.g. randomness); retry later.
    #[error("{0}")]
    Unavailable(String),
    /// Too much work of this caller (or of everyone) in progress: 429 with `Retry-After`.
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    /// A fault of the service itself (e.g. a panic in a worker thread): 500.
    #[error("{0}")]
    Internal(String),
    /// A browser without a session: sent to log in rather than shown a 401.
    #[error("login required")]
    LoginRequired { location: String },
}

/// The body of every error answer, as jhub-apps (FastAPI) sends it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"detail": "server 'sales' not found"}))]
pub(crate) struct ErrorBody {
    /// What went wrong, for a person to read.
    pub(crate) detail: String,
}

/// The application layer's failures, as HTTP sees them.
impl From<ApplicationError> for ServiceError {
    fn from(err: ApplicationError) -> Self {
        match err {
            ApplicationError::Invalid(message) => Self::BadRequest(message),
            ApplicationError::NotAllowed(message) => Self::Forbidden(message),
            ApplicationError::NotFound(message) => Self::NotFound(message),
            ApplicationError::TooLarge(message) => Self::PayloadTooLarge(message),
            ApplicationError::Conflict(message) => Self::Conflict(message),
            ApplicationError::HubFailed(message) => Self::BadGateway(message),
            ApplicationError::Internal(message) => Self::Internal(message),
            ApplicationError::Busy {
                detail,
                retry_after,
            } => Self::TooManyRequests {
                detail,
                retry_after_secs: retry_after.as_secs().max(1),
            },
            ApplicationError::Hub(err) => Self::Hub(err),
        }
    }
}

/// A query string the route cannot read (a repeated or malformed parameter): the API's
/// JSON 400, not axum's plain-text one.
impl From<axum::extract::rejection::QueryRejection> for ServiceError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::BadRequest(format!("invalid query string: {}", rejection.body_text()))
    }
}

/// A path parameter that is not text once decoded.
impl From<axum::extract::rejection::PathRejection> for ServiceError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        Self::BadRequest(format!("invalid path: {}", rejection.body_text()))
    }
}

impl From<ConfigError> for ServiceError {
    fn from(err: ConfigError) -> Self {
        Self::Config(err.0)
    }
}

impl From<HubError> for ServiceError {
    fn from(err: HubError) -> Self {
        Self::Hub(Arc::new(err))
    }
}

impl ServiceError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Config(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::LoginRequired { .. } => StatusCode::FOUND,
            Self::Hub(err) => hub_status(err),
        }
    }
}

/// A failing hub is the gateway's fault from the client's point of view: 504 when it is
/// slow, 502 when it is down or answers nonsense. Its 4xx answers keep their meaning.
fn hub_status(err: &HubError) -> StatusCode {
    match err {
        HubError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        HubError::Status { status, .. } if (400..500).contains(status) => {
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
        }
        _ => StatusCode::BAD_GATEWAY,
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::LoginRequired { location } = &self {
            return (status, [(LOCATION, location.as_str())]).into_response();
        }
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = ErrorBody {
            detail: self.to_string(),
        };
        if let Self::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            let seconds = retry_after_secs.to_string();
            return (status, [(RETRY_AFTER, seconds)], Json(body)).into_response();
        }
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_failures_have_their_status() {
        for (err, status) in [
            (ApplicationError::Invalid("x".into()), 400),
            (ApplicationError::NotAllowed("x".into()), 403),
            (ApplicationError::NotFound("x".into()), 404),
            (ApplicationError::TooLarge("x".into()), 413),
            (ApplicationError::Conflict("x".into()), 409),
            (ApplicationError::HubFailed("x".into()), 502),
            (ApplicationError::Internal("x".into()), 500),
            (
                ApplicationError::from(HubError::Status {
                    pattern: "GET /users/{name}",
                    status: 404,
                    message: None,
                }),
                404,
            ),
        ] {
            assert_eq!(ServiceError::from(err.clone()).status(), status, "{err:?}");
        }
    }

    #[test]
    fn busy_is_429_with_retry_after() {
        let response = ServiceError::from(ApplicationError::Busy {
            detail: "wait".into(),
            retry_after: std::time::Duration::from_millis(200),
        })
        .into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[RETRY_AFTER], "1", "never 0 seconds");
    }
}
