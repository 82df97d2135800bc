//! The server side of the OAuth login (step 3 of the hub's authorization-code flow): exchanging the
//! authorization code for the user's hub token.
//!
//! It lives here because this crate is the only place japps talks to the hub,
//! so the exchange is counted and logged like every other call.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::client::{Body, HubRequest, decode_json};
use crate::endpoint::Endpoint;
use crate::{HubClient, HubError, UserToken};

/// What the callback received and the login started with.
#[derive(Debug, Clone)]
pub struct OAuthCode<'a> {
    /// `JUPYTERHUB_CLIENT_ID`, e.g. `service-japps`.
    pub client_id: &'a str,
    pub code: &'a str,
    /// Exactly the `redirect_uri` sent to the authorize URL.
    pub redirect_uri: &'a str,
    /// The PKCE verifier, when the authorize URL carried a challenge.
    pub code_verifier: Option<&'a str>,
}

/// The hub's token reply. There is no refresh token.
#[derive(Debug)]
pub struct OAuthToken {
    pub access_token: UserToken,
    /// Seconds; 14 days by default.
    pub expires_in: Option<u64>,
    /// Space-separated scopes granted to the token.
    pub scope: Option<String>,
}

impl HubClient {
    /// `POST {api}/oauth2/token`. The client secret is the service token,
    /// sent in the form body because the hub does not read HTTP Basic.
    /// A bad or reused code is `Status { status: 400, message: "invalid_grant" }`.
    pub async fn exchange_oauth_code(&self, code: &OAuthCode<'_>) -> Result<OAuthToken, HubError> {
        #[derive(Deserialize)]
        struct Reply {
            access_token: String,
            #[serde(default)]
            expires_in: Option<u64>,
            #[serde(default)]
            scope: Option<String>,
        }

        let endpoint = Endpoint::OAuthToken;
        // Built in a block: the serializer is not `Send` and must not live across an await.
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("client_id", code.client_id)
                .append_pair("client_secret", self.service_secret().expose_secret())
                .append_pair("code", code.code)
                .append_pair("redirect_uri", code.redirect_uri);
            if let Some(verifier) = code.code_verifier {
                form.append_pair("code_verifier", verifier);
            }
            form.finish()
        };
        let request = HubRequest::new(endpoint, self.url(endpoint, &[])?).body(Body::Form(form));
        let reply: Reply = decode_json(endpoint, &self.send(request).await?.body)?;
        Ok(OAuthToken {
            access_token: UserToken::from(SecretString::from(reply.access_token)),
            expires_in: reply.expires_in,
            scope: reply.scope,
        })
    }
}
