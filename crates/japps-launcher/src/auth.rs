//! Hub OAuth for the app's visitors.
//!
//! The flow is the hub's standard one for a single-user server (state + S256 PKCE, the
//! server's own OAuth client and `redirect_uri`), after which a visitor is let in when the
//! hub grants them any of `JUPYTERHUB_OAUTH_ACCESS_SCOPES` on this server: the owner,
//! users and groups it is shared with, admins. The visitor's hub token lives in an
//! encrypted cookie scoped to this server; a check is cached for five minutes, as
//! JupyterHub's own HubAuth does, so the proxy's hot path makes no hub call.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use japps_hub::{HubClient, HubError, OAuthCode, UserToken};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use crate::COOKIE_PREFIX;
use crate::server_env::ServerEnv;

/// HubAuth's default: how long a visitor's access check is trusted.
const CHECK_TTL: Duration = Duration::from_secs(300);
/// How long a login may take between the redirect and the callback (HubOAuth: 600 s).
const STATE_MAX_AGE: u64 = 600;
/// The hub's own OAuth token lifetime default (14 days).
const SESSION_MAX_AGE: u64 = 14 * 24 * 3600;

/// Someone the hub knows, and what they may do here.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub name: String,
    /// The hub grants them access to this server.
    pub allowed: bool,
    /// The server's owner or a hub admin: may read the logs.
    pub may_read_logs: bool,
}

/// What the callback turned out to be.
#[derive(Debug)]
pub enum Callback {
    /// Not a login this launcher started (JupyterLab runs its own OAuth on the same path).
    NotOurs,
    Done(Response),
}

/// The visitor gate: cookies, the login flow and the cached access check.
pub struct Gate {
    env: Arc<ServerEnv>,
    hub: HubClient,
    key: Key,
    session_cookie: String,
    state_cookie: String,
    cookie_path: String,
    checks: moka::future::Cache<[u8; 32], Option<Visitor>>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("session_cookie", &self.session_cookie)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct SessionData {
    token: String,
    exp: u64,
}

#[derive(Serialize, Deserialize)]
struct StateData {
    state: String,
    verifier: String,
    next: String,
    exp: u64,
}

impl Gate {
    pub fn new(env: Arc<ServerEnv>, hub: HubClient) -> Self {
        // The server's token is secret, lives as long as the server, and differs per
        // server: a key derived from it needs no extra configuration, and cookies die
        // with the server. Domain-separated from any other use of the token.
        let mut digest = Sha512::new();
        digest.update(b"japps launch cookie key v1\0");
        digest.update(env.api_token.expose_secret().as_bytes());
        let key = Key::from(&digest.finalize());
        // Per-server names: with `__Host-` cookies the path is `/` for every server.
        let tag: String = hex(&Sha256::digest(env.client_id.as_bytes())[..4]);
        let host_prefix = if env.cookie_host_prefix {
            "__Host-"
        } else {
            ""
        };
        let cookie_path = if env.cookie_host_prefix {
            "/".to_owned()
        } else {
            env.prefix.clone()
        };
        Self {
            session_cookie: format!("{host_prefix}{COOKIE_PREFIX}-{tag}"),
            state_cookie: format!("{host_prefix}{COOKIE_PREFIX}-{tag}-state"),
            cookie_path,
            env,
            hub,
            key,
            checks: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CHECK_TTL)
                .build(),
        }
    }

    /// The visitor behind this request's cookie, checked with the hub at most once per
    /// five minutes per token and hub session. `None`: not logged in here (or the hub no
    /// longer knows the token).
    pub async fn visitor(&self, headers: &HeaderMap) -> Result<Option<Visitor>, HubError> {
        let Some(token) = self.session_token(headers) else {
            return Ok(None);
        };
        // The hub session cookie is in the key so that a hub logout forces a fresh check.
        let mut digest = Sha256::new();
        digest.update(token.fingerprint());
        digest.update(cookie_value(headers, "jupyterhub-session-id").unwrap_or_default());
        let key: [u8; 32] = digest.finalize().into();
        if let Some(cached) = self.checks.get(&key).await {
            return Ok(cached);
        }
        let visitor = match self.hub.as_user(&token).whoami().await {
            Ok(user) => {
                let allowed =
                    japps_domain::scopes::grants_any(&user.scopes, &self.env.access_scopes);
                Some(Visitor {
                    may_read_logs: user.name == self.env.user || user.admin,
                    name: user.name,
                    allowed,
                })
            }
            // Revoked or expired: log in again.
            Err(HubError::Status {
                status: 401 | 403, ..
            }) => None,
            Err(err) => return Err(err),
        };
        self.checks.insert(key, visitor.clone()).await;
        Ok(visitor)
    }

    fn session_token(&self, headers: &HeaderMap) -> Option<UserToken> {
        let cookie =
            PrivateCookieJar::from_headers(headers, self.key.clone()).get(&self.session_cookie)?;
        let data: SessionData = serde_json::from_str(cookie.value()).ok()?;
        (data.exp > now() && !data.token.is_empty()).then(|| UserToken::new(data.token))
    }

    /// Sends the browser to the hub to log in, to come back to `next` (a path on this
    /// server; anything else is replaced by the server's root).
    pub fn login(&self, headers: &HeaderMap, next: &str) -> Response {
        let (Some(state), Some(verifier)) = (random_token(16), random_token(32)) else {
            return (StatusCode::SERVICE_UNAVAILABLE, "no randomness available").into_response();
        };
        let next = self.local_path(next);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("client_id", &self.env.client_id)
            .append_pair("redirect_uri", &self.env.oauth_callback_url)
            .append_pair("response_type", "code")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let location = format!("{}?{}", self.env.authorize_url, query.finish());
        let data = StateData {
            state,
            verifier,
            next,
            exp: now() + STATE_MAX_AGE,
        };
        let jar = PrivateCookieJar::from_headers(headers, self.key.clone()).add(self.cookie(
            headers,
            &self.state_cookie,
            serde_json::to_string(&data).unwrap_or_default(),
            STATE_MAX_AGE,
        ));
        let mut response = (jar, found(&location)).into_response();
        no_store(&mut response);
        response
    }

    /// Handles `{prefix}oauth_callback` if this launcher started the login.
    pub async fn callback(&self, headers: &HeaderMap, query: &str) -> Callback {
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let jar = PrivateCookieJar::from_headers(headers, self.key.clone());
        let Some(data) = jar
            .get(&self.state_cookie)
            .and_then(|cookie| serde_json::from_str::<StateData>(cookie.value()).ok())
            .filter(|data| data.exp > now())
        else {
            return Callback::NotOurs;
        };
        let fail = |status: u16, message: String| {
            let status = axum::http::StatusCode::from_u16(status)
                .unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            Callback::Done((status, crate::pages::message_page(status, &message)).into_response())
        };
        if let Some(error) = param("error") {
            return fail(400, format!("The hub refused the login: {error}"));
        }
        let (Some(code), Some(state)) = (param("code"), param("state")) else {
            return fail(400, "The login callback lacks its code or state.".into());
        };
        if !constant_time_eq(state.as_bytes(), data.state.as_bytes()) {
            return fail(
                403,
                "The login state does not match; please try again.".into(),
            );
        }
        let exchange = self
            .hub
            .exchange_oauth_code(&OAuthCode {
                client_id: &self.env.client_id,
                code,
                redirect_uri: &self.env.oauth_callback_url,
                code_verifier: Some(&data.verifier),
            })
            .await;
        let token = match exchange {
            Ok(token) => token,
            Err(HubError::Status {
                status: 400 | 401 | 403,
                ..
            }) => {
                return fail(
                    403,
                    "The hub did not accept this login (expired or reused code); please try again."
                        .into(),
                );
            }
            Err(err) => {
                tracing::warn!("OAuth code exchange failed: {err}");
                return fail(
                    502,
                    "The hub could not be reached to finish the login.".into(),
                );
            }
        };
        let lifetime = token
            .expires_in
            .unwrap_or(SESSION_MAX_AGE)
            .min(SESSION_MAX_AGE);
        let session = SessionData {
            token: token.access_token.expose_for_encrypted_storage().to_owned(),
            exp: now() + lifetime,
        };
        let jar = jar
            .remove(
                Cookie::build(self.state_cookie.clone())
                    .path(self.cookie_path.clone())
                    .build(),
            )
            .add(self.cookie(
                headers,
                &self.session_cookie,
                serde_json::to_string(&session).unwrap_or_default(),
                lifetime,
            ));
        let mut response = (jar, found(&data.next)).into_response();
        no_store(&mut response);
        Callback::Done(response)
    }

    /// Forgets this browser's login here (the hub login stays).
    pub fn logout(&self, headers: &HeaderMap) -> PrivateCookieJar {
        PrivateCookieJar::from_headers(headers, self.key.clone()).remove(
            Cookie::build(self.session_cookie.clone())
                .path(self.cookie_path.clone())
                .build(),
        )
    }

    /// `next` if it is a path on this server, else the server's root: the callback must
    /// never send a browser elsewhere.
    fn local_path(&self, next: &str) -> String {
        let ok = next.starts_with(&self.env.prefix)
            && !next.contains(['\\', '\r', '\n'])
            && !next.contains("/../");
        if ok {
            next.to_owned()
        } else {
            self.env.prefix.clone()
        }
    }

    fn cookie(
        &self,
        headers: &HeaderMap,
        name: &str,
        value: String,
        max_age: u64,
    ) -> Cookie<'static> {
        let secure = self.env.cookie_host_prefix
            || self.env.public_https
            || headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
        Cookie::build((name.to_owned(), value))
            .path(self.cookie_path.clone())
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(max_age).unwrap_or(i64::MAX),
            ))
            .build()
    }
}

/// `302 Found`, what the hub and HubOAuth use for login redirects.
fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect target").into_response(),
    }
}

/// Responses that set or depend on login cookies must not be cached by anyone.
pub fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn random_token(bytes: usize) -> Option<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).ok()?;
    Some(URL_SAFE_NO_PAD.encode(buffer))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
