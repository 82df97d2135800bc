//! The headers every answer of the service carries, set in one layer: a
//! Content-Security-Policy the pages comply with (no inline script, no inline style but the
//! theme's own stylesheet, allowed by its hash), framing only where the JupyterLab
//! extension's headless iframe needs it, `nosniff` and a referrer policy.
//!
//! A handler that sets its own policy (the API docs page) keeps it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::state::AppState;

/// `same-origin`: links to apps, the hub or anywhere else never learn which japps page
/// (with its app names and query) the visitor came from; japps' own requests keep it.
const REFERRER: HeaderValue = HeaderValue::from_static("same-origin");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// The policies, computed once: they depend only on the configuration.
#[derive(Debug, Clone)]
pub(crate) struct PagePolicy {
    /// Pages that nothing may frame.
    unframed: HeaderValue,
    /// Headless pages, framed by the hub's JupyterLab extension.
    framed: HeaderValue,
}

impl PagePolicy {
    pub(crate) fn new(state: &AppState) -> Self {
        let catalog = state.catalog();
        let theme = &catalog.config_json()["theme"];
        let hub_origin = state
            .settings()
            .hub_env
            .hub_origin
            .as_ref()
            .map(|url| url.origin().ascii_serialization())
            .filter(|origin| origin != "null");
        let policy = Policy {
            theme_css: catalog.theme_css(),
            images: [&theme["logo"], &theme["favicon"]]
                .into_iter()
                .filter_map(Value::as_str)
                .filter_map(other_origin)
                .collect(),
            font_css: theme["font"]["url"].as_str().and_then(other_origin),
            hub_origin,
        };
        Self {
            unframed: header(&policy.render("'none'")),
            framed: header(&policy.render(&policy.framed_by())),
        }
    }
}

struct Policy<'a> {
    theme_css: &'a str,
    /// Origins of an operator's logo and favicon (`template_vars`).
    images: Vec<String>,
    /// Origin of an operator's web font stylesheet (`template_vars.font_url`).
    font_css: Option<String>,
    /// The origin of the hub's pages when the hub names one (`JUPYTERHUB_HOST`).
    hub_origin: Option<String>,
}

impl Policy<'_> {
    fn framed_by(&self) -> String {
        let mut sources = "'self'".to_owned();
        if let Some(hub) = &self.hub_origin {
            sources.push(' ');
            sources.push_str(hub);
        }
        sources
    }

    fn render(&self, frame_ancestors: &str) -> String {
        let theme_hash = format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(self.theme_css.as_bytes()))
        );
        let mut style = format!("'self' {theme_hash}");
        let mut font = "'self' data:".to_owned();
        if let Some(origin) = &self.font_css {
            style.push(' ');
            style.push_str(origin);
            // The font files' host is named only inside that stylesheet.
            font.push_str(" https:");
        }
        let mut img = "'self' data:".to_owned();
        for origin in &self.images {
            img.push(' ');
            img.push_str(origin);
        }
        let mut form = "'self'".to_owned();
        if let Some(hub) = &self.hub_origin {
            form.push(' ');
            form.push_str(hub);
        }
        format!(
            "default-src 'self'; script-src 'self'; style-src {style}; img-src {img}; \
             font-src {font}; object-src 'none'; base-uri 'none'; form-action {form}; \
             frame-ancestors {frame_ancestors}"
        )
    }
}

/// The origin of an absolute http(s) URL; same-origin paths and data URLs need none.
fn other_origin(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

fn header(value: &str) -> HeaderValue {
    // Built from checked URLs' origins and base64: always a valid header value.
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

/// The layer: headers on every answer, the page policy unless a handler set its own.
pub(crate) async fn apply(
    State(policy): State<Arc<PagePolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let headless = is_headless(request.uri().query());
    let mut response = next.run(request).await;
    set(response.headers_mut(), &policy, headless);
    response
}

fn set(headers: &mut HeaderMap, policy: &PagePolicy, headless: bool) {
    headers.entry(X_CONTENT_TYPE_OPTIONS).or_insert(NOSNIFF);
    headers.entry(REFERRER_POLICY).or_insert(REFERRER);
    if headers.contains_key(CONTENT_SECURITY_POLICY) {
        return;
    }
    let (csp, frame) = if headless {
        (
            policy.framed.clone(),
            HeaderValue::from_static("SAMEORIGIN"),
        )
    } else {
        (policy.unframed.clone(), HeaderValue::from_static("DENY"))
    };
    headers.insert(CONTENT_SECURITY_POLICY, csp);
    // For browsers without `frame-ancestors`; it cannot name the hub's origin, so a hub on
    // another origin than the service relies on the CSP.
    headers.entry(X_FRAME_OPTIONS).or_insert(frame);
}

/// `?headless=true`: the JupyterLab extension's iframe (the form, its success page and the
/// home page it links back to).
fn is_headless(query: Option<&str>) -> bool {
    query.is_some_and(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .any(|(name, value)| name == "headless" && value.eq_ignore_ascii_case("true"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hub_origin: Option<&str>, font: bool) -> (String, String) {
        let policy = Policy {
            theme_css: ":root {}\n",
            images: vec!["https://cdn.example.org".into()],
            font_css: font.then(|| "https://fonts.example.org".into()),
            hub_origin: hub_origin.map(str::to_owned),
        };
        (policy.render("'none'"), policy.render(&policy.framed_by()))
    }

    #[test]
    fn pages_allow_nothing_inline_but_the_theme_by_hash() {
        let (page, _) = policy(None, false);
        let hash = STANDARD.encode(Sha256::digest(b":root {}\n"));
        assert!(
            page.contains(&format!("style-src 'self' 'sha256-{hash}';")),
            "{page}"
        );
        assert!(page.contains("script-src 'self';"));
        assert!(page.contains("img-src 'self' data: https://cdn.example.org;"));
        assert!(page.contains("font-src 'self' data:;"));
        for directive in ["object-src 'none'", "base-uri 'none'", "form-action 'self'"] {
            assert!(page.contains(directive), "{directive}: {page}");
        }
        assert!(page.ends_with("frame-ancestors 'none'"));
        assert!(!page.contains("unsafe") && !page.contains('*'), "{page}");
    }

    #[test]
    fn headless_pages_may_be_framed_by_the_hub_only() {
        let (_, framed) = policy(Some("https://hub.example.org"), true);
        assert!(framed.ends_with("frame-ancestors 'self' https://hub.example.org"));
        assert!(framed.contains("form-action 'self' https://hub.example.org;"));
        assert!(framed.contains("style-src 'self' 'sha256-"));
        assert!(framed.contains(" https://fonts.example.org;"));
        assert!(framed.contains("font-src 'self' data: https:;"));
        let (_, alone) = policy(None, false);
        assert!(alone.ends_with("frame-ancestors 'self'"));
    }

    #[test]
    fn headless_is_read_from_the_query() {
        assert!(is_headless(Some("headless=true")));
        assert!(is_headless(Some("id=x&headless=TRUE")));
        assert!(!is_headless(Some("headless=false")));
        assert!(!is_headless(Some("headlessx=true")));
        assert!(!is_headless(None));
    }

    #[test]
    fn handlers_own_policies_are_kept() {
        let policy = PagePolicy {
            unframed: HeaderValue::from_static("a"),
            framed: HeaderValue::from_static("b"),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("own"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        set(&mut headers, &policy, false);
        assert_eq!(headers[CONTENT_SECURITY_POLICY], "own");
        assert_eq!(headers[REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");

        let mut headers = HeaderMap::new();
        set(&mut headers, &policy, true);
        assert_eq!(headers[CONTENT_SECURITY_POLICY], "b");
        assert_eq!(headers[X_FRAME_OPTIONS], "SAMEORIGIN");
        assert_eq!(headers[REFERRER_POLICY], "same-origin");
        let mut headers = HeaderMap::new();
        set(&mut headers, &policy, false);
        assert_eq!(headers[CONTENT_SECURITY_POLICY], "a");
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
    }
}
