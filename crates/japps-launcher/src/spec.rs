//! The app definition the spawner hands to `japps launch`, as JSON in `JAPPS_APP`.
//!
//! It is the app's stored `user_options` (jhub-apps' field names) narrowed to what running
//! the app needs, plus `python_exec` from `c.JAppsConfig`. The thumbnail and description
//! are left out by the plugin: environment strings are limited to 128 KiB on Linux.

use serde::Deserialize;

use crate::LaunchError;

/// The environment variable that carries the app definition.
pub const APP_ENV: &str = "JAPPS_APP";

/// The frameworks the launcher knows how to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    Panel,
    Bokeh,
    Streamlit,
    Voila,
    PlotlyDash,
    Gradio,
    Custom,
    JupyterLab,
}

impl Framework {
    /// The framework stored under `name` in `user_options.framework`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "panel" => Self::Panel,
            "bokeh" => Self::Bokeh,
            "streamlit" => Self::Streamlit,
            "voila" => Self::Voila,
            "plotlydash" => Self::PlotlyDash,
            "gradio" => Self::Gradio,
            "custom" => Self::Custom,
            "jupyterlab" => Self::JupyterLab,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Panel => "panel",
            Self::Bokeh => "bokeh",
            Self::Streamlit => "streamlit",
            Self::Voila => "voila",
            Self::PlotlyDash => "plotlydash",
            Self::Gradio => "gradio",
            Self::Custom => "custom",
            Self::JupyterLab => "jupyterlab",
        }
    }
}

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

#[derive(Deserialize)]
struct Raw {
    framework: Option<String>,
    display_name: Option<String>,
    filepath: Option<String>,
    custom_command: Option<String>,
    conda_env: Option<String>,
    keep_alive: Option<bool>,
    public: Option<bool>,
    repository: Option<RawRepository>,
    python_exec: Option<String>,
}

#[derive(Deserialize)]
struct RawRepository {
    url: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

impl AppSpec {
    /// Parses `JAPPS_APP`. Unknown fields are ignored (user_options carries more than the
    /// launcher needs); empty strings count as absent, as in jhub-apps' form.
    pub fn from_json(json: &str) -> Result<Self, LaunchError> {
        let raw: Raw = serde_json::from_str(json).map_err(|err| {
            LaunchError::Config(format!("{APP_ENV} is not a valid app definition: {err}"))
        })?;
        let framework_name = non_empty(raw.framework).unwrap_or_else(|| "custom".into());
        let framework = Framework::from_name(&framework_name)
            .ok_or_else(|| LaunchError::Config(format!("unknown framework {framework_name:?}")))?;
        let custom_command = non_empty(raw.custom_command);
        if framework == Framework::Custom && custom_command.is_none() {
            return Err(LaunchError::Config(
                "a custom app needs a command (custom_command)".into(),
            ));
        }
        let repository = match raw.repository {
            None => None,
            Some(repo) => Some(Repository {
                url: non_empty(repo.url)
                    .ok_or_else(|| LaunchError::Config("repository.url is empty".into()))?,
                git_ref: non_empty(repo.git_ref),
            }),
        };
        Ok(Self {
            framework,
            display_name: non_empty(raw.display_name).unwrap_or_else(|| "App".into()),
            filepath: non_empty(raw.filepath),
            custom_command,
            conda_env: non_empty(raw.conda_env),
            keep_alive: raw.keep_alive.unwrap_or(false),
            public: raw.public.unwrap_or(false),
            repository,
            python_exec: non_empty(raw.python_exec).unwrap_or_else(|| "python".into()),
        })
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
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
        ] {
            assert!(AppSpec::from_json(bad).is_err(), "{bad} should be refused");
        }
    }
}
