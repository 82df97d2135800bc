//! Who is calling, and may they: the [`Caller`] extractor.
//!
//! Credentials are taken, in this order, from an `Authorization: token|bearer <t>` header,
//! japps' encrypted session cookie, and jhub-apps' `jhub_apps_access_token` cookie (so users
//! of an upgraded deployment stay logged in). Each yields the user's own hub token; the user
//! behind it comes from the identity cache. Cookie-authenticated unsafe requests must pass
//! the CSRF check first, and every caller must hold one of the service's access scopes.

pub(crate) mod csrf;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT, AUTHORIZATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::Cookie;
use japps_auth::legacy;
use japps_hub::UserToken;

use crate::error::ServiceError;
use crate::state::AppState;

/// The hub's session cookie; part of the identity cache key, as in JupyterHub's `HubAuth`.
const HUB_SESSION_COOKIE: &str = "jupyterhub-session-id";

pub(crate) use crate::application::Caller;

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
            .and_then(japps_auth::login::authorization_token)
            .ok_or_else(|| {
                ServiceError::Unauthorized(
                    "the Authorization header must be `token <hub token>` or `Bearer <hub token>`"
                        .into(),
                )
            })?;
        return Ok(Some((UserToken::new(token.to_owned()), Via::Header)));
    }
    if let Some(session) = state.login().session(headers) {
        return Ok(Some((session.token, Via::Session)));
    }
    if let Some(token) = legacy_token(headers, state) {
        return Ok(Some((UserToken::from(token.token), Via::JhubAppsCookie)));
    }
    Ok(None)
}

/// The hub token in a valid jhub-apps cookie (needs `JHUB_APP_JWT_SECRET_KEY`).
fn legacy_token(headers: &HeaderMap, state: &AppState) -> Option<legacy::LegacyToken> {
    let value = cookie(headers, legacy::COOKIE_NAME)?;
    state.legacy_cookies()?.read(&value)
}

/// jhub-apps' cookie holds a hub token in clear and is sent to every path of the hub,
/// apps included; so a browser that still has one gets japps' own session in its place
/// (when the cookie is valid) and the cookie expired, on whatever answer it gets first.
pub(crate) async fn replace_legacy_cookie(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if cookie(request.headers(), legacy::COOKIE_NAME).is_none() {
        return next.run(request).await;
    }
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let login = state.login();
    let mut jar = login.new_jar(&headers);
    if login.session(&headers).is_none()
        && let Some(old) = legacy_token(&headers, &state)
    {
        let lifetime = old.exp.saturating_sub(japps_auth::now());
        jar = login.establish(
            jar,
            &headers,
            &UserToken::from(old.token),
            Some(lifetime),
            0,
        );
    }
    let mut response = (jar, response).into_response();
    // Not through the jar: it only removes cookies it can decrypt.
    let mut expired = Cookie::build(legacy::COOKIE_NAME)
        .path(legacy::COOKIE_PATH)
        .build();
    expired.make_removal();
    if let Ok(value) = HeaderValue::from_str(&expired.to_string()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
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
            location: login_url(&state.settings().prefix, &next),
        }
    } else {
        ServiceError::Unauthorized(detail.to_owned())
    }
}

/// Where a browser goes to log in and come back to `next`.
fn login_url(prefix: &str, next: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("next", next);
    format!("{prefix}jhub-login?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_url_encodes_next() {
        assert_eq!(
            login_url("/services/japps/", "/services/japps/user?a=1&b=2"),
            "/services/japps/jhub-login?next=%2Fservices%2Fjapps%2Fuser%3Fa%3D1%26b%3D2"
        );
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
