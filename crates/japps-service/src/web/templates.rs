//! The page templates: embedded in the binary, each replaceable by a file of the same name
//! in `c.JAppsConfig.templates_dir`. Every value is HTML-escaped by minijinja's autoescape
//! unless a template marks it safe.

use std::path::Path;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error};

/// The built-in templates, by the name an override file must have.
const BUILT_IN: [(&str, &str); 6] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    (
        "app_form.html",
        include_str!("../../templates/app_form.html"),
    ),
    ("success.html", include_str!("../../templates/success.html")),
    (
        "app_page.html",
        include_str!("../../templates/app_page.html"),
    ),
    ("error.html", include_str!("../../templates/error.html")),
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
        env.set_auto_escape_callback(|_| AutoEscape::Html);
        // minijinja's HTML escaping also encodes `/`, which makes every URL and
        // `data-app="owner/server"` three times longer; `&<>"'` are the ones that matter.
        env.set_formatter(|out, state, value| {
            if state.auto_escape() == AutoEscape::Html
                && !value.is_safe()
                && let Some(text) = value.as_str()
            {
                return out.write_str(&escape_html(text)).map_err(Error::from);
            }
            minijinja::escape_formatter(out, state, value)
        });
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

    #[cfg(test)]
    pub(crate) fn render_str(&self, source: &str, ctx: Value) -> String {
        self.env.render_str(source, ctx).unwrap()
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

/// Text safe in element content and in quoted attribute values.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_for_content_and_attributes() {
        let templates = Templates::new(None);
        let html = templates.render_str(
            r#"<a title="{{ v }}" href="{{ u }}">{{ v }}</a>{{ s | safe }}{{ n }}"#,
            minijinja::context! { v => "<x> & \"y\" 'z'", u => "/a/b", s => "<b>", n => 3 },
        );
        assert_eq!(
            html,
            r#"<a title="&lt;x&gt; &amp; &quot;y&quot; &#39;z&#39;" href="/a/b">&lt;x&gt; &amp; &quot;y&quot; &#39;z&#39;</a><b>3"#
        );
    }
}
