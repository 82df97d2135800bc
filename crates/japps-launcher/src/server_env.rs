//! The standard environment JupyterHub gives every single-user server, read once.

use secrecy::SecretString;
use url::Url;

use crate::LaunchError;

/// What the hub told this server about itself.
#[derive(Debug, Clone)]
pub struct ServerEnv {
    /// Where to listen (`JUPYTERHUB_SERVICE_URL`'s host and port).
    pub bind_host: String,
    pub bind_port: u16,
    /// The server's public path prefix, with leading and trailing slash (`/user/alice/app/`).
    pub prefix: String,
    /// The owner (`JUPYTERHUB_USER`).
    pub user: String,
    /// The server's name (`JUPYTERHUB_SERVER_NAME`).
    pub server_name: String,
    pub api_url: Url,
    /// The server's own token: reports activity, and is the OAuth client secret.
    pub api_token: SecretString,
    pub client_id: String,
    /// The `redirect_uri` registered with the hub for this server, exactly.
    pub oauth_callback_url: String,
    /// The hub's authorize URL as a browser sees it (often a path).
    pub authorize_url: String,
    /// Any of these scopes lets a visitor in (`JUPYTERHUB_OAUTH_ACCESS_SCOPES`).
    pub access_scopes: Vec<String>,
    /// Cookies must be `__Host-` (Path=/, Secure).
    pub cookie_host_prefix: bool,
    /// The hub serves browsers over https (`JUPYTERHUB_PUBLIC_URL`/`JUPYTERHUB_HOST`).
    pub public_https: bool,
    /// `JUPYTERHUB_ACTIVITY_INTERVAL`, if the hub or the admin set one.
    pub activity_interval: Option<u64>,
}

impl ServerEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, LaunchError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LaunchError> {
        let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let require = |name: &str| {
            get(name).ok_or_else(|| {
                LaunchError::Config(format!(
                    "{name} is not set: japps launch runs as a JupyterHub server, started by the hub"
                ))
            })
        };
        let service_url = Url::parse(&require("JUPYTERHUB_SERVICE_URL")?)
            .map_err(|err| LaunchError::Config(format!("JUPYTERHUB_SERVICE_URL: {err}")))?;
        let bind_host = service_url
            .host_str()
            .ok_or_else(|| LaunchError::Config("JUPYTERHUB_SERVICE_URL has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let bind_port = service_url
            .port_or_known_default()
            .ok_or_else(|| LaunchError::Config("JUPYTERHUB_SERVICE_URL has no port".into()))?;
        let prefix = slashed(
            &get("JUPYTERHUB_SERVICE_PREFIX").unwrap_or_else(|| service_url.path().to_owned()),
        );
        let api_url = Url::parse(&require("JUPYTERHUB_API_URL")?)
            .map_err(|err| LaunchError::Config(format!("JUPYTERHUB_API_URL: {err}")))?;
        let api_token = SecretString::from(require("JUPYTERHUB_API_TOKEN")?);
        let client_id = require("JUPYTERHUB_CLIENT_ID")?;
        let oauth_callback_url = get("JUPYTERHUB_OAUTH_CALLBACK_URL")
            .unwrap_or_else(|| format!("{prefix}oauth_callback"));
        let hub_host = get("JUPYTERHUB_HOST").unwrap_or_default();
        let base_url = slashed(&get("JUPYTERHUB_BASE_URL").unwrap_or_else(|| "/".into()));
        let authorize_url = format!(
            "{}{base_url}hub/api/oauth2/authorize",
            hub_host.trim_end_matches('/')
        );
        let access_scopes: Vec<String> = match get("JUPYTERHUB_OAUTH_ACCESS_SCOPES") {
            Some(json) => serde_json::from_str(&json).map_err(|err| {
                LaunchError::Config(format!(
                    "JUPYTERHUB_OAUTH_ACCESS_SCOPES is not a JSON list: {err}"
                ))
            })?,
            None => Vec::new(),
        };
        let user = require("JUPYTERHUB_USER")?;
        let server_name = get("JUPYTERHUB_SERVER_NAME").unwrap_or_default();
        let access_scopes = if access_scopes.is_empty() {
            // What JupyterHub itself would require for this server.
            vec![
                format!("access:servers!server={user}/{server_name}"),
                format!("access:servers!user={user}"),
            ]
        } else {
            access_scopes
        };
        let public_https = get("JUPYTERHUB_PUBLIC_URL")
            .or_else(|| Some(hub_host.clone()))
            .is_some_and(|url| url.starts_with("https:"));
        let activity_interval = get("JUPYTERHUB_ACTIVITY_INTERVAL")
            .map(|value| {
                value.trim().parse::<u64>().map_err(|_| {
                    LaunchError::Config(format!(
                        "JUPYTERHUB_ACTIVITY_INTERVAL={value:?} is not a number of seconds"
                    ))
                })
            })
            .transpose()?;
        Ok(Self {
            bind_host,
            bind_port,
            prefix,
            user,
            server_name,
            api_url,
            api_token,
            client_id,
            oauth_callback_url,
            authorize_url,
            access_scopes,
            cookie_host_prefix: get("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED").as_deref()
                == Some("1"),
            public_https,
            activity_interval,
        })
    }

    /// The prefix without its trailing slash (`/user/alice/app`).
    pub fn root_path(&self) -> &str {
        self.prefix.trim_end_matches('/')
    }
}

fn slashed(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".into()
    } else {
        format!("/{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = [
            (
                "JUPYTERHUB_SERVICE_URL",
                "http://127.0.0.1:41234/user/alice/app/",
            ),
            ("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/app/"),
            ("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"),
            ("JUPYTERHUB_API_TOKEN", "secret-token"),
            ("JUPYTERHUB_CLIENT_ID", "jupyterhub-user-alice-app"),
            ("JUPYTERHUB_USER", "alice"),
            ("JUPYTERHUB_SERVER_NAME", "app"),
            ("JUPYTERHUB_BASE_URL", "/"),
            (
                "JUPYTERHUB_OAUTH_CALLBACK_URL",
                "/user/alice/app/oauth_callback",
            ),
            (
                "JUPYTERHUB_OAUTH_ACCESS_SCOPES",
                r#"["access:servers!server=alice/app", "access:servers!user=alice"]"#,
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        map
    }

    #[test]
    fn reads_a_local_process_server_environment() {
        let map = env(&[]);
        let server = ServerEnv::from_lookup(|k| map.get(k).cloned()).unwrap();
        assert_eq!(
            (server.bind_host.as_str(), server.bind_port),
            ("127.0.0.1", 41234)
        );
        assert_eq!(server.prefix, "/user/alice/app/");
        assert_eq!(server.root_path(), "/user/alice/app");
        assert_eq!(server.authorize_url, "/hub/api/oauth2/authorize");
        assert_eq!(server.access_scopes.len(), 2);
        assert!(!server.cookie_host_prefix);
        assert!(!server.public_https);
        assert_eq!(server.activity_interval, None);
    }

    #[test]
    fn public_host_and_base_url_shape_the_authorize_url() {
        let map = env(&[
            ("JUPYTERHUB_HOST", "https://hub.example.org"),
            ("JUPYTERHUB_BASE_URL", "/jh/"),
            ("JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED", "1"),
            ("JUPYTERHUB_ACTIVITY_INTERVAL", "60"),
        ]);
        let server = ServerEnv::from_lookup(|k| map.get(k).cloned()).unwrap();
        assert_eq!(
            server.authorize_url,
            "https://hub.example.org/jh/hub/api/oauth2/authorize"
        );
        assert!(server.cookie_host_prefix);
        assert!(server.public_https);
        assert_eq!(server.activity_interval, Some(60));
    }

    #[test]
    fn missing_or_bad_values_are_named() {
        let mut map = env(&[]);
        map.remove("JUPYTERHUB_API_TOKEN");
        let err = ServerEnv::from_lookup(|k| map.get(k).cloned()).unwrap_err();
        assert!(err.to_string().contains("JUPYTERHUB_API_TOKEN"), "{err}");
        let map = env(&[("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "nope")]);
        assert!(ServerEnv::from_lookup(|k| map.get(k).cloned()).is_err());
        let map = env(&[("JUPYTERHUB_ACTIVITY_INTERVAL", "soon")]);
        assert!(ServerEnv::from_lookup(|k| map.get(k).cloned()).is_err());
    }
}
