//! What a stranger learns about other users' apps: nothing. Every route that names an app
//! of another user answers a caller without access exactly as it answers for an app (or an
//! owner) that does not exist; a service is never an app owner.

use japps_testkit::{HubRelease, TestHub, real_hub_tests};
use serde_json::json;

use crate::start_hub;

real_hub_tests!(a_stranger_cannot_tell_an_app_from_nothing);

/// One request as `carol` (a stranger to alice's apps): its status, its content type, and
/// its body with the app's name replaced by a placeholder.
async fn answer(
    hub: &TestHub,
    token: &str,
    method: reqwest::Method,
    path: &str,
    accept: &str,
    (owner, server): (&str, &str),
) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .request(method, hub.service_url(path))
        .header("Authorization", format!("token {token}"))
        .header("Accept", accept)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response
        .text()
        .await
        .unwrap()
        // Only where the answer names the app: the owner may also be a word of the page
        // (the `japps` service's prefix).
        .replace(&format!("{owner}/{server}"), "<app>")
        .replace(&format!("{owner} has no server named '{server}'"), "<app>");
    (status, content_type, body)
}

async fn a_stranger_cannot_tell_an_app_from_nothing(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice", "carol"]).await;
    let options = json!({
        "jhub_app": true, "display_name": "Sales", "description": "", "framework": "panel",
        "filepath": "", "public": false, "keep_alive": false,
        "share_with": {"users": [], "groups": []}
    });
    hub.create_stopped_app("alice", "sales-app", "Sales", options)
        .await;
    let carol = hub.user_token("carol").await;

    const JSON: &str = "application/json";
    let routes = [
        (reqwest::Method::POST, "server/{server}?owner={owner}", JSON),
        (reqwest::Method::GET, "apps/{owner}/{server}", JSON),
        (reqwest::Method::GET, "apps/{owner}/{server}", "text/html"),
        (reqwest::Method::GET, "apps/{owner}/{server}/state", JSON),
        (
            reqwest::Method::GET,
            "thumbnail/{owner}/{server}",
            "image/*",
        ),
    ];
    // (owner, server): alice's app, a server alice does not have, a user that does not
    // exist, and the japps service itself as the "owner".
    let targets = [
        ("alice", "sales-app"),
        ("alice", "no-such-app"),
        ("nobody-at-all", "sales-app"),
        ("japps", "sales-app"),
    ];
    for (method, template, accept) in routes {
        let mut answers = Vec::new();
        for (owner, server) in targets {
            let path = template
                .replace("{owner}", owner)
                .replace("{server}", server);
            let got = answer(&hub, &carol, method.clone(), &path, accept, (owner, server)).await;
            answers.push((path, got));
        }
        let (first_path, first) = &answers[0];
        assert_eq!(first.0, 404, "{method} {first_path} ({accept}): {first:?}");
        for (path, got) in &answers[1..] {
            assert_eq!(
                got, first,
                "{method} {path} ({accept}) answers a stranger differently from {first_path}"
            );
        }
    }

    // The app is still there and untouched: the stranger's start did nothing.
    let server = hub.server("alice", "sales-app").await.unwrap();
    assert!(server.stopped || !server.ready, "{server:?}");
}
