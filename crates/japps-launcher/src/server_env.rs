//! The standard environment JupyterHub gives every single-user server, read once (by
//! [`japps_auth::HubEnv`], as the service reads its own).

use japps_auth::HubEnv;
use japps_auth::env::{bind_address, normalize_prefix};
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
    /// The hub's home page as a browser sees it.
    pub hub_home: String,
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

    /// Reads from `lookup` (tests pass a map), through the same reading of JupyterHub's
    /// variables as the service's.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LaunchError> {
        let hub =
            HubEnv::from_lookup(lookup).map_err(|err| LaunchError::Config(err.to_string()))?;
        let missing = |name: &str| {
            LaunchError::Config(format!(
                "{name} is not set: japps launch runs as a JupyterHub server, started by the hub"
            ))
        };
        let service_url = hub
            .service_url
            .clone()
            .ok_or_else(|| missing("JUPYTERHUB_SERVICE_URL"))?;
        let (bind_host, bind_port) = bind_address("JUPYTERHUB_SERVICE_URL", &service_url)
            .map_err(|err| LaunchError::Config(err.to_string()))?;
        let prefix = hub
            .service_prefix
            .clone()
            .unwrap_or_else(|| normalize_prefix(service_url.path()));
        let api_url = hub
            .api_url
            .clone()
            .ok_or_else(|| missing("JUPYTERHUB_API_URL"))?;
        let api_token = hub
            .api_token
            .clone()
            .ok_or_else(|| missing("JUPYTERHUB_API_TOKEN"))?;
        let client_id = hub
            .client_id
            .clone()
            .ok_or_else(|| missing("JUPYTERHUB_CLIENT_ID"))?;
        let user = hub.user.clone().ok_or_else(|| missing("JUPYTERHUB_USER"))?;
        let server_name = hub.server_name.clone().unwrap_or_default();
        let access_scopes = match &hub.access_scopes {
            Some(scopes) if !scopes.is_empty() => scopes.clone(),
            // What JupyterHub itself would require for this server.
            _ => vec![
                format!("access:servers!server={user}/{server_name}"),
                format!("access:servers!user={user}"),
            ],
        };
        Ok(Self {
            bind_host,
            bind_port,
            oauth_callback_url: hub
                .oauth_callback_url
                .clone()
                .unwrap_or_else(|| format!("{prefix}oauth_callback")),
            prefix,
            user,
            server_name,
            api_url,
            api_token,
            client_id,
            authorize_url: hub.authorize_url(),
            hub_home: hub.hub_url("home"),
            access_scopes,
            cookie_host_prefix: hub.cookie_host_prefix,
            public_https: hub.public_https(),
            activity_interval: hub.activity_interval,
        })
    }

    /// The prefix without its trailing slash (`/user/alice/app`).
    pub fn root_path(&self) -> &str {
        self.prefix.trim_end_matches('/')
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
