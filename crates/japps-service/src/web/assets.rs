//! `GET static/web/app.css` and `GET static/web/app.js`: the pages' one stylesheet and one
//! script, embedded in the binary. Pages link them with `?v=<version>`, so a long cache
//! is safe across upgrades.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};

pub(crate) const CSS: &str = include_str!("../../assets/web/app.css");
pub(crate) const JS: &str = include_str!("../../assets/web/app.js");
pub(crate) const FORM_JS: &str = include_str!("../../assets/web/form.js");

/// A day: the `?v=` query changes with every release, so stale copies are never used.
const CACHE: &str = "public, max-age=86400";

#[utoipa::path(
    get,
    path = "/static/web/app.css",
    operation_id = "web_css",
    tag = "static",
    summary = "The launcher pages' stylesheet",
    description = "Embedded in the binary; pages link it with `?v=<version>`. Public; cached \
        for a day.",
    responses((status = 200, description = "The stylesheet.", body = String,
        content_type = "text/css; charset=utf-8",
        headers(("cache-control" = String, description = "`public, max-age=86400`")))),
)]
pub(crate) async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

#[utoipa::path(
    get,
    path = "/static/web/app.js",
    operation_id = "web_js",
    tag = "static",
    summary = "The launcher pages' script",
    description = "Embedded in the binary; pages link it with `?v=<version>`. Public; cached \
        for a day.",
    responses((status = 200, description = "The script.", body = String,
        content_type = "text/javascript; charset=utf-8",
        headers(("cache-control" = String, description = "`public, max-age=86400`")))),
)]
pub(crate) async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

#[utoipa::path(
    get,
    path = "/static/web/form.js",
    operation_id = "web_form_js",
    tag = "static",
    summary = "The app form's script",
    description = "Embedded in the binary; the create and edit pages link it with \
        `?v=<version>`. Public; cached for a day.",
    responses((status = 200, description = "The script.", body = String,
        content_type = "text/javascript; charset=utf-8",
        headers(("cache-control" = String, description = "`public, max-age=86400`")))),
)]
pub(crate) async fn form_js() -> Response {
    asset("text/javascript; charset=utf-8", FORM_JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, CACHE),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// The app page's own script, loaded after `app.js`.
pub(crate) const APP_PAGE_JS: &str = include_str!("../../assets/web/app-page.js");

#[utoipa::path(
    get,
    path = "/static/web/app-page.js",
    operation_id = "web_app_page_js",
    tag = "static",
    summary = "The app page's script",
    description = "Embedded in the binary; the app page links it with `?v=<version>`. Public; \
        cached for a day.",
    responses((status = 200, description = "The script.", body = String,
        content_type = "text/javascript; charset=utf-8",
        headers(("cache-control" = String, description = "`public, max-age=86400`")))),
)]
pub(crate) async fn app_page_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_PAGE_JS)
}

/// Sets the colour theme before the first paint; every page loads it in `<head>`.
pub(crate) const THEME_INIT_JS: &str = include_str!("../../assets/web/theme-init.js");

#[utoipa::path(
    get,
    path = "/static/web/theme-init.js",
    operation_id = "web_theme_init_js",
    tag = "static",
    summary = "The pages' colour-theme script",
    description = "Embedded in the binary; every page loads it in `<head>` with \
        `?v=<version>`, so the saved light/dark choice applies before the first paint. \
        Public; cached for a day.",
    responses((status = 200, description = "The script.", body = String,
        content_type = "text/javascript; charset=utf-8",
        headers(("cache-control" = String, description = "`public, max-age=86400`")))),
)]
pub(crate) async fn theme_init_js() -> Response {
    asset("text/javascript; charset=utf-8", THEME_INIT_JS)
}
