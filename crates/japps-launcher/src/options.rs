//! Launcher settings: command-line flags of `japps launch` (operator-wide, from
//! `c.JAppsConfig.launcher_args`) and per-app overrides in `JHUB_APP_PROXY_ARGS`.
//!
//! Flag names follow jhub-app-proxy where they mean the same, so per-app overrides
//! written for jhub-apps keep working. Overrides win over the command line, and the
//! command line wins over what the app definition and the framework imply (jhub-apps
//! documented that precedence but its argv order made the framework win).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};
use japps_domain::launcher_args::{self, LauncherRules};

/// The environment variable with per-app overrides, split shell-style.
pub const OVERRIDES_ENV: &str = "JHUB_APP_PROXY_ARGS";

/// Who may reach the app itself. The logs always need the owner's login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthType {
    /// Hub OAuth: anyone the hub grants `access:servers` on this server.
    Oauth,
    /// Anyone with the URL.
    None,
}

/// Every flag is optional so that the sources can be layered; [`Settings`] holds the
/// resolved values.
#[derive(Debug, Clone, Default, Args)]
pub struct LaunchOptions {
    /// oauth (default) or none (what a public app gets).
    #[arg(long, value_enum)]
    pub authtype: Option<AuthType>,
    /// Report activity even without traffic, so the idle culler leaves the app alone.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub keep_alive: Option<bool>,
    /// The path (on the app, after any prefix stripping) polled until the app answers.
    #[arg(long)]
    pub ready_check_path: Option<String>,
    /// Seconds to wait for the app to become ready (default 300).
    #[arg(long)]
    pub ready_timeout: Option<u64>,
    /// Whether the app is served without the server's URL prefix.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub strip_prefix: Option<bool>,
    /// A conda (or pixi) environment to run the app in.
    #[arg(long)]
    pub conda_env: Option<String>,
    /// The app's working directory (default: the server's; a clone when the app has a repository).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Seconds between activity reports to the hub (default: `JUPYTERHUB_ACTIVITY_INTERVAL`, else 300).
    #[arg(long)]
    pub activity_interval: Option<u64>,
    /// Lines of app output kept for the logs page (default 1000).
    #[arg(long)]
    pub log_buffer_size: Option<usize>,
    /// Seconds the failure page stays up after a failed start or a crash, before the
    /// launcher exits and the hub sees the server stop (default 30).
    #[arg(long)]
    pub exit_grace: Option<u64>,
    /// Pass visitors' `Authorization` headers (hub tokens) on to the app. Off by default
    /// (an app owner must not collect visitors' tokens); on for JupyterLab, which
    /// authenticates API calls with them.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub forward_authorization: Option<bool>,
    /// The app's port on 127.0.0.1 (default 0: a free one).
    #[arg(long)]
    pub destport: Option<u16>,
    /// The operator's `c.JAppsConfig.allow_public_apps`, passed by the spawner; false
    /// makes visitors log in even to a public app. Not taken from `JHUB_APP_PROXY_ARGS`.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub allow_public: Option<bool>,
    /// The operator's `c.JAppsConfig.allow_keep_alive`; false reports only real
    /// traffic. Not taken from `JHUB_APP_PROXY_ARGS`.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub allow_keep_alive: Option<bool>,
    /// The operator's `c.JAppsConfig.launcher_args_final`: the command line wins over
    /// `JHUB_APP_PROXY_ARGS`. Not taken from `JHUB_APP_PROXY_ARGS`.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub launcher_args_final: Option<bool>,
    /// A git repository to clone before start (usually from the app definition).
    #[arg(long)]
    pub repo: Option<String>,
    /// The branch or tag of `--repo`.
    #[arg(long)]
    pub repobranch: Option<String>,
    // jhub-app-proxy flags that mean nothing here: accepted so old overrides still parse.
    #[arg(long, hide = true, num_args = 0..=1)]
    pub interim_page_auth: Option<Option<String>>,
    #[arg(long, hide = true, num_args = 0..=1)]
    pub progressive: Option<Option<String>>,
    #[arg(long, hide = true)]
    pub log_format: Option<String>,
    #[arg(long, hide = true)]
    pub log_level: Option<String>,
    #[arg(long, hide = true)]
    pub repofolder: Option<String>,
}

/// Parses one flag group alone, so that one bad override does not hide the others.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct OverrideParser {
    #[command(flatten)]
    options: LaunchOptions,
}

impl LaunchOptions {
    /// Parses `JHUB_APP_PROXY_ARGS`. Flags that cannot be understood are skipped, each
    /// with a message for the app's log: a typo must not keep the app from starting.
    pub fn from_overrides(value: &str) -> (Self, Vec<String>) {
        match shlex::split(value) {
            Some(words) => Self::from_words(words, OVERRIDES_ENV),
            None => (
                Self::default(),
                vec![format!("{OVERRIDES_ENV} has unbalanced quotes; ignored")],
            ),
        }
    }

    /// Parses the launch command's arguments leniently, like [`Self::from_overrides`]:
    /// spawners append arguments meant for Jupyter servers (`--debug`, …).
    pub fn from_args(args: &[String]) -> (Self, Vec<String>) {
        Self::from_words(args.to_vec(), "command line")
    }

    fn from_words(words: Vec<String>, source: &str) -> (Self, Vec<String>) {
        // Group "--flag [value]" words: a word not starting with "--" belongs to the flag before it.
        let mut groups: Vec<Vec<String>> = Vec::new();
        for word in words {
            match groups.last_mut() {
                Some(group) if !word.starts_with("--") => group.push(word),
                _ => groups.push(vec![word]),
            }
        }
        let mut merged = Self::default();
        let mut problems = Vec::new();
        for group in groups {
            match OverrideParser::try_parse_from(&group) {
                Ok(parsed) => merged = merged.overridden_by(parsed.options),
                Err(err) => {
                    let first = err.to_string();
                    let first = first.lines().next().unwrap_or("invalid flag");
                    problems.push(format!(
                        "{source}: ignoring {:?}: {}",
                        group.join(" "),
                        first.trim_start_matches("error: ")
                    ));
                }
            }
        }
        (merged, problems)
    }

    /// `self` with every flag that `other` sets replaced by `other`'s value.
    pub fn overridden_by(self, other: Self) -> Self {
        Self {
            authtype: other.authtype.or(self.authtype),
            keep_alive: other.keep_alive.or(self.keep_alive),
            ready_check_path: other.ready_check_path.or(self.ready_check_path),
            ready_timeout: other.ready_timeout.or(self.ready_timeout),
            strip_prefix: other.strip_prefix.or(self.strip_prefix),
            conda_env: other.conda_env.or(self.conda_env),
            workdir: other.workdir.or(self.workdir),
            activity_interval: other.activity_interval.or(self.activity_interval),
            log_buffer_size: other.log_buffer_size.or(self.log_buffer_size),
            exit_grace: other.exit_grace.or(self.exit_grace),
            forward_authorization: other.forward_authorization.or(self.forward_authorization),
            destport: other.destport.or(self.destport),
            repo: other.repo.or(self.repo),
            repobranch: other.repobranch.or(self.repobranch),
            allow_public: other.allow_public.or(self.allow_public),
            allow_keep_alive: other.allow_keep_alive.or(self.allow_keep_alive),
            launcher_args_final: other.launcher_args_final.or(self.launcher_args_final),
            interim_page_auth: None,
            progressive: None,
            log_format: None,
            log_level: None,
            repofolder: None,
        }
    }
}

impl LaunchOptions {
    /// Drops the operator-only flags (a user's `JHUB_APP_PROXY_ARGS` must not grant
    /// itself what the operator refused); returns a note when there were any.
    pub fn without_policy(mut self) -> (Self, Option<String>) {
        let had = self.allow_public.take().is_some()
            | self.allow_keep_alive.take().is_some()
            | self.launcher_args_final.take().is_some();
        let note = had.then(|| {
            format!(
                "{OVERRIDES_ENV}: ignoring --allow-public, --allow-keep-alive and \
                 --launcher-args-final: only the operator sets them"
            )
        });
        (self, note)
    }

    /// The operator's rules, from the command line (absent flags allow, as jhub-apps).
    pub fn rules(&self, final_args: &[String]) -> LauncherRules {
        LauncherRules {
            allow_public: self.allow_public.unwrap_or(true),
            allow_keep_alive: self.allow_keep_alive.unwrap_or(true),
            final_args: if self.launcher_args_final == Some(true) {
                launcher_args::flags(final_args)
            } else {
                Vec::new()
            },
        }
    }
}

/// Resolved launcher settings that do not depend on the framework.
#[derive(Debug, Clone)]
pub struct Settings {
    pub authtype: AuthType,
    pub keep_alive: bool,
    pub ready_timeout: Duration,
    /// `None` disables activity reporting.
    pub activity_interval: Option<Duration>,
    pub log_buffer_size: usize,
    pub exit_grace: Duration,
    /// Visitors' `Authorization` headers reach the app.
    pub forward_authorization: bool,
}

impl Settings {
    pub const DEFAULT_READY_TIMEOUT: u64 = 300;
    /// JupyterHub's single-user server reports every 5 minutes by default.
    pub const DEFAULT_ACTIVITY_INTERVAL: u64 = 300;
    pub const DEFAULT_LOG_LINES: usize = 1000;
    pub const DEFAULT_EXIT_GRACE: u64 = 30;
}

/// `JH_APPS_KEEP_ALIVE` as jhub-apps users set it, minus jhub-apps' bug that made
/// "false" mean keep alive: only a truthy value counts.
pub use japps_domain::launcher_args::truthy;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_jhub_app_proxy_style_flags() {
        let (options, problems) = LaunchOptions::from_overrides(
            "--ready-check-path=/health --ready-timeout 60 --keep-alive --strip-prefix=false \
             --authtype=none --interim-page-auth --log-format=pretty",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(options.ready_check_path.as_deref(), Some("/health"));
        assert_eq!(options.ready_timeout, Some(60));
        assert_eq!(options.keep_alive, Some(true));
        assert_eq!(options.strip_prefix, Some(false));
        assert_eq!(options.authtype, Some(AuthType::None));
    }

    #[test]
    fn bad_overrides_are_skipped_one_by_one() {
        let (options, problems) = LaunchOptions::from_overrides(
            "--no-such-flag=1 --ready-timeout=abc --activity-interval=5",
        );
        assert_eq!(options.activity_interval, Some(5));
        assert_eq!(options.ready_timeout, None);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("--no-such-flag"));
        let (_, problems) = LaunchOptions::from_overrides("--workdir='unbalanced");
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn later_sources_win() {
        let base = LaunchOptions {
            ready_timeout: Some(10),
            keep_alive: Some(true),
            ..LaunchOptions::default()
        };
        let (over, _) = LaunchOptions::from_overrides("--ready-timeout=20");
        let merged = base.overridden_by(over);
        assert_eq!(merged.ready_timeout, Some(20));
        assert_eq!(merged.keep_alive, Some(true));
    }

    #[test]
    fn overrides_cannot_set_the_operators_policy() {
        let (over, problems) = LaunchOptions::from_overrides(
            "--allow-public --allow-keep-alive=true --launcher-args-final=false --exit-grace=3",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let (over, note) = over.without_policy();
        assert!(note.unwrap().contains("only the operator"));
        assert_eq!(
            (
                over.allow_public,
                over.allow_keep_alive,
                over.launcher_args_final
            ),
            (None, None, None)
        );
        assert_eq!(over.exit_grace, Some(3));
        let (flags, _) = LaunchOptions::from_args(&[
            "--allow-public=false".into(),
            "--launcher-args-final".into(),
        ]);
        let rules = flags.rules(&["--ready-timeout=5".into()]);
        assert!(!rules.allow_public && rules.allow_keep_alive);
        assert_eq!(rules.final_args.len(), 1);
        assert!(LaunchOptions::default().rules(&[]).allow_public);
    }

    #[test]
    fn keep_alive_env_values() {
        for yes in ["1", "true", "True", " yes "] {
            assert!(truthy(yes), "{yes}");
        }
        for no in ["", "0", "false", "no", "off"] {
            assert!(!truthy(no), "{no}");
        }
    }
}
