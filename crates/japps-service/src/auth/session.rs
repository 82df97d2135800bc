//! japps' own cookies: the login session and the short-lived OAuth state.
//!
//! Both are encrypted and authenticated (AES-256-GCM, via the `cookie` crate's private
//! jar) with a key derived from `JHUB_APP_JWT_SECRET_KEY`, so that any replica with the same
//! secret can read them and a restart keeps users logged in. The session cookie holds the
//! user's hub token; the state cookie holds the OAuth `state`, the PKCE verifier and where
//! to go after login, so the service keeps no login state in memory.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use japps_hub::UserToken;
use jsonwebtoken::DecodingKey;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use super::jhub_apps_cookie;
use crate::settings::Settings;

/// How long a login may take between `jhub-login` and the callback (HubOAuth: 600 s).
const STATE_MAX_AGE_SECONDS: u64 = 600;
/// Session lifetime when the hub does not say how long its token lives (its default).
const DEFAULT_SESSION_SECONDS: u64 = 14 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct SessionData {
    token: String,
    exp: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct StateData {
    state: String,
    verifier: String,
    next: Option<String>,
    exp: u64,
}

/// A login in progress, as read back at the callback.
#[derive(Debug)]
pub(crate) struct PendingLogin {
    pub(crate) verifier: String,
    pub(crate) next: Option<String>,
}

/// Why the callback's `state` is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StateError {
    /// No (readable, unexpired) state cookie: the login did not start here, or too long ago.
    NoLoginInProgress,
    /// The `state` parameter is not the one this browser was given.
    Mismatch,
}

pub(crate) struct Sessions {
    key: Key,
    jhub_apps_key: Option<DecodingKey>,
    prefix: String,
    cookie_path: String,
    session_name: String,
    state_name: String,
    always_secure: bool,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("session_name", &self.session_name)
            .field("cookie_path", &self.cookie_path)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    pub(crate) fn new(settings: &Settings) -> Self {
        let key = match &settings.session_secret {
            Some(secret) => {
                // Domain-separated so the same secret never keys two different things.
                let mut digest = Sha512::new();
                digest.update(b"japps session cookie key v1\0");
                digest.update(secret.expose_secret().as_bytes());
                Key::from(&digest.finalize())
            }
            None => {
                tracing::warn!(
                    "JHUB_APP_JWT_SECRET_KEY is not set: login sessions end when the service \
                     restarts and are not shared between replicas"
                );
                Key::generate()
            }
        };
        let jhub_apps_key = settings
            .session_secret
            .as_ref()
            .map(|secret| DecodingKey::from_secret(secret.expose_secret().as_bytes()));
        let (cookie_prefix, cookie_path) = if settings.cookie_host_prefix {
            ("__Host-", "/".to_owned())
        } else {
            ("", settings.prefix.clone())
        };
        Self {
            key,
            jhub_apps_key,
            prefix: settings.prefix.clone(),
            cookie_path,
            session_name: format!("{cookie_prefix}japps-session"),
            state_name: format!("{cookie_prefix}japps-oauth-state"),
            always_secure: settings.cookie_host_prefix
                || settings
                    .public_url
                    .as_ref()
                    .is_some_and(|url| url.scheme() == "https"),
        }
    }

    /// The session cookie's name (`__Host-` prefixed when so configured).
    pub(crate) fn session_cookie(&self) -> &str {
        &self.session_name
    }

    fn jar(&self, headers: &HeaderMap) -> PrivateCookieJar {
        PrivateCookieJar::from_headers(headers, self.key.clone())
    }

    /// `Secure` whenever the browser talks https to the hub: a known https public URL, or
    /// a TLS-terminating proxy that says so.
    fn secure(&self, headers: &HeaderMap) -> bool {
        self.always_secure
            || headers
                .get("x-forwarded-proto")
                .and_then(|value| value.to_str().ok())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }

    fn cookie(
        &self,
        headers: &HeaderMap,
        name: &str,
        value: String,
        max_age: u64,
    ) -> Cookie<'static> {
        Cookie::build((name.to_owned(), value))
            .path(self.cookie_path.clone())
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure(headers))
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(max_age).unwrap_or(i64::MAX),
            ))
            .build()
    }

    fn removal(&self, name: &str) -> Cookie<'static> {
        Cookie::build(name.to_owned())
            .path(self.cookie_path.clone())
            .build()
    }

    /// The hub token of a valid session cookie.
    pub(crate) fn read_session(&self, headers: &HeaderMap) -> Option<UserToken> {
        let cookie = self.jar(headers).get(&self.session_name)?;
        let data: SessionData = serde_json::from_str(cookie.value()).ok()?;
        (data.exp > now() && !data.token.is_empty()).then(|| UserToken::new(data.token))
    }

    /// The hub token of a valid jhub-apps cookie (needs `JHUB_APP_JWT_SECRET_KEY`).
    pub(crate) fn read_jhub_apps_cookie(&self, headers: &HeaderMap) -> Option<UserToken> {
        let key = self.jhub_apps_key.as_ref()?;
        let value = super::cookie(headers, jhub_apps_cookie::NAME)?;
        jhub_apps_cookie::hub_token(&value, key).map(UserToken::new)
    }

    /// Where a browser goes to log in and come back to `next`.
    pub(crate) fn login_url(&self, next: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("next", next);
        format!("{}jhub-login?{}", self.prefix, query.finish())
    }

    /// Remembers a login that starts now; the state cookie goes with the redirect.
    pub(crate) fn start_login(
        &self,
        headers: &HeaderMap,
        state: &str,
        verifier: &str,
        next: Option<String>,
    ) -> PrivateCookieJar {
        let data = StateData {
            state: state.to_owned(),
            verifier: verifier.to_owned(),
            next,
            exp: now() + STATE_MAX_AGE_SECONDS,
        };
        let value = serde_json::to_string(&data).unwrap_or_default();
        self.jar(headers)
            .add(self.cookie(headers, &self.state_name, value, STATE_MAX_AGE_SECONDS))
    }

    /// Checks the callback's `state` against this browser's state cookie. The returned jar
    /// removes the state cookie: a state is good for one callback only.
    pub(crate) fn finish_login(
        &self,
        headers: &HeaderMap,
        state: &str,
    ) -> Result<(PendingLogin, PrivateCookieJar), StateError> {
        let jar = self.jar(headers);
        let data: StateData = jar
            .get(&self.state_name)
            .and_then(|cookie| serde_json::from_str(cookie.value()).ok())
            .filter(|data: &StateData| data.exp > now())
            .ok_or(StateError::NoLoginInProgress)?;
        if !bool::from(data.state.as_bytes().ct_eq(state.as_bytes())) {
            return Err(StateError::Mismatch);
        }
        let jar = jar.remove(self.removal(&self.state_name));
        Ok((
            PendingLogin {
                verifier: data.verifier,
                next: data.next,
            },
            jar,
        ))
    }

    /// Adds the session cookie for a freshly issued hub token.
    pub(crate) fn establish(
        &self,
        jar: PrivateCookieJar,
        headers: &HeaderMap,
        token: &UserToken,
        expires_in: Option<u64>,
    ) -> PrivateCookieJar {
        let lifetime = expires_in
            .unwrap_or(DEFAULT_SESSION_SECONDS)
            .min(DEFAULT_SESSION_SECONDS);
        let data = SessionData {
            token: token.expose_for_encrypted_storage().to_owned(),
            exp: now() + lifetime,
        };
        let value = serde_json::to_string(&data).unwrap_or_default();
        jar.add(self.cookie(headers, &self.session_name, value, lifetime))
    }

    /// Removes the session cookie (logout).
    pub(crate) fn end(&self, headers: &HeaderMap) -> PrivateCookieJar {
        self.jar(headers).remove(self.removal(&self.session_name))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use axum::response::IntoResponse;

    use super::*;

    fn sessions(secret: Option<&str>) -> Sessions {
        let mut vars = vec![("JUPYTERHUB_API_TOKEN".to_owned(), "t0k3n-abcdef".to_owned())];
        if let Some(secret) = secret {
            vars.push(("JHUB_APP_JWT_SECRET_KEY".to_owned(), secret.to_owned()));
        }
        Sessions::new(&Settings::from_vars(vars).unwrap())
    }

    /// What a browser sends back after receiving the jar's Set-Cookie headers.
    fn returned_cookies(jar: PrivateCookieJar) -> HeaderMap {
        let response = jar.into_response();
        let pairs: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| {
                value
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_str(&pairs.join("; ")).unwrap());
        headers
    }

    #[test]
    fn session_round_trip_across_replicas_with_the_same_secret() {
        let one = sessions(Some("shared-secret-0123456789abcdef0123"));
        let two = sessions(Some("shared-secret-0123456789abcdef0123"));
        let jar = one.establish(
            one.jar(&HeaderMap::new()),
            &HeaderMap::new(),
            &UserToken::new("hubtoken".into()),
            Some(60),
        );
        let headers = returned_cookies(jar);
        let value = headers["cookie"].to_str().unwrap();
        assert!(value.starts_with("japps-session="));
        assert!(!value.contains("hubtoken"), "the token is encrypted");
        let token = two.read_session(&headers).unwrap();
        assert_eq!(token.expose_for_encrypted_storage(), "hubtoken");

        let other = sessions(Some("another-secret-0123456789abcdef012"));
        assert!(other.read_session(&headers).is_none());
    }

    #[test]
    fn state_is_single_use_and_must_match() {
        let s = sessions(None);
        let headers = returned_cookies(s.start_login(
            &HeaderMap::new(),
            "state-1",
            "verifier-1",
            Some("/x".into()),
        ));
        assert_eq!(
            s.finish_login(&headers, "state-2").unwrap_err(),
            StateError::Mismatch
        );
        let (pending, jar) = s.finish_login(&headers, "state-1").unwrap();
        assert_eq!(pending.verifier, "verifier-1");
        assert_eq!(pending.next.as_deref(), Some("/x"));
        let removal = jar.into_response();
        let set_cookie = removal.headers()["set-cookie"].to_str().unwrap();
        assert!(
            set_cookie.starts_with("japps-oauth-state=;"),
            "{set_cookie}"
        );
        assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
        assert_eq!(
            s.finish_login(&HeaderMap::new(), "state-1").unwrap_err(),
            StateError::NoLoginInProgress
        );
    }

    #[test]
    fn cookie_attributes() {
        let s = sessions(None);
        let jar = s.establish(
            s.jar(&HeaderMap::new()),
            &HeaderMap::new(),
            &UserToken::new("t".into()),
            None,
        );
        let response = jar.into_response();
        let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
        for attribute in [
            "HttpOnly",
            "SameSite=Lax",
            "Path=/services/japps/",
            "Max-Age=1209600",
        ] {
            assert!(
                set_cookie.contains(attribute),
                "{attribute} in {set_cookie}"
            );
        }
        assert!(!set_cookie.contains("Secure"));

        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let jar = s.establish(s.jar(&proxied), &proxied, &UserToken::new("t".into()), None);
        let response = jar.into_response();
        assert!(
            response.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }

    #[test]
    fn login_url_encodes_next() {
        assert_eq!(
            sessions(None).login_url("/services/japps/user?a=1&b=2"),
            "/services/japps/jhub-login?next=%2Fservices%2Fjapps%2Fuser%3Fa%3D1%26b%3D2"
        );
    }
}
