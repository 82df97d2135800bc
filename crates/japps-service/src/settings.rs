//! What the service learns from its environment.
//!
//! JupyterHub gives a managed service a fixed set of `JUPYTERHUB_*` variables, read by
//! [`japps_auth::HubEnv`] exactly as the launcher reads them; the plugin adds
//! `JAPPS_CONFIG`. An external service may get only the hub's variables, so everything but
//! the API token has a default here.

use std::collections::HashMap;
use std::time::Duration;

use japps_auth::HubEnv;
use japps_auth::env::bind_address;
use japps_domain::JAppsConfig;
use japps_hub::ServiceToken;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// Why the service cannot start with this environment.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

/// Everything the service needs to run, read once at startup.
#[derive(Debug)]
pub struct Settings {
    /// `JUPYTERHUB_SERVICE_NAME`, `japps` unless the operator renamed the service.
    pub service_name: String,
    /// The hub's internal REST API, e.g. `http://127.0.0.1:8081/hub/api`.
    pub api_url: Url,
    /// The service's own hub token (also its OAuth client secret).
    pub api_token: ServiceToken,
    /// URL path the service is served under, always with leading and trailing `/`.
    pub prefix: String,
    /// Host and port to listen on (`JAPPS_BIND_URL`, else `JUPYTERHUB_SERVICE_URL`).
    pub bind_host: String,
    pub bind_port: u16,
    pub client_id: String,
    pub oauth_callback_url: String,
    /// Scopes that grant access to this service (any one suffices).
    pub access_scopes: Vec<String>,
    /// The public URL of the service when the hub knows it (`JupyterHub.public_url`).
    pub public_url: Option<Url>,
    /// JupyterHub's environment as read (the hub's public origin, base URL, cookie rules).
    pub hub_env: HubEnv,
    /// Timeout of every hub call.
    pub hub_timeout: Duration,
    /// `JHUB_APP_JWT_SECRET_KEY`: encrypts the session cookie and verifies jhub-apps'
    /// cookies. Without it sessions last only as long as the process.
    pub session_secret: Option<SecretString>,
    /// The Python that evaluates callable settings: `JAPPS_PYTHON` (the hub's own
    /// interpreter, set by the plugin), else `c.JAppsConfig.python_exec`.
    pub python: String,
    pub config: JAppsConfig,
}

/// The shortest `JHUB_APP_JWT_SECRET_KEY` `japps serve` accepts, in bytes: the plugin
/// refuses shorter key files, and a short key could be guessed offline from one cookie.
pub const MIN_SESSION_KEY_BYTES: usize = 32;

const DEFAULT_API_URL: &str = "http://127.0.0.1:8081/hub/api";
const DEFAULT_BIND_URL: &str = "http://127.0.0.1:10202";
const DEFAULT_HUB_TIMEOUT_SECONDS: u64 = 20;

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the settings from the given variables (the process environment in production,
    /// a literal map in tests).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .collect();
        let get = |name: &str| vars.get(name).map(String::as_str);
        let hub_env = HubEnv::from_lookup(|name| vars.get(name).cloned())
            .map_err(|err| ConfigError(err.to_string()))?;

        let service_name = hub_env
            .service_name
            .clone()
            .unwrap_or_else(|| "japps".to_owned());
        let api_url = match &hub_env.api_url {
            Some(url) => url.clone(),
            None => Url::parse(DEFAULT_API_URL).map_err(|err| ConfigError(err.to_string()))?,
        };
        let token = hub_env.api_token.as_ref().ok_or_else(|| {
            ConfigError(
                "JUPYTERHUB_API_TOKEN is not set: japps needs the service's hub API token".into(),
            )
        })?;
        let prefix = hub_env
            .service_prefix
            .clone()
            .unwrap_or_else(|| format!("/services/{service_name}/"));
        let (bind_var, bind_url) = match get("JAPPS_BIND_URL") {
            Some(value) => ("JAPPS_BIND_URL", parse_url("JAPPS_BIND_URL", value)?),
            None => match &hub_env.service_url {
                Some(url) => ("JUPYTERHUB_SERVICE_URL", url.clone()),
                None => (
                    "JUPYTERHUB_SERVICE_URL",
                    parse_url("default", DEFAULT_BIND_URL)?,
                ),
            },
        };
        let (bind_host, bind_port) =
            bind_address(bind_var, &bind_url).map_err(|err| ConfigError(err.to_string()))?;
        let access_scopes = hub_env
            .access_scopes
            .clone()
            .unwrap_or_else(|| vec![format!("access:services!service={service_name}")]);
        let hub_timeout = match get("JAPPS_HUB_TIMEOUT_SECONDS") {
            Some(value) => Duration::from_secs_f64(
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|secs| secs.is_finite() && *secs > 0.0)
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "JAPPS_HUB_TIMEOUT_SECONDS must be a positive number of seconds, not {value:?}"
                        ))
                    })?,
            ),
            None => Duration::from_secs(DEFAULT_HUB_TIMEOUT_SECONDS),
        };
        let config = match get("JAPPS_CONFIG") {
            Some(json) => {
                JAppsConfig::from_json(json).map_err(|err| ConfigError(err.to_string()))?
            }
            None => JAppsConfig::default(),
        };

        let session_secret =
            get("JHUB_APP_JWT_SECRET_KEY").map(|secret| SecretString::from(secret.to_owned()));

        let python = get("JAPPS_PYTHON").map_or_else(|| config.python_exec.clone(), str::to_owned);

        Ok(Self {
            python,
            session_secret,
            client_id: hub_env
                .client_id
                .clone()
                .unwrap_or_else(|| format!("service-{service_name}")),
            oauth_callback_url: hub_env
                .oauth_callback_url
                .clone()
                .unwrap_or_else(|| format!("{prefix}oauth_callback")),
            public_url: hub_env.public_url.clone(),
            service_name,
            api_url,
            api_token: ServiceToken::new(token.expose_secret().to_owned()),
            prefix,
            bind_host,
            bind_port,
            access_scopes,
            hub_env,
            hub_timeout,
            config,
        })
    }
}

impl Settings {
    /// Refuses a session key too short to protect the cookies it encrypts. Checked when the
    /// service starts rather than when the settings are read, so that `japps doctor` can
    /// still read them and report the short key as one finding among others.
    pub fn check_session_key(&self) -> Result<(), ConfigError> {
        match &self.session_secret {
            Some(secret) if secret.expose_secret().len() < MIN_SESSION_KEY_BYTES => {
                Err(ConfigError(format!(
                    "JHUB_APP_JWT_SECRET_KEY is {} bytes long; it must be at least \
                     {MIN_SESSION_KEY_BYTES} (use a random value, e.g. `openssl rand -hex 32`)",
                    secret.expose_secret().len()
                )))
            }
            _ => Ok(()),
        }
    }
}

fn parse_url(name: &str, value: &str) -> Result<Url, ConfigError> {
    Url::parse(value).map_err(|err| ConfigError(format!("{name} is not a URL ({err}): {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn managed_service_environment() {
        let settings = Settings::from_vars(vars(&[
            ("JUPYTERHUB_SERVICE_NAME", "japps"),
            ("JUPYTERHUB_API_TOKEN", "secret-token-value"),
            ("JUPYTERHUB_API_URL", "http://127.0.0.1:18081/hub/api"),
            ("JUPYTERHUB_SERVICE_PREFIX", "/base/services/japps/"),
            ("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:18100"),
            ("JUPYTERHUB_CLIENT_ID", "service-japps"),
            (
                "JUPYTERHUB_OAUTH_CALLBACK_URL",
                "/base/services/japps/oauth_callback",
            ),
            (
                "JUPYTERHUB_OAUTH_ACCESS_SCOPES",
                r#"["access:services", "access:services!service=japps"]"#,
            ),
            ("JUPYTERHUB_PUBLIC_URL", ""),
            ("JUPYTERHUB_BASE_URL", "/base/"),
            ("JAPPS_CONFIG", r#"{"allowed_frameworks": ["panel"]}"#),
            (
                "JHUB_APP_JWT_SECRET_KEY",
                "session-secret-value-0123456789abcdef",
            ),
        ]))
        .unwrap();
        assert_eq!(settings.prefix, "/base/services/japps/");
        assert_eq!(settings.bind_host, "127.0.0.1");
        assert_eq!(settings.bind_port, 18100);
        assert_eq!(settings.api_url.as_str(), "http://127.0.0.1:18081/hub/api");
        assert_eq!(settings.access_scopes.len(), 2);
        assert!(
            settings.public_url.is_none(),
            "an empty variable means unset"
        );
        assert_eq!(settings.hub_env.base_url, "/base/");
        assert_eq!(
            settings.config.allowed_frameworks,
            Some(vec!["panel".to_owned()])
        );
        assert!(!format!("{settings:?}").contains("secret-token-value"));
        assert!(!settings.hub_env.cookie_host_prefix);
        assert!(settings.session_secret.is_some());
        assert!(!format!("{settings:?}").contains("session-secret-value"));
    }

    #[test]
    fn only_a_token_gives_defaults() {
        let settings =
            Settings::from_vars(vars(&[("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef")])).unwrap();
        assert_eq!(settings.service_name, "japps");
        assert_eq!(settings.prefix, "/services/japps/");
        assert_eq!(settings.bind_port, 10202);
        assert_eq!(settings.client_id, "service-japps");
        assert_eq!(
            settings.oauth_callback_url,
            "/services/japps/oauth_callback"
        );
        assert_eq!(settings.access_scopes, ["access:services!service=japps"]);
        assert_eq!(settings.hub_timeout, Duration::from_secs(20));
        assert_eq!(settings.config, JAppsConfig::default());
        assert_eq!(settings.python, "python", "python_exec's default");
    }

    #[test]
    fn the_hub_python_wins_over_python_exec() {
        let settings = Settings::from_vars(vars(&[
            ("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef"),
            ("JAPPS_CONFIG", r#"{"python_exec": "python3.12"}"#),
        ]))
        .unwrap();
        assert_eq!(settings.python, "python3.12");
        let settings = Settings::from_vars(vars(&[
            ("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef"),
            ("JAPPS_CONFIG", r#"{"python_exec": "python3.12"}"#),
            ("JAPPS_PYTHON", "/opt/hub/bin/python"),
        ]))
        .unwrap();
        assert_eq!(settings.python, "/opt/hub/bin/python");
    }

    #[test]
    fn a_short_session_key_is_refused_at_start() {
        let with_key = |key: &str| {
            Settings::from_vars(vars(&[
                ("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef"),
                ("JHUB_APP_JWT_SECRET_KEY", key),
            ]))
            .unwrap()
        };
        let err = with_key("short-key").check_session_key().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("JHUB_APP_JWT_SECRET_KEY"), "{text}");
        assert!(text.contains("at least 32"), "{text}");
        assert!(
            !text.contains("short-key"),
            "the key is never shown: {text}"
        );
        with_key(&"k".repeat(31)).check_session_key().unwrap_err();
        with_key(&"k".repeat(32)).check_session_key().unwrap();
        // No key at all: sessions are per process (a warning, not a refusal).
        Settings::from_vars(vars(&[("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef")]))
            .unwrap()
            .check_session_key()
            .unwrap();
    }

    #[test]
    fn bind_override_and_ipv6() {
        let settings = Settings::from_vars(vars(&[
            ("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef"),
            ("JUPYTERHUB_SERVICE_URL", "http://hub:10202"),
            ("JAPPS_BIND_URL", "http://[::]:9000"),
        ]))
        .unwrap();
        assert_eq!(settings.bind_host, "::");
        assert_eq!(settings.bind_port, 9000);
    }

    #[test]
    fn bad_environment_is_explained() {
        let missing = Settings::from_vars(Vec::new()).unwrap_err();
        assert!(
            missing.to_string().contains("JUPYTERHUB_API_TOKEN"),
            "{missing}"
        );

        let bad_url = Settings::from_vars(vars(&[
            ("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef"),
            ("JUPYTERHUB_API_URL", "not a url"),
        ]))
        .unwrap_err();
        assert!(
            bad_url.to_string().contains("JUPYTERHUB_API_URL"),
            "{bad_url}"
        );

        let bad_scopes = Settings::from_vars(vars(&[
            ("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef"),
            ("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "access:services"),
        ]))
        .unwrap_err();
        assert!(
            bad_scopes
                .to_string()
                .contains("JUPYTERHUB_OAUTH_ACCESS_SCOPES")
        );

        let bad_config = Settings::from_vars(vars(&[
            ("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef"),
            ("JAPPS_CONFIG", "{"),
        ]))
        .unwrap_err();
        assert!(
            bad_config.to_string().contains("JAPPS_CONFIG"),
            "{bad_config}"
        );

        let bad_timeout = Settings::from_vars(vars(&[
            ("JUPYTERHUB_API_TOKEN", "t0k3n-abcdef"),
            ("JAPPS_HUB_TIMEOUT_SECONDS", "-1"),
        ]))
        .unwrap_err();
        assert!(
            bad_timeout
                .to_string()
                .contains("JAPPS_HUB_TIMEOUT_SECONDS")
        );
    }
}
