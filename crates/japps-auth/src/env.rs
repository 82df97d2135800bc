//! JupyterHub's environment: the `JUPYTERHUB_*` variables the hub gives a managed service
//! (`japps serve`) and a single-user server (`japps launch`), read and checked in one place.
//!
//! Every variable is optional here; the service and the launcher decide what they require
//! and what the defaults are (an external service may get nothing but a token). Empty
//! values mean "not set", as the hub sends `""` for unset ones.

use secrecy::SecretString;
use url::Url;

/// A variable that is set but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct EnvError {
    pub variable: &'static str,
    pub problem: String,
}

impl EnvError {
    pub fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// What the hub said, parsed.
#[derive(Debug, Clone, Default)]
pub struct HubEnv {
    /// `JUPYTERHUB_API_URL`: the hub's REST API as this process reaches it.
    pub api_url: Option<Url>,
    /// `JUPYTERHUB_API_TOKEN` (or the deprecated `JPY_API_TOKEN`); also the OAuth client
    /// secret.
    pub api_token: Option<SecretString>,
    /// `JUPYTERHUB_CLIENT_ID`.
    pub client_id: Option<String>,
    /// `JUPYTERHUB_SERVICE_NAME` (services only).
    pub service_name: Option<String>,
    /// `JUPYTERHUB_USER`: the server's owner (servers; the system user for services).
    pub user: Option<String>,
    /// `JUPYTERHUB_SERVER_NAME`.
    pub server_name: Option<String>,
    /// `JUPYTERHUB_SERVICE_PREFIX`, with leading and trailing `/`.
    pub service_prefix: Option<String>,
    /// `JUPYTERHUB_SERVICE_URL`: where to listen (not a public URL).
    pub service_url: Option<Url>,
    /// `JUPYTERHUB_OAUTH_CALLBACK_URL`: the registered `redirect_uri`, exactly.
    pub oauth_callback_url: Option<String>,
    /// `JUPYTERHUB_OAUTH_ACCESS_SCOPES`: any one of them lets a caller in.
    pub access_scopes: Option<Vec<String>>,
    /// `JUPYTERHUB_BASE_URL`: the hub's path prefix, with leading and trailing `/`.
    pub base_url: String,
    /// `JUPYTERHUB_PUBLIC_URL` (services, JupyterHub 5.5+): this service's public URL.
    pub public_url: Option<Url>,
    /// `JUPYTERHUB_HOST`: the origin browsers reach the hub at, when the hub knows it
    /// (`public_url` or `subdomain_host`); `None` means hub pages are on this origin.
    pub hub_origin: Option<Url>,
    /// `JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED=1`: cookies must be `__Host-` cookies.
    pub cookie_host_prefix: bool,
    /// `JUPYTERHUB_ACTIVITY_INTERVAL` (servers): seconds between activity reports.
    pub activity_interval: Option<u64>,
}

impl HubEnv {
    /// Reads the process environment.
    pub fn from_process() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from `lookup` (the process environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let url = |name: &'static str| {
            get(name)
                .map(|value| {
                    Url::parse(&value)
                        .map_err(|err| EnvError::new(name, format!("not a URL ({err}): {value}")))
                })
                .transpose()
        };
        let access_scopes = get("JUPYTERHUB_OAUTH_ACCESS_SCOPES")
            .map(|json| {
                serde_json::from_str::<Vec<String>>(&json).map_err(|err| {
                    EnvError::new(
                        "JUPYTERHUB_OAUTH_ACCESS_SCOPES",
                        format!("not a JSON list of strings: {err}"),
                    )
                })
            })
            .transpose()?;
        let activity_interval = get("JUPYTERHUB_ACTIVITY_INTERVAL")
            .map(|value| {
                value.parse::<u64>().map_err(|_| {
                    EnvError::new(
                        "JUPYTERHUB_ACTIVITY_INTERVAL",
                        format!("{value:?} is not a number of seconds"),
                    )
                })
            })
            .transpose()?;
        let cookie_host_prefix = match get("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(EnvError::new(
                    "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED",
                    format!("must be 0 or 1, not {other:?}"),
                ));
            }
        };
        Ok(Self {
            api_url: url("JUPYTERHUB_API_URL")?,
            api_token: get("JUPYTERHUB_API_TOKEN")
                .or_else(|| get("JPY_API_TOKEN"))
                .map(SecretString::from),
            client_id: get("JUPYTERHUB_CLIENT_ID"),
            service_name: get("JUPYTERHUB_SERVICE_NAME"),
            user: get("JUPYTERHUB_USER"),
            server_name: get("JUPYTERHUB_SERVER_NAME"),
            service_prefix: get("JUPYTERHUB_SERVICE_PREFIX").map(|p| normalize_prefix(&p)),
            service_url: url("JUPYTERHUB_SERVICE_URL")?,
            oauth_callback_url: get("JUPYTERHUB_OAUTH_CALLBACK_URL"),
            access_scopes,
            base_url: normalize_prefix(&get("JUPYTERHUB_BASE_URL").unwrap_or_default()),
            public_url: url("JUPYTERHUB_PUBLIC_URL")?,
            hub_origin: get("JUPYTERHUB_HOST")
                .map(|host| origin("JUPYTERHUB_HOST", &host))
                .transpose()?,
            cookie_host_prefix,
            activity_interval,
        })
    }

    /// The hub's OAuth authorize URL as a browser sees it: relative when the hub has no
    /// known public origin, as JupyterHub's own `HubOAuth` builds it.
    pub fn authorize_url(&self) -> String {
        self.hub_url("api/oauth2/authorize")
    }

    /// A hub page (`home`, `login`, …) as a browser sees it.
    pub fn hub_url(&self, path: &str) -> String {
        self.proxied_url(&format!("hub/{path}"))
    }

    /// A path under the hub's base URL (`user/alice/app/`) as a browser sees it.
    pub fn proxied_url(&self, path: &str) -> String {
        let origin = self
            .hub_origin
            .as_ref()
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default();
        format!("{origin}{}{path}", self.base_url)
    }

    /// Whether browsers talk https to the hub, as far as the hub's settings tell.
    pub fn public_https(&self) -> bool {
        self.public_url
            .iter()
            .chain(&self.hub_origin)
            .any(|url| url.scheme() == "https")
    }
}

/// `JUPYTERHUB_HOST` must be an origin (`https://hub.example.org`): anything else (`https:`,
/// a bare host name) would silently make relative what should be absolute, or insecure
/// what should be `Secure`, so it is refused by name.
fn origin(variable: &'static str, value: &str) -> Result<Url, EnvError> {
    let problem = || format!("must be an origin like https://hub.example.org, not {value:?}");
    let url = Url::parse(value).map_err(|_| EnvError::new(variable, problem()))?;
    let web = matches!(url.scheme(), "http" | "https");
    if !web || url.host_str().is_none_or(str::is_empty) {
        return Err(EnvError::new(variable, problem()));
    }
    Ok(url)
}

/// A URL path prefix with exactly one leading and one trailing `/` (`/` for none).
pub fn normalize_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

/// The host and port to listen on from a bind URL (`http://[::]:9000` → `::`, 9000).
pub fn bind_address(variable: &'static str, url: &Url) -> Result<(String, u16), EnvError> {
    let host = url
        .host_str()
        .ok_or_else(|| EnvError::new(variable, format!("has no host: {url}")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| EnvError::new(variable, format!("has no port: {url}")))?;
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<HubEnv, EnvError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        HubEnv::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn a_managed_service() {
        let env = read(&[
            ("JUPYTERHUB_SERVICE_NAME", "japps"),
            ("JUPYTERHUB_API_TOKEN", "secret"),
            ("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"),
            ("JUPYTERHUB_SERVICE_PREFIX", "/services/japps"),
            ("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10202"),
            ("JUPYTERHUB_BASE_URL", "/"),
            ("JUPYTERHUB_PUBLIC_URL", ""),
            ("JUPYTERHUB_HOST", ""),
            ("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED", "0"),
            (
                "JUPYTERHUB_OAUTH_ACCESS_SCOPES",
                r#"["access:services!service=japps"]"#,
            ),
        ])
        .unwrap();
        assert_eq!(env.service_prefix.as_deref(), Some("/services/japps/"));
        assert_eq!(env.api_token.as_ref().unwrap().expose_secret(), "secret");
        assert_eq!(env.authorize_url(), "/hub/api/oauth2/authorize");
        assert_eq!(env.hub_url("home"), "/hub/home");
        assert!(env.public_url.is_none() && env.hub_origin.is_none());
        assert!(!env.public_https() && !env.cookie_host_prefix);
        assert_eq!(env.access_scopes.as_ref().unwrap().len(), 1);
    }

    #[test]
    fn the_public_origin_makes_hub_urls_absolute_and_cookies_secure() {
        let env = read(&[
            ("JUPYTERHUB_HOST", "https://hub.example.org/"),
            ("JUPYTERHUB_BASE_URL", "/jh"),
            ("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED", "1"),
        ])
        .unwrap();
        assert_eq!(
            env.authorize_url(),
            "https://hub.example.org/jh/hub/api/oauth2/authorize"
        );
        assert!(env.public_https());
        assert!(env.cookie_host_prefix);

        let public = read(&[(
            "JUPYTERHUB_PUBLIC_URL",
            "https://hub.example.org/services/japps/",
        )])
        .unwrap();
        assert!(public.public_https());
        assert_eq!(public.authorize_url(), "/hub/api/oauth2/authorize");
    }

    #[test]
    fn a_host_that_is_not_an_origin_is_refused_by_name() {
        for bad in [
            "https:",
            "hub.example.org",
            "ftp://hub.example.org",
            "https://",
        ] {
            let err = read(&[("JUPYTERHUB_HOST", bad)]).unwrap_err();
            assert_eq!(err.variable, "JUPYTERHUB_HOST", "{bad}");
        }
        for (name, bad) in [
            ("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "access:services"),
            ("JUPYTERHUB_ACTIVITY_INTERVAL", "soon"),
            ("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED", "yes"),
            ("JUPYTERHUB_API_URL", "not a url"),
        ] {
            let err = read(&[(name, bad)]).unwrap_err();
            assert_eq!(err.variable, name);
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn prefixes_and_bind_addresses() {
        assert_eq!(normalize_prefix("services/japps"), "/services/japps/");
        assert_eq!(normalize_prefix("/"), "/");
        assert_eq!(normalize_prefix("//a//"), "/a/");
        let url = Url::parse("http://[::]:9000").unwrap();
        assert_eq!(bind_address("X", &url).unwrap(), ("::".to_owned(), 9000));
        let url = Url::parse("http://127.0.0.1/user/a/").unwrap();
        assert_eq!(bind_address("X", &url).unwrap().1, 80);
    }
}
