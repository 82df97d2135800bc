//! `GET config.json`, `GET theme`, `GET theme.css`: the launcher's look, from
//! `c.JupyterHub.template_vars`. Public (pages need it before anyone logs in), no hub call.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::state::AppState;

/// The theme changes only when the hub restarts; a short cache spares reloads.
const CACHE: &str = "public, max-age=300";

pub(crate) async fn config_json(State(state): State<AppState>) -> Response {
    cached(Json(state.catalog().config_json().clone()))
}

pub(crate) async fn theme(State(state): State<AppState>) -> Response {
    cached(Json::<Value>(state.catalog().theme_json().clone()))
}

pub(crate) async fn theme_css(State(state): State<AppState>) -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, CACHE),
        ],
        state.catalog().theme_css().to_owned(),
    )
        .into_response()
}

fn cached(body: impl IntoResponse) -> Response {
    ([(CACHE_CONTROL, CACHE)], body).into_response()
}
