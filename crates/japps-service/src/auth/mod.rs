//! Who is calling, and may they: the [`Caller`] extractor.
//!
//! Credentials are taken, in this order, from an `Authorization: token|bearer <t>` header,
//! japps' encrypted session cookie, and jhub-apps' `jhub_apps_access_token` cookie (so users
//! of an upgraded deployment stay logged in). Each yields the user's own hub token; the user
//! behind it comes from the identity cache. Cookie-authenticated unsafe requests must pass
//! the CSRF check first, and every caller must hold one of the service's access scopes.

pub(crate) mod csrf;
mod jhub_apps_cookie;
pub(crate) mod session;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT, AUTHORIZATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use japps_hub::{User, UserToken};

use crate::error::ServiceError;
use crate::state::AppState;

/// The hub's session cookie; part of the identity cache key, as in JupyterHub's `HubAuth`.
const HUB_SESSION_COOKIE: &str = "jupyterhub-session-id";

/// An authenticated, authorized caller of the service.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) user: Arc<User>,
    /// The caller's own hub token: actions on the hub run with it.
    pub(crate) token: UserToken,
}

/// Where the caller's credentials came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Header,
    Session,
    JhubAppsCookie,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServiceError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some((token, via)) = credentials(&parts.headers, state)? else {
            return Err(unauthenticated(parts, state, "not authenticated"));
        };
        // Before any hub call: a forged cross-site request costs the hub nothing.
        if via != Via::Header && !is_safe(&parts.method) {
            csrf::check(&parts.headers, state.settings())?;
        }
        let session_id = cookie(&parts.headers, HUB_SESSION_COOKIE);
        let user = state
            .identities()
            .resolve(state.hub(), &token, session_id.as_deref())
            .await
            .map_err(ServiceError::Hub)?;
        let Some(user) = user else {
            return Err(unauthenticated(
                parts,
                state,
                "invalid or expired credentials",
            ));
        };
        if !japps_domain::scopes::grants_any(&user.scopes, &state.settings().access_scopes) {
            return Err(ServiceError::Forbidden(format!(
                "{} {} is not allowed to use this service",
                if user.kind.is_empty() {
                    "user"
                } else {
                    &user.kind
                },
                user.name
            )));
        }
        Ok(Caller { user, token })
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The first credential the request carries, if any.
fn credentials(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<(UserToken, Via)>, ServiceError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(parse_authorization)
            .ok_or_else(|| {
                ServiceError::Unauthorized(
                    "the Authorization header must be `token <hub token>` or `Bearer <hub token>`"
                        .into(),
                )
            })?;
        return Ok(Some((UserToken::new(token.to_owned()), Via::Header)));
    }
    if let Some(token) = state.sessions().read_session(headers) {
        return Ok(Some((token, Via::Session)));
    }
    if let Some(token) = state.sessions().read_jhub_apps_cookie(headers) {
        return Ok(Some((token, Via::JhubAppsCookie)));
    }
    Ok(None)
}

/// `token <t>` or `bearer <t>`, scheme case-insensitive, as the hub itself accepts.
fn parse_authorization(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(char::is_whitespace)?;
    let token = token.trim();
    let known = scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer");
    (known && !token.is_empty() && !token.contains(char::is_whitespace)).then_some(token)
}

/// A cookie's raw value from the request headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    axum_extra::extract::CookieJar::from_headers(headers)
        .get(name)
        .map(|cookie| cookie.value().to_owned())
}

/// 401 for API clients; a browser navigating to a page is sent to log in and brought back.
fn unauthenticated(parts: &Parts, state: &AppState, detail: &str) -> ServiceError {
    let navigating = is_safe(&parts.method)
        && parts
            .headers
            .get(ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if navigating {
        let next = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        ServiceError::LoginRequired {
            location: state.sessions().login_url(&next),
        }
    } else {
        ServiceError::Unauthorized(detail.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_schemes() {
        assert_eq!(parse_authorization("token abc"), Some("abc"));
        assert_eq!(parse_authorization("Bearer abc"), Some("abc"));
        assert_eq!(parse_authorization("BEARER   abc "), Some("abc"));
        assert_eq!(parse_authorization("Basic abc"), None);
        assert_eq!(parse_authorization("token"), None);
        assert_eq!(parse_authorization("token a b"), None);
    }

    #[test]
    fn cookies_by_name() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", "a=1; jupyterhub-session-id=abc".parse().unwrap());
        headers.append("cookie", "b=2".parse().unwrap());
        assert_eq!(
            cookie(&headers, "jupyterhub-session-id").as_deref(),
            Some("abc")
        );
        assert_eq!(cookie(&headers, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
