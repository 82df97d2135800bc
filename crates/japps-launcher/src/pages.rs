//! The launcher's own HTML: the startup / failure / logs page and short messages.
//! Templates are embedded; every value is escaped by minijinja's HTML autoescape.

use std::sync::LazyLock;

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Html;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use minijinja::{Environment, context};
use sha2::{Digest, Sha256};

use crate::logs::LogLine;

const BASE_TEMPLATE: &str = include_str!("../templates/base.html");

/// The status page's script, served at `{prefix}_japps/static/status.js`.
pub const STATUS_JS: &str = include_str!("../assets/status.js");

/// The launcher's own pages' policy. Their one inline stylesheet (constant, in
/// `base.html`) is allowed by its hash; scripts only from files. `'self'` is the app's
/// origin: the service's app page frames the launcher's login there (one origin without
/// subdomains), nothing else may.
static PAGE_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let style = inline_style(BASE_TEMPLATE).unwrap_or_default();
    let hash = STANDARD.encode(Sha256::digest(style.as_bytes()));
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'sha256-{hash}'; \
         img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'self'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
});

/// The text of the template's `<style>` element, as rendered (it holds no template syntax).
fn inline_style(template: &str) -> Option<&str> {
    let start = template.find("<style>")? + "<style>".len();
    let end = template[start..].find("</style>")? + start;
    Some(&template[start..end])
}

/// The headers of every answer the launcher makes itself (never the app's: the proxy
/// passes those unchanged).
pub fn set_own_headers(headers: &mut HeaderMap) {
    headers
        .entry(X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    headers
        .entry(CONTENT_SECURITY_POLICY)
        .or_insert_with(|| PAGE_POLICY.clone());
    headers
        .entry(X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("SAMEORIGIN"));
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", BASE_TEMPLATE),
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

    /// A starting app's page as a visitor who is not logged in sees it.
    fn starting_for_a_visitor() -> StatusView<'static> {
        StatusView {
            app_name: "App",
            prefix: "/user/a/app/",
            hub_home: "/hub/home",
            phase: "starting",
            reason: "",
            lines: None,
            logged_in: false,
            reload_on_ready: true,
        }
    }

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
    fn the_policy_allows_the_pages_own_style_and_no_inline_script() {
        let style = inline_style(BASE_TEMPLATE).unwrap();
        assert!(style.contains(":root"), "{style}");
        assert!(!style.contains("{{") && !style.contains("{%"));
        let html = message_page(StatusCode::OK, "x").0;
        assert!(html.contains(&format!("<style>{style}</style>")));
        let mut headers = HeaderMap::new();
        set_own_headers(&mut headers);
        let policy = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        let hash = STANDARD.encode(Sha256::digest(style.as_bytes()));
        assert!(
            policy.contains(&format!("style-src 'sha256-{hash}';")),
            "{policy}"
        );
        assert!(policy.contains("script-src 'self';") && !policy.contains("unsafe"));
        assert!(policy.ends_with("frame-ancestors 'self'"));
        assert_eq!(headers[X_FRAME_OPTIONS], "SAMEORIGIN");
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[REFERRER_POLICY], "same-origin");

        let page = status_page(&starting_for_a_visitor()).0;
        // Autoescaped: `/` is written `&#x2f;`, which browsers read back as `/`.
        let src = "&#x2f;user&#x2f;a&#x2f;app&#x2f;_japps/static/status.js";
        assert!(
            page.contains(&format!(r#"<script src="{src}"></script>"#)),
            "{page}"
        );
        assert_eq!(page.matches("<script").count(), 1, "{page}");
        assert!(
            !page.contains(" style=") && !page.contains(" onload="),
            "{page}"
        );
        assert!(
            page.contains(r#"data-reload-on-ready="true""#)
                && page.contains(r#"data-last-seq="-1""#)
        );
    }

    #[test]
    fn output_is_hidden_from_visitors_who_may_not_read_it() {
        let html = status_page(&starting_for_a_visitor()).0;
        assert!(!html.contains("id=\"log\""));
        assert!(html.contains("Log in to see the output"));
        assert!(html.contains("Starting the app"));
        let message = message_page(StatusCode::FORBIDDEN, "no <access>").0;
        assert!(message.contains("no &lt;access&gt;"));
    }
}
