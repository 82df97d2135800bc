//! jhub-apps' login cookie `jhub_apps_access_token`: an HS256 JWT signed with
//! `JHUB_APP_JWT_SECRET_KEY` whose claims carry the user's hub token in clear, set with
//! `Path=/` (so browsers send it to every app). The service accepts it once so that users
//! stay logged in across an upgrade from jhub-apps, then replaces it with its own session;
//! the launcher never forwards it.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub const COOKIE_NAME: &str = "jhub_apps_access_token";
/// The path jhub-apps set it on, needed to expire it.
pub const COOKIE_PATH: &str = "/";

#[derive(Deserialize)]
struct Claims {
    access_token_data: AccessTokenData,
    exp: u64,
}

#[derive(Deserialize)]
struct AccessTokenData {
    access_token: String,
}

/// The hub token of a valid jhub-apps cookie, and when the cookie expires.
#[derive(Debug)]
pub struct LegacyToken {
    pub token: SecretString,
    pub exp: u64,
}

/// Reads jhub-apps cookies signed with the shared secret.
#[derive(Clone)]
pub struct LegacyCookies {
    key: DecodingKey,
}

impl std::fmt::Debug for LegacyCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyCookies").finish_non_exhaustive()
    }
}

impl LegacyCookies {
    pub fn new(secret: &SecretString) -> Self {
        Self {
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
        }
    }

    /// The hub token inside a valid, unexpired cookie value.
    pub fn read(&self, value: &str) -> Option<LegacyToken> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(value, &self.key, &validation).ok()?;
        let token = data.claims.access_token_data.access_token;
        (!token.is_empty()).then(|| LegacyToken {
            token: SecretString::from(token),
            exp: data.claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::now;

    const SECRET: &str = "a-test-secret-of-enough-length-0123456789";

    fn jwt(claims: serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn cookies() -> LegacyCookies {
        LegacyCookies::new(&SecretString::from(SECRET))
    }

    #[test]
    fn valid_cookie_yields_the_hub_token() {
        let exp = now() + 60;
        let cookie = jwt(
            json!({"access_token_data": {"access_token": "hubtoken", "token_type": "Bearer"}, "exp": exp}),
            SECRET,
        );
        let read = cookies().read(&cookie).unwrap();
        assert_eq!(read.token.expose_secret(), "hubtoken");
        assert_eq!(read.exp, exp);
    }

    #[test]
    fn wrong_key_expired_or_malformed_is_refused() {
        let claims = json!({"access_token_data": {"access_token": "hubtoken"}, "exp": now() + 60});
        assert!(
            cookies()
                .read(&jwt(claims, "another-secret-of-enough-length-01234"))
                .is_none()
        );
        let expired = json!({"access_token_data": {"access_token": "hubtoken"}, "exp": now() - 5});
        assert!(cookies().read(&jwt(expired, SECRET)).is_none());
        let no_exp = json!({"access_token_data": {"access_token": "hubtoken"}});
        assert!(cookies().read(&jwt(no_exp, SECRET)).is_none());
        let empty = json!({"access_token_data": {"access_token": ""}, "exp": now() + 60});
        assert!(cookies().read(&jwt(empty, SECRET)).is_none());
        assert!(cookies().read("not.a.jwt").is_none());
    }
}
