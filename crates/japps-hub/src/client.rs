//! The hub client: one pooled HTTP client per process, and the single place
//! where a request leaves for the hub. Every call goes through
//! [`HubClient::send`], which counts it, tags it with a request id, applies
//! the timeouts, logs it and turns failures into [`HubError`]s.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use url::Url;

use crate::credentials::{ServiceToken, UserToken, authorization_header};
use crate::endpoint::Endpoint;
use crate::{CallRecorder, HubCaller, HubError, HubVersion, ParseVersionError, request_id};

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How to reach the hub.
#[derive(Debug, Clone)]
pub struct HubClientConfig {
    /// The hub API URL (`JUPYTERHUB_API_URL`, e.g. `http://127.0.0.1:8081/hub/api`),
    /// with or without a trailing slash.
    pub api_url: Url,
    pub service_token: ServiceToken,
    /// Total time for one call, connection and reply body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl HubClientConfig {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    pub fn new(api_url: Url, service_token: ServiceToken) -> Self {
        Self {
            api_url,
            service_token,
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// The JupyterHub REST client. Cloning is cheap and shares the connection
/// pool, the call counts and the cached hub version: make one per process.
#[derive(Clone)]
pub struct HubClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_url: Url,
    service_token: ServiceToken,
    recorder: CallRecorder,
    version: OnceCell<HubVersion>,
}

impl fmt::Debug for HubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClient")
            .field("api_url", &self.inner.api_url.as_str())
            .field("version", &self.inner.version.get())
            .finish_non_exhaustive()
    }
}

impl HubClient {
    pub fn new(config: HubClientConfig) -> Result<Self, HubError> {
        let HubClientConfig {
            mut api_url,
            service_token,
            timeout,
            connect_timeout,
        } = config;
        if !matches!(api_url.scheme(), "http" | "https") || api_url.cannot_be_a_base() {
            // The URL itself is not echoed: it could carry userinfo.
            return Err(HubError::Config(format!(
                "the hub API URL must be an http(s) URL, not {}:",
                api_url.scheme()
            )));
        }
        // Paths are appended to the API URL; a query or fragment would end up
        // on every call.
        api_url.set_query(None);
        api_url.set_fragment(None);
        if authorization_header(service_token.secret()).is_none() {
            return Err(HubError::Config(
                "the service token contains characters an HTTP header cannot carry".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("japps/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_keepalive(Duration::from_secs(60))
            // The hub API does not redirect; following one could carry the
            // token somewhere unexpected, so a 3xx is reported as a status.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HubError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_url,
                service_token,
                recorder: CallRecorder::new(),
                version: OnceCell::new(),
            }),
        })
    }

    pub fn api_url(&self) -> &Url {
        &self.inner.api_url
    }

    pub fn recorder(&self) -> &CallRecorder {
        &self.inner.recorder
    }

    /// Calls with the service's own token and privileges.
    pub fn as_service(&self) -> HubCaller<'_> {
        HubCaller::new(self, self.service_secret(), "service")
    }

    /// Calls with a user's token: the hub enforces that user's scopes and
    /// records the user as the actor.
    pub fn as_user<'a>(&'a self, token: &'a UserToken) -> HubCaller<'a> {
        HubCaller::new(self, token.secret(), "user")
    }

    /// The hub's version from `GET {api}/` (no auth). Fetched once per
    /// process: concurrent first callers share one call, and a failed fetch
    /// is tried again by the next caller.
    pub async fn version(&self) -> Result<HubVersion, HubError> {
        self.inner
            .version
            .get_or_try_init(|| self.fetch_version())
            .await
            .copied()
    }

    async fn fetch_version(&self) -> Result<HubVersion, HubError> {
        #[derive(Deserialize)]
        struct Root {
            version: String,
        }
        let endpoint = Endpoint::Root;
        let request = HubRequest::new(endpoint, self.url(endpoint, &[])?);
        let root: Root = decode_json(endpoint, &self.send(request).await?.body)?;
        root.version
            .parse()
            .map_err(|e: ParseVersionError| HubError::decode(endpoint.key(), e.to_string()))
    }

    pub(crate) fn service_secret(&self) -> &SecretString {
        self.inner.service_token.secret()
    }

    pub(crate) fn url(&self, endpoint: Endpoint, args: &[&str]) -> Result<Url, HubError> {
        endpoint.url(&self.inner.api_url, args)
    }

    /// Sends one request to the hub. Non-success statuses become
    /// [`HubError::Status`].
    pub(crate) async fn send(&self, request: HubRequest<'_>) -> Result<Reply, HubError> {
        let HubRequest {
            endpoint,
            url,
            token,
            body,
            paginated,
        } = request;
        let pattern = endpoint.key();
        self.inner.recorder.record(endpoint);

        let id = request_id::for_call();
        let id_header = HeaderValue::from_str(&id).unwrap_or_else(|_| {
            // The service sets ids; one that is no valid header value is
            // replaced rather than failing the call.
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .unwrap_or(HeaderValue::from_static("invalid"))
        });

        let mut builder = self
            .inner
            .http
            .request(endpoint.method(), url)
            .header(X_REQUEST_ID, id_header);
        if let Some(token) = token {
            let auth = authorization_header(token).ok_or(HubError::InvalidToken { pattern })?;
            builder = builder.header(AUTHORIZATION, auth);
        }
        if paginated {
            builder = builder.header(ACCEPT, crate::pagination::ACCEPT);
        } else {
            builder = builder.header(ACCEPT, "application/json");
        }
        builder = match body {
            Body::Empty => builder,
            Body::Json(value) => builder.json(&value),
            Body::Form(form) => builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form),
        };

        let started = Instant::now();
        let outcome = async {
            let response = builder.send().await?;
            let status = response.status();
            let body = Vec::from(response.bytes().await?);
            Ok::<_, reqwest::Error>((status, body))
        }
        .await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

        let (status, body) = match outcome {
            Ok(reply) => reply,
            Err(source) => {
                let err = HubError::transport(pattern, source);
                tracing::debug!(
                    method = %endpoint.method(), pattern, elapsed_ms, request_id = %id,
                    error = %err, "hub call failed"
                );
                return Err(err);
            }
        };
        tracing::debug!(
            method = %endpoint.method(), pattern, status = status.as_u16(), elapsed_ms,
            request_id = %id, "hub call"
        );
        if !status.is_success() {
            return Err(HubError::Status {
                pattern,
                status: status.as_u16(),
                message: error_message(&body),
            });
        }
        Ok(Reply {
            status: status.as_u16(),
            body,
        })
    }
}

/// One request to the hub, before it is sent.
pub(crate) struct HubRequest<'a> {
    endpoint: Endpoint,
    url: Url,
    token: Option<&'a SecretString>,
    body: Body,
    paginated: bool,
}

impl<'a> HubRequest<'a> {
    pub(crate) fn new(endpoint: Endpoint, url: Url) -> Self {
        Self {
            endpoint,
            url,
            token: None,
            body: Body::Empty,
            paginated: false,
        }
    }

    pub(crate) fn token(mut self, token: &'a SecretString) -> Self {
        self.token = Some(token);
        self
    }

    pub(crate) fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    pub(crate) fn paginated(mut self) -> Self {
        self.paginated = true;
        self
    }
}

pub(crate) enum Body {
    Empty,
    Json(serde_json::Value),
    /// Already `application/x-www-form-urlencoded`.
    Form(String),
}

/// A successful reply.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

pub(crate) fn decode_json<T: DeserializeOwned>(
    endpoint: Endpoint,
    body: &[u8],
) -> Result<T, HubError> {
    serde_json::from_slice(body).map_err(|e| HubError::decode(endpoint.key(), e.to_string()))
}

/// The message of a hub error reply: `{"status", "message"}` from the REST
/// API (6.x often sends `null`), `{"error", "error_description"}` from the
/// OAuth endpoints. Anything else (an HTML page from a proxy) gives none.
fn error_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct ErrorReply {
        message: Option<String>,
        error_description: Option<String>,
        error: Option<String>,
    }
    let reply: ErrorReply = serde_json::from_slice(body).ok()?;
    reply
        .message
        .or(reply.error_description)
        .or(reply.error)
        .filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_from_each_hub_shape() {
        let msg = |s: &str| error_message(s.as_bytes());
        assert_eq!(
            msg(r#"{"status":404,"message":"No such user"}"#).as_deref(),
            Some("No such user")
        );
        assert_eq!(msg(r#"{"status":404,"message":null}"#), None);
        assert_eq!(
            msg(r#"{"error":"invalid_grant"}"#).as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(msg("<html>502 Bad Gateway</html>"), None);
        assert_eq!(msg(""), None);
    }

    #[test]
    fn config_rejects_non_http_urls_and_strips_query() {
        let token = || ServiceToken::new("t0ken".into());
        let bad = HubClientConfig::new(Url::parse("file:///hub/api").unwrap(), token());
        assert!(matches!(HubClient::new(bad), Err(HubError::Config(_))));

        let url = Url::parse("http://127.0.0.1:8081/hub/api?x=1#frag").unwrap();
        let client = HubClient::new(HubClientConfig::new(url, token())).unwrap();
        assert_eq!(client.api_url().as_str(), "http://127.0.0.1:8081/hub/api");
        assert!(!format!("{client:?}").contains("t0ken"));
    }

    #[test]
    fn config_rejects_a_service_token_that_cannot_be_a_header() {
        let url = Url::parse("http://127.0.0.1:8081/hub/api").unwrap();
        let config = HubClientConfig::new(url, ServiceToken::new("bad\r\ntoken".into()));
        let err = HubClient::new(config).unwrap_err();
        assert!(!err.to_string().contains("bad"));
    }
}
