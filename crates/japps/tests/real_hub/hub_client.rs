//! The hub client against a real hub: models parse, pagination is complete, 5.x/6.x
//! differences are handled, and the recorder counts exactly the calls made.

use std::time::Duration;

use japps_hub::{HubClient, ShareTarget, SpawnOutcome, StartServer, StopOutcome, UserToken};
use japps_testkit::{HubRelease, TestHub, real_hub_tests};
use serde_json::{Map, Value, json};

use crate::start_hub;

real_hub_tests!(
    version_is_detected_once,
    stopped_servers_keep_their_user_options,
    listing_250_users_follows_pagination,
    shared_servers_and_services_parse,
);

async fn version_is_detected_once(release: HubRelease) {
    let hub = start_hub(release, "").await;
    let client = hub.japps_client();
    let first = client.version().await.unwrap();
    let second = client.version().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.to_string(), release.pip_version());
    assert_eq!(first.major, release.major());
    assert_eq!(first.is_v6_or_later(), release.major() >= 6);
    assert!(first.supports_sharing());
    assert_eq!(client.recorder().snapshot().to_string().trim(), "GET / 1");
}

fn options(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

/// Starts a named server and waits until it runs, then stops it (keeping the record).
async fn create_stopped_server(
    client: &HubClient,
    token: &UserToken,
    user: &str,
    server: &str,
    title: &str,
    user_options: Map<String, Value>,
) {
    let caller = client.as_user(token);
    let start = StartServer {
        display_name: Some(title.to_owned()),
        user_options: Some(user_options),
    };
    let outcome = caller.start_server(user, server, &start).await.unwrap();
    assert!(matches!(
        outcome,
        SpawnOutcome::Started | SpawnOutcome::Pending
    ));
    for _ in 0..100 {
        let model = caller.user(user, true).await.unwrap();
        if model.servers.get(server).is_some_and(|s| s.ready) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stopped = caller.stop_server(user, server, false).await.unwrap();
    assert!(matches!(
        stopped,
        StopOutcome::Stopped | StopOutcome::Pending
    ));
    for _ in 0..100 {
        let model = caller.user(user, true).await.unwrap();
        if model.servers.get(server).is_some_and(|s| s.stopped) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{user}/{server} never stopped");
}

async fn user_token(hub: &TestHub, user: &str) -> UserToken {
    UserToken::new(hub.user_token(user).await)
}

async fn stopped_servers_keep_their_user_options(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice"]).await;
    let alice = user_token(&hub, "alice").await;
    let client = hub.japps_client();
    let stored = options(json!({
        "jhub_app": true,
        "display_name": "Sales Dashboard",
        "description": "Quarterly numbers",
        "framework": "panel",
        "env": {"MODE": "demo"},
        "keep_alive": false,
        "share_with": {"users": ["bob"], "groups": []}
    }));
    create_stopped_server(
        &client,
        &alice,
        "alice",
        "sales-dashboard",
        "Sales Dashboard",
        stored.clone(),
    )
    .await;

    client.recorder().reset();
    let model = client.as_service().user("alice", true).await.unwrap();
    assert_eq!(
        client.recorder().snapshot().to_string().trim(),
        "GET /users/{name} 1"
    );
    let server = &model.servers["sales-dashboard"];
    assert!(server.stopped && !server.ready && server.pending.is_none());
    assert_eq!(
        server.user_options, stored,
        "user_options survive a stop exactly as sent"
    );
    match release.major() {
        6 => assert_eq!(server.display_name.as_deref(), Some("Sales Dashboard")),
        _ => assert_eq!(server.display_name, None),
    }
    assert_eq!(model.name, "alice");

    // Without include_stopped_servers the hub leaves stopped servers out.
    let active_only = client.as_service().user("alice", false).await.unwrap();
    assert!(!active_only.servers.contains_key("sales-dashboard"));
}

async fn listing_250_users_follows_pagination(release: HubRelease) {
    let hub = start_hub(release, "").await;
    let names: Vec<String> = (0..250).map(|i| format!("user-{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    hub.create_users(&refs).await;

    let client = hub.japps_client();
    let users = client.as_service().list_users().await.unwrap();
    let mut listed: Vec<String> = users.into_iter().map(|user| user.name).collect();
    listed.sort();
    assert_eq!(listed, names, "all 250 users, none twice");
    // The hub's maximum page is 200: two pages, two calls.
    assert_eq!(
        client.recorder().snapshot().to_string().trim(),
        "GET /users 2"
    );
}

async fn shared_servers_and_services_parse(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice", "bob", "carol"]).await;
    hub.create_group("team", &["carol"]).await;
    let alice = user_token(&hub, "alice").await;
    let client = hub.japps_client();
    create_stopped_server(
        &client,
        &alice,
        "alice",
        "shared-app",
        "Shared App",
        options(json!({"display_name": "Shared App", "framework": "streamlit"})),
    )
    .await;

    // Alice shares with her own token: the plugin's user role allows it.
    let as_alice = client.as_user(&alice);
    let to_bob = as_alice
        .share("alice", "shared-app", &ShareTarget::User("bob".into()))
        .await
        .unwrap();
    assert_eq!(to_bob.user.as_ref().unwrap().name, "bob");
    as_alice
        .share("alice", "shared-app", &ShareTarget::Group("team".into()))
        .await
        .unwrap();

    client.recorder().reset();
    let bob_sees = client.as_service().shared_with("bob").await.unwrap();
    assert_eq!(bob_sees.len(), 1);
    let item = &bob_sees[0];
    assert_eq!(item.server.user.name, "alice");
    assert_eq!(item.server.name, "shared-app");
    assert_eq!(item.kind, "user");
    assert_eq!(item.server.url, "/user/alice/shared-app/");
    assert!(
        item.scopes
            .contains(&"access:servers!server=alice/shared-app".to_owned())
    );

    let carol_sees = client.as_service().shared_with("carol").await.unwrap();
    assert_eq!(carol_sees.len(), 1);
    assert_eq!(carol_sees[0].kind, "group");
    assert_eq!(carol_sees[0].group.as_ref().unwrap().name, "team");

    let alice_sees = client.as_service().shared_with("alice").await.unwrap();
    assert!(alice_sees.is_empty(), "own shares are not 'shared with me'");

    let services = client.as_service().services().await.unwrap();
    assert!(services.contains_key("japps") && services.contains_key("test-admin"));
    assert_eq!(services["japps"].name, "japps");

    assert_eq!(
        client.recorder().snapshot().to_string().trim(),
        "GET /services 1\nGET /users/{name}/shared 3"
    );

    // Revoking all shares empties bob's list again.
    as_alice
        .revoke_all_shares("alice", "shared-app")
        .await
        .unwrap();
    assert!(
        client
            .as_service()
            .shared_with("bob")
            .await
            .unwrap()
            .is_empty()
    );
}
