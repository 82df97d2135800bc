//! The hub's OAuth login for browsers, as both the service and every app launcher run it:
//! a redirect to the hub's authorize page with `state` and an S256 PKCE challenge, the
//! callback that checks the state and exchanges the code for the user's hub token, and an
//! encrypted session cookie holding that token.
//!
//! The login in progress (state, verifier, where to go next) lives in a short-lived
//! encrypted cookie rather than in memory, so any replica can finish a login another
//! started and a restart loses nothing.

use axum::http::header::{CACHE_CONTROL, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Key, PrivateCookieJar};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use japps_hub::{HubClient, HubError, OAuthCode, UserToken};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::cookies::CookiePolicy;
use crate::random::{now, random_token};

/// How long a login may take between the redirect and the callback (HubOAuth: 600 s).
const STATE_MAX_AGE: u64 = 600;
/// The hub's own OAuth token lifetime default (14 days); a session never outlives it.
const SESSION_MAX_AGE: u64 = 14 * 24 * 3600;

/// Everything a login needs to know about its component.
#[derive(Debug, Clone)]
pub struct LoginConfig {
    /// `JUPYTERHUB_CLIENT_ID`.
    pub client_id: String,
    /// The registered `redirect_uri`, exactly (`JUPYTERHUB_OAUTH_CALLBACK_URL`).
    pub redirect_uri: String,
    /// The hub's authorize URL as the browser sees it ([`crate::HubEnv::authorize_url`]).
    pub authorize_url: String,
    pub cookies: CookiePolicy,
    /// Names of the session and state cookies before any `__Host-`; both must start with
    /// [`crate::cookies::JAPPS_COOKIE_PREFIX`] so the launcher never forwards them.
    pub session_cookie: String,
    pub state_cookie: String,
    /// Encrypts and authenticates both cookies.
    pub key: Key,
    /// `next` must be a path under this one (the service: `/`; a launcher: its prefix).
    pub next_within: String,
    /// Where the browser goes when `next` is missing or refused.
    pub default_next: String,
}

/// A key for the cookies derived from a secret, domain-separated by `purpose` so the same
/// secret never keys two different things.
pub fn derived_key(secret: &SecretString, purpose: &str) -> Key {
    let mut digest = Sha512::new();
    digest.update(purpose.as_bytes());
    digest.update(b"\0");
    digest.update(secret.expose_secret().as_bytes());
    Key::from(&digest.finalize())
}

/// A logged-in browser.
#[derive(Debug)]
pub struct Session {
    /// The user's own hub token.
    pub token: UserToken,
    /// When the session ends (Unix seconds).
    pub expires: u64,
    /// When the hub authorized this login (0 for sessions not made by a login here).
    pub granted: u64,
}

#[derive(Serialize, Deserialize)]
struct SessionData {
    token: String,
    exp: u64,
    #[serde(default)]
    granted: u64,
}

#[derive(Serialize, Deserialize)]
struct StateData {
    state: String,
    verifier: String,
    #[serde(default)]
    next: Option<String>,
    exp: u64,
}

/// The callback's query parameters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by the hub instead of `code` when the login was refused.
    pub error: Option<String>,
}

impl CallbackQuery {
    pub fn parse(query: &str) -> Self {
        let mut parsed = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut parsed.code,
                "state" => &mut parsed.state,
                "error" => &mut parsed.error,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.into_owned());
        }
        parsed
    }
}

/// Why a login did not complete. Each has the status and the words a browser is shown.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("login failed: the hub answered {0}")]
    HubRefused(String),
    #[error("login failed: the callback has no {0}")]
    Incomplete(&'static str),
    #[error(
        "login failed: no login in progress in this browser (or it took too long); start again"
    )]
    NoLoginInProgress,
    #[error("login failed: oauth state does not match")]
    StateMismatch,
    #[error("login failed: the hub refused the authorization code (expired or already used)")]
    CodeRejected,
    #[error("login failed: no randomness available")]
    NoRandomness,
    #[error("login failed: {0}")]
    Hub(HubError),
}

impl LoginError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::HubRefused(_) | Self::Incomplete(_) | Self::CodeRejected => {
                StatusCode::BAD_REQUEST
            }
            Self::NoLoginInProgress | Self::StateMismatch => StatusCode::FORBIDDEN,
            Self::NoRandomness => StatusCode::SERVICE_UNAVAILABLE,
            Self::Hub(HubError::Timeout { .. }) => StatusCode::GATEWAY_TIMEOUT,
            Self::Hub(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

/// One component's browser login.
#[derive(Debug)]
pub struct BrowserLogin {
    config: LoginConfig,
    session_name: String,
    state_name: String,
}

impl BrowserLogin {
    pub fn new(config: LoginConfig) -> Self {
        Self {
            session_name: config.cookies.name(&config.session_cookie),
            state_name: config.cookies.name(&config.state_cookie),
            config,
        }
    }

    /// The session cookie's name on the wire.
    pub fn session_cookie(&self) -> &str {
        &self.session_name
    }

    fn jar(&self, headers: &HeaderMap) -> PrivateCookieJar {
        PrivateCookieJar::from_headers(headers, self.config.key.clone())
    }

    /// Sends the browser to the hub's authorize page, remembering the login in the state
    /// cookie; the browser comes back to `next` if [`safe_next`] accepts it.
    pub fn start(&self, headers: &HeaderMap, next: Option<&str>) -> Result<Response, LoginError> {
        let (Some(state), Some(verifier)) = (random_token(16), random_token(32)) else {
            return Err(LoginError::NoRandomness);
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let location = format!("{}?{}", self.config.authorize_url, query.finish());
        let data = StateData {
            state,
            verifier,
            next: next.and_then(|next| safe_next(next, &self.config.next_within)),
            exp: now() + STATE_MAX_AGE,
        };
        let cookie = self.config.cookies.build(
            headers,
            &self.state_name,
            serde_json::to_string(&data).unwrap_or_default(),
            STATE_MAX_AGE,
        );
        Ok(redirect(self.jar(headers).add(cookie), &location))
    }

    /// Whether this browser has a login in progress here (a readable, unexpired state
    /// cookie). A launcher shares its callback path with JupyterLab's own login.
    pub fn in_progress(&self, headers: &HeaderMap) -> bool {
        self.pending(headers).is_some()
    }

    fn pending(&self, headers: &HeaderMap) -> Option<StateData> {
        self.jar(headers)
            .get(&self.state_name)
            .and_then(|cookie| serde_json::from_str::<StateData>(cookie.value()).ok())
            .filter(|data| data.exp > now())
    }

    /// The callback: checks `state` against this browser's state cookie (single use),
    /// exchanges the code for the user's hub token (one hub call), sets the session
    /// cookie and sends the browser on to where the login started.
    pub async fn finish(
        &self,
        hub: &HubClient,
        headers: &HeaderMap,
        query: &CallbackQuery,
    ) -> Result<Response, LoginError> {
        if let Some(error) = &query.error {
            // The hub's words, reduced to something safe to echo.
            let error: String = error
                .chars()
                .filter(char::is_ascii_graphic)
                .take(64)
                .collect();
            return Err(LoginError::HubRefused(error));
        }
        let state = query
            .state
            .as_deref()
            .ok_or(LoginError::Incomplete("state"))?;
        let code = query
            .code
            .as_deref()
            .ok_or(LoginError::Incomplete("code"))?;
        let data = self.pending(headers).ok_or(LoginError::NoLoginInProgress)?;
        if !bool::from(data.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(LoginError::StateMismatch);
        }
        let exchange = OAuthCode {
            client_id: &self.config.client_id,
            code,
            redirect_uri: &self.config.redirect_uri,
            code_verifier: Some(&data.verifier),
        };
        let token = hub
            .exchange_oauth_code(&exchange)
            .await
            .map_err(|err| match err {
                HubError::Status {
                    status: 400..=499, ..
                } => LoginError::CodeRejected,
                other => LoginError::Hub(other),
            })?;
        let jar = self
            .jar(headers)
            .remove(self.config.cookies.removal(&self.state_name));
        let jar = self.establish(jar, headers, &token.access_token, token.expires_in, now());
        let next = data
            .next
            .and_then(|next| safe_next(&next, &self.config.next_within))
            .unwrap_or_else(|| self.config.default_next.clone());
        Ok(redirect(jar, &next))
    }

    /// The session of this browser, if it has a valid one.
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let cookie = self.jar(headers).get(&self.session_name)?;
        let data: SessionData = serde_json::from_str(cookie.value()).ok()?;
        (data.exp > now() && !data.token.is_empty()).then(|| Session {
            token: UserToken::new(data.token),
            expires: data.exp,
            granted: data.granted,
        })
    }

    /// Adds the session cookie for `token` to `jar`: it lives as long as the token (at
    /// most the hub's default token lifetime).
    pub fn establish(
        &self,
        jar: PrivateCookieJar,
        headers: &HeaderMap,
        token: &UserToken,
        expires_in: Option<u64>,
        granted: u64,
    ) -> PrivateCookieJar {
        let lifetime = expires_in.unwrap_or(SESSION_MAX_AGE).min(SESSION_MAX_AGE);
        let data = SessionData {
            token: token.expose_for_encrypted_storage().to_owned(),
            exp: now() + lifetime,
            granted,
        };
        jar.add(self.config.cookies.build(
            headers,
            &self.session_name,
            serde_json::to_string(&data).unwrap_or_default(),
            lifetime,
        ))
    }

    /// A jar that ends this browser's session here (the hub login stays).
    pub fn end(&self, headers: &HeaderMap) -> PrivateCookieJar {
        self.jar(headers)
            .remove(self.config.cookies.removal(&self.session_name))
    }

    /// An empty jar for this login's cookies, to add to.
    pub fn new_jar(&self, headers: &HeaderMap) -> PrivateCookieJar {
        self.jar(headers)
    }
}

/// `next` if it is a path on this origin under `within`: no scheme, no `//host`, no
/// backslash that browsers read as `/`, no control characters, no `..` segment to climb
/// out of `within`.
pub fn safe_next(next: &str, within: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.starts_with(within)
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !next
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .split('/')
            .any(is_parent_segment)
        && stays_within(next, within);
    ok.then(|| next.to_owned())
}

/// What URL parsers (WHATWG) read as `..`: also half or fully percent-encoded.
fn is_parent_segment(segment: &str) -> bool {
    ["..", ".%2e", "%2e.", "%2e%2e"]
        .iter()
        .any(|form| segment.eq_ignore_ascii_case(form))
}

/// Whether a browser resolving `next` on any origin lands on that origin under `within`
/// (the rules above, checked once more the way the browser will read it).
fn stays_within(next: &str, within: &str) -> bool {
    let Ok(base) = url::Url::parse("http://origin.invalid/") else {
        return false;
    };
    base.join(next)
        .is_ok_and(|url| url.host_str() == Some("origin.invalid") && url.path().starts_with(within))
}

/// The token of an `Authorization` header value `token <t>` or `Bearer <t>` (scheme in
/// any case), as the hub itself accepts them.
pub fn authorization_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(char::is_whitespace)?;
    let token = token.trim();
    let known = scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer");
    (known && !token.is_empty() && !token.contains(char::is_whitespace)).then_some(token)
}

/// `302 Found` (what the hub and HubOAuth use for login redirects), never cached.
pub fn redirect(jar: PrivateCookieJar, location: &str) -> Response {
    let mut response = match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, jar, [(LOCATION, value)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "invalid redirect target").into_response(),
    };
    no_store(&mut response);
    response
}

/// Responses that set or depend on login cookies must not be cached by anyone.
pub fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use axum::http::header::SET_COOKIE;
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    fn login(host_prefix: bool, key: Key) -> BrowserLogin {
        BrowserLogin::new(LoginConfig {
            client_id: "service-japps".into(),
            redirect_uri: "/services/japps/oauth_callback".into(),
            authorize_url: "/hub/api/oauth2/authorize".into(),
            cookies: CookiePolicy::new(host_prefix, "/services/japps/", false),
            session_cookie: "japps-session".into(),
            state_cookie: "japps-oauth-state".into(),
            key,
            next_within: "/".into(),
            default_next: "/hub/home".into(),
        })
    }

    fn set_cookies(response: &Response) -> Vec<String> {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    /// What a browser sends back after `response`.
    fn returned(response: &Response) -> HeaderMap {
        let pairs: Vec<String> = set_cookies(response)
            .iter()
            .map(|raw| raw.split(';').next().unwrap().to_owned())
            .collect();
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_str(&pairs.join("; ")).unwrap(),
        );
        headers
    }

    fn location(response: &Response) -> url::Url {
        let base = url::Url::parse("http://hub.test").unwrap();
        base.join(response.headers()[LOCATION].to_str().unwrap())
            .unwrap()
    }

    #[test]
    fn start_sends_state_and_an_s256_challenge() {
        let login = login(false, Key::generate());
        let response = login.start(&HeaderMap::new(), Some("/hub/home")).unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        let url = location(&response);
        assert_eq!(url.path(), "/hub/api/oauth2/authorize");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "service-japps");
        assert_eq!(q["redirect_uri"], "/services/japps/oauth_callback");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43);
        assert!(q["state"].len() >= 22);
        let cookies = set_cookies(&response);
        assert_eq!(cookies.len(), 1);
        assert!(cookies[0].starts_with("japps-oauth-state="), "{cookies:?}");
        assert!(!cookies[0].contains(&q["state"].to_string()), "encrypted");
        assert!(login.in_progress(&returned(&response)));
        assert!(!login.in_progress(&HeaderMap::new()));
    }

    #[test]
    fn host_prefixed_cookies() {
        let login = login(true, Key::generate());
        let response = login.start(&HeaderMap::new(), None).unwrap();
        let cookie = &set_cookies(&response)[0];
        assert!(cookie.starts_with("__Host-japps-oauth-state="), "{cookie}");
        assert!(
            cookie.contains("Path=/;") || cookie.ends_with("Path=/"),
            "{cookie}"
        );
        assert!(cookie.contains("Secure"), "{cookie}");
        assert_eq!(login.session_cookie(), "__Host-japps-session");
    }

    #[tokio::test]
    async fn callback_checks_state_exchanges_the_code_and_sets_the_session() {
        let hub = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/hub/api/oauth2/token"))
            .and(body_string_contains("code=good"))
            .and(body_string_contains("code_verifier="))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(
                    serde_json::json!({"access_token": "hubtoken", "expires_in": 60}),
                ),
            )
            .mount(&hub)
            .await;
        Mock::given(method("POST"))
            .and(path("/hub/api/oauth2/token"))
            .respond_with(
                ResponseTemplate::new(400)
                    .set_body_json(serde_json::json!({"error": "invalid_grant"})),
            )
            .mount(&hub)
            .await;
        let client = HubClient::new(japps_hub::HubClientConfig::new(
            url::Url::parse(&format!("{}/hub/api", hub.uri())).unwrap(),
            japps_hub::ServiceToken::new("service-token".into()),
        ))
        .unwrap();
        let login = login(false, Key::generate());
        let started = login
            .start(&HeaderMap::new(), Some("/services/japps/x?y=1"))
            .unwrap();
        let state = location(&started)
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        let browser = returned(&started);

        let query = |code: Option<&str>, state: Option<&str>, error: Option<&str>| CallbackQuery {
            code: code.map(str::to_owned),
            state: state.map(str::to_owned),
            error: error.map(str::to_owned),
        };
        for (q, want) in [
            (
                query(None, None, Some("access_denied")),
                StatusCode::BAD_REQUEST,
            ),
            (query(Some("good"), None, None), StatusCode::BAD_REQUEST),
            (query(None, Some(&state), None), StatusCode::BAD_REQUEST),
            (
                query(Some("good"), Some("forged"), None),
                StatusCode::FORBIDDEN,
            ),
            (
                query(Some("bad"), Some(&state), None),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let err = login.finish(&client, &browser, &q).await.unwrap_err();
            assert_eq!(err.status(), want, "{err}");
        }
        let err = login
            .finish(
                &client,
                &HeaderMap::new(),
                &query(Some("good"), Some(&state), None),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, LoginError::NoLoginInProgress));

        let done = login
            .finish(&client, &browser, &query(Some("good"), Some(&state), None))
            .await
            .unwrap();
        assert_eq!(done.status(), StatusCode::FOUND);
        assert_eq!(done.headers()[LOCATION], "/services/japps/x?y=1");
        let cookies = set_cookies(&done);
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with("japps-oauth-state=;") && c.contains("Max-Age=0")),
            "the state is single use: {cookies:?}"
        );
        let session = login.session(&returned(&done)).unwrap();
        assert_eq!(session.token.expose_for_encrypted_storage(), "hubtoken");
        assert!(session.expires <= now() + 60 && session.granted >= now() - 5);
        assert!(cookies.iter().all(|c| !c.contains("hubtoken")), "encrypted");
    }

    #[test]
    fn sessions_need_the_same_key() {
        let secret = SecretString::from("shared-secret-0123456789abcdef0123");
        let one = login(false, derived_key(&secret, "japps session cookie key v1"));
        let two = login(false, derived_key(&secret, "japps session cookie key v1"));
        let other = login(false, derived_key(&secret, "another purpose"));
        let jar = one.establish(
            one.new_jar(&HeaderMap::new()),
            &HeaderMap::new(),
            &UserToken::new("t".into()),
            None,
            0,
        );
        let browser = returned(&jar.into_response());
        let session = two.session(&browser).unwrap();
        assert!(session.expires > now() + SESSION_MAX_AGE - 5);
        assert!(other.session(&browser).is_none());
        let ended = returned(&one.end(&browser).into_response());
        assert!(one.session(&ended).is_none());
    }

    #[test]
    fn next_stays_on_this_origin_and_under_its_root() {
        assert_eq!(safe_next("/hub/home", "/").as_deref(), Some("/hub/home"));
        assert_eq!(
            safe_next("/user/a/app/x?y=/../z", "/user/a/app/").as_deref(),
            Some("/user/a/app/x?y=/../z")
        );
        for (bad, within) in [
            ("https://evil.example/x", "/"),
            ("//evil.example/x", "/"),
            ("/\\evil.example", "/"),
            ("javascript:alert(1)", "/"),
            ("evil", "/"),
            ("", "/"),
            ("/a\nb", "/"),
            ("/user/a/other/", "/user/a/app/"),
            ("/user/a/app/../other/", "/user/a/app/"),
            ("/user/a/app/%2E%2E/other/", "/user/a/app/"),
            // Found by the property test: half-encoded `..` that browsers resolve too.
            ("/user/a/app/.%2e/other/", "/user/a/app/"),
            ("/user/a/app/%2E./other/", "/user/a/app/"),
        ] {
            assert_eq!(safe_next(bad, within), None, "{bad:?} within {within}");
        }
    }

    #[test]
    fn authorization_schemes() {
        assert_eq!(authorization_token("token abc"), Some("abc"));
        assert_eq!(authorization_token("Bearer abc"), Some("abc"));
        assert_eq!(authorization_token("BEARER   abc "), Some("abc"));
        assert_eq!(authorization_token("Basic abc"), None);
        assert_eq!(authorization_token("token"), None);
        assert_eq!(authorization_token("token a b"), None);
    }

    #[test]
    fn callback_queries() {
        let q = CallbackQuery::parse("code=c&state=s%2B&code=second&x=1");
        assert_eq!(q.code.as_deref(), Some("c"));
        assert_eq!(q.state.as_deref(), Some("s+"));
        assert!(q.error.is_none());
    }
}
