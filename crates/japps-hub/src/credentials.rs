//! Hub tokens.
//!
//! Two types so a signature says whose privileges a call uses: the service's
//! own token, or a user's token (the hub then enforces that user's scopes and
//! records the user as the actor). Neither can be printed: `Debug` is
//! redacted, there is no `Display`, and the secret is reachable only inside
//! this crate, where it is put in the `Authorization` header and nowhere else.

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// The service's own hub API token (`JUPYTERHUB_API_TOKEN`).
#[derive(Clone)]
pub struct ServiceToken(SecretString);

/// A user's hub token: the OAuth access token from login, or a token the user
/// sent in an `Authorization` header.
#[derive(Clone)]
pub struct UserToken(SecretString);

impl ServiceToken {
    pub fn new(token: String) -> Self {
        Self(SecretString::from(token))
    }
}

impl UserToken {
    pub fn new(token: String) -> Self {
        Self(SecretString::from(token))
    }

    /// A SHA-256 digest of the token, for cache keys and log-safe comparisons.
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.0.expose_secret().as_bytes()).into()
    }

    /// The token itself, for the one place that must store it: the encrypted session
    /// cookie. Anything else passes the `UserToken` around instead.
    pub fn expose_for_encrypted_storage(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Lets a token that arrived as a secret (e.g. from the OAuth exchange) stay
/// one without passing through a plain `String`.
impl From<SecretString> for UserToken {
    fn from(token: SecretString) -> Self {
        Self(token)
    }
}

impl fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceToken([redacted])")
    }
}

impl fmt::Debug for UserToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserToken([redacted])")
    }
}

/// Builds `Authorization: token <t>`, marked sensitive so that http's and
/// reqwest's own `Debug` output hides it too. `None` when the token holds
/// bytes a header cannot carry.
pub(crate) fn authorization_header(token: &SecretString) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("token {}", token.expose_secret())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

impl ServiceToken {
    pub(crate) fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl UserToken {
    pub(crate) fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let service = ServiceToken::new("s3cr3t-service".into());
        let user = UserToken::new("s3cr3t-user".into());
        let shown = format!("{service:?} {user:?} {:?}", Some(&user));
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn header_is_token_scheme_and_sensitive() {
        let token = ServiceToken::new("abc123".into());
        let header = authorization_header(token.secret()).unwrap();
        assert_eq!(header.to_str().unwrap(), "token abc123");
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("abc123"));
    }

    #[test]
    fn header_rejects_control_characters() {
        let token = UserToken::new("bad\ntoken".into());
        assert!(authorization_header(token.secret()).is_none());
    }
}
