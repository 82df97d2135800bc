//! The launcher's own HTML: the startup / failure / logs page and short messages.
//! Templates are embedded; every value is escaped by minijinja's HTML autoescape.

use std::sync::LazyLock;

use axum::http::StatusCode;
use axum::response::Html;
use minijinja::{Environment, context};

use crate::logs::LogLine;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("../templates/base.html")),
        ("status.html", include_str!("../templates/status.html")),
        ("message.html", include_str!("../templates/message.html")),
    ] {
        // The templates are part of the binary and covered by tests: a syntax error is a
        // build defect, reported on first use rather than at every start.
        if let Err(err) = env.add_template(name, source) {
            tracing::error!("launcher template {name} is broken: {err}");
        }
    }
    env
});

/// What the status page shows.
#[derive(Debug)]
pub struct StatusView<'a> {
    pub app_name: &'a str,
    pub prefix: &'a str,
    pub hub_home: &'a str,
    /// "starting", "ready" or "failed".
    pub phase: &'a str,
    pub reason: &'a str,
    /// `None`: this visitor may not read the output.
    pub lines: Option<&'a [LogLine]>,
    pub logged_in: bool,
    /// The visitor asked for the app itself: open it once it is ready.
    pub reload_on_ready: bool,
}

pub fn status_page(view: &StatusView<'_>) -> Html<String> {
    let lines = view.lines.unwrap_or_default();
    let last_seq = lines
        .last()
        .map_or(-1, |line| i64::try_from(line.seq).unwrap_or(i64::MAX));
    render(
        "status.html",
        context! {
            app_name => view.app_name,
            prefix => view.prefix,
            hub_home => view.hub_home,
            phase => view.phase,
            reason => view.reason,
            show_logs => view.lines.is_some(),
            lines => lines,
            last_seq => last_seq,
            logged_in => view.logged_in,
            reload_on_ready => view.reload_on_ready,
        },
    )
}

/// A short page for errors and refusals.
pub fn message_page(status: StatusCode, message: &str) -> Html<String> {
    let title = status.canonical_reason().unwrap_or("Error");
    render(
        "message.html",
        context! { app_name => title, title => title, message => message },
    )
}

fn render(name: &str, ctx: minijinja::Value) -> Html<String> {
    match TEMPLATES.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html),
        Err(err) => {
            tracing::error!("cannot render {name}: {err}");
            Html("<!doctype html><title>japps</title><p>This page cannot be shown.</p>".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{LogBuffer, Source};

    #[test]
    fn user_text_is_escaped() {
        let logs = LogBuffer::new(10, false);
        logs.push(Source::Stdout, "<script>alert(1)</script>");
        let lines = logs.tail(10);
        let html = status_page(&StatusView {
            app_name: "<b>name</b>",
            prefix: "/user/a/app/",
            hub_home: "/hub/home",
            phase: "failed",
            reason: "exit \"3\" <x>",
            lines: Some(&lines),
            logged_in: true,
            reload_on_ready: false,
        })
        .0;
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)"));
        assert!(html.contains("&lt;b&gt;name&lt;"));
        assert!(html.contains("The app stopped: exit"));
    }

    #[test]
    fn output_is_hidden_from_visitors_who_may_not_read_it() {
        let html = status_page(&StatusView {
            app_name: "App",
            prefix: "/user/a/app/",
            hub_home: "/hub/home",
            phase: "starting",
            reason: "",
            lines: None,
            logged_in: false,
            reload_on_ready: true,
        })
        .0;
        assert!(!html.contains("id=\"log\""));
        assert!(html.contains("Log in to see the output"));
        assert!(html.contains("Starting the app"));
        let message = message_page(StatusCode::FORBIDDEN, "no <access>").0;
        assert!(message.contains("no &lt;access&gt;"));
    }
}
