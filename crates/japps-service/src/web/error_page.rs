//! Errors of pages a browser navigated to, shown as a page of the launcher: the API's JSON
//! error (`{"detail": …}`) is for scripts, a person who opened a link deserves words and a
//! way on. Every handler keeps returning `ServiceError`; this layer only changes how the
//! answer looks when a browser navigates (a `GET` that accepts `text/html`).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use minijinja::context;
use serde_json::Value;

use crate::state::AppState;
use crate::web::layout::page_context;

/// Error bodies are a sentence; anything larger is passed on as it is.
const MAX_ERROR_BODY: usize = 16 * 1024;

pub(crate) async fn html_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let navigating = request.method() == Method::GET
        && request
            .headers()
            .get(ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    // The callback's query holds an OAuth code, which no page may echo (it is single-use,
    // and retrying it cannot work anyway): try again from the path alone.
    // A path that starts with `//` would be a link to another host.
    let retry = if request.uri().path().starts_with("//") {
        state.settings().prefix.clone()
    } else if request.uri().path().ends_with("/oauth_callback") {
        request.uri().path().to_owned()
    } else {
        request.uri().to_string()
    };
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !navigating || !is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return (parts.status, "error").into_response();
    };
    let Some(detail) = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|body| body["detail"].as_str().map(str::to_owned))
    else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let (heading, advice) = words(status);
    let ctx = context! {
        heading => heading,
        advice => advice,
        detail => detail,
        status => status.as_u16(),
        retry => retry,
        ..page_context(&state, "", false, false, &[])
    };
    let html = state.templates().render("error.html", ctx);
    (status, [(CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// A heading and what to do, by what went wrong.
fn words(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            (
                "JupyterHub is not answering",
                "The launcher could not reach JupyterHub just now. Nothing was lost: try again in a \
             moment, and tell your administrators if this lasts.",
            )
        }
        StatusCode::NOT_FOUND => (
            "Not found",
            "There is no such page or app, or it is not shared with you.",
        ),
        StatusCode::FORBIDDEN => ("Not allowed", "Your account may not do this."),
        StatusCode::TOO_MANY_REQUESTS => (
            "Too many requests",
            "The launcher is busy with your earlier requests: try again in a moment.",
        ),
        status if status.is_server_error() => (
            "Something went wrong",
            "The launcher could not complete this. Try again; tell your administrators if \
             it keeps happening.",
        ),
        _ => (
            "This cannot be shown",
            "The link may be incomplete or out of date.",
        ),
    }
}
