//! The page templates: embedded in the binary, each replaceable by a file of the same name
//! in `c.JAppsConfig.templates_dir`. Every value is HTML-escaped by minijinja's autoescape
//! unless a template marks it safe.

use std::path::Path;

use minijinja::Environment;
use minijinja::value::Value;

/// The built-in templates, by the name an override file must have.
const BUILT_IN: [(&str, &str); 2] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
];

#[derive(Debug)]
pub(crate) struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates, with the operator's files from `dir` (if any) in their
    /// place. A missing or broken override is logged and the built-in one kept, so a typo
    /// in a customisation never takes the launcher down.
    pub(crate) fn new(dir: Option<&Path>) -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, source) in BUILT_IN {
            if let Err(err) = env.add_template(name, source) {
                tracing::error!("built-in template {name} is broken: {err}");
            }
        }
        if let Some(dir) = dir {
            for (name, _) in BUILT_IN {
                let path = dir.join(name);
                let Ok(source) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let mut trial = Environment::new();
                match trial.add_template_owned(name.to_owned(), source.clone()) {
                    Ok(()) => {
                        // Only now: a broken file must not replace the working built-in one.
                        if let Err(err) = env.add_template_owned(name.to_owned(), source) {
                            tracing::error!(path = %path.display(), "template override: {err}");
                        } else {
                            tracing::info!(path = %path.display(), "template override in use");
                        }
                    }
                    Err(err) => {
                        tracing::error!(path = %path.display(), "template override is broken, using the built-in one: {err}")
                    }
                }
            }
        }
        Self { env }
    }

    /// Renders `name`; a failure is logged and answered with a minimal page.
    pub(crate) fn render(&self, name: &str, ctx: Value) -> String {
        match self.env.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => html,
            Err(err) => {
                tracing::error!("cannot render {name}: {err:#}");
                "<!doctype html><title>japps</title><p>This page cannot be shown.</p>".into()
            }
        }
    }
}
