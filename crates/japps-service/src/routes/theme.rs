//! `GET config.json`, `GET theme`, `GET theme.css`: the launcher's look, from
//! `c.JupyterHub.template_vars`. Public (pages need it before anyone logs in), no hub call.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::schema::{ConfigJson, ThemeJson};
use crate::state::AppState;

/// The theme changes only when the hub restarts; a short cache spares reloads.
const CACHE: &str = "public, max-age=300";

#[utoipa::path(
    get,
    path = "/config.json",
    operation_id = "config_json",
    tag = "theme",
    summary = "The launcher's runtime configuration",
    description = "The theme from `c.JupyterHub.template_vars`, the banners and the japps \
        version. Public; no hub call.",
    responses(
        (status = 200, description = "Configuration.", body = ConfigJson,
            headers(("cache-control" = String, description = "`public, max-age=300`"))),
    ),
)]
pub(crate) async fn config_json(State(state): State<AppState>) -> Response {
    cached(Json(state.catalog().config_json().clone()))
}

#[utoipa::path(
    get,
    path = "/theme",
    operation_id = "theme",
    tag = "theme",
    summary = "The launcher's theme",
    description = "The `theme` object of `config.json`. Public; no hub call.",
    responses(
        (status = 200, description = "The theme.", body = ThemeJson,
            headers(("cache-control" = String, description = "`public, max-age=300`"))),
    ),
)]
pub(crate) async fn theme(State(state): State<AppState>) -> Response {
    cached(Json::<Value>(state.catalog().theme_json().clone()))
}

#[utoipa::path(
    get,
    path = "/theme.css",
    operation_id = "theme_css",
    tag = "theme",
    summary = "The launcher's theme as CSS",
    description = "An optional font `@import`, then a `:root` block of custom properties, \
        with japps' default colours where the operator set none. Public; no hub call.",
    responses(
        (status = 200, description = "A style sheet.", body = String,
            content_type = "text/css; charset=utf-8",
            headers(("cache-control" = String, description = "`public, max-age=300`")),
            example = ":root {\n  --primary-color: #5b4bc4;\n}\n"),
    ),
)]
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
