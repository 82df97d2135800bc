//! The one error type of the hub client.
//!
//! Each variant says *how* a hub call failed, so the service can map it to an
//! HTTP status in one place (hub slow → 504, hub down or talking nonsense → 502,
//! hub said no → the hub's own status). `pattern` is the endpoint key such as
//! `GET /users/{name}`: it names the call without carrying user data, and it is
//! the same key the [`CallRecorder`](crate::CallRecorder) counts under.
//!
//! No variant ever holds a token: requests carry tokens only in a header, and
//! headers are never copied into an error.

/// Why a hub call failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The hub did not answer within the configured timeout.
    #[error("hub call {pattern} timed out")]
    Timeout { pattern: &'static str },

    /// The connection failed (refused, DNS, reset mid-reply).
    #[error("hub call {pattern} failed, hub unreachable: {detail}")]
    Unreachable {
        pattern: &'static str,
        /// The innermost cause, e.g. "Connection refused (os error 111)".
        detail: String,
        #[source]
        source: reqwest::Error,
    },

    /// The hub answered with a non-success status.
    #[error("hub call {pattern} answered {status}{}", fmt_message(.message.as_deref()))]
    Status {
        pattern: &'static str,
        status: u16,
        /// The hub's error message; JupyterHub 6 often sends `null`.
        message: Option<String>,
    },

    /// The reply was not the JSON this call expects.
    #[error("hub call {pattern} gave an unexpected reply: {detail}")]
    Decode {
        pattern: &'static str,
        detail: String,
    },

    /// A listing endpoint answered with a bare list. The hub silently cuts
    /// those at 200 items, so the result cannot be trusted to be complete.
    #[error("hub call {pattern} answered an unpaginated list, which may be truncated")]
    Unpaginated { pattern: &'static str },

    /// A name cannot be put in a hub URL (empty, `.` or `..`), so no such
    /// user, group or server can be addressed.
    #[error("hub call {pattern}: {name:?} cannot name a user, group or server")]
    InvalidName { pattern: &'static str, name: String },

    /// A token contains bytes an HTTP header cannot carry. The token itself
    /// is not shown.
    #[error("hub call {pattern}: the token cannot be sent in an HTTP header")]
    InvalidToken { pattern: &'static str },

    /// The client was configured wrongly (bad API URL, TLS setup failed…).
    #[error("hub client configuration: {0}")]
    Config(String),
}

impl HubError {
    /// The hub said 404: no such user/group/server, or no access to it
    /// (the hub answers 404 rather than 403 when filtered scopes do not match).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// The hub's HTTP status, when the hub answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The endpoint key of the failed call (`GET /users/{name}`), if any.
    pub fn pattern(&self) -> Option<&'static str> {
        match self {
            Self::Timeout { pattern }
            | Self::Unreachable { pattern, .. }
            | Self::Status { pattern, .. }
            | Self::Decode { pattern, .. }
            | Self::Unpaginated { pattern }
            | Self::InvalidName { pattern, .. }
            | Self::InvalidToken { pattern } => Some(pattern),
            Self::Config(_) => None,
        }
    }

    /// Classifies a transport error from reqwest.
    pub(crate) fn transport(pattern: &'static str, source: reqwest::Error) -> Self {
        if source.is_timeout() {
            return Self::Timeout { pattern };
        }
        // The URL is left out: it is known from the pattern and may be long.
        let source = source.without_url();
        let detail = innermost_cause(&source);
        Self::Unreachable {
            pattern,
            detail,
            source,
        }
    }

    pub(crate) fn decode(pattern: &'static str, detail: impl Into<String>) -> Self {
        Self::Decode {
            pattern,
            detail: detail.into(),
        }
    }
}

fn fmt_message(message: Option<&str>) -> String {
    message
        .filter(|m| !m.is_empty())
        .map_or_else(String::new, |m| format!(": {m}"))
}

/// reqwest's own message is a generic "error sending request"; what an
/// operator needs is at the bottom of the chain ("Connection refused").
fn innermost_cause(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_display_includes_message_only_when_present() {
        let with = HubError::Status {
            pattern: "GET /users/{name}",
            status: 404,
            message: Some("No such user".into()),
        };
        assert_eq!(
            with.to_string(),
            "hub call GET /users/{name} answered 404: No such user"
        );
        let without = HubError::Status {
            pattern: "GET /users/{name}",
            status: 404,
            message: None,
        };
        assert_eq!(
            without.to_string(),
            "hub call GET /users/{name} answered 404"
        );
        assert!(without.is_not_found());
        assert_eq!(without.status(), Some(404));
        assert_eq!(without.pattern(), Some("GET /users/{name}"));
    }

    #[test]
    fn only_status_errors_have_a_status() {
        let err = HubError::Timeout { pattern: "GET /" };
        assert_eq!(err.status(), None);
        assert!(!err.is_not_found());
    }
}
