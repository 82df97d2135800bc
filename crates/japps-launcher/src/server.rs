//! The launcher's HTTP face: one handler that routes by path under the server's prefix.
//!
//! `{prefix}_japps/…` are the launcher's own pages (status, logs, login); the OAuth
//! callback is taken when this launcher started the login; everything else is the app,
//! behind the visitor check, shown as the startup or failure page until the app is ready.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::watch;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};

use crate::OWN_PATH;
use crate::auth::{Callback, Gate, Visitor, no_store};
use crate::logs::LogBuffer;
use crate::pages::{StatusView, message_page, status_page};
use crate::proxy::Proxy;
use crate::server_env::ServerEnv;

/// Where the app is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "lowercase")]
pub enum Phase {
    Starting,
    Ready,
    Failed { reason: String },
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Ready => "ready",
            Self::Failed { .. } => "failed",
        }
    }

    fn reason(&self) -> &str {
        match self {
            Self::Failed { reason } => reason,
            _ => "",
        }
    }
}

/// Everything the handler needs.
#[derive(Debug)]
pub struct Launcher {
    pub env: Arc<ServerEnv>,
    pub gate: Gate,
    pub proxy: Proxy,
    pub logs: Arc<LogBuffer>,
    pub phase: watch::Receiver<Phase>,
    /// Visitors need no login for the app itself.
    pub public: bool,
    pub app_name: String,
}

/// The router: everything goes through [`handle`].
pub fn router(launcher: Arc<Launcher>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(axum::middleware::map_response(own_headers))
        .with_state(launcher)
}

/// Marks an answer that came from the app: it keeps the app's own headers.
#[derive(Debug, Clone, Copy)]
struct FromApp;

async fn own_headers(mut response: Response) -> Response {
    if response.extensions().get::<FromApp>().is_none() {
        crate::pages::set_own_headers(response.headers_mut());
    }
    response
}

async fn handle(
    State(launcher): State<Arc<Launcher>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let prefix = launcher.env.prefix.as_str();
    let path = request.uri().path().to_owned();
    let Some(rest) = path
        .strip_prefix(prefix)
        .or_else(|| (path == prefix.trim_end_matches('/')).then_some(""))
    else {
        return message(StatusCode::NOT_FOUND, "Nothing is served here.");
    };
    if let Some(own) = rest.strip_prefix(OWN_PATH) {
        let own = own.to_owned();
        return own_route(&launcher, &own, request).await;
    }
    if rest == "oauth_callback" {
        let query = request.uri().query().unwrap_or_default().to_owned();
        match launcher.gate.callback(request.headers(), &query).await {
            Callback::Done(response) => return response,
            Callback::NotOurs if *launcher.phase.borrow() == Phase::Ready => {}
            Callback::NotOurs => {
                return message(
                    StatusCode::BAD_REQUEST,
                    "No login is in progress here (it may have expired); open the app again.",
                );
            }
        }
    }

    let visitor = if launcher.public {
        None
    } else {
        match launcher.gate.visitor(request.headers()).await {
            Ok(Some(visitor)) if visitor.allowed => Some(visitor),
            Ok(Some(visitor)) => {
                return message(
                    StatusCode::FORBIDDEN,
                    &format!(
                        "{} may not use this app. Ask its owner to share it.",
                        visitor.name
                    ),
                );
            }
            Ok(None) => return login_or_401(&launcher, &request),
            Err(err) => return hub_unreachable(&err),
        }
    };
    if !launcher.public && is_websocket(request.headers()) && !same_origin(request.headers()) {
        // The session cookie is SameSite=Lax, which browsers do not send on a cross-site
        // WebSocket; checking the origin as well means frameworks may accept any origin.
        return message(StatusCode::FORBIDDEN, "Cross-origin WebSocket refused.");
    }

    let phase = launcher.phase.borrow().clone();
    match phase {
        Phase::Ready => {
            let mut response = launcher.proxy.forward(request, Some(peer)).await;
            response.extensions_mut().insert(FromApp);
            response
        }
        Phase::Starting | Phase::Failed { .. } => {
            let visitor = match visitor {
                Some(visitor) => Some(visitor),
                // Public app: the page still shows the output to the owner when logged in.
                None => launcher
                    .gate
                    .visitor(request.headers())
                    .await
                    .ok()
                    .flatten(),
            };
            status_response(&launcher, &phase, visitor.as_ref(), &request, true)
        }
    }
}

async fn own_route(launcher: &Arc<Launcher>, route: &str, request: Request) -> Response {
    let headers = request.headers();
    match route {
        "static/status.js" => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            crate::pages::STATUS_JS,
        )
            .into_response(),
        "login" => {
            let next = query_param(request.uri().query(), "next")
                .unwrap_or_else(|| format!("{}{OWN_PATH}logs", launcher.env.prefix));
            launcher.gate.login(headers, &next)
        }
        "logout" => {
            let jar = launcher.gate.logout(headers);
            let mut response = (
                jar,
                message_page(StatusCode::OK, "You are logged out of this app."),
            )
                .into_response();
            no_store(&mut response);
            response
        }
        "api/status" => {
            // Whether the app is up is no secret from anyone who may use it.
            if !launcher.public {
                match launcher.gate.visitor(headers).await {
                    Ok(Some(visitor)) if visitor.allowed => {}
                    Ok(Some(_)) => return message(StatusCode::FORBIDDEN, "Not your app."),
                    Ok(None) => return login_or_401(launcher, &request),
                    Err(err) => return hub_unreachable(&err),
                }
            }
            let phase = launcher.phase.borrow().clone();
            with_no_store(Json(phase).into_response())
        }
        "logs" | "api/logs" | "events" => {
            // The output can hold anything the app prints: the owner (or an admin) only,
            // public app or not.
            let visitor = match launcher.gate.visitor(headers).await {
                Ok(Some(visitor)) => visitor,
                Ok(None) => return login_or_401(launcher, &request),
                Err(err) => return hub_unreachable(&err),
            };
            match route {
                "logs" => {
                    let phase = launcher.phase.borrow().clone();
                    status_response(launcher, &phase, Some(&visitor), &request, false)
                }
                "api/logs" if visitor.may_read_logs => {
                    let lines = launcher.logs.tail(usize::MAX);
                    with_no_store(Json(serde_json::json!({ "lines": lines })).into_response())
                }
                "api/logs" => message(
                    StatusCode::FORBIDDEN,
                    "Only the app's owner can read its output.",
                ),
                _ => events(launcher, visitor.may_read_logs),
            }
        }
        _ => message(StatusCode::NOT_FOUND, "No such launcher page."),
    }
}

/// The startup / failure / logs page.
fn status_response(
    launcher: &Launcher,
    phase: &Phase,
    visitor: Option<&Visitor>,
    request: &Request,
    for_app: bool,
) -> Response {
    let may_read = visitor.is_some_and(|v| v.may_read_logs);
    if for_app && !accepts_html(request.method(), request.headers()) {
        // Scripts polling the app while it starts get a retryable status, not a page.
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "detail": match phase {
                Phase::Failed { reason } => format!("the app has stopped: {reason}"),
                _ => "the app is starting".to_owned(),
            } })),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        return response;
    }
    let lines = may_read.then(|| launcher.logs.tail(usize::MAX));
    let page = status_page(&StatusView {
        app_name: &launcher.app_name,
        prefix: &launcher.env.prefix,
        hub_home: &launcher.env.hub_home,
        phase: phase.name(),
        reason: phase.reason(),
        lines: lines.as_deref(),
        logged_in: visitor.is_some(),
        reload_on_ready: for_app,
    });
    // 200 while starting: the hub's readiness poll and browsers both see a page that is
    // working as intended. A failure is a server-side error.
    let status = match phase {
        Phase::Failed { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::OK,
    };
    with_no_store((status, page).into_response())
}

/// How often an idle event stream says it is alive.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(2);

/// Server-sent events: `status` on every phase change, and `log` lines for the owner.
fn events(launcher: &Arc<Launcher>, with_logs: bool) -> Response {
    let status = WatchStream::new(launcher.phase.clone()).map(|phase| {
        Ok::<_, Infallible>(
            Event::default()
                .event("status")
                .json_data(&phase)
                .unwrap_or_default(),
        )
    });
    let stream = if with_logs {
        let (kept, live) = launcher.logs.snapshot_and_follow();
        let logs = futures::stream::iter(kept)
            .chain(BroadcastStream::new(live).filter_map(|line| async move { line.ok() }))
            .map(|line| {
                Ok(Event::default()
                    .event("log")
                    .json_data(&line)
                    .unwrap_or_default())
            });
        futures::stream::select(status, logs).boxed()
    } else {
        status.boxed()
    };
    // A `ping` event every few seconds (not a comment: pages see it, and so know the
    // stream is live), and no buffering by nginx, which otherwise holds the stream back.
    let keep_alive = KeepAlive::new()
        .interval(HEARTBEAT)
        .event(Event::default().event("ping").data(""));
    let mut response = Sse::new(stream).keep_alive(keep_alive).into_response();
    response.headers_mut().insert(
        header::HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    with_no_store(response)
}

/// Browsers navigating are sent to log in; API clients and scripts get 401.
fn login_or_401(launcher: &Launcher, request: &Request) -> Response {
    if accepts_html(request.method(), request.headers()) && !is_websocket(request.headers()) {
        let next = request
            .uri()
            .path_and_query()
            .map_or_else(|| launcher.env.prefix.clone(), |pq| pq.as_str().to_owned());
        launcher.gate.login(request.headers(), &next)
    } else {
        message(StatusCode::UNAUTHORIZED, "Log in to use this app.")
    }
}

fn hub_unreachable(err: &japps_hub::HubError) -> Response {
    tracing::warn!("cannot check a visitor with the hub: {err}");
    message(
        StatusCode::BAD_GATEWAY,
        "The hub cannot be reached to check your login; try again shortly.",
    )
}

fn message(status: StatusCode, text: &str) -> Response {
    with_no_store((status, message_page(status, text)).into_response())
}

fn with_no_store(mut response: Response) -> Response {
    no_store(&mut response);
    response
}

fn accepts_html(method: &Method, headers: &HeaderMap) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    // No Accept at all (curl, the hub's readiness poll) counts as a page request.
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|accept| accept.contains("text/html") || accept.contains("*/*"))
}

fn is_websocket(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The `Origin` host is the host the browser talks to (`X-Forwarded-Host` behind a
/// rewriting proxy, else `Host`). No `Origin` is not a browser, and cookies decide.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin_host = origin.split_once("://").map_or(origin, |(_, host)| host);
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').map(str::trim).find(|part| !part.is_empty()))
    };
    let host = first("x-forwarded-host").or_else(|| first("host"));
    host.is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn websocket_origin_must_match_the_host() {
        assert!(same_origin(&headers(&[
            ("host", "hub.example:8000"),
            ("origin", "http://hub.example:8000")
        ])));
        assert!(same_origin(&headers(&[("host", "hub.example")])));
        assert!(!same_origin(&headers(&[
            ("host", "hub.example"),
            ("origin", "https://evil.example")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "internal:8000"),
            ("x-forwarded-host", "hub.example"),
            ("origin", "https://hub.example"),
        ])));
        // An empty X-Forwarded-Host (sent by some proxies) means "not set".
        assert!(same_origin(&headers(&[
            ("host", "hub.example"),
            ("x-forwarded-host", ","),
            ("origin", "http://hub.example"),
        ])));
    }

    #[test]
    fn pages_for_browsers_and_retry_for_scripts() {
        assert!(accepts_html(
            &Method::GET,
            &headers(&[("accept", "text/html,*/*;q=0.8")])
        ));
        assert!(accepts_html(&Method::GET, &HeaderMap::new()));
        assert!(!accepts_html(
            &Method::GET,
            &headers(&[("accept", "application/json")])
        ));
        assert!(!accepts_html(&Method::POST, &HeaderMap::new()));
    }

    #[test]
    fn phases_serialize_for_the_status_api() {
        let failed = Phase::Failed {
            reason: "exit status 3".into(),
        };
        assert_eq!(
            serde_json::to_value(&failed).unwrap(),
            serde_json::json!({"phase": "failed", "reason": "exit status 3"})
        );
        assert_eq!(
            serde_json::to_value(Phase::Ready).unwrap(),
            serde_json::json!({"phase": "ready"})
        );
    }
}
