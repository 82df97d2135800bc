//! Cross-site request forgery protection for cookie-authenticated unsafe requests.
//!
//! Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`); a request that
//! says "another site" is refused. Requests that carry neither header come from scripts and
//! other non-browser clients, which cannot be forged cross-site, so they pass (jhub-apps'
//! API clients send cookies that way). `SameSite=Lax` on the session cookie is the second
//! line of defence.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use url::Url;

use crate::error::ServiceError;
use crate::settings::Settings;

pub(crate) fn check(headers: &HeaderMap, settings: &Settings) -> Result<(), ServiceError> {
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none` is a navigation the user typed or bookmarked.
        if !matches!(site.to_str(), Ok("same-origin" | "none")) {
            return Err(refused());
        }
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin
            .to_str()
            .ok()
            .and_then(|value| Url::parse(value).ok())
            .map(|url| url.origin().ascii_serialization())
            .ok_or_else(refused)?;
        if !own_origins(headers, settings).any(|own| own == origin) {
            return Err(refused());
        }
    }
    Ok(())
}

fn refused() -> ServiceError {
    ServiceError::Forbidden("cross-site request refused".into())
}

/// The origins this service is reached at: the public URL when the hub knows it, and the
/// host the request was sent to (as the proxy forwarded it).
fn own_origins<'a>(
    headers: &'a HeaderMap,
    settings: &'a Settings,
) -> impl Iterator<Item = String> + 'a {
    let scheme = first_value(headers, "x-forwarded-proto").unwrap_or("http");
    let hosts = [
        first_value(headers, "x-forwarded-host"),
        headers.get(HOST).and_then(|h| h.to_str().ok()),
    ];
    let from_request = hosts
        .into_iter()
        .flatten()
        .filter_map(move |host| Url::parse(&format!("{scheme}://{host}")).ok())
        .map(|url| url.origin().ascii_serialization());
    settings
        .public_url
        .iter()
        .map(|url| url.origin().ascii_serialization())
        .chain(from_request)
}

/// The first of a comma-separated forwarding header (the proxy nearest the client).
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .split(',')
        .next()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(public_url: Option<&str>) -> Settings {
        let mut vars = vec![("JUPYTERHUB_API_TOKEN".to_owned(), "t0k3n-abcdef".to_owned())];
        if let Some(url) = public_url {
            vars.push(("JUPYTERHUB_PUBLIC_URL".to_owned(), url.to_owned()));
        }
        Settings::from_vars(vars).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn no_browser_headers_pass() {
        assert!(check(&headers(&[("host", "hub.example:8000")]), &settings(None)).is_ok());
    }

    #[test]
    fn same_origin_passes_other_sites_do_not() {
        let s = settings(None);
        let same = headers(&[
            ("host", "127.0.0.1:8000"),
            ("origin", "http://127.0.0.1:8000"),
        ]);
        assert!(check(&same, &s).is_ok());
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:8001",
            "https://127.0.0.1:8000",
            "null",
            "garbage",
        ] {
            let other = headers(&[("host", "127.0.0.1:8000"), ("origin", origin)]);
            assert!(check(&other, &s).is_err(), "{origin}");
        }
    }

    #[test]
    fn forwarded_and_public_origins() {
        let proxied = headers(&[
            ("host", "10.0.0.5:10202"),
            ("x-forwarded-host", "hub.example.org"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://hub.example.org"),
        ]);
        assert!(check(&proxied, &settings(None)).is_ok());
        let public = headers(&[
            ("host", "10.0.0.5:10202"),
            ("origin", "https://hub.example.org"),
        ]);
        assert!(
            check(
                &public,
                &settings(Some("https://hub.example.org/services/japps/"))
            )
            .is_ok()
        );
        assert!(check(&public, &settings(None)).is_err());
    }

    #[test]
    fn fetch_metadata() {
        let s = settings(None);
        for (site, ok) in [
            ("same-origin", true),
            ("none", true),
            ("same-site", false),
            ("cross-site", false),
        ] {
            let h = headers(&[("host", "127.0.0.1:8000"), ("sec-fetch-site", site)]);
            assert_eq!(check(&h, &s).is_ok(), ok, "{site}");
        }
    }
}
