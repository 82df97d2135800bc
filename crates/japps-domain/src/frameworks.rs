//! The app frameworks japps can run, and the operator's allowed/blocked lists.
//!
//! The names, display names and order are jhub-apps' (`/frameworks/` lists them in this
//! order, and stored apps refer to them by name). `c.JAppsConfig.allowed_frameworks` and
//! `blocked_frameworks` narrow them down: available = all ∩ allowed − blocked.

use std::collections::BTreeSet;

/// One framework an app can be written in. The service (lists, checks), the launcher
/// (how to run it) and stored apps (by [`Framework::name`]) all use this one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// Every framework, in jhub-apps' order.
    pub const ALL: [Framework; 8] = [
        Self::Panel,
        Self::Bokeh,
        Self::Streamlit,
        Self::Voila,
        Self::PlotlyDash,
        Self::Gradio,
        Self::Custom,
        Self::JupyterLab,
    ];

    /// The name stored in `user_options.framework`.
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

    /// The name shown to people.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Panel => "Panel",
            Self::Bokeh => "Bokeh",
            Self::Streamlit => "Streamlit",
            Self::Voila => "Voila",
            Self::PlotlyDash => "PlotlyDash",
            Self::Gradio => "Gradio",
            Self::Custom => "Custom Command",
            Self::JupyterLab => "JupyterLab",
        }
    }

    /// The framework stored as `name` (exact: stored names are lower case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|framework| framework.name() == name)
    }
}

impl std::fmt::Display for Framework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every framework, in jhub-apps' order.
pub const FRAMEWORKS: [Framework; 8] = Framework::ALL;

/// The framework called `name`, if japps knows it.
pub fn framework(name: &str) -> Option<Framework> {
    Framework::from_name(name)
}

/// Which frameworks the operator lets users create apps with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkPolicy {
    /// `None`: every framework is allowed.
    allowed: Option<BTreeSet<String>>,
    blocked: BTreeSet<String>,
}

impl FrameworkPolicy {
    /// From `c.JAppsConfig.allowed_frameworks` and `blocked_frameworks` (`None` = not set).
    pub fn new(allowed: Option<&[String]>, blocked: Option<&[String]>) -> Self {
        Self {
            allowed: allowed.map(|names| names.iter().cloned().collect()),
            blocked: blocked
                .map(|names| names.iter().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// Whether an app may use the framework `name` (unknown names are never allowed).
    pub fn allows(&self, name: &str) -> bool {
        framework(name).is_some()
            && self
                .allowed
                .as_ref()
                .is_none_or(|allowed| allowed.contains(name))
            && !self.blocked.contains(name)
    }

    /// The frameworks users may choose, in jhub-apps' order.
    pub fn available(&self) -> Vec<Framework> {
        FRAMEWORKS
            .into_iter()
            .filter(|framework| self.allows(framework.name()))
            .collect()
    }

    /// Names in the allowed or blocked list that are no framework japps knows (typos, or
    /// names from another launcher); they are ignored, and worth one warning.
    pub fn unknown_names(&self) -> Vec<&str> {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for name in self.allowed.iter().flatten().chain(&self.blocked) {
            if framework(name).is_none() {
                names.insert(name);
            }
        }
        names.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(policy: &FrameworkPolicy) -> Vec<&'static str> {
        policy.available().iter().map(|f| f.name()).collect()
    }

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn everything_in_jhub_apps_order_by_default() {
        let policy = FrameworkPolicy::new(None, None);
        assert_eq!(
            names(&policy),
            [
                "panel",
                "bokeh",
                "streamlit",
                "voila",
                "plotlydash",
                "gradio",
                "custom",
                "jupyterlab"
            ]
        );
        assert!(policy.unknown_names().is_empty());
        assert_eq!(
            framework("custom").unwrap().display_name(),
            "Custom Command"
        );
        assert_eq!(
            framework("plotlydash").unwrap().display_name(),
            "PlotlyDash"
        );
        for framework in Framework::ALL {
            assert_eq!(Framework::from_name(framework.name()), Some(framework));
        }
        assert_eq!(Framework::from_name("Panel"), None);
    }

    #[test]
    fn allowed_intersect_minus_blocked() {
        // The cases of jhub-apps' own tests.
        let all_but_lab = FrameworkPolicy::new(None, Some(&list(&["jupyterlab"])));
        assert_eq!(names(&all_but_lab).len(), 7);
        assert!(!all_but_lab.allows("jupyterlab"));

        let empty = FrameworkPolicy::new(Some(&[]), Some(&list(&["jupyterlab"])));
        assert!(names(&empty).is_empty());

        let panel_only = FrameworkPolicy::new(Some(&list(&["panel"])), Some(&list(&["bokeh"])));
        assert_eq!(names(&panel_only), ["panel"]);

        // Order is always jhub-apps' order, not the operator's.
        let reordered = FrameworkPolicy::new(
            Some(&list(&["jupyterlab", "streamlit", "panel"])),
            Some(&list(&["streamlit"])),
        );
        assert_eq!(names(&reordered), ["panel", "jupyterlab"]);
    }

    #[test]
    fn unknown_names_are_ignored_and_reported() {
        let policy = FrameworkPolicy::new(
            Some(&list(&["panel", "shiny", "Panel"])),
            Some(&list(&["dash", "shiny"])),
        );
        assert_eq!(names(&policy), ["panel"]);
        assert_eq!(policy.unknown_names(), ["Panel", "dash", "shiny"]);
        assert!(!policy.allows("shiny"));
        assert!(!policy.allows(""));
    }
}
