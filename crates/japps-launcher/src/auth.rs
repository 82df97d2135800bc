//! Hub OAuth for the app's visitors.
//!
//! The flow is the hub's standard one for a single-user server (state + S256 PKCE, the
//! server's own OAuth client and `redirect_uri`), after which a visitor is let in when the
//! hub grants them any of `JUPYTERHUB_OAUTH_ACCESS_SCOPES` on this server: the owner,
//! users and groups it is shared with, admins. The visitor's hub token lives in an
//! encrypted cookie scoped to this server; a check is cached for five minutes, as
//! JupyterHub's own HubAuth does, so the proxy's hot path makes no hub call.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Key, PrivateCookieJar};
use japps_auth::{BrowserLogin, CallbackQuery, CookiePolicy, LoginConfig, LoginError, now};
use japps_hub::{HubClient, HubError, UserToken};
use sha2::{Digest, Sha256};

use crate::COOKIE_PREFIX;
use crate::server_env::ServerEnv;

pub use japps_auth::login::no_store;

/// HubAuth's default: how long a visitor's access check is trusted.
const CHECK_TTL: Duration = Duration::from_secs(300);
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

/// The visitor gate: the login flow, its cookie and the cached access check.
pub struct Gate {
    env: Arc<ServerEnv>,
    hub: HubClient,
    login: BrowserLogin,
    checks: moka::future::Cache<[u8; 32], Option<Visitor>>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("session_cookie", &self.login.session_cookie())
            .finish_non_exhaustive()
    }
}

impl Gate {
    pub fn new(env: Arc<ServerEnv>, hub: HubClient) -> Self {
        // The cookies hold visitors' hub tokens, so their key must be nothing the app can
        // learn: the app inherits the server's environment (its API token included), so
        // the key is random per launcher. A restart costs visitors one more hub login.
        let key = Key::generate();
        // Per-server names: with `__Host-` cookies the path is `/` for every server.
        let tag: String = hex(&Sha256::digest(env.client_id.as_bytes())[..4]);
        let login = BrowserLogin::new(LoginConfig {
            client_id: env.client_id.clone(),
            redirect_uri: env.oauth_callback_url.clone(),
            authorize_url: env.authorize_url.clone(),
            cookies: CookiePolicy::new(env.cookie_host_prefix, &env.prefix, env.public_https),
            session_cookie: format!("{COOKIE_PREFIX}-{tag}"),
            state_cookie: format!("{COOKIE_PREFIX}-{tag}-state"),
            key,
            next_within: env.prefix.clone(),
            default_next: env.prefix.clone(),
        });
        Self {
            env,
            hub,
            login,
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
    ///
    /// Scripts may send their hub token in `Authorization` instead of logging in; it is
    /// checked the same way (it never reaches the app unless forwarding was asked for).
    pub async fn visitor(&self, headers: &HeaderMap) -> Result<Option<Visitor>, HubError> {
        let (token, granted) = match self.login.session(headers) {
            Some(session) => (session.token, session.granted),
            None => match authorization_token(headers) {
                Some(token) => (UserToken::new(token.to_owned()), 0),
                None => return Ok(None),
            },
        };
        let Some(mut visitor) = self.check(headers, &token).await? else {
            return Ok(None);
        };
        if !visitor.allowed && visitor.in_groups {
            if granted + GRANT_MAX_AGE > now() {
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

    /// Sends the browser to the hub to log in, to come back to `next` (a path on this
    /// server; anything else is replaced by the server's root).
    pub fn login(&self, headers: &HeaderMap, next: &str) -> Response {
        self.login
            .start(headers, Some(next))
            .unwrap_or_else(|err| failure(&err))
    }

    /// Handles `{prefix}oauth_callback` if this launcher started the login.
    pub async fn callback(&self, headers: &HeaderMap, query: &str) -> Callback {
        if !self.login.in_progress(headers) {
            return Callback::NotOurs;
        }
        let query = CallbackQuery::parse(query);
        match self.login.finish(&self.hub, headers, &query).await {
            Ok(response) => Callback::Done(response),
            Err(err) => {
                if let LoginError::Hub(hub) = &err {
                    tracing::warn!("OAuth code exchange failed: {hub}");
                }
                Callback::Done(failure(&err))
            }
        }
    }

    /// Forgets this browser's login here (the hub login stays).
    pub fn logout(&self, headers: &HeaderMap) -> PrivateCookieJar {
        self.login.end(headers)
    }
}

/// A login that could not go on, as a page.
fn failure(err: &LoginError) -> Response {
    let status = err.status();
    let mut response = (
        status,
        crate::pages::message_page(status, &format!("{err}; please try again.")),
    )
        .into_response();
    no_store(&mut response);
    response
}

/// The token of an `Authorization: token|Bearer <t>` header, as the hub itself accepts.
fn authorization_token(headers: &HeaderMap) -> Option<&str> {
    japps_auth::login::authorization_token(headers.get(header::AUTHORIZATION)?.to_str().ok()?)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use wiremock::matchers::{header as has_header, method, path};

    use super::*;
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
        let jar = gate.login.establish(
            gate.login.new_jar(&HeaderMap::new()),
            &HeaderMap::new(),
            &UserToken::new(token.into()),
            Some(3600),
            now() - age,
        );
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

    #[tokio::test]
    async fn scripts_may_send_their_hub_token_instead_of_a_cookie() {
        let hub = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/hub/api/user"))
            .and(has_header("authorization", "token script-token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "kind": "user", "name": "bob", "groups": [],
                "scopes": ["access:servers!server=alice/app"]})))
            .mount(&hub)
            .await;
        let gate = gate(&hub).await;
        for value in ["token script-token", "Bearer script-token"] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            let visitor = gate.visitor(&headers).await.unwrap();
            let visitor = visitor.unwrap_or_else(|| panic!("{value}: not let in"));
            assert!(visitor.allowed && visitor.name == "bob", "{value}");
        }
        let mut basic = HeaderMap::new();
        basic.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic Ym9iOng="),
        );
        assert!(gate.visitor(&basic).await.unwrap().is_none());
    }

    #[test]
    fn the_cookie_key_is_nothing_the_app_can_derive() {
        // Two launchers of the same server (same token, same environment) cannot read
        // each other's cookies: the key is not derived from anything in the environment.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let hub = MockServer::start().await;
            let one = gate(&hub).await;
            let two = gate(&hub).await;
            let headers = browser(&one, "t", 0);
            assert!(one.login.session(&headers).is_some());
            assert!(two.login.session(&headers).is_none());
        });
    }
}
