//! `GET {prefix}docs`: `openapi.json` rendered for people.
//!
//! One self-contained page that works offline: its style and script are inline, allowed
//! by their hashes in a strict Content-Security-Policy, and the only thing it loads is
//! `openapi.json` next to it (and japps' logo as its icon). The script builds the page with
//! DOM calls and `textContent` only, so nothing from the document is ever parsed as HTML.

use std::sync::LazyLock;

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

const TEMPLATE: &str = include_str!("../../assets/docs/docs.html");
const STYLE: &str = include_str!("../../assets/docs/docs.css");
const SCRIPT: &str = include_str!("../../assets/docs/docs.js");
const STYLE_SLOT: &str = "@STYLE@";
const SCRIPT_SLOT: &str = "@SCRIPT@";

#[derive(Debug)]
struct Page {
    html: String,
    csp: String,
}

static PAGE: LazyLock<Page> = LazyLock::new(|| Page {
    html: TEMPLATE
        .replacen(STYLE_SLOT, STYLE, 1)
        .replacen(SCRIPT_SLOT, SCRIPT, 1),
    csp: format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; connect-src 'self'; \
         img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        sha256_source(SCRIPT),
        sha256_source(STYLE)
    ),
});

/// A CSP hash source for an inline element's exact text.
fn sha256_source(text: &str) -> String {
    format!(
        "sha256-{}",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

#[utoipa::path(
    get,
    path = "/docs",
    operation_id = "docs",
    tag = "docs",
    summary = "This API description, for people",
    description = "An HTML page that renders `openapi.json`: every operation with its \
        parameters, responses, schemas and whether it needs a login. Self-contained (works \
        offline). Public; no hub call.",
    responses(
        (status = 200, description = "An HTML page.", body = String,
            content_type = "text/html; charset=utf-8",
            headers(("content-security-policy" = String,
                description = "Only its own inline style and script, and `openapi.json`."))),
    ),
)]
pub(crate) async fn page() -> Response {
    let page = &*PAGE;
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, page.csp.as_str()),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (REFERRER_POLICY, "no-referrer"),
            (CACHE_CONTROL, "no-cache"),
        ],
        page.html.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_and_script_fill_their_slots_once() {
        for (slot, open, text, close) in [
            (STYLE_SLOT, "<style>", STYLE, "</style>"),
            (SCRIPT_SLOT, "<script>", SCRIPT, "</script>"),
        ] {
            assert_eq!(TEMPLATE.matches(slot).count(), 1, "{slot}");
            assert!(TEMPLATE.contains(&format!("{open}{slot}{close}")), "{slot}");
            // The inline text is exactly the hashed text: nothing in it ends the element.
            assert!(!text.contains(close), "{close} inside");
            assert!(PAGE.html.contains(&format!("{open}{text}{close}")));
            assert!(PAGE.csp.contains(&sha256_source(text)));
        }
        assert!(!PAGE.html.contains("@STYLE@") && !PAGE.html.contains("@SCRIPT@"));
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere_and_parses_no_html() {
        for (name, text) in [("html", TEMPLATE), ("css", STYLE), ("js", SCRIPT)] {
            let lower = text.to_ascii_lowercase();
            for external in ["http:", "https:", "//cdn", "@import", "url("] {
                assert!(!lower.contains(external), "{name} has {external}");
            }
            for unsafe_sink in [
                "innerhtml",
                "outerhtml",
                "insertadjacenthtml",
                "document.write",
                "eval(",
                "new function",
                "javascript:",
            ] {
                assert!(!lower.contains(unsafe_sink), "{name} has {unsafe_sink}");
            }
            assert!(
                !lower.contains(" style="),
                "{name}: inline style attributes need 'unsafe-inline'"
            );
        }
        // Elements that load something: only the icon, from this service.
        assert!(!TEMPLATE.contains(" src="));
        assert_eq!(TEMPLATE.matches("<link").count(), 1);
        assert!(TEMPLATE.contains(r#"<link rel="icon" href="static/logos/japps.svg""#));
        // The document it renders is the one next to it.
        assert!(SCRIPT.contains("fetch('openapi.json'"));
    }

    #[test]
    fn the_policy_is_strict() {
        let csp = &PAGE.csp;
        assert!(csp.starts_with("default-src 'none';"));
        for directive in csp.split(';').map(str::trim) {
            assert!(!directive.contains("unsafe"), "{directive}");
            assert!(!directive.contains('*'), "{directive}");
        }
        assert!(csp.contains("connect-src 'self'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
