//! Faults a real hub cannot produce on demand, against the real router and a mock hub.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::Request;
use japps_service::{AppState, Settings, router};
use serde_json::{Value, json};
use tower::ServiceExt;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER_TOKEN: &str = "alice-token-0123456789";

fn server(owner: &str, name: &str) -> Value {
    json!({
        "name": name, "full_name": format!("{owner}/{name}"), "url": format!("/user/{owner}/{name}/"),
        "ready": false, "stopped": true, "pending": null, "user_options": {"framework": "panel"},
        "state": {"pid": 1234}
    })
}

fn share(owner: &str, name: &str) -> Value {
    json!({
        "server": {"user": {"name": owner}, "name": name, "url": format!("/user/{owner}/{name}/"), "ready": false},
        "scopes": [format!("access:servers!server={owner}/{name}")],
        "user": {"name": "alice"}, "group": null, "kind": "user", "created_at": "2026-11-27T00:00:00Z"
    })
}

async fn mock_hub() -> MockServer {
    let hub = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/hub/api/user"))
        .and(header(
            "authorization",
            format!("token {USER_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "user", "name": "alice", "admin": false, "groups": [],
            "scopes": ["access:services!service=japps", "read:users:name!user=alice"]
        })))
        .mount(&hub)
        .await;
    Mock::given(method("GET"))
        .and(path("/hub/api/users/alice"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "user", "name": "alice", "servers": {"mine": server("alice", "mine")}
        })))
        .mount(&hub)
        .await;
    Mock::given(method("GET"))
        .and(path("/hub/api/users/alice/shared"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "items": [share("bob", "dash"), share("ghost", "gone"), share("broken", "app")],
            "_pagination": {"offset": 0, "limit": 200, "total": 3, "next": null}
        })))
        .mount(&hub)
        .await;
    Mock::given(method("GET"))
        .and(path("/hub/api/users/bob"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "user", "name": "bob", "servers": {"dash": server("bob", "dash")}
        })))
        .mount(&hub)
        .await;
    // Deleted between the share listing and the fan-out.
    Mock::given(method("GET"))
        .and(path("/hub/api/users/ghost"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"status": 404, "message": "Not Found"})),
        )
        .mount(&hub)
        .await;
    Mock::given(method("GET"))
        .and(path("/hub/api/users/broken"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<html>oops</html>"))
        .mount(&hub)
        .await;
    hub
}

fn app(hub: &MockServer) -> axum::Router {
    let settings = Settings::from_vars(vec![
        (
            "JUPYTERHUB_API_TOKEN".to_owned(),
            "service-token-0123456789".to_owned(),
        ),
        (
            "JUPYTERHUB_API_URL".to_owned(),
            format!("{}/hub/api", hub.uri()),
        ),
    ])
    .unwrap();
    router(AppState::new(settings).unwrap()).unwrap()
}

async fn get(app: axum::Router, uri: &str) -> (u16, Value) {
    let request = Request::get(uri)
        .header("authorization", format!("token {USER_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn owners_that_vanish_or_fail_are_skipped() {
    let hub = mock_hub().await;
    let (status, body) = get(app(&hub), "/services/japps/server/").await;
    assert_eq!(status, 200, "{body}");
    let shared: Vec<&str> = body["shared_apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|app| app["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(shared, ["bob/dash"]);
    assert_eq!(body["user_apps"][0]["full_name"], "alice/mine");
    assert!(
        body["user_apps"][0].get("state").is_none()
            && body["shared_apps"][0].get("state").is_none(),
        "spawner state never reaches users"
    );
}

#[tokio::test]
async fn a_hub_that_is_down_gives_a_clear_502() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = Settings::from_vars(vec![
        (
            "JUPYTERHUB_API_TOKEN".to_owned(),
            "service-token-0123456789".to_owned(),
        ),
        (
            "JUPYTERHUB_API_URL".to_owned(),
            format!("http://127.0.0.1:{port}/hub/api"),
        ),
    ])
    .unwrap();
    let app = router(AppState::new(settings).unwrap()).unwrap();
    let (status, body) = get(app, "/services/japps/server/").await;
    assert_eq!(status, 502, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("GET /user"), "{detail}");
    assert!(
        !detail.contains(USER_TOKEN) && !detail.contains("service-token"),
        "{detail}"
    );
}
