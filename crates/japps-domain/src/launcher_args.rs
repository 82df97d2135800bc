//! The operator's rules about launcher flags, shared by the service (which refuses an app
//! whose `JHUB_APP_PROXY_ARGS` breaks them when it is saved) and `japps launch` (which
//! enforces them again on whatever definition reaches it, however it was stored).
//!
//! Flags are compared by name, lexically (`--name=value`, `--name value`, `--name`): the
//! launcher's full parser lives in the launcher, and a flag it does not know is skipped
//! there anyway.

/// The app `env` variable with per-app launcher flags (jhub-app-proxy's name).
pub const OVERRIDES_ENV: &str = "JHUB_APP_PROXY_ARGS";
/// jhub-apps' per-app keep-alive switch in the app's `env`.
pub const KEEP_ALIVE_ENV: &str = "JH_APPS_KEEP_ALIVE";

/// Launcher flags that only the spawner may pass on the command line (from
/// `c.JAppsConfig`); `JHUB_APP_PROXY_ARGS` cannot set them.
pub const ALLOW_PUBLIC_FLAG: &str = "--allow-public";
pub const ALLOW_KEEP_ALIVE_FLAG: &str = "--allow-keep-alive";
pub const ARGS_FINAL_FLAG: &str = "--launcher-args-final";
pub const POLICY_FLAGS: [&str; 3] = [ALLOW_PUBLIC_FLAG, ALLOW_KEEP_ALIVE_FLAG, ARGS_FINAL_FLAG];

/// One flag as written: its name (with the dashes) and its value, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
}

impl Flag {
    /// The flag as `--name=value` (or `--name`), for messages.
    pub fn shown(&self) -> String {
        match &self.value {
            Some(value) => format!("{}={value}", self.name),
            None => self.name.clone(),
        }
    }

    /// A switch's state: `--flag` alone is on; `--flag=false` (and 0, no, off) is off.
    pub fn is_on(&self) -> bool {
        self.value.as_deref().is_none_or(truthy)
    }
}

/// Splits words into flags: a word not starting with `--` is the value of the flag
/// before it. Words before the first flag are dropped.
pub fn flags<S: AsRef<str>>(words: &[S]) -> Vec<Flag> {
    let mut out: Vec<Flag> = Vec::new();
    for word in words {
        let word = word.as_ref();
        if word.starts_with("--") {
            let (name, value) = match word.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (word, None),
            };
            out.push(Flag {
                name: name.to_owned(),
                value,
            });
        } else if let Some(last) = out.last_mut()
            && last.value.is_none()
        {
            last.value = Some(word.to_owned());
        }
    }
    out
}

/// `JHUB_APP_PROXY_ARGS` split shell-style; `None` when its quotes do not balance.
pub fn override_flags(value: &str) -> Option<Vec<Flag>> {
    shlex::split(value).map(|words| flags(&words))
}

/// A value as jhub-apps users write switches; only a truthy one counts (jhub-apps took
/// "false" for true).
pub fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// What the operator decided about launcher flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LauncherRules {
    pub allow_public: bool,
    pub allow_keep_alive: bool,
    /// The operator's `launcher_args` when they are final (users cannot change them).
    pub final_args: Vec<Flag>,
}

impl LauncherRules {
    /// Why the per-app `overrides` break these rules, if they do: one message naming the
    /// first offending flag.
    pub fn refuse_overrides(&self, overrides: &[Flag]) -> Option<String> {
        for flag in overrides {
            if POLICY_FLAGS.contains(&flag.name.as_str()) {
                return Some(format!(
                    "{} can only be set by the operator (c.JAppsConfig)",
                    flag.name
                ));
            }
            if !self.allow_public
                && flag.name == "--authtype"
                && flag
                    .value
                    .as_deref()
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("none"))
            {
                return Some(format!(
                    "{} would make the app public, which this deployment does not allow \
                     (c.JAppsConfig.allow_public_apps)",
                    flag.shown()
                ));
            }
            if !self.allow_keep_alive && flag.name == "--keep-alive" && flag.is_on() {
                return Some(format!(
                    "{} is not allowed on this deployment (c.JAppsConfig.allow_keep_alive)",
                    flag.shown()
                ));
            }
            if let Some(fixed) = self
                .final_args
                .iter()
                .rev()
                .find(|fixed| fixed.name == flag.name)
                && fixed.value != flag.value
            {
                return Some(format!(
                    "{} is set by the operator to {} and cannot be changed per app \
                     (c.JAppsConfig.launcher_args_final)",
                    flag.name,
                    fixed.shown()
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> LauncherRules {
        LauncherRules {
            allow_public: true,
            allow_keep_alive: true,
            final_args: Vec::new(),
        }
    }

    fn over(value: &str) -> Vec<Flag> {
        override_flags(value).unwrap()
    }

    #[test]
    fn flags_are_read_as_the_launcher_reads_them() {
        let parsed = over("--ready-timeout 60 --keep-alive --authtype=none --workdir='a b'");
        assert_eq!(parsed.len(), 4);
        assert_eq!(parsed[0].shown(), "--ready-timeout=60");
        assert!(parsed[1].is_on());
        assert_eq!(parsed[2].value.as_deref(), Some("none"));
        assert_eq!(parsed[3].value.as_deref(), Some("a b"));
        assert!(!over("--keep-alive=false")[0].is_on());
        assert!(override_flags("--workdir='open").is_none());
    }

    #[test]
    fn anything_goes_by_default() {
        assert_eq!(
            rules().refuse_overrides(&over("--authtype=none --keep-alive --ready-timeout=9")),
            None
        );
    }

    #[test]
    fn no_public_means_no_authtype_none() {
        let rules = LauncherRules {
            allow_public: false,
            ..rules()
        };
        for value in ["--authtype=none", "--authtype none", "--authtype=NONE"] {
            let message = rules.refuse_overrides(&over(value)).expect(value);
            assert!(message.contains("allow_public_apps"), "{message}");
        }
        assert_eq!(rules.refuse_overrides(&over("--authtype=oauth")), None);
    }

    #[test]
    fn no_keep_alive_means_no_keep_alive_flag() {
        let rules = LauncherRules {
            allow_keep_alive: false,
            ..rules()
        };
        for value in ["--keep-alive", "--keep-alive=true", "--keep-alive 1"] {
            let message = rules.refuse_overrides(&over(value)).expect(value);
            assert!(message.contains("allow_keep_alive"), "{message}");
        }
        assert_eq!(rules.refuse_overrides(&over("--keep-alive=false")), None);
    }

    #[test]
    fn final_operator_args_cannot_change() {
        let rules = LauncherRules {
            final_args: flags(&["--authtype=oauth", "--ready-timeout", "60"]),
            ..rules()
        };
        let message = rules
            .refuse_overrides(&over("--ready-timeout=600"))
            .unwrap();
        assert!(
            message.contains("--ready-timeout is set by the operator to --ready-timeout=60"),
            "{message}"
        );
        assert!(rules.refuse_overrides(&over("--authtype=none")).is_some());
        // Repeating the operator's value changes nothing; other flags stay the user's.
        assert_eq!(
            rules.refuse_overrides(&over("--ready-timeout=60 --exit-grace=5")),
            None
        );
    }

    #[test]
    fn policy_flags_are_the_operators() {
        for flag in POLICY_FLAGS {
            assert!(rules().refuse_overrides(&over(flag)).is_some(), "{flag}");
        }
    }
}
