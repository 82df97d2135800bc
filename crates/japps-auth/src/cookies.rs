//! Cookies: how japps names and scopes its own, and which cookies and headers carry a
//! visitor's credentials so that the launcher never hands them to an app.

use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, SameSite};

use crate::legacy;

/// Every cookie japps sets has a name starting with this (after any `__Host-`).
pub const JAPPS_COOKIE_PREFIX: &str = "japps-";

/// The hub's login cookie. Path-scoped to `/hub/` normally, but `Path=/` (and so sent to
/// every app) when the hub uses `__Host-` cookies.
const HUB_LOGIN_COOKIE: &str = "jupyterhub-hub-login";
/// `HubOAuth` token cookies of single-user servers (`jupyterhub-user-<name>[-<server>]`)
/// and of hub services (`service-<name>`): signed, not encrypted, so they hold a readable
/// hub token.
const SERVER_TOKEN_COOKIE_PREFIX: &str = "jupyterhub-user-";
const SERVICE_TOKEN_COOKIE_PREFIX: &str = "service-";

/// Names, attributes and scope of the cookies one japps component sets.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    host_prefix: bool,
    path: String,
    always_secure: bool,
}

impl CookiePolicy {
    /// Cookies for a component served under `prefix`. With `__Host-` cookies (the hub's
    /// `cookie_host_prefix_enabled`) the path must be `/` and the cookie `Secure`; they
    /// are also `Secure` whenever the hub is known to be served over https.
    pub fn new(host_prefix: bool, prefix: &str, public_https: bool) -> Self {
        Self {
            host_prefix,
            path: if host_prefix {
                "/".to_owned()
            } else {
                prefix.to_owned()
            },
            always_secure: host_prefix || public_https,
        }
    }

    /// The cookie's name on the wire: `base`, `__Host-` prefixed when so configured.
    pub fn name(&self, base: &str) -> String {
        if self.host_prefix {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// `Secure` whenever the browser talks https to the hub: a known https public URL or
    /// hub origin, `__Host-` cookies, or a TLS-terminating proxy that says so.
    pub fn secure(&self, headers: &HeaderMap) -> bool {
        self.always_secure
            || headers
                .get("x-forwarded-proto")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }

    /// An `HttpOnly`, `SameSite=Lax` cookie living `max_age` seconds.
    pub fn build(
        &self,
        headers: &HeaderMap,
        name: &str,
        value: String,
        max_age: u64,
    ) -> Cookie<'static> {
        Cookie::build((name.to_owned(), value))
            .path(self.path.clone())
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure(headers))
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(max_age).unwrap_or(i64::MAX),
            ))
            .build()
    }

    /// What removes the cookie `name` (same name and path). Browsers ignore a `__Host-`
    /// cookie without `Secure`, removals included, so it carries the same `Secure`.
    pub fn removal(&self, name: &str) -> Cookie<'static> {
        let mut cookie = Cookie::build(name.to_owned())
            .path(self.path.clone())
            .build();
        if self.always_secure {
            cookie.set_secure(true);
        }
        cookie
    }
}

/// What of a visitor's request an app may see besides its own cookies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// The app server's OAuth client id (`jupyterhub-user-alice-app`): the `HubOAuth`
    /// cookies of this very server (JupyterLab's login) are the app's own and pass.
    pub own_client_id: String,
    /// Pass `Authorization: token|bearer …` on (the operator or the app opted in, or the
    /// app is JupyterLab, which authenticates API calls with it).
    pub authorization: bool,
}

/// Whether the cookie `name` carries a visitor's credentials (a hub token, in clear or
/// encrypted) that an app must never receive: japps' own cookies whatever their prefix,
/// jhub-apps' `jhub_apps_access_token`, the hub's login cookie, and other servers' and
/// services' `HubOAuth` cookies.
pub fn is_credential_cookie(name: &str, forwarding: &Forwarding) -> bool {
    let bare = strip_name_prefix(name);
    let starts = |prefix: &str| {
        bare.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts(JAPPS_COOKIE_PREFIX)
        || bare.eq_ignore_ascii_case(legacy::COOKIE_NAME)
        || bare.eq_ignore_ascii_case(HUB_LOGIN_COOKIE)
    {
        return true;
    }
    if starts(SERVER_TOKEN_COOKIE_PREFIX) || starts(SERVICE_TOKEN_COOKIE_PREFIX) {
        let own = &forwarding.own_client_id;
        let is_own = !own.is_empty()
            && (bare == own
                || bare
                    .strip_prefix(own.as_str())
                    .is_some_and(|rest| rest.starts_with("-oauth-state")));
        return !is_own;
    }
    false
}

/// Removes from a visitor's request whatever carries their credentials (see
/// [`is_credential_cookie`], and `Authorization` unless [`Forwarding::authorization`]).
/// Nothing is allocated when there is nothing to remove.
pub fn strip_credentials(headers: &mut HeaderMap, forwarding: &Forwarding) {
    if !forwarding.authorization && headers.contains_key(AUTHORIZATION) {
        headers.remove(AUTHORIZATION);
    }
    let carries = headers.get_all(COOKIE).iter().any(|value| {
        cookie_pairs(value.as_bytes()).any(|(name, _)| is_credential_cookie(name, forwarding))
    });
    if !carries {
        return;
    }
    let mut kept = String::new();
    for value in &headers.get_all(COOKIE) {
        for (name, pair) in cookie_pairs(value.as_bytes()) {
            if is_credential_cookie(name, forwarding) {
                continue;
            }
            if !kept.is_empty() {
                kept.push_str("; ");
            }
            kept.push_str(pair);
        }
    }
    headers.remove(COOKIE);
    if !kept.is_empty()
        && let Ok(kept) = HeaderValue::from_str(&kept)
    {
        headers.insert(COOKIE, kept);
    }
}

/// `(name, "name=value")` of each pair in a `Cookie` header; pairs that are not text are
/// skipped (and so dropped when the header is rebuilt).
fn cookie_pairs(value: &[u8]) -> impl Iterator<Item = (&str, &str)> {
    value
        .split(|b| *b == b';')
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            (
                pair.split_once('=').map_or(pair, |(name, _)| name).trim(),
                pair,
            )
        })
}

/// The name without the browser-enforced `__Host-` / `__Secure-` prefix.
fn strip_name_prefix(name: &str) -> &str {
    for prefix in ["__Host-", "__Secure-"] {
        if let Some(head) = name.get(..prefix.len())
            && head.eq_ignore_ascii_case(prefix)
        {
            return &name[prefix.len()..];
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderName;

    use super::*;

    fn forwarding(authorization: bool) -> Forwarding {
        Forwarding {
            own_client_id: "jupyterhub-user-alice-app".into(),
            authorization,
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn credential_cookies_whatever_their_prefix() {
        let f = forwarding(false);
        for name in [
            "japps-session",
            "__Host-japps-session",
            "__host-JAPPS-launch-1a2b",
            "__Secure-japps-launch-1a2b-state",
            "japps-oauth-state",
            "jhub_apps_access_token",
            "__Host-jhub_apps_access_token",
            "jupyterhub-hub-login",
            "__Host-jupyterhub-hub-login",
            "jupyterhub-user-bob",
            "__Host-jupyterhub-user-alice",
            "jupyterhub-user-alice-app2",
            "service-japps",
            "__Host-service-grafana-oauth-state",
        ] {
            assert!(is_credential_cookie(name, &f), "{name} must be stripped");
        }
        for name in [
            "theme",
            "_xsrf",
            "jupyterhub-session-id",
            "jupyterhub-user-alice-app",
            "__Host-jupyterhub-user-alice-app",
            "jupyterhub-user-alice-app-oauth-state",
            "jupyterhub-user-alice-app-oauth-state-abcdefgh",
            "xjapps-session",
            "my-japps-cookie",
        ] {
            assert!(!is_credential_cookie(name, &f), "{name} belongs to the app");
        }
    }

    #[test]
    fn stripping_keeps_the_apps_cookies_in_order() {
        let mut h = headers(&[
            (
                "cookie",
                "__Host-japps-launch-1a2b=s; theme=dark;jhub_apps_access_token=jwt",
            ),
            ("cookie", "_xsrf=x; jupyterhub-user-bob=t"),
            ("authorization", "token abc"),
        ]);
        strip_credentials(&mut h, &forwarding(false));
        assert_eq!(h.get_all(COOKIE).iter().count(), 1);
        assert_eq!(h[COOKIE], "theme=dark; _xsrf=x");
        assert!(h.get(AUTHORIZATION).is_none());

        let mut only_ours = headers(&[("cookie", "japps-session=a; japps-oauth-state=b")]);
        strip_credentials(&mut only_ours, &forwarding(false));
        assert!(only_ours.get(COOKIE).is_none());

        let mut clean = headers(&[("cookie", "a=1; b=2"), ("authorization", "Bearer t")]);
        strip_credentials(&mut clean, &forwarding(true));
        assert_eq!(clean[COOKIE], "a=1; b=2");
        assert_eq!(clean[AUTHORIZATION], "Bearer t");
    }

    #[test]
    fn cookie_names_and_attributes() {
        let plain = CookiePolicy::new(false, "/services/japps/", false);
        assert_eq!(plain.name("japps-session"), "japps-session");
        let cookie = plain.build(&HeaderMap::new(), "japps-session", "v".into(), 60);
        let text = cookie.to_string();
        for attribute in [
            "HttpOnly",
            "SameSite=Lax",
            "Path=/services/japps/",
            "Max-Age=60",
        ] {
            assert!(text.contains(attribute), "{attribute} in {text}");
        }
        assert!(!text.contains("Secure"));
        let behind_tls = headers(&[("x-forwarded-proto", "https, http")]);
        assert!(plain.secure(&behind_tls));

        let host = CookiePolicy::new(true, "/user/alice/app/", false);
        assert_eq!(host.name("japps-launch-1"), "__Host-japps-launch-1");
        assert_eq!(host.path(), "/");
        assert!(host.secure(&HeaderMap::new()));
        assert_eq!(host.removal("x").path(), Some("/"));
        assert_eq!(host.removal("x").secure(), Some(true));

        assert!(CookiePolicy::new(false, "/", true).secure(&HeaderMap::new()));
    }
}
