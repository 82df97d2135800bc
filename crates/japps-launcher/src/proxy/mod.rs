//! Streaming HTTP/1.1 and WebSocket forwarding to the app.
//!
//! Bodies are handed from one hyper connection to the other as they arrive (uploads,
//! chunked downloads, server-sent events and Voila's progressive pages all stream), over a
//! pool of keep-alive connections to `127.0.0.1:{port}`. A WebSocket upgrade the app
//! accepts joins the two upgraded connections byte for byte. Requests are already
//! authenticated when they get here.

mod headers;
mod upgrade;

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{OriginalUri, Request};
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, LOCATION};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Extensions, HeaderValue, StatusCode, Uri, Version};
use hyper::upgrade::OnUpgrade;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use japps_auth::Forwarding;

use crate::activity::Activity;

/// An app that starts but does not listen, or a wedged one, should not hold visitors
/// indefinitely; once connected there is no limit (long polling and SSE must work).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle pooled connections are dropped before common app servers drop them (uvicorn,
/// behind Gradio and FastAPI apps, closes after 5 s): reusing a connection the app is
/// closing at that instant fails the request, which the pool cannot retry.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// Where the app listens and how its URLs relate to the public ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The app's port on 127.0.0.1.
    pub port: u16,
    /// The public path of the server, with leading and trailing slash (`/user/alice/app/`).
    pub prefix: String,
    /// Whether the app is served at `/` (the prefix is removed from request paths and
    /// added to its redirects) rather than knowing its prefix itself.
    pub strip_prefix: bool,
    /// What of the visitor's credentials the app may see (only its own).
    pub forwarding: Forwarding,
}

/// The reverse proxy to one app. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
}

struct Inner {
    target: Target,
    /// The prefix without its trailing slash (empty for `/`).
    base: String,
    authority: Authority,
    /// `X-Forwarded-Prefix`, when stripping a prefix other than `/`.
    forwarded_prefix: Option<HeaderValue>,
    client: Client<HttpConnector, Body>,
    activity: Arc<Activity>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("target", &self.inner.target)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// A proxy to `target`; its traffic marks `activity`. A prefix missing its leading or
    /// trailing slash gets it.
    pub fn new(mut target: Target, activity: Arc<Activity>) -> Self {
        if !target.prefix.starts_with('/') {
            target.prefix.insert(0, '/');
        }
        if !target.prefix.ends_with('/') {
            target.prefix.push('/');
        }
        let base = target.prefix[..target.prefix.len() - 1].to_owned();
        let forwarded_prefix = (target.strip_prefix && !base.is_empty())
            .then(|| HeaderValue::from_str(&base).ok())
            .flatten();
        let authority =
            Authority::from_maybe_shared(Bytes::from(format!("127.0.0.1:{}", target.port)))
                .expect("an IPv4 address and a port form an authority");

        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        // Small writes (WebSocket frames, SSE events, response heads) must not wait for
        // Nagle's algorithm.
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .build(connector);

        Self {
            inner: Arc::new(Inner {
                target,
                base,
                authority,
                forwarded_prefix,
                client,
                activity,
            }),
        }
    }

    /// The app this proxy forwards to (prefix normalised).
    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    /// Forwards one request (already authenticated) and returns the app's response, its
    /// body streamed as it arrives. A WebSocket upgrade the app accepts (`101`) is joined
    /// in a task of its own; the `101` is returned here. The app not answering gives `502`;
    /// a path outside the prefix gives `404`.
    ///
    /// The public path is taken from axum's [`OriginalUri`] when there is one, so a proxy
    /// called from inside a nested router still sees the full path.
    pub async fn forward(&self, mut req: Request, peer: Option<SocketAddr>) -> Response {
        let inner = &*self.inner;
        let public_uri = match req.extensions_mut().remove::<OriginalUri>() {
            Some(OriginalUri(uri)) => uri,
            None => std::mem::take(req.uri_mut()),
        };
        let Some(path_and_query) = inner.upstream_path(&public_uri) else {
            return plain(
                StatusCode::NOT_FOUND,
                "Not found: this path is not part of the app.\n",
            );
        };
        inner.activity.touch();

        // Without hyper's upgrade handle (a server built without upgrades) the app's 101
        // could not be joined: the app then sees a plain request and answers it as such.
        let websocket = headers::is_websocket_upgrade(req.headers())
            && req.extensions().get::<OnUpgrade>().is_some();
        let client_upgrade = websocket.then(|| hyper::upgrade::on(&mut req));
        let (mut parts, body) = req.into_parts();
        let mut uri = http::uri::Parts::default();
        uri.scheme = Some(Scheme::HTTP);
        uri.authority = Some(inner.authority.clone());
        uri.path_and_query = Some(path_and_query);
        parts.uri = match Uri::from_parts(uri) {
            Ok(uri) => uri,
            Err(_) => return plain(StatusCode::BAD_REQUEST, "Bad request path.\n"),
        };
        // The app always speaks HTTP/1.1 with us, whatever the visitor used.
        parts.version = Version::HTTP_11;
        // Extensions belong to the visitor's connection (its upgrade handle among them).
        parts.extensions = Extensions::new();
        if !parts.headers.contains_key(HOST)
            && let Some(authority) = public_uri.authority()
            && let Ok(host) = HeaderValue::from_str(authority.as_str())
        {
            parts.headers.insert(HOST, host);
        }
        headers::prepare_request(
            &mut parts.headers,
            websocket,
            peer.map(|peer| peer.ip()),
            inner.forwarded_prefix.as_ref(),
            &inner.target.forwarding,
        );

        let mut response = match inner
            .client
            .request(http::Request::from_parts(parts, body))
            .await
        {
            Ok(response) => response,
            Err(err) => return bad_gateway(&err),
        };

        if let Some(client_upgrade) = client_upgrade
            && response.status() == StatusCode::SWITCHING_PROTOCOLS
        {
            let app_upgrade = hyper::upgrade::on(&mut response);
            upgrade::join(client_upgrade, app_upgrade, Arc::clone(&inner.activity));
            let (mut parts, _empty) = response.into_parts();
            headers::clean_response(&mut parts.headers, true);
            return Response::from_parts(parts, Body::empty());
        }

        let (mut parts, body) = response.into_parts();
        headers::clean_response(&mut parts.headers, false);
        if let Some(location) = parts.headers.get(LOCATION)
            && let Ok(location) = location.to_str()
            && let Some(rewritten) = headers::rewrite_location(
                location,
                &inner.target.prefix,
                inner.target.strip_prefix,
                inner.target.port,
            )
            && let Ok(rewritten) = HeaderValue::from_str(&rewritten)
        {
            parts.headers.insert(LOCATION, rewritten);
        }
        Response::from_parts(parts, Body::new(body))
    }

    /// Readiness probe: `GET http://127.0.0.1:{port}{path}` (`path` verbatim, no prefix
    /// logic). The status code, or why there is none within `timeout`. The body is not read.
    pub async fn probe(&self, path: &str, timeout: Duration) -> Result<u16, String> {
        let inner = &*self.inner;
        let path = PathAndQuery::try_from(path)
            .map_err(|err| format!("invalid probe path {path:?}: {err}"))?;
        let mut uri = http::uri::Parts::default();
        uri.scheme = Some(Scheme::HTTP);
        uri.authority = Some(inner.authority.clone());
        uri.path_and_query = Some(path);
        let uri = Uri::from_parts(uri).map_err(|err| format!("invalid probe URL: {err}"))?;
        let mut request = http::Request::new(Body::empty());
        *request.uri_mut() = uri;
        match tokio::time::timeout(timeout, inner.client.request(request)).await {
            Ok(Ok(response)) => Ok(response.status().as_u16()),
            Ok(Err(err)) => Err(describe(&err)),
            Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        }
    }
}

impl Inner {
    /// The path and query to ask the app for, or `None` outside the prefix.
    fn upstream_path(&self, uri: &Uri) -> Option<PathAndQuery> {
        let path = uri.path();
        let rest = match path.strip_prefix(self.target.prefix.as_str()) {
            Some(rest) => rest,
            None if path == self.base => "",
            None => return None,
        };
        if !self.target.strip_prefix {
            return Some(
                uri.path_and_query()
                    .cloned()
                    .unwrap_or_else(|| PathAndQuery::from_static("/")),
            );
        }
        let query = uri.query();
        let mut mapped = String::with_capacity(1 + rest.len() + query.map_or(0, |q| q.len() + 1));
        mapped.push('/');
        mapped.push_str(rest);
        if let Some(query) = query {
            mapped.push('?');
            mapped.push_str(query);
        }
        PathAndQuery::from_maybe_shared(Bytes::from(mapped)).ok()
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn bad_gateway(err: &hyper_util::client::legacy::Error) -> Response {
    let detail = describe(err);
    tracing::warn!("the app is not answering: {detail}");
    let cause = innermost(err);
    let mut response = Response::new(Body::from(format!(
        "The app is not answering ({cause}). It may still be starting, or it may have stopped.\n"
    )));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The error and its causes on one line: hyper's top-level messages alone ("client error
/// (Connect)") do not say what happened.
fn describe(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut last = err;
    while let Some(cause) = last.source() {
        last = cause;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(prefix: &str, strip_prefix: bool) -> Proxy {
        Proxy::new(
            Target {
                port: 1,
                prefix: prefix.to_owned(),
                strip_prefix,
                forwarding: japps_auth::Forwarding::default(),
            },
            Arc::new(Activity::new()),
        )
    }

    fn mapped(proxy: &Proxy, uri: &str) -> Option<String> {
        let uri: Uri = uri.parse().unwrap();
        proxy
            .inner
            .upstream_path(&uri)
            .map(|pq| pq.as_str().to_owned())
    }

    #[test]
    fn strip_maps_under_the_prefix_to_root() {
        let proxy = inner("/user/alice/app/", true);
        assert_eq!(mapped(&proxy, "/user/alice/app/").as_deref(), Some("/"));
        assert_eq!(mapped(&proxy, "/user/alice/app").as_deref(), Some("/"));
        assert_eq!(
            mapped(&proxy, "/user/alice/app?x=1").as_deref(),
            Some("/?x=1")
        );
        assert_eq!(
            mapped(&proxy, "/user/alice/app/a/b?c=d&e").as_deref(),
            Some("/a/b?c=d&e")
        );
        assert_eq!(mapped(&proxy, "/user/alice/apple"), None);
        assert_eq!(mapped(&proxy, "/user/bob/app/"), None);
    }

    #[test]
    fn no_strip_passes_the_path_unchanged() {
        let proxy = inner("/user/alice/app/", false);
        assert_eq!(
            mapped(&proxy, "/user/alice/app/a?b=c").as_deref(),
            Some("/user/alice/app/a?b=c")
        );
        assert_eq!(
            mapped(&proxy, "/user/alice/app").as_deref(),
            Some("/user/alice/app")
        );
        assert_eq!(mapped(&proxy, "/elsewhere"), None);
    }

    #[test]
    fn prefix_is_normalised() {
        let proxy = inner("user/alice/app", true);
        assert_eq!(proxy.target().prefix, "/user/alice/app/");
        assert_eq!(
            proxy.inner.forwarded_prefix.as_ref().unwrap(),
            "/user/alice/app"
        );
        let root = inner("/", true);
        assert!(root.inner.forwarded_prefix.is_none());
        assert_eq!(mapped(&root, "/x?y").as_deref(), Some("/x?y"));
    }
}
