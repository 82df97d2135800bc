//! Browser login through the hub's OAuth provider, with `state` and S256 PKCE:
//! `jhub-login` → hub authorize page → `oauth_callback` → session cookie → back to `next`.
//! And logout.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use japps_auth::login::redirect;
use japps_auth::{CallbackQuery, LoginError};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ErrorBody, ServiceError};
use crate::routes::responses::{HubErrors, LoginErrors};
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
    state
        .login()
        .start(&headers, query.next.as_deref())
        .map_err(login_error)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CallbackParams {
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
    params(CallbackParams),
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
    Query(params): Query<CallbackParams>,
) -> Result<Response, ServiceError> {
    let query = CallbackQuery {
        code: params.code,
        state: params.state,
        error: params.error,
    };
    state
        .login()
        .finish(state.hub(), &headers, &query)
        .await
        .map_err(login_error)
}

/// A failed login in the service's error shape (the same words a launcher shows).
fn login_error(err: LoginError) -> ServiceError {
    match err {
        LoginError::Hub(err) => ServiceError::from(err),
        other if other.status() == StatusCode::FORBIDDEN => {
            ServiceError::Forbidden(other.to_string())
        }
        other if other.status().is_client_error() => ServiceError::BadRequest(other.to_string()),
        other => ServiceError::Unavailable(other.to_string()),
    }
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
    let jar = state.login().end(&headers);
    redirect(jar, &state.settings().hub_env.hub_url("logout"))
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
    (state.login().end(&headers), StatusCode::NO_CONTENT).into_response()
}
