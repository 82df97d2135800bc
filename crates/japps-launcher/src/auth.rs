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
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use japps_hub::{HubClient, HubError, OAuthCode, UserToken};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::COOKIE_PREFIX;
use crate::server_env::ServerEnv;

/// HubAuth's default: how long a visitor's access check is trusted.
const CHECK_TTL: Duration = Duration::from_secs(300);
/// How long a login may take between the redirect and the callback (HubOAuth: 600 s).
const STATE_MAX_AGE: u64 = 600;
/// The hub's own OAuth token lifetime default (14 days).
const SESSION_MAX_AGE: u64 = 14 * 24 * 3600;
/// How long the hub's authorization of a login counts as access on its own (see
/// [`Gate::visitor`]); after that, a visitor whose token does not carry the access is sent
/// through the hub again, which checks their current permissions.
const GRANT_MAX_AGE: u64 = 3600;

/// Someone the hub knows, and what they may do here.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub name: String,
    /// The hub grants them access to this server.
    pub allowed: bool,
    /// The server's owner or a hub admin: may read the logs.
    pub may_read_logs: bool,
    /// A member of some group, which a share may have granted access through.
    in_groups: bool,
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
    /// When the hub authorized this login for this server.
    #[serde(default)]
    granted: u64,
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
    ///
    /// Access normally shows in the token's scopes. One case does not: JupyterHub (5.5 and
    /// 6.1, `scopes.get_scopes_for`) leaves a server shared with a *group* out of a token's
    /// scopes, although its authorize step lets the group's members log in to the server.
    /// So for a visitor in some group, a login the hub authorized for this server counts as
    /// access for an hour; after that they go through the hub again (`None`), which checks
    /// their permissions as they are then.
    pub async fn visitor(&self, headers: &HeaderMap) -> Result<Option<Visitor>, HubError> {
        let Some(session) = self.session(headers) else {
            return Ok(None);
        };
        let Some(mut visitor) = self.check(headers, &UserToken::new(session.token)).await? else {
            return Ok(None);
        };
        if !visitor.allowed && visitor.in_groups {
            if session.granted + GRANT_MAX_AGE > now() {
                visitor.allowed = true;
            } else {
                return Ok(None);
            }
        }
        Ok(Some(visitor))
    }

    /// What the hub says about `token`, cached.
    async fn check(
        &self,
        headers: &HeaderMap,
        token: &UserToken,
    ) -> Result<Option<Visitor>, HubError> {
        // The hub session cookie is in the key so that a hub logout forces a fresh check.
        let mut digest = Sha256::new();
        digest.update(token.fingerprint());
        if let Some(session) = CookieJar::from_headers(headers).get("jupyterhub-session-id") {
            digest.update(session.value());
        }
        let key: [u8; 32] = digest.finalize().into();
        if let Some(cached) = self.checks.get(&key).await {
            return Ok(cached);
        }
        let visitor = match self.hub.as_user(token).whoami().await {
            Ok(user) => {
                let allowed =
                    japps_domain::scopes::grants_any(&user.scopes, &self.env.access_scopes);
                if !allowed {
                    tracing::debug!(
                        "{}'s token has none of {:?}",
                        user.name,
                        self.env.access_scopes
                    );
                }
                Some(Visitor {
                    may_read_logs: user.name == self.env.user || user.admin,
                    in_groups: !user.groups.is_empty(),
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

    fn session(&self, headers: &HeaderMap) -> Option<SessionData> {
        let cookie =
            PrivateCookieJar::from_headers(headers, self.key.clone()).get(&self.session_cookie)?;
        let data: SessionData = serde_json::from_str(cookie.value()).ok()?;
        (data.exp > now() && !data.token.is_empty()).then_some(data)
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
        if !bool::from(state.as_bytes().ct_eq(data.state.as_bytes())) {
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
            granted: now(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    async fn gate(hub: &MockServer) -> Gate {
        let api = format!("{}/hub/api", hub.uri());
        let env = ServerEnv::from_lookup(|name| {
            match name {
                "JUPYTERHUB_SERVICE_URL" => Some("http://127.0.0.1:5000/user/alice/app/"),
                "JUPYTERHUB_API_URL" => Some(api.as_str()),
                "JUPYTERHUB_API_TOKEN" => Some("server-token"),
                "JUPYTERHUB_CLIENT_ID" => Some("jupyterhub-user-alice-app"),
                "JUPYTERHUB_USER" => Some("alice"),
                "JUPYTERHUB_SERVER_NAME" => Some("app"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .unwrap();
        let client = HubClient::new(japps_hub::HubClientConfig::new(
            env.api_url.clone(),
            japps_hub::ServiceToken::new("server-token".into()),
        ))
        .unwrap();
        Gate::new(Arc::new(env), client)
    }

    /// The request headers of a browser holding a session granted `age` seconds ago.
    fn browser(gate: &Gate, token: &str, age: u64) -> HeaderMap {
        let data = SessionData {
            token: token.into(),
            exp: now() + 3600,
            granted: now() - age,
        };
        let jar = PrivateCookieJar::new(gate.key.clone()).add(Cookie::new(
            gate.session_cookie.clone(),
            serde_json::to_string(&data).unwrap(),
        ));
        // The jar holds the encrypted value; a response carries it as a browser would get it.
        let mut headers = HeaderMap::new();
        let value = jar
            .into_response()
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next().map(str::to_owned))
            .unwrap();
        headers.insert(header::COOKIE, HeaderValue::from_str(&value).unwrap());
        headers
    }

    async fn hub_says(hub: &MockServer, user: serde_json::Value) {
        Mock::given(method("GET"))
            .and(path("/hub/api/user"))
            .respond_with(ResponseTemplate::new(200).set_body_json(user))
            .mount(hub)
            .await;
    }

    #[tokio::test]
    async fn token_scopes_let_in_without_any_grant_age_limit() {
        let hub = MockServer::start().await;
        hub_says(
            &hub,
            serde_json::json!({"kind": "user", "name": "bob", "groups": ["team"],
            "scopes": ["access:servers!server=alice/app"]}),
        )
        .await;
        let gate = gate(&hub).await;
        let visitor = gate
            .visitor(&browser(&gate, "t1", 10 * 3600))
            .await
            .unwrap()
            .unwrap();
        assert!(visitor.allowed);
        assert!(!visitor.may_read_logs);
    }

    #[tokio::test]
    async fn a_group_members_hub_authorization_counts_for_an_hour() {
        let hub = MockServer::start().await;
        // What JupyterHub returns for a member of a group the server is shared with.
        hub_says(
            &hub,
            serde_json::json!({"kind": "user", "name": "dave", "groups": ["team"],
            "scopes": ["read:users:name!user=dave"]}),
        )
        .await;
        let gate = gate(&hub).await;
        let fresh = gate
            .visitor(&browser(&gate, "t2", 60))
            .await
            .unwrap()
            .unwrap();
        assert!(fresh.allowed);
        // An hour on: back through the hub, which checks the share as it is then.
        assert!(
            gate.visitor(&browser(&gate, "t2", GRANT_MAX_AGE + 1))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn without_groups_the_token_decides_alone() {
        let hub = MockServer::start().await;
        hub_says(
            &hub,
            serde_json::json!({"kind": "user", "name": "carol", "groups": [],
            "scopes": ["read:users:name!user=carol"]}),
        )
        .await;
        let gate = gate(&hub).await;
        let visitor = gate
            .visitor(&browser(&gate, "t3", 60))
            .await
            .unwrap()
            .unwrap();
        assert!(!visitor.allowed);
    }

    #[tokio::test]
    async fn the_owner_reads_logs_and_a_revoked_token_means_log_in_again() {
        let hub = MockServer::start().await;
        hub_says(
            &hub,
            serde_json::json!({"kind": "user", "name": "alice", "groups": [],
            "scopes": ["access:servers!user=alice"]}),
        )
        .await;
        let gate = gate(&hub).await;
        let owner = gate
            .visitor(&browser(&gate, "t4", 60))
            .await
            .unwrap()
            .unwrap();
        assert!(owner.allowed && owner.may_read_logs);
        // Checks are cached: the hub is asked once for the same token.
        gate.visitor(&browser(&gate, "t4", 60)).await.unwrap();
        assert_eq!(hub.received_requests().await.unwrap().len(), 1);

        let revoked = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/hub/api/user"))
            .respond_with(ResponseTemplate::new(403))
            .mount(&revoked)
            .await;
        let revoked_gate = self::gate(&revoked).await;
        let headers = browser(&revoked_gate, "t5", 60);
        assert!(revoked_gate.visitor(&headers).await.unwrap().is_none());
        // No cookie at all: not logged in, no hub call.
        assert!(
            revoked_gate
                .visitor(&HeaderMap::new())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(revoked.received_requests().await.unwrap().len(), 1);
    }
}
