//! `GET {prefix}metrics`: Prometheus text. Like the hub's own `/hub/metrics`, it needs a
//! token with the `read:metrics` scope.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::routes::responses::LoginErrors;
use crate::state::AppState;

const SCOPE: &str = "read:metrics";

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "status",
    summary = "Prometheus metrics",
    description = "Hub calls japps made, by hub endpoint, and identity cache hits and misses, \
        in the Prometheus text format. Needs the `read:metrics` scope, like the hub's own \
        metrics.",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4.", body = String,
            content_type = "text/plain; version=0.0.4"),
        LoginErrors,
    ),
    security(
        ("hub_token" = ["read:metrics"]),
        ("session_cookie" = ["read:metrics"]),
        ("jhub_apps_cookie" = ["read:metrics"]),
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ServiceError> {
    if !japps_domain::scopes::grants_any(&caller.user.scopes, &[SCOPE]) {
        return Err(ServiceError::Forbidden(format!(
            "metrics need the {SCOPE} scope"
        )));
    }
    let calls = state.hub().recorder().snapshot();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# HELP japps_hub_calls_total Calls japps made to the JupyterHub API, by endpoint."
    );
    let _ = writeln!(text, "# TYPE japps_hub_calls_total counter");
    for pattern in japps_hub::CallRecorder::patterns() {
        let _ = writeln!(
            text,
            "japps_hub_calls_total{{call=\"{pattern}\"}} {}",
            calls.count(pattern)
        );
    }
    let _ = writeln!(
        text,
        "# HELP japps_identity_cache_total Identity lookups, by whether the cache answered."
    );
    let _ = writeln!(text, "# TYPE japps_identity_cache_total counter");
    let identities = state.identities();
    let _ = writeln!(
        text,
        "japps_identity_cache_total{{result=\"hit\"}} {}",
        identities.hits()
    );
    let _ = writeln!(
        text,
        "japps_identity_cache_total{{result=\"miss\"}} {}",
        identities.misses()
    );
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}
