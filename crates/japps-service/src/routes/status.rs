//! `GET {prefix}` and `GET {prefix}status`: liveness, no authentication. JupyterHub polls
//! `{prefix}` at startup and exits if the service does not answer below 500.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Status {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: &'static str,
    /// The japps version.
    #[schema(example = "0.1.0")]
    version: &'static str,
    /// The git revision it was built from (`unknown` outside a checkout).
    #[schema(example = "0123456789ab")]
    revision: &'static str,
}

/// Liveness and version
///
/// Public; no hub call. The same answer is at the service root, which JupyterHub polls
/// at startup.
#[utoipa::path(
    get,
    path = "/status",
    operation_id = "status",
    tag = "status",
    responses((status = 200, description = "The service is up.", body = Status)),
)]
pub(crate) async fn get() -> Json<Status> {
    Json(Status {
        status: "ok",
        version: crate::VERSION,
        revision: japps_domain::build_info::REVISION,
    })
}
