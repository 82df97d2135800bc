//! jhub-apps' login cookie `jhub_apps_access_token`: an HS256 JWT signed with
//! `JHUB_APP_JWT_SECRET_KEY` whose claims carry the user's hub token. Accepted so that users
//! stay logged in across an upgrade from jhub-apps; japps never issues it.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

pub(crate) const NAME: &str = "jhub_apps_access_token";

#[derive(Deserialize)]
struct Claims {
    access_token_data: AccessTokenData,
}

#[derive(Deserialize)]
struct AccessTokenData {
    access_token: String,
}

/// The hub token inside a valid, unexpired cookie.
pub(crate) fn hub_token(cookie: &str, key: &DecodingKey) -> Option<String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp"]);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<Claims>(cookie, key, &validation).ok()?;
    Some(data.claims.access_token_data.access_token).filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"a-test-secret-of-enough-length-0123456789";

    fn jwt(claims: serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn valid_cookie_yields_the_hub_token() {
        let cookie = jwt(
            json!({"access_token_data": {"access_token": "hubtoken", "token_type": "Bearer"}, "exp": now() + 60}),
            SECRET,
        );
        assert_eq!(
            hub_token(&cookie, &DecodingKey::from_secret(SECRET)).as_deref(),
            Some("hubtoken")
        );
    }

    #[test]
    fn wrong_key_expired_or_malformed_is_refused() {
        let key = DecodingKey::from_secret(SECRET);
        let claims = json!({"access_token_data": {"access_token": "hubtoken"}, "exp": now() + 60});
        assert_eq!(
            hub_token(&jwt(claims, b"another-secret-of-enough-length-01234"), &key),
            None
        );
        let expired = json!({"access_token_data": {"access_token": "hubtoken"}, "exp": now() - 5});
        assert_eq!(hub_token(&jwt(expired, SECRET), &key), None);
        let no_exp = json!({"access_token_data": {"access_token": "hubtoken"}});
        assert_eq!(hub_token(&jwt(no_exp, SECRET), &key), None);
        assert_eq!(hub_token("not.a.jwt", &key), None);
    }
}
