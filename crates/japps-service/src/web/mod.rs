//! The launcher's HTML face: server-rendered pages over the same application layer as the
//! JSON API, one stylesheet, one script for every page and one for each page that needs
//! more (the form, the app page). Handlers only translate HTTP to use cases and
//! view models to templates.

pub(crate) mod app_page;
pub(crate) mod assets;
pub(crate) mod error_page;
pub(crate) mod form;
pub(crate) mod home;
pub(crate) mod layout;
pub(crate) mod templates;

/// Percent-encodes one URL path segment (user names may hold `@`, `+`, spaces…).
pub(crate) fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
