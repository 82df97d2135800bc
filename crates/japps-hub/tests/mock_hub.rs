//! The hub client against a wiremock mock hub: wire formats japps must send,
//! and faults a real hub cannot produce on demand (timeouts, 5xx, garbage,
//! refused connections). Behaviour against real hubs is tested elsewhere.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use japps_hub::{
    CallCounts, HubClient, HubClientConfig, HubError, HubVersion, OAuthCode, ServiceToken,
    ShareTarget, SpawnOutcome, StartServer, StopOutcome, UserToken, fan_out, request_id, tally,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SERVICE_TOKEN: &str = "service-secret-0123456789";
const USER_TOKEN: &str = "user-secret-9876543210";
const API: &str = "/hub/api";

fn config(server: &MockServer) -> HubClientConfig {
    let url = format!("{}{API}", server.uri()).parse().unwrap();
    HubClientConfig::new(url, ServiceToken::new(SERVICE_TOKEN.into()))
}

fn client(server: &MockServer) -> HubClient {
    HubClient::new(config(server)).unwrap()
}

fn user_token() -> UserToken {
    UserToken::new(USER_TOKEN.into())
}

fn user_json(name: &str) -> Value {
    json!({"kind": "user", "name": name, "admin": false, "groups": [], "servers": {}})
}

async fn mount_version(server: &MockServer, version: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{API}/")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"version": version})))
        .mount(server)
        .await;
}

async fn requests_to(server: &MockServer, http_method: &str, url_path: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == http_method && r.url.path() == url_path)
        .collect()
}

fn header_of<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).map(|v| v.to_str().unwrap())
}

// ---- faults -------------------------------------------------------------

#[tokio::test]
async fn slow_hub_is_a_timeout_and_still_counted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/users/alice")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(user_json("alice"))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.timeout = Duration::from_millis(150);
    let hub = HubClient::new(config).unwrap();

    let started = std::time::Instant::now();
    let err = hub.as_service().user("alice", false).await.unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Timeout {
                pattern: "GET /users/{name}"
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(hub.recorder().count("GET /users/{name}"), 1);
}

#[tokio::test]
async fn hub_5xx_is_a_status_error_with_the_hub_message() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/users/alice")))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"status": 500, "message": "database is locked"})),
        )
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/users/bob")))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_raw("<html>Service Unavailable</html>", "text/html"),
        )
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/users/nobody")))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"status": 404, "message": null})),
        )
        .mount(&server)
        .await;
    let hub = client(&server);

    let err = hub.as_service().user("alice", false).await.unwrap_err();
    assert!(
        matches!(&err, HubError::Status { status: 500, message: Some(m), .. } if m == "database is locked"),
        "{err:?}"
    );
    let err = hub.as_service().user("bob", false).await.unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Status {
                status: 503,
                message: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(503));
    let err = hub.as_service().user("nobody", false).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(hub.recorder().count("GET /users/{name}"), 3);
}

#[tokio::test]
async fn refused_connection_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/hub/api").parse().unwrap();
    let hub = HubClient::new(HubClientConfig::new(
        url,
        ServiceToken::new(SERVICE_TOKEN.into()),
    ))
    .unwrap();

    let err = hub.as_service().whoami().await.unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Unreachable {
                pattern: "GET /user",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(hub.recorder().count("GET /user"), 1);
    // A failed version fetch is not cached: the next call tries again.
    assert!(hub.version().await.is_err());
    assert!(hub.version().await.is_err());
    assert_eq!(hub.recorder().count("GET /"), 2);
}

#[tokio::test]
async fn malformed_json_and_wrong_shapes_are_decode_errors() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/user")))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"name\": ", "application/json"))
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/groups/team")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(["not", "a", "group"])))
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/services")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"name": "x"}])))
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"version": "unknown"})))
        .mount(&server)
        .await;
    let hub = client(&server);

    let err = hub.as_service().whoami().await.unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Decode {
                pattern: "GET /user",
                ..
            }
        ),
        "{err:?}"
    );
    let err = hub.as_service().group("team").await.unwrap_err();
    assert!(matches!(err, HubError::Decode { .. }), "{err:?}");
    let err = hub.as_service().services().await.unwrap_err();
    assert!(matches!(err, HubError::Decode { .. }), "{err:?}");
    let err = hub.version().await.unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Decode {
                pattern: "GET /",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn bare_list_for_a_listing_is_unpaginated() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/users")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([user_json("a")])))
        .mount(&server)
        .await;
    let err = client(&server).as_service().list_users().await.unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Unpaginated {
                pattern: "GET /users"
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn names_that_cannot_be_addressed_send_nothing() {
    let server = MockServer::start().await;
    let hub = client(&server);
    let err = hub.as_service().user("..", false).await.unwrap_err();
    assert!(matches!(err, HubError::InvalidName { .. }), "{err:?}");
    let err = hub.as_service().shared_with("").await.unwrap_err();
    assert!(matches!(err, HubError::InvalidName { .. }), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

// ---- pagination ---------------------------------------------------------

#[tokio::test]
async fn pagination_follows_next_over_three_pages() {
    let server = MockServer::start().await;
    let page = |names: &[&str], offset: u64, next: Option<u64>| {
        let next = next.map(|o| {
            // The hub's own URL may name a host we cannot reach: only its
            // numbers may be used.
            json!({"offset": o, "limit": 2, "url": format!("http://hub.invalid:1/hub/api/users?offset={o}&limit=2")})
        });
        json!({
            "items": names.iter().map(|n| user_json(n)).collect::<Vec<_>>(),
            "_pagination": {"offset": offset, "limit": 2, "total": 5, "next": next}
        })
    };
    for (offset, limit, body) in [
        ("0", "200", page(&["a", "b"], 0, Some(2))),
        ("2", "2", page(&["c", "d"], 2, Some(4))),
        ("4", "2", page(&["e"], 4, None)),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("{API}/users")))
            .and(query_param("offset", offset))
            .and(query_param("limit", limit))
            .and(header("accept", "application/jupyterhub-pagination+json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let hub = client(&server);

    let users = hub.as_service().list_users().await.unwrap();
    let names: Vec<_> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    assert_eq!(hub.recorder().count("GET /users"), 3);
    assert_eq!(hub.recorder().total(), 3);
}

#[tokio::test]
async fn pagination_that_does_not_advance_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/groups")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "items": [{"kind": "group", "name": "g", "users": []}],
            "_pagination": {"offset": 0, "limit": 200, "next": {"offset": 0, "limit": 200}}
        })))
        .mount(&server)
        .await;
    let hub = client(&server);
    let err = hub.as_service().list_groups().await.unwrap_err();
    assert!(
        matches!(
            err,
            HubError::Decode {
                pattern: "GET /groups",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(hub.recorder().count("GET /groups"), 1);
}

#[tokio::test]
async fn shared_with_reads_share_items_through_pages() {
    let server = MockServer::start().await;
    let item = |owner: &str, name: &str| {
        json!({
            "server": {"user": {"name": owner}, "name": name, "url": format!("/user/{owner}/{name}/"),
                       "full_url": null, "ready": false},
            "scopes": [format!("access:servers!server={owner}/{name}")],
            "user": {"name": "bob"}, "group": null, "kind": "user", "created_at": "2026-01-01T00:00:00Z"
        })
    };
    Mock::given(path(format!("{API}/users/bob/shared")))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "items": [item("alice", "app-one")],
            "_pagination": {"offset": 0, "limit": 1, "total": 2, "next": {"offset": 1, "limit": 1}}
        })))
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/users/bob/shared")))
        .and(query_param("offset", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "items": [item("carol", "dash")],
            "_pagination": {"offset": 1, "limit": 1, "total": 2, "next": null}
        })))
        .mount(&server)
        .await;
    let hub = client(&server);
    let token = user_token();
    let shares = hub.as_user(&token).shared_with("bob").await.unwrap();
    let owners: Vec<_> = shares
        .iter()
        .map(|s| (s.server.user.name.as_str(), s.server.name.as_str()))
        .collect();
    assert_eq!(owners, [("alice", "app-one"), ("carol", "dash")]);
    assert_eq!(hub.recorder().count("GET /users/{name}/shared"), 2);
}

// ---- version ------------------------------------------------------------

#[tokio::test]
async fn version_is_fetched_once_and_shared_by_concurrent_callers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"version": "6.0.0b1"}))
                .set_delay(Duration::from_millis(100)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let hub = client(&server);

    let clone = hub.clone();
    let (a, b, c) = tokio::join!(hub.version(), hub.version(), clone.version());
    assert_eq!(a.unwrap(), HubVersion::new(6, 0, 0));
    assert_eq!(b.unwrap(), c.unwrap());
    assert_eq!(hub.version().await.unwrap().to_string(), "6.0.0");
    assert_eq!(hub.recorder().count("GET /"), 1);
    let root = &requests_to(&server, "GET", "/hub/api/").await[0];
    assert_eq!(
        header_of(root, "authorization"),
        None,
        "GET / needs no token"
    );
}

#[tokio::test]
async fn version_fetch_is_retried_after_an_error() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/")))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_version(&server, "5.5.0.dev").await;
    let hub = client(&server);
    assert_eq!(hub.version().await.unwrap_err().status(), Some(502));
    assert_eq!(hub.version().await.unwrap(), HubVersion::new(5, 5, 0));
    assert_eq!(hub.version().await.unwrap(), HubVersion::new(5, 5, 0));
    assert_eq!(hub.recorder().count("GET /"), 2);
}

// ---- servers ------------------------------------------------------------

async fn start_body_on(version: &str, request: &StartServer) -> (Option<Value>, SpawnOutcome) {
    let server = MockServer::start().await;
    mount_version(&server, version).await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/users/alice/servers/my-app")))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let hub = client(&server);
    let token = user_token();
    let outcome = hub
        .as_user(&token)
        .start_server("alice", "my-app", request)
        .await
        .unwrap();
    let posts = requests_to(&server, "POST", "/hub/api/users/alice/servers/my-app").await;
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    let body = if post.body.is_empty() {
        assert_eq!(header_of(post, "content-type"), None);
        None
    } else {
        assert_eq!(header_of(post, "content-type"), Some("application/json"));
        Some(post.body_json().unwrap())
    };
    (body, outcome)
}

#[tokio::test]
async fn start_server_body_depends_on_the_hub_version() {
    let options = json!({"framework": "panel", "display_name": "My App", "keep_alive": false});
    let request = StartServer {
        display_name: Some("My App".into()),
        user_options: Some(options.as_object().unwrap().clone()),
    };

    let (v6, outcome) = start_body_on("6.1.1", &request).await;
    assert_eq!(
        v6,
        Some(json!({"display_name": "My App", "user_options": options}))
    );
    assert_eq!(outcome, SpawnOutcome::Pending);

    let (v5, _) = start_body_on("5.5.4", &request).await;
    assert_eq!(v5, Some(options));

    // No options: an empty body on both versions, so the hub reuses the stored ones.
    let (v5_empty, _) = start_body_on("5.5.4", &StartServer::default()).await;
    assert_eq!(v5_empty, None);
    let (v6_empty, _) = start_body_on("6.1.1", &StartServer::default()).await;
    assert_eq!(v6_empty, None);
}

#[tokio::test]
async fn start_server_reports_started_and_counts_version_once() {
    let server = MockServer::start().await;
    mount_version(&server, "6.1.1").await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/users/alice/servers/a")))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let hub = client(&server);
    let token = user_token();
    for _ in 0..3 {
        let outcome = hub
            .as_user(&token)
            .start_server("alice", "a", &StartServer::default())
            .await
            .unwrap();
        assert_eq!(outcome, SpawnOutcome::Started);
    }
    let counts = hub.recorder().snapshot();
    assert_eq!(counts.count("POST /users/{name}/servers/{server}"), 3);
    assert_eq!(counts.count("GET /"), 1);
}

#[tokio::test]
async fn stop_server_sends_remove_only_when_asked() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("{API}/users/alice/servers/gone")))
        .and(body_json(json!({"remove": true})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{API}/users/alice/servers/slow")))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let hub = client(&server);
    let token = user_token();
    let caller = hub.as_user(&token);

    assert_eq!(
        caller.stop_server("alice", "gone", true).await.unwrap(),
        StopOutcome::Stopped
    );
    assert_eq!(
        caller.stop_server("alice", "slow", false).await.unwrap(),
        StopOutcome::Pending
    );
    let slow = &requests_to(&server, "DELETE", "/hub/api/users/alice/servers/slow").await[0];
    assert!(slow.body.is_empty());
    assert_eq!(
        hub.recorder()
            .count("DELETE /users/{name}/servers/{server}"),
        2
    );
}

#[tokio::test]
async fn odd_names_are_percent_encoded_segment_by_segment() {
    let server = MockServer::start().await;
    let user_path = "/hub/api/users/a%20b%2Fc%2Bd%40e";
    let server_path = "/hub/api/users/%C3%A9lise/servers/caf%C3%A9%20%231";
    Mock::given(method("GET"))
        .and(path(user_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json("a b/c+d@e")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(server_path))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let hub = client(&server);

    let user = hub.as_service().user("a b/c+d@e", true).await.unwrap();
    assert_eq!(user.name, "a b/c+d@e");
    hub.as_service()
        .stop_server("élise", "café #1", false)
        .await
        .unwrap();

    let got = requests_to(&server, "GET", user_path).await;
    assert_eq!(got[0].url.query(), Some("include_stopped_servers"));
    assert_eq!(requests_to(&server, "DELETE", server_path).await.len(), 1);
}

// ---- headers ------------------------------------------------------------

#[tokio::test]
async fn authorization_carries_the_service_or_the_user_token() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/user")))
        .and(header("authorization", format!("token {SERVICE_TOKEN}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"kind": "service", "name": "japps"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/user")))
        .and(header("authorization", format!("token {USER_TOKEN}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json("alice")))
        .expect(1)
        .mount(&server)
        .await;
    let hub = client(&server);
    let token = user_token();

    assert_eq!(hub.as_service().whoami().await.unwrap().kind, "service");
    assert_eq!(hub.as_user(&token).whoami().await.unwrap().name, "alice");
    let request = &server.received_requests().await.unwrap()[0];
    let agent = header_of(request, "user-agent").unwrap();
    assert!(agent.starts_with("japps/"), "{agent}");
}

#[tokio::test]
async fn every_call_carries_a_request_id_scoped_or_fresh() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/users/alice")))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json("alice")))
        .mount(&server)
        .await;
    let hub = client(&server);
    let caller = hub.as_service();

    request_id::scope("req-42".into(), async {
        // Concurrent calls on the same task see the same id.
        let names = ["alice", "alice", "alice"];
        let results = fan_out(names, 2, |n| caller.user(n, false)).await;
        assert!(results.iter().all(Result::is_ok));
    })
    .await;
    caller.user("alice", false).await.unwrap();
    caller.user("alice", false).await.unwrap();

    let ids: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| header_of(r, "x-request-id").unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 5);
    assert!(ids[..3].iter().all(|id| id == "req-42"), "{ids:?}");
    assert_ne!(ids[3], ids[4], "unscoped calls get fresh ids");
    assert!(ids[3..].iter().all(|id| uuid_like(id)), "{ids:?}");
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|&c| c == '-').count() == 4
}

// ---- remaining endpoints --------------------------------------------------

#[tokio::test]
async fn sharing_groups_users_and_services_speak_the_hub_format() {
    let server = MockServer::start().await;
    let share = json!({
        "server": {"user": {"name": "alice"}, "name": "app", "url": "/user/alice/app/", "full_url": null, "ready": true},
        "scopes": ["access:servers!server=alice/app"], "user": null, "group": {"name": "team"},
        "kind": "group", "created_at": "2026-01-01T00:00:00Z"
    });
    Mock::given(method("POST"))
        .and(path(format!("{API}/shares/alice/app")))
        .and(body_json(json!({"group": "team"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(share))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{API}/shares/alice/app")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/users")))
        .and(body_json(json!({"usernames": ["u1", "u2"]})))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!([user_json("u1"), user_json("u2")])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/groups/team")))
        .and(body_json(json!({"users": ["u1"]})))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"kind": "group", "name": "team", "users": ["u1"], "properties": {}, "roles": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API}/services")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "japps": {"name": "japps", "kind": "service", "admin": false, "url": "http://127.0.0.1:10202",
                      "prefix": "/services/japps/", "command": ["japps", "serve"], "pid": 99,
                      "info": {}, "display": false, "roles": ["japps"]},
            "grafana": {"name": "grafana", "kind": "service", "url": "", "info": {"description": "dashboards"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let hub = client(&server);
    let token = user_token();
    let alice = hub.as_user(&token);

    let item = alice
        .share("alice", "app", &ShareTarget::Group("team".into()))
        .await
        .unwrap();
    assert_eq!(item.group.unwrap().name, "team");
    alice.revoke_all_shares("alice", "app").await.unwrap();

    let service = hub.as_service();
    let created = service
        .create_users(&["u1".into(), "u2".into()])
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    let group = service.create_group("team", &["u1".into()]).await.unwrap();
    assert_eq!(group.users, ["u1"]);
    let services = service.services().await.unwrap();
    assert!(!services["japps"].display);
    assert!(services["grafana"].display);
    assert_eq!(services["grafana"].info["description"], "dashboards");

    let expected: CallCounts = CallCounts(
        [
            ("POST /shares/{owner}/{server}", 1),
            ("DELETE /shares/{owner}/{server}", 1),
            ("POST /users", 1),
            ("POST /groups/{name}", 1),
            ("GET /services", 1),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_owned(), n))
        .collect(),
    );
    assert_eq!(hub.recorder().snapshot(), expected);
}

#[tokio::test]
async fn tally_and_snapshots_count_the_calls_of_one_request() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/users/alice")))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json("alice")))
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/users/alice/shared")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"items": [], "_pagination": {"offset": 0, "limit": 200, "total": 0, "next": null}}),
        ))
        .mount(&server)
        .await;
    let hub = client(&server);
    let caller = hub.as_service();
    caller.user("alice", false).await.unwrap();
    let before = hub.recorder().snapshot();

    let (result, calls) =
        tally(async { tokio::join!(caller.user("alice", true), caller.shared_with("alice")) })
            .await;
    assert!(result.0.is_ok() && result.1.is_ok());
    assert_eq!(
        calls.to_string(),
        "GET /users/{name} 1\nGET /users/{name}/shared 1\n"
    );
    assert_eq!(hub.recorder().snapshot().since(&before), calls);
    assert_eq!(hub.recorder().total(), 3);
}

#[tokio::test]
async fn oauth_code_exchange_posts_the_form_and_returns_a_user_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/oauth2/token")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "fresh-user-token", "expires_in": 1_209_600,
            "token_type": "Bearer", "scope": "servers!user read:users:name"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{API}/oauth2/token")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let hub = client(&server);
    let code = OAuthCode {
        client_id: "service-japps",
        code: "the-code",
        redirect_uri: "/services/japps/oauth_callback",
        code_verifier: Some("verifier"),
    };

    let token = hub.exchange_oauth_code(&code).await.unwrap();
    assert_eq!(token.expires_in, Some(1_209_600));
    assert!(!format!("{token:?}").contains("fresh-user-token"));
    let post = &requests_to(&server, "POST", "/hub/api/oauth2/token").await[0];
    assert_eq!(
        header_of(post, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(header_of(post, "authorization"), None);
    let form = String::from_utf8(post.body.clone()).unwrap();
    assert_eq!(
        form,
        format!(
            "grant_type=authorization_code&client_id=service-japps&client_secret={SERVICE_TOKEN}\
             &code=the-code&redirect_uri=%2Fservices%2Fjapps%2Foauth_callback&code_verifier=verifier"
        )
    );

    // The token now authenticates as the user.
    Mock::given(path(format!("{API}/user")))
        .and(header("authorization", "token fresh-user-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json("alice")))
        .expect(1)
        .mount(&server)
        .await;
    let me = hub.as_user(&token.access_token).whoami().await.unwrap();
    assert_eq!(me.name, "alice");

    let err = hub.exchange_oauth_code(&code).await.unwrap_err();
    assert!(
        matches!(&err, HubError::Status { status: 400, message: Some(m), .. } if m == "invalid_grant"),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(SERVICE_TOKEN));
}

// ---- secrets --------------------------------------------------------------

#[tokio::test]
async fn no_error_shows_a_token() {
    let server = MockServer::start().await;
    Mock::given(path(format!("{API}/users/slow")))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/users/broken")))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"status": 403, "message": "Forbidden"})),
        )
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/users/garbage")))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{{{", "application/json"))
        .mount(&server)
        .await;
    Mock::given(path(format!("{API}/users")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.timeout = Duration::from_millis(100);
    let hub = HubClient::new(config).unwrap();
    let token = user_token();
    let bad_token = UserToken::new(format!("{USER_TOKEN}\n"));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dead = HubClient::new(HubClientConfig::new(
        format!("http://127.0.0.1:{port}/hub/api").parse().unwrap(),
        ServiceToken::new(SERVICE_TOKEN.into()),
    ))
    .unwrap();

    let errors = vec![
        hub.as_user(&token).user("slow", false).await.unwrap_err(),
        hub.as_user(&token).user("broken", false).await.unwrap_err(),
        hub.as_service().user("garbage", false).await.unwrap_err(),
        hub.as_service().list_users().await.unwrap_err(),
        hub.as_user(&bad_token).whoami().await.unwrap_err(),
        dead.as_service().whoami().await.unwrap_err(),
        dead.as_user(&token).whoami().await.unwrap_err(),
    ];
    let kinds: Vec<_> = errors.iter().map(kind).collect();
    assert_eq!(
        kinds,
        [
            "Timeout",
            "Status",
            "Decode",
            "Unpaginated",
            "InvalidToken",
            "Unreachable",
            "Unreachable"
        ]
    );
    for err in &errors {
        let shown = format!("{err} | {err:?} | {:?}", std::error::Error::source(err));
        assert!(!shown.contains(SERVICE_TOKEN), "{shown}");
        assert!(!shown.contains(USER_TOKEN), "{shown}");
    }
    let shown = format!("{hub:?} {:?} {:?}", hub.as_service(), hub.as_user(&token));
    assert!(
        !shown.contains(SERVICE_TOKEN) && !shown.contains(USER_TOKEN),
        "{shown}"
    );
}

fn kind(err: &HubError) -> &'static str {
    match err {
        HubError::Timeout { .. } => "Timeout",
        HubError::Unreachable { .. } => "Unreachable",
        HubError::Status { .. } => "Status",
        HubError::Decode { .. } => "Decode",
        HubError::Unpaginated { .. } => "Unpaginated",
        HubError::InvalidName { .. } => "InvalidName",
        HubError::InvalidToken { .. } => "InvalidToken",
        HubError::Config(_) => "Config",
    }
}
