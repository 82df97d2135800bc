//! Browser login through the hub's OAuth provider, with `state` and S256 PKCE:
//! `jhub-login` → hub authorize page → `oauth_callback` → session cookie → back to `next`.
//! And logout.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use japps_hub::{HubError, OAuthCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::auth::session::StateError;
use crate::error::{ErrorBody, ServiceError};
use crate::routes::openapi::{HubErrors, LoginErrors};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LoginQuery {
    /// Where to go after the login: a path on this origin (anything else is ignored).
    #[param(example = "/services/japps/user")]
    next: Option<String>,
}

/// `GET {prefix}jhub-login[?next=]`: sends the browser to the hub to authorize the login.
#[utoipa::path(
    get,
    path = "/jhub-login",
    operation_id = "login",
    tag = "login",
    summary = "Start a browser login",
    description = "Sends the browser to the hub's OAuth authorize page (with `state` and S256 \
        PKCE), remembering the login in a short-lived encrypted cookie. Public; no hub call.",
    params(LoginQuery),
    responses(
        (status = 302, description = "To the hub's authorize page.",
            headers(
                ("location" = String, description = "`{hub}/hub/api/oauth2/authorize?...`"),
                ("set-cookie" = String, description = "The OAuth state cookie."),
            )),
    ),
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, ServiceError> {
    let settings = state.settings();
    let oauth_state = random_token(16)?;
    let verifier = random_token(32)?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let next = query.next.as_deref().and_then(same_origin_path);

    let mut authorize = url::form_urlencoded::Serializer::new(String::new());
    authorize
        .append_pair("client_id", &settings.client_id)
        .append_pair("redirect_uri", &settings.oauth_callback_url)
        .append_pair("response_type", "code")
        .append_pair("state", &oauth_state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let location = format!(
        "{}{}hub/api/oauth2/authorize?{}",
        settings.hub_host,
        settings.base_url,
        authorize.finish()
    );
    let jar = state
        .sessions()
        .start_login(&headers, &oauth_state, &verifier, next);
    Ok((jar, found(&location)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackQuery {
    /// The authorization code from the hub.
    code: Option<String>,
    /// Must be the `state` this browser was given by `jhub-login`.
    state: Option<String>,
    /// Set by the hub instead of `code` when the login was refused.
    error: Option<String>,
}

/// `GET {prefix}oauth_callback`: checks `state`, exchanges the code for the user's hub
/// token, stores it in the session cookie and returns the browser to where it was going.
#[utoipa::path(
    get,
    path = "/oauth_callback",
    operation_id = "oauth_callback",
    tag = "login",
    summary = "Finish a browser login (the hub's OAuth redirect)",
    description = "Checks `state` against this browser's login cookie, exchanges `code` for \
        the user's hub token (one hub call), stores it in the encrypted `japps-session` cookie \
        and sends the browser on to `next` (default: the hub's home page).",
    params(CallbackQuery),
    responses(
        (status = 302, description = "Logged in; on to `next`.",
            headers(
                ("location" = String, description = "The `next` path of the login."),
                ("set-cookie" = String, description = "The session cookie."),
            )),
        (status = 400, description = "The hub refused the login, or `code`/`state` is missing \
            or expired.", body = ErrorBody),
        (status = 403, description = "`state` does not match, or no login is in progress in \
            this browser.", body = ErrorBody),
        HubErrors,
    ),
)]
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, ServiceError> {
    if let Some(error) = query.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        return Err(ServiceError::BadRequest(format!(
            "login failed: the hub answered {error}"
        )));
    }
    let oauth_state = query.state.ok_or_else(|| {
        ServiceError::BadRequest("login failed: the callback has no state".into())
    })?;
    let code = query
        .code
        .ok_or_else(|| ServiceError::BadRequest("login failed: the callback has no code".into()))?;
    let (pending, jar) = state
        .sessions()
        .finish_login(&headers, &oauth_state)
        .map_err(|err| {
            ServiceError::Forbidden(match err {
                StateError::NoLoginInProgress => {
                    "login failed: no login in progress in this browser (or it took too long); start again".into()
                }
                StateError::Mismatch => "login failed: oauth state does not match".into(),
            })
        })?;

    let settings = state.settings();
    let exchange = OAuthCode {
        client_id: &settings.client_id,
        code: &code,
        redirect_uri: &settings.oauth_callback_url,
        code_verifier: Some(&pending.verifier),
    };
    let token = state
        .hub()
        .exchange_oauth_code(&exchange)
        .await
        .map_err(|err| match err {
            HubError::Status {
                status: 400..=499, ..
            } => ServiceError::BadRequest(
                "login failed: the hub refused the authorization code (expired or already used)"
                    .into(),
            ),
            other => ServiceError::from(other),
        })?;
    let jar = state
        .sessions()
        .establish(jar, &headers, &token.access_token, token.expires_in);
    let next = pending.next.unwrap_or_else(|| default_landing(&state));
    Ok((jar, found(&next)).into_response())
}

/// `GET {prefix}logout`: ends the japps session and the hub session (which also revokes
/// the hub tokens issued to this browser).
#[utoipa::path(
    get,
    path = "/logout",
    operation_id = "logout_page",
    tag = "login",
    summary = "Log out of japps and the hub",
    description = "Clears the japps session cookie and sends the browser to the hub's logout \
        page, which ends the hub session too. Public; no hub call.",
    responses(
        (status = 302, description = "To the hub's logout page.",
            headers(
                ("location" = String, description = "`{base_url}hub/logout`"),
                ("set-cookie" = String, description = "Removes the session cookie."),
            )),
    ),
)]
pub(crate) async fn logout_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let jar = state.sessions().end(&headers);
    let hub_logout = format!("{}hub/logout", state.settings().base_url);
    (jar, found(&hub_logout)).into_response()
}

/// `POST {prefix}logout`: ends the japps session only, for scripts and the launcher UI.
#[utoipa::path(
    post,
    path = "/logout",
    operation_id = "logout",
    tag = "login",
    summary = "End the japps session",
    description = "Clears the japps session cookie; the hub session stays. For scripts and \
        the launcher UI. Cookie-authenticated requests must come from this site (CSRF check).",
    responses(
        (status = 204, description = "The session cookie is cleared.",
            headers(("set-cookie" = String, description = "Removes the session cookie."))),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    _caller: Caller,
) -> Response {
    (state.sessions().end(&headers), StatusCode::NO_CONTENT).into_response()
}

/// A plain 302, as JupyterHub's own login redirects are (axum's `Redirect::to` is a 303).
fn found(location: &str) -> impl IntoResponse + use<> {
    (StatusCode::FOUND, [(LOCATION, location.to_owned())])
}

/// The launcher home, until it moves into japps itself.
fn default_landing(state: &AppState) -> String {
    format!("{}hub/home", state.settings().base_url)
}

/// `next` only if it is a path on this origin: no scheme, no `//host`, no backslash tricks
/// that browsers read as `//`, no control characters.
fn same_origin_path(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then(|| next.to_owned())
}

fn random_token(bytes: usize) -> Result<String, ServiceError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|err| ServiceError::Config(format!("no randomness available: {err}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_origin() {
        assert_eq!(same_origin_path("/hub/home").as_deref(), Some("/hub/home"));
        assert_eq!(
            same_origin_path("/services/japps/user?x=1").as_deref(),
            Some("/services/japps/user?x=1")
        );
        for bad in [
            "https://evil.example/x",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
            "evil",
            "",
            "/a\nb",
        ] {
            assert_eq!(same_origin_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn random_tokens_differ() {
        let a = random_token(32).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32).unwrap());
    }
}
