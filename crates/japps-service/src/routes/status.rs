//! `GET {prefix}` and `GET {prefix}status`: liveness, no authentication. JupyterHub polls
//! `{prefix}` at startup and exits if the service does not answer below 500.

use axum::Json;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub(crate) struct Status {
    status: &'static str,
    version: &'static str,
}

pub(crate) async fn get() -> Json<Status> {
    Json(Status {
        status: "ok",
        version: crate::VERSION,
    })
}
