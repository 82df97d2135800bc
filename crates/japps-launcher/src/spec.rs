//! The app definition the spawner hands to `japps launch`, as JSON in `JAPPS_APP`.
//!
//! It is the app's stored `user_options` narrowed to what running the app needs
//! ([`LAUNCHER_KEYS`]), plus `python_exec` from `c.JAppsConfig`. The thumbnail and
//! description are left out by the plugin: environment strings are limited to 128 KiB on
//! Linux.

use japps_domain::app::{AppOptions, LAUNCHER_KEYS};
use serde_json::{Map, Value};

use crate::LaunchError;

pub use japps_domain::app::APP_ENV;
/// The frameworks are the domain's: one list for the service and the launcher.
pub use japps_domain::frameworks::Framework;

/// A git repository to clone before the app starts; `filepath` is relative to its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub url: String,
    /// Branch or tag; `None` = the repository's default branch.
    pub git_ref: Option<String>,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    pub framework: Framework,
    /// Shown on the startup page.
    pub display_name: String,
    /// The app's file (script, notebook); `None` = the built-in example for the framework.
    pub filepath: Option<String>,
    /// For `custom`: the command, split shell-style, with `{port}` and `{root_path}`.
    pub custom_command: Option<String>,
    /// A conda (or pixi) environment to run the app in.
    pub conda_env: Option<String>,
    pub keep_alive: bool,
    /// Visitors need no login for the app itself (never for its logs).
    pub public: bool,
    pub repository: Option<Repository>,
    /// The Python interpreter for the framework commands (`c.JAppsConfig.python_exec`).
    pub python_exec: String,
}

impl AppSpec {
    /// Parses `JAPPS_APP`: the app definition ([`AppOptions`], read and checked as the
    /// service checks it when the app is saved) narrowed to [`LAUNCHER_KEYS`], plus
    /// `python_exec`. Empty strings count as absent, as in jhub-apps' form.
    pub fn from_json(json: &str) -> Result<Self, LaunchError> {
        let invalid =
            |err: &dyn std::fmt::Display| LaunchError::Config(format!("{APP_ENV}: {err}"));
        let mut map: Map<String, Value> = serde_json::from_str(json).map_err(|err| {
            LaunchError::Config(format!("{APP_ENV} is not a valid app definition: {err}"))
        })?;
        let python_exec = match map.remove("python_exec") {
            None | Some(Value::Null) => None,
            Some(Value::String(exec)) => Some(exec.trim().to_owned()).filter(|e| !e.is_empty()),
            Some(_) => return Err(invalid(&"python_exec must be a string")),
        };
        map.retain(|key, _| LAUNCHER_KEYS.contains(&key.as_str()));
        let options = AppOptions::parse(map).map_err(|err| invalid(&err))?;
        let framework = options.validate().map_err(|err| invalid(&err))?;
        let owned = |value: Option<&str>| value.map(str::to_owned);
        Ok(Self {
            framework,
            display_name: options.title().unwrap_or("App").to_owned(),
            filepath: owned(options.filepath()),
            custom_command: owned(options.custom_command()),
            conda_env: owned(options.conda_env()),
            keep_alive: options.keeps_alive(),
            public: options.is_public(),
            repository: options.repository().and_then(|repository| {
                Some(Repository {
                    url: repository.url()?.to_owned(),
                    git_ref: owned(repository.git_ref()),
                })
            }),
            python_exec: python_exec.unwrap_or_else(|| "python".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_definition() {
        let spec = AppSpec::from_json(
            r#"{"framework":"panel","display_name":"Sales","filepath":"app.py","conda_env":"env1",
                "keep_alive":true,"public":false,"repository":{"url":"https://x/y.git","ref":"dev"},
                "python_exec":"python3","thumbnail":"data:..."}"#,
        )
        .unwrap();
        assert_eq!(spec.framework, Framework::Panel);
        assert_eq!(spec.filepath.as_deref(), Some("app.py"));
        assert_eq!(spec.conda_env.as_deref(), Some("env1"));
        assert!(spec.keep_alive);
        assert_eq!(
            spec.repository,
            Some(Repository {
                url: "https://x/y.git".into(),
                git_ref: Some("dev".into())
            })
        );
        assert_eq!(spec.python_exec, "python3");
    }

    #[test]
    fn empty_strings_are_absent() {
        let spec = AppSpec::from_json(
            r#"{"framework":"streamlit","filepath":"  ","conda_env":"","repository":null}"#,
        )
        .unwrap();
        assert_eq!(spec.filepath, None);
        assert_eq!(spec.conda_env, None);
        assert_eq!(spec.python_exec, "python");
        assert_eq!(spec.display_name, "App");
    }

    #[test]
    fn refusals() {
        for bad in [
            "not json",
            r#"{"framework":"cobol"}"#,
            r#"{"framework":"custom"}"#,
            r#"{"framework":"custom","custom_command":" "}"#,
            r#"{"framework":"panel","repository":{"url":""}}"#,
            r#"{"framework":"panel","keep_alive":"yes"}"#,
            r#"{"framework":"custom","custom_command":"python 'x"}"#,
            r#"{}"#,
            r#"{"framework":"panel","python_exec":3}"#,
        ] {
            assert!(AppSpec::from_json(bad).is_err(), "{bad} should be refused");
        }
        let err = AppSpec::from_json(r#"{"framework":"custom"}"#).unwrap_err();
        assert!(err.to_string().contains("custom_command"), "{err}");
    }

    #[test]
    fn keys_the_launcher_does_not_read_are_not_checked() {
        // The plugin hands only the launcher's keys; anything else is not its business.
        let spec = AppSpec::from_json(
            r#"{"framework":"panel","env":{"JUPYTERHUB_X":"1"},"share_with":"x","other":1}"#,
        )
        .unwrap();
        assert_eq!(spec.framework, Framework::Panel);
    }

    /// The keys the plugin puts in `JAPPS_APP` (`APP_KEYS` in `python/japps/spawner.py`)
    /// are exactly the ones the launcher reads.
    #[test]
    fn the_plugin_hands_over_the_launcher_keys() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../python/japps/spawner.py");
        let source = std::fs::read_to_string(path).unwrap();
        let start = source
            .find("\nAPP_KEYS = (")
            .expect("APP_KEYS in spawner.py")
            + 1;
        let tuple = &source[start..];
        let tuple = &tuple[tuple.find('(').unwrap() + 1..tuple.find(')').unwrap()];
        let python: Vec<&str> = tuple
            .lines()
            .map(|line| line.split('#').next().unwrap_or_default().trim())
            .flat_map(|line| line.split(','))
            .map(|item| item.trim().trim_matches('"').trim_matches('\''))
            .filter(|item| !item.is_empty())
            .collect();
        assert_eq!(python, LAUNCHER_KEYS, "APP_KEYS in {path}");
        for key in &python {
            assert!(
                japps_domain::app::KEYS.contains(key),
                "{key} is no AppOptions key"
            );
        }
    }
}
