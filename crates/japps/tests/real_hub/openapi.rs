//! The API description through the hub's proxy: `openapi.json` describes the service
//! under its real prefix, every path it lists answers there as documented, and it costs no
//! hub call; the docs page loads nothing from any other origin and runs under a strict
//! Content-Security-Policy.

use std::collections::{BTreeMap, BTreeSet};

use japps_testkit::{HubRelease, calls_between, real_hub_tests};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use serde_json::Value;

use crate::start_hub;

real_hub_tests!(openapi_and_docs_through_the_proxy);

/// Paths the document must have (more may come with new endpoints; the service's unit
/// tests compare the document with the router exactly).
const EXPECTED: [&str; 21] = [
    "/services/japps",
    "/services/japps/",
    "/services/japps/status",
    "/services/japps/jhub-login",
    "/services/japps/oauth_callback",
    "/services/japps/logout",
    "/services/japps/user",
    "/services/japps/metrics",
    "/services/japps/server/",
    "/services/japps/server",
    "/services/japps/server/{name}",
    "/services/japps/services/",
    "/services/japps/share-permissions/",
    "/services/japps/frameworks/",
    "/services/japps/conda-environments/",
    "/services/japps/spawner-profiles/",
    "/services/japps/config.json",
    "/services/japps/theme",
    "/services/japps/theme.css",
    "/services/japps/static/logos/{file}",
    "/services/japps/docs",
];

async fn openapi_and_docs_through_the_proxy(release: HubRelease) {
    let hub = start_hub(release, "").await;
    // Redirects are part of what is documented: look at them, do not follow them.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Both pages, without credentials, and not one hub call for them.
    hub.service_hub_calls().await;
    let before = hub.service_hub_calls().await;
    let response = client
        .get(hub.service_url("openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let doc: Value = response.json().await.unwrap();
    let docs_url = hub.service_url("docs");
    let response = client
        .get(&docs_url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    let after = hub.service_hub_calls().await;
    assert_eq!(
        calls_between(&before, &after),
        BTreeMap::new(),
        "openapi.json and docs cost no hub call"
    );

    // The document: OpenAPI 3.1, the real prefix in every path.
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: BTreeSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for path in EXPECTED.iter().chain(&["/services/japps/openapi.json"]) {
        assert!(paths.contains(path), "{path} is not described: {paths:?}");
    }
    for path in &paths {
        assert!(path.starts_with("/services/japps"), "{path}");
    }

    // Every documented path answers at the hub's public address as documented (without
    // credentials: the public ones properly, the others 401).
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/services/japps" {
            // The proxy itself decides what happens to the prefix without its slash.
            continue;
        }
        let url = hub.url(
            path.trim_start_matches('/')
                .replace("{name}", "sales")
                .replace("{file}", "japps.svg")
                .as_str(),
        );
        for (method, operation) in item.as_object().unwrap() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let response = client
                .request(method.clone(), &url)
                .header("accept", "application/json")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let documented = &operation["responses"][status.as_str()];
            assert!(
                documented.is_object(),
                "{method} {path} answered {status}, which its description does not list"
            );
            let needs_login = operation["security"]
                .as_array()
                .is_some_and(|requirements| !requirements.is_empty());
            assert_eq!(
                status == StatusCode::UNAUTHORIZED,
                needs_login,
                "{method} {path}: {status}"
            );
        }
    }

    // The docs page: everything it needs is inline, it fetches the document next to it,
    // and its policy allows nothing else.
    for external in ["http://", "https://", "src=\"//", "href=\"//"] {
        assert!(
            !html.contains(external),
            "the docs page refers to {external}"
        );
    }
    assert!(
        !html.contains(" src="),
        "the docs page loads no script or image"
    );
    assert!(html.contains("fetch('openapi.json'"));
    let icon = client
        .get(hub.service_url("static/logos/japps.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), StatusCode::OK, "the page's icon");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
}
