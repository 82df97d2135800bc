//! The operator's `c.JAppsConfig` settings as the hub plugin hands them to the service.
//!
//! The plugin serialises every JSON-representable trait into the `JAPPS_CONFIG` environment
//! variable (trait name → value). Field names and defaults are those of jhub-apps, so an
//! unchanged jhub-apps configuration means the same thing here. Settings that are Python
//! callables cannot travel as JSON; the plugin lists their names in `callables` instead.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Why the configuration handed to the service could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("JAPPS_CONFIG is not valid JSON for the japps configuration: {0}")]
    Invalid(#[from] serde_json::Error),
}

/// `c.JAppsConfig.apps_auth_type`. Carried for compatibility: jhub-apps ignores it too and
/// decides per app (`public`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppsAuthType {
    #[default]
    Oauth,
    None,
}

/// The whole japps configuration. Every field has the jhub-apps default, so an empty object
/// (or no `JAPPS_CONFIG` at all, for an external service) is a valid configuration.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct JAppsConfig {
    pub apps_auth_type: AppsAuthType,
    pub python_exec: String,
    pub app_title: String,
    pub app_icon: String,
    /// Static list of conda environments; empty when `conda_envs` is a callable
    /// (see [`JAppsConfig::is_callable`]).
    pub conda_envs: Vec<String>,
    pub jupyterhub_config_path: String,
    pub hub_host: String,
    pub service_workers: u32,
    /// `None` means every framework is allowed.
    pub allowed_frameworks: Option<Vec<String>>,
    pub blocked_frameworks: Option<Vec<String>>,
    pub startup_apps: Vec<StartupApp>,
    pub jhub_app_proxy_version: String,
    pub additional_services: Vec<AdditionalService>,
    pub banners: Banners,
    /// japps only: the binary the plugin runs for `japps serve` / `japps launch`.
    pub japps_bin: String,
    /// japps only: the port the service listens on (jhub-apps hard-codes 10202).
    pub service_port: u16,
    /// japps only: whether the plugin grants users the scopes sharing needs.
    pub grant_sharing_scopes: bool,
    /// japps only: whether users may run a container image of their choice
    /// (`profile_image`); off by default, since any image can then run on the cluster.
    pub allow_profile_image: bool,
    /// japps only: seconds a token → user lookup is cached (JupyterHub's
    /// `HubAuth.cache_max_age`); 0 disables the cache.
    pub identity_cache_max_age: u64,
    /// japps only: seconds the value of a callable setting (`conda_envs`,
    /// `KubeSpawner.profile_list`) is kept per user before it is evaluated again;
    /// 0 evaluates on every request.
    pub callable_cache_seconds: u64,
    /// japps only: seconds the definition of an app shared by another user is kept per
    /// (owner, server); whether it runs and is still shared is read on every request.
    pub shared_app_cache_seconds: u64,
    /// japps only: a directory whose HTML templates replace the built-in ones of the
    /// same name; empty for none.
    pub templates_dir: String,
    /// japps only: the largest thumbnail upload accepted, in bytes (jhub-apps' UI limit,
    /// 5 MiB, which its server never checks); larger ones are refused with 413.
    pub thumbnail_max_bytes: u64,
    /// japps only: whether `app-config-from-git/` may clone `file://` URLs and local paths
    /// (off by default: they would read repositories on the service's host).
    pub allow_local_git_repositories: bool,
    /// japps only: host names and `*.domain` patterns `app-config-from-git/` may clone
    /// from; empty allows any host with a public address.
    pub git_allowed_hosts: Vec<String>,
    /// japps only: whether `app-config-from-git/` may reach loopback, private, link-local,
    /// unique-local, CGNAT… addresses, and use `git://` (whose address cannot be pinned).
    pub git_allow_private_addresses: bool,
    /// japps only: seconds one `app-config-from-git/` clone may take.
    pub git_clone_timeout: u64,
    /// japps only: the most bytes one `app-config-from-git/` clone may write.
    pub git_clone_max_bytes: u64,
    /// japps only: the most users and groups (together) one app may be shared with; each
    /// is one hub call when the app is saved.
    pub max_share_targets: usize,
    /// japps only: whether the hub keeps its own home page and landing (the plugin then
    /// leaves `/hub/home` and `default_url` alone); the launcher home stays at its prefix.
    pub keep_hub_home: bool,
    /// Whether apps may be public (no login); jhub-apps always allows it.
    pub allow_public_apps: bool,
    /// Whether apps may keep themselves alive against the idle culler.
    pub allow_keep_alive: bool,
    /// japps only: flags of every `japps launch` command.
    pub launcher_args: Vec<String>,
    /// japps only: whether `launcher_args` win over an app's `JHUB_APP_PROXY_ARGS`.
    pub launcher_args_final: bool,
    /// Names of settings that are Python callables in the hub configuration.
    pub callables: Vec<String>,
    /// `c.JupyterHub.template_vars`: the theme of the launcher pages.
    pub template_vars: Map<String, Value>,
    /// `c.KubeSpawner.profile_list` when it is a static list.
    pub profile_list: Vec<Value>,
}

impl Default for JAppsConfig {
    fn default() -> Self {
        Self {
            apps_auth_type: AppsAuthType::Oauth,
            python_exec: "python".into(),
            app_title: "JHub Apps Launcher".into(),
            app_icon: "https://jupyter.org/assets/homepage/main-logo.svg".into(),
            conda_envs: Vec::new(),
            jupyterhub_config_path: "jupyterhub_config.py".into(),
            hub_host: "127.0.0.1".into(),
            service_workers: 2,
            allowed_frameworks: None,
            blocked_frameworks: None,
            startup_apps: Vec::new(),
            jhub_app_proxy_version: "v0.2.2".into(),
            additional_services: Vec::new(),
            banners: Banners::default(),
            japps_bin: "japps".into(),
            service_port: 10202,
            grant_sharing_scopes: true,
            keep_hub_home: false,
            identity_cache_max_age: 300,
            callable_cache_seconds: 60,
            shared_app_cache_seconds: 60,
            templates_dir: String::new(),
            thumbnail_max_bytes: 5 * 1024 * 1024,
            allow_profile_image: false,
            allow_local_git_repositories: false,
            git_allowed_hosts: Vec::new(),
            git_allow_private_addresses: false,
            git_clone_timeout: 60,
            git_clone_max_bytes: 100 * 1024 * 1024,
            max_share_targets: 100,
            allow_public_apps: true,
            allow_keep_alive: true,
            launcher_args: Vec::new(),
            launcher_args_final: true,
            callables: Vec::new(),
            template_vars: Map::new(),
            profile_list: Vec::new(),
        }
    }
}

impl JAppsConfig {
    /// Parses the `JAPPS_CONFIG` JSON. Unknown keys are ignored so that a newer plugin can
    /// talk to an older service during a rolling upgrade.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Whether the named setting is a Python callable that must be evaluated in the hub's
    /// Python environment rather than read from this configuration.
    pub fn is_callable(&self, setting: &str) -> bool {
        self.callables.iter().any(|name| name == setting)
    }
}

/// An app that must exist, stopped, with exactly these options once the service has started.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct StartupApp {
    pub username: String,
    pub servername: String,
    #[serde(default)]
    pub user_options: Map<String, Value>,
}

/// An extra link on the launcher page (`c.JAppsConfig.additional_services`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct AdditionalService {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub thumbnail: Option<String>,
}

/// Top and bottom banners of the launcher pages; a banner with empty text is not shown.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Banners {
    pub top: Banner,
    pub bottom: Banner,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Banner {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreground: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_gives_jhub_apps_defaults() {
        let config = JAppsConfig::from_json("{}").unwrap();
        assert_eq!(config, JAppsConfig::default());
        assert_eq!(config.python_exec, "python");
        assert_eq!(config.hub_host, "127.0.0.1");
        assert_eq!(config.service_port, 10202);
        assert_eq!(config.apps_auth_type, AppsAuthType::Oauth);
        assert!(config.allowed_frameworks.is_none());
        assert_eq!(config.thumbnail_max_bytes, 5 * 1024 * 1024);
        assert_eq!(config.max_share_targets, 100);
        assert_eq!(config.callable_cache_seconds, 60);
    }

    #[test]
    fn thumbnail_limit_is_read() {
        let config = JAppsConfig::from_json(r#"{"thumbnail_max_bytes": 1048576}"#).unwrap();
        assert_eq!(config.thumbnail_max_bytes, 1024 * 1024);
        assert!(JAppsConfig::from_json(r#"{"thumbnail_max_bytes": -1}"#).is_err());
    }

    #[test]
    fn git_clone_settings_are_read() {
        let config = JAppsConfig::default();
        assert!(!config.allow_local_git_repositories);
        assert_eq!(config.git_clone_timeout, 60);
        assert_eq!(config.git_clone_max_bytes, 100 * 1024 * 1024);
        let config = JAppsConfig::from_json(
            r#"{"allow_local_git_repositories": true, "git_clone_timeout": 5,
                "git_clone_max_bytes": 1024}"#,
        )
        .unwrap();
        assert!(config.allow_local_git_repositories);
        assert_eq!(config.git_clone_timeout, 5);
        assert_eq!(config.git_clone_max_bytes, 1024);
    }

    #[test]
    fn plugin_output_is_read() {
        let json = r#"{
            "allowed_frameworks": ["panel", "streamlit"],
            "blocked_frameworks": null,
            "apps_auth_type": "none",
            "callables": ["conda_envs"],
            "startup_apps": [{"username": "alice", "servername": "demo",
                              "user_options": {"display_name": "Demo", "framework": "panel"}}],
            "additional_services": [{"name": "Docs", "url": "/docs", "pinned": true}],
            "banners": {"top": {"text": "Maintenance tonight", "background": "red"}},
            "template_vars": {"hub_title": "Lab hub"},
            "some_future_setting": 1
        }"#;
        let config = JAppsConfig::from_json(json).unwrap();
        assert_eq!(
            config.allowed_frameworks.as_deref(),
            Some(&["panel".to_string(), "streamlit".to_string()][..])
        );
        assert_eq!(config.apps_auth_type, AppsAuthType::None);
        assert!(config.is_callable("conda_envs"));
        assert!(!config.is_callable("profile_list"));
        assert_eq!(config.startup_apps[0].user_options["framework"], "panel");
        assert!(config.additional_services[0].pinned);
        assert_eq!(config.banners.top.text, "Maintenance tonight");
        assert_eq!(config.banners.bottom.text, "");
        assert_eq!(config.template_vars["hub_title"], "Lab hub");
    }

    #[test]
    fn launcher_policy_is_read() {
        let config = JAppsConfig::default();
        assert!(config.allow_public_apps && config.allow_keep_alive);
        assert!(config.launcher_args.is_empty() && config.launcher_args_final);
        let config = JAppsConfig::from_json(
            r#"{"allow_public_apps": false, "allow_keep_alive": false,
                "launcher_args": ["--ready-timeout=60"], "launcher_args_final": false}"#,
        )
        .unwrap();
        assert!(!config.allow_public_apps && !config.allow_keep_alive);
        assert_eq!(config.launcher_args, ["--ready-timeout=60"]);
        assert!(!config.launcher_args_final);
    }

    #[test]
    fn wrong_types_are_reported() {
        let err = JAppsConfig::from_json(r#"{"service_port": "ten"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
