//! Headers between the visitor and the app: hop-by-hop ones dropped, `X-Forwarded-*`
//! added, the visitor's credentials kept from the app, redirects kept under the prefix.

use std::fmt::Write as _;
use std::net::IpAddr;

use bytes::Bytes;
use http::header::{
    CONNECTION, EXPECT, HOST, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE, TRAILER,
    TRANSFER_ENCODING, UPGRADE,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use japps_auth::{Forwarding, strip_credentials};

const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");

/// Hop-by-hop headers (RFC 9110 §7.6.1) other than `Connection` and `Upgrade`, which
/// a WebSocket upgrade keeps.
const HOP_BY_HOP: [HeaderName; 7] = [
    KEEP_ALIVE,
    PROXY_CONNECTION,
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
    TE,
    TRAILER,
    TRANSFER_ENCODING,
];

/// Whether the request asks to become a WebSocket (`Connection: upgrade` and
/// `Upgrade: websocket`, any case, possibly among other tokens).
pub(super) fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    has_token(headers, &UPGRADE, b"websocket") && has_token(headers, &CONNECTION, b"upgrade")
}

fn has_token(headers: &HeaderMap, name: &HeaderName, token: &[u8]) -> bool {
    headers
        .get_all(name)
        .iter()
        .any(|value| tokens(value).any(|t| t.eq_ignore_ascii_case(token)))
}

fn tokens(value: &HeaderValue) -> impl Iterator<Item = &[u8]> {
    value
        .as_bytes()
        .split(|b| *b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

/// Readies the visitor's headers for the app.
pub(super) fn prepare_request(
    headers: &mut HeaderMap,
    websocket: bool,
    peer: Option<IpAddr>,
    forwarded_prefix: Option<&HeaderValue>,
    forwarding: &Forwarding,
) {
    remove_hop_by_hop(headers, websocket);
    // hyper has answered `100 Continue` to the visitor already, when the body was first read.
    headers.remove(EXPECT);
    strip_credentials(headers, forwarding);

    if let Some(peer) = peer {
        let mut chain = String::new();
        for earlier in &headers.get_all(&X_FORWARDED_FOR) {
            if let Ok(earlier) = earlier.to_str() {
                let earlier = earlier.trim();
                if !earlier.is_empty() {
                    chain.push_str(earlier);
                    chain.push_str(", ");
                }
            }
        }
        let _ = write!(chain, "{}", peer.to_canonical());
        if let Ok(chain) = HeaderValue::from_maybe_shared(Bytes::from(chain)) {
            headers.insert(X_FORWARDED_FOR, chain);
        }
    }
    // Some proxies in front (the pure-Python configurable-http-proxy) send empty list
    // elements (",http", ""); frameworks parse these headers naively, so tidy them first.
    tidy_list(headers, &X_FORWARDED_PROTO);
    tidy_list(headers, &X_FORWARDED_HOST);
    if !headers.contains_key(X_FORWARDED_PROTO) {
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    if !headers.contains_key(X_FORWARDED_HOST)
        && let Some(host) = headers.get(HOST).cloned()
    {
        headers.insert(X_FORWARDED_HOST, host);
    }
    if let Some(prefix) = forwarded_prefix {
        headers.insert(X_FORWARDED_PREFIX, prefix.clone());
    }
}

/// Drops empty elements of a comma-separated header, and the header if nothing is left.
fn tidy_list(headers: &mut HeaderMap, name: &HeaderName) {
    let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) else {
        return;
    };
    if !value.split(',').any(|part| part.trim().is_empty()) {
        return;
    }
    let parts: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect();
    match HeaderValue::from_str(&parts.join(", ")) {
        Ok(tidy) if !parts.is_empty() => {
            headers.insert(name.clone(), tidy);
        }
        _ => {
            headers.remove(name);
        }
    }
}

/// Readies the app's response headers for the visitor; a `101` keeps its upgrade headers.
pub(super) fn clean_response(headers: &mut HeaderMap, upgraded: bool) {
    remove_hop_by_hop(headers, upgraded);
}

fn remove_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    // Headers named in `Connection` are hop-by-hop too; `Vec::new` allocates only if some are.
    let mut named = Vec::new();
    for value in &headers.get_all(CONNECTION) {
        for token in tokens(value) {
            if token.eq_ignore_ascii_case(b"close")
                || token.eq_ignore_ascii_case(b"keep-alive")
                || token.eq_ignore_ascii_case(b"upgrade")
            {
                continue;
            }
            if let Ok(name) = HeaderName::from_bytes(token) {
                named.push(name);
            }
        }
    }
    for name in named {
        headers.remove(name);
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    if keep_upgrade {
        // Only the upgrade survives: `keep-alive` and the like would mean nothing to the app.
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(CONNECTION);
        headers.remove(UPGRADE);
    }
    // Any other `Proxy-*` header is between the visitor and a proxy, never for the app.
    while let Some(name) = headers
        .keys()
        .find(|name| name.as_str().starts_with("proxy-"))
        .cloned()
    {
        headers.remove(name);
    }
}

/// The `Location` to send the visitor instead of the app's, if it needs changing.
///
/// An absolute URL of the app itself (`http://127.0.0.1:{port}/x`, as apps that build
/// URLs from their bind address send) becomes path-absolute, under the prefix when
/// stripping. When stripping, a path-absolute location outside the prefix (`/login`)
/// gets the prefix. Anything else (relative paths, other sites) is left alone.
pub(super) fn rewrite_location(
    location: &str,
    prefix: &str,
    strip: bool,
    port: u16,
) -> Option<String> {
    let base = prefix.strip_suffix('/').unwrap_or(prefix);
    if let Some(rest) = upstream_url_rest(location, port) {
        let slash = if rest.starts_with('/') { "" } else { "/" };
        return Some(if strip && !under_prefix(rest, prefix, base) {
            format!("{base}{slash}{rest}")
        } else {
            format!("{slash}{rest}")
        });
    }
    if strip
        && location.starts_with('/')
        && !location.starts_with("//")
        && !under_prefix(location, prefix, base)
    {
        return Some(format!("{base}{location}"));
    }
    None
}

fn under_prefix(location: &str, prefix: &str, base: &str) -> bool {
    location.starts_with(prefix)
        || location
            .strip_prefix(base)
            .is_some_and(|after| after.is_empty() || after.starts_with(['?', '#']))
}

/// What follows the authority (`""`, `/x`, `?q`, `#f`) when `location` is an absolute
/// URL of the app's own address.
fn upstream_url_rest(location: &str, port: u16) -> Option<&str> {
    let after_scheme = strip_prefix_ignore_case(location, "http://")
        .or_else(|| strip_prefix_ignore_case(location, "https://"))
        .or_else(|| location.strip_prefix("//"))?;
    let end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let (authority, rest) = after_scheme.split_at(end);
    let (host, authority_port) = authority.rsplit_once(':')?;
    let ours = (host.eq_ignore_ascii_case("127.0.0.1") || host.eq_ignore_ascii_case("localhost"))
        && authority_port.parse::<u16>() == Ok(port);
    ours.then_some(rest)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    const PREFIX: &str = "/user/alice/app/";

    #[test]
    fn strip_rewrites_paths_outside_the_prefix() {
        let rewrite = |l: &str| rewrite_location(l, PREFIX, true, 8123);
        assert_eq!(rewrite("/login").as_deref(), Some("/user/alice/app/login"));
        assert_eq!(rewrite("/").as_deref(), Some("/user/alice/app/"));
        assert_eq!(
            rewrite("/user/alice/apple").as_deref(),
            Some("/user/alice/app/user/alice/apple")
        );
        assert_eq!(rewrite("/user/alice/app/x"), None);
        assert_eq!(rewrite("/user/alice/app"), None);
        assert_eq!(rewrite("/user/alice/app?next=1"), None);
        assert_eq!(rewrite("relative/x"), None);
        assert_eq!(rewrite("?q=1"), None);
        assert_eq!(rewrite("//cdn.example.org/x"), None);
        assert_eq!(rewrite("https://example.org/login"), None);
        assert_eq!(rewrite("http://127.0.0.1:8124/x"), None);
    }

    #[test]
    fn upstream_urls_become_paths() {
        let strip = |l: &str| rewrite_location(l, PREFIX, true, 8123);
        assert_eq!(
            strip("http://127.0.0.1:8123/x?y=1").as_deref(),
            Some("/user/alice/app/x?y=1")
        );
        assert_eq!(
            strip("HTTP://LocalHost:8123/x").as_deref(),
            Some("/user/alice/app/x")
        );
        assert_eq!(
            strip("http://127.0.0.1:8123").as_deref(),
            Some("/user/alice/app/")
        );
        assert_eq!(
            strip("http://127.0.0.1:8123?a").as_deref(),
            Some("/user/alice/app/?a")
        );
        assert_eq!(
            strip("//127.0.0.1:8123/x").as_deref(),
            Some("/user/alice/app/x")
        );
        assert_eq!(
            strip("http://127.0.0.1:8123/user/alice/app/x").as_deref(),
            Some("/user/alice/app/x")
        );

        let keep = |l: &str| rewrite_location(l, PREFIX, false, 8123);
        assert_eq!(
            keep("http://127.0.0.1:8123/user/alice/app/x").as_deref(),
            Some("/user/alice/app/x")
        );
        assert_eq!(keep("http://127.0.0.1:8123").as_deref(), Some("/"));
        assert_eq!(keep("/login"), None);
    }

    #[test]
    fn root_prefix_rewrites_only_upstream_urls() {
        assert_eq!(rewrite_location("/login", "/", true, 80), None);
        assert_eq!(
            rewrite_location("http://localhost:80/a", "/", true, 80).as_deref(),
            Some("/a")
        );
    }

    #[test]
    fn the_visitors_credentials_never_reach_the_app() {
        let forwarding = Forwarding {
            own_client_id: "jupyterhub-user-alice-app".into(),
            authorization: false,
        };
        let mut headers = map(&[
            (
                "cookie",
                "__Host-japps-launch-1a2b=s; theme=dark; jhub_apps_access_token=jwt",
            ),
            ("cookie", "japps-session=t; jupyterhub-user-alice-app=own"),
            ("authorization", "token hub-token"),
        ]);
        prepare_request(&mut headers, false, None, None, &forwarding);
        assert_eq!(
            headers.get(http::header::COOKIE).unwrap(),
            "theme=dark; jupyterhub-user-alice-app=own"
        );
        assert!(headers.get(http::header::AUTHORIZATION).is_none());

        let mut headers = map(&[("authorization", "token hub-token")]);
        let opted_in = Forwarding {
            authorization: true,
            ..forwarding
        };
        prepare_request(&mut headers, false, None, None, &opted_in);
        assert_eq!(headers[http::header::AUTHORIZATION], "token hub-token");
    }

    #[test]
    fn hop_by_hop_headers_go_and_named_ones_too() {
        let mut headers = map(&[
            ("connection", "keep-alive, X-Private"),
            ("keep-alive", "timeout=5"),
            ("x-private", "1"),
            ("proxy-authorization", "Basic x"),
            ("proxy-whatever", "1"),
            ("te", "trailers"),
            ("upgrade", "h2c"),
            ("x-kept", "1"),
        ]);
        remove_hop_by_hop(&mut headers, false);
        let names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["x-kept"]);
    }

    #[test]
    fn websocket_upgrade_keeps_its_headers() {
        let mut headers = map(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "websocket"),
        ]);
        assert!(is_websocket_upgrade(&headers));
        remove_hop_by_hop(&mut headers, true);
        assert_eq!(headers.get(CONNECTION).unwrap(), "upgrade");
        assert_eq!(headers.get(UPGRADE).unwrap(), "websocket");

        assert!(!is_websocket_upgrade(&map(&[("upgrade", "websocket")])));
        assert!(!is_websocket_upgrade(&map(&[
            ("connection", "upgrade"),
            ("upgrade", "h2c")
        ])));
    }

    #[test]
    fn empty_forwarded_elements_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("hub.example:8000"));
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static(",http"));
        headers.insert(X_FORWARDED_HOST, HeaderValue::from_static(""));
        prepare_request(&mut headers, false, None, None, &Forwarding::default());
        assert_eq!(headers[&X_FORWARDED_PROTO], "http");
        assert_eq!(headers[&X_FORWARDED_HOST], "hub.example:8000");
    }

    #[test]
    fn forwarded_headers() {
        let mut headers = map(&[
            ("host", "hub.example.org"),
            ("x-forwarded-for", "203.0.113.7"),
            ("expect", "100-continue"),
        ]);
        let prefix = HeaderValue::from_static("/user/alice/app");
        prepare_request(
            &mut headers,
            false,
            Some("::ffff:10.0.0.2".parse().unwrap()),
            Some(&prefix),
            &Forwarding::default(),
        );
        assert_eq!(
            headers.get(&X_FORWARDED_FOR).unwrap(),
            "203.0.113.7, 10.0.0.2"
        );
        assert_eq!(headers.get(&X_FORWARDED_PROTO).unwrap(), "http");
        assert_eq!(headers.get(&X_FORWARDED_HOST).unwrap(), "hub.example.org");
        assert_eq!(headers.get(&X_FORWARDED_PREFIX).unwrap(), "/user/alice/app");
        assert!(headers.get(EXPECT).is_none());

        let mut headers = map(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "public.example.org"),
        ]);
        prepare_request(&mut headers, false, None, None, &Forwarding::default());
        assert_eq!(headers.get(&X_FORWARDED_PROTO).unwrap(), "https");
        assert_eq!(
            headers.get(&X_FORWARDED_HOST).unwrap(),
            "public.example.org"
        );
        assert!(headers.get(&X_FORWARDED_FOR).is_none());
        assert!(headers.get(&X_FORWARDED_PREFIX).is_none());
    }
}
