//! The read hot path against a real hub: every read endpoint's exact hub-call budget
//! (the README's table) with a warm identity cache, shapes, sharing across owners, and a cost that does
//! not grow with the number of users on the hub.

use std::collections::{BTreeMap, BTreeSet};

use japps_hub::ShareTarget;
use japps_testkit::{Browser, HubRelease, TestHub, calls_between, real_hub_tests};
use serde_json::{Value, json};

use crate::start_hub;

real_hub_tests!(
    read_endpoints_cost_their_budget,
    shared_apps_cost_one_call_per_owner_and_match_by_owner,
    server_list_cost_does_not_grow_with_the_hub,
    responses_keep_the_jhub_apps_shapes,
    share_permissions_follow_the_scopes,
    home_page_shows_the_library_within_its_budget,
    a_flood_of_bad_tokens_keeps_users_cached,
);

fn app_options(title: &str, framework: &str) -> Value {
    json!({
        "jhub_app": true,
        "display_name": title,
        "description": format!("{title} description"),
        "framework": framework,
        "filepath": "",
        "public": false,
        "keep_alive": false,
        "share_with": {"users": [], "groups": []}
    })
}

/// GET a service path with a token; asserts 200 and returns the JSON.
async fn get_json(hub: &TestHub, path: &str, token: &str) -> Value {
    let response = reqwest::Client::new()
        .get(hub.service_url(path))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The hub calls one request makes (identity already cached).
async fn calls_of(hub: &TestHub, path: &str, token: &str) -> (Value, BTreeMap<String, u64>) {
    let before = hub.service_hub_calls().await;
    let body = get_json(hub, path, token).await;
    let after = hub.service_hub_calls().await;
    (body, calls_between(&before, &after))
}

fn expect(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs
        .iter()
        .map(|(call, n)| ((*call).to_owned(), *n))
        .collect()
}

fn full_names(apps: &Value) -> BTreeSet<String> {
    apps.as_array()
        .unwrap()
        .iter()
        .map(|app| app["full_name"].as_str().unwrap().to_owned())
        .collect()
}

/// A user with a token and a warm identity cache (and a warm admin identity for metrics).
async fn warm_user(hub: &TestHub, user: &str) -> String {
    let token = hub.user_token(user).await;
    hub.service_hub_calls().await;
    get_json(hub, "user", &token).await;
    token
}

async fn read_endpoints_cost_their_budget(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice", "bob"]).await;
    hub.create_stopped_app("alice", "sales", "Sales", app_options("Sales", "panel"))
        .await;
    let token = warm_user(&hub, "alice").await;

    let (user, calls) = calls_of(&hub, "user", &token).await;
    assert_eq!(user["name"], "alice");
    assert_eq!(calls, expect(&[]), "GET user with a cached identity");

    let (apps, calls) = calls_of(&hub, "server/", &token).await;
    assert!(full_names(&apps["user_apps"]).contains("alice/sales"));
    assert_eq!(apps["shared_apps"], json!([]));
    assert_eq!(
        calls,
        expect(&[("GET /users/{name}", 1), ("GET /users/{name}/shared", 1)]),
        "GET server/ with nothing shared"
    );

    let (server, calls) = calls_of(&hub, "server/sales", &token).await;
    assert_eq!(server["name"], "sales");
    assert_eq!(
        calls,
        expect(&[("GET /users/{name}", 1)]),
        "GET server/{{name}}"
    );

    let (services, calls) = calls_of(&hub, "services/", &token).await;
    assert!(services.get("japps").is_some());
    assert_eq!(calls, expect(&[("GET /services", 1)]), "GET services/");

    // The pull request's mix, one round of six endpoints (the three config ones cost
    // nothing), as the budget promises: 3 hub calls per 6 requests.
    let before = hub.service_hub_calls().await;
    for path in [
        "user",
        "server/",
        "services/",
        "frameworks/",
        "conda-environments/",
        "spawner-profiles/",
    ] {
        let response = reqwest::Client::new()
            .get(hub.service_url(path))
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let round = calls_between(&before, &hub.service_hub_calls().await);
    assert_eq!(
        round.values().sum::<u64>(),
        3,
        "one round of the six read endpoints: {round:?}"
    );

    // Never a token minted or revoked, never all users listed, on any of these paths.
    let totals = hub.service_hub_calls().await;
    for (call, count) in &totals {
        if call.contains("/tokens") || call == "GET /users" {
            assert_eq!(*count, 0, "{call} was called");
        }
    }
}

async fn shared_apps_cost_one_call_per_owner_and_match_by_owner(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice", "bob", "carol", "dave", "eve"])
        .await;
    hub.create_group("team", &["alice"]).await;
    hub.create_stopped_app(
        "alice",
        "dash",
        "My Dash",
        app_options("My Dash", "plotlydash"),
    )
    .await;
    hub.create_stopped_app(
        "bob",
        "dash",
        "Bob's Dash",
        app_options("Bob's Dash", "plotlydash"),
    )
    .await;
    hub.create_stopped_app(
        "eve",
        "dash",
        "Eve's Dash",
        app_options("Eve's Dash", "plotlydash"),
    )
    .await;
    let token = warm_user(&hub, "alice").await;

    // One owner.
    hub.share("bob", "dash", ShareTarget::User("alice".into()))
        .await;
    let (apps, calls) = calls_of(&hub, "server/", &token).await;
    assert_eq!(
        full_names(&apps["shared_apps"]),
        BTreeSet::from(["bob/dash".to_owned()])
    );
    assert_eq!(
        full_names(&apps["user_apps"]),
        BTreeSet::from(["alice/".to_owned(), "alice/dash".to_owned()]),
        "my default server and my own app of the same name are mine, not shared"
    );
    assert_eq!(
        calls,
        expect(&[("GET /users/{name}", 2), ("GET /users/{name}/shared", 1)]),
        "server/ with apps shared by 1 owner"
    );

    // Three owners, one of them through a group, one of them with two apps.
    hub.create_stopped_app("carol", "report", "Report", app_options("Report", "voila"))
        .await;
    hub.create_stopped_app(
        "carol",
        "notes",
        "Notes",
        app_options("Notes", "jupyterlab"),
    )
    .await;
    hub.create_stopped_app("dave", "model", "Model", app_options("Model", "gradio"))
        .await;
    hub.share("carol", "report", ShareTarget::User("alice".into()))
        .await;
    hub.share("carol", "notes", ShareTarget::Group("team".into()))
        .await;
    hub.share("dave", "model", ShareTarget::Group("team".into()))
        .await;
    let (apps, calls) = calls_of(&hub, "server/", &token).await;
    assert_eq!(
        full_names(&apps["shared_apps"]),
        ["bob/dash", "carol/notes", "carol/report", "dave/model"]
            .into_iter()
            .map(str::to_owned)
            .collect::<BTreeSet<_>>(),
        "eve/dash has the same name as bob/dash but is not shared with alice"
    );
    assert_eq!(
        calls,
        expect(&[("GET /users/{name}", 3), ("GET /users/{name}/shared", 1)]),
        "server/ with apps shared by 3 owners: bob's definition is cached, carol and dave are read"
    );

    // Warm: every definition is cached and agrees with the share list.
    let (apps, calls) = calls_of(&hub, "server/", &token).await;
    assert_eq!(full_names(&apps["shared_apps"]).len(), 4);
    assert_eq!(
        calls,
        expect(&[("GET /users/{name}", 1), ("GET /users/{name}/shared", 1)]),
        "server/ with apps shared by 3 owners, cache warm"
    );
    let report = apps["shared_apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|app| app["full_name"] == "carol/report")
        .unwrap();
    assert!(
        report["user_options"].get("env").is_none()
            && report["user_options"].get("filepath").is_none(),
        "a sharee sees the app, not its configuration: {report}"
    );
}

/// The home page HTML for a logged-in browser.
async fn home_html(hub: &TestHub, browser: &Browser) -> String {
    let response = browser.get(&hub.service_url("")).await;
    assert_eq!(response.status(), 200, "GET {{prefix}} as a browser");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    response.text().await.unwrap()
}

/// The opening tag of the card with this `data-app`, if shown.
fn card<'a>(html: &'a str, app: &str) -> Option<&'a str> {
    let at = html.find(&format!("data-app=\"{app}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..=end])
}

async fn home_page_shows_the_library_within_its_budget(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice", "bob", "carol"]).await;
    hub.create_group("team", &["alice"]).await;
    let mut evil = app_options("<img src=x onerror=alert(1)>", "panel");
    evil["description"] = json!("</script><script>alert(2)</script>");
    hub.create_stopped_app("alice", "evil", "Evil", evil).await;
    hub.create_stopped_app(
        "bob",
        "dash",
        "Bob's Dash",
        app_options("Bob's Dash", "plotlydash"),
    )
    .await;
    hub.create_stopped_app("carol", "report", "Report", app_options("Report", "voila"))
        .await;
    hub.share("bob", "dash", ShareTarget::User("alice".into()))
        .await;
    hub.share("carol", "report", ShareTarget::Group("team".into()))
        .await;

    let browser = Browser::new();
    browser.login_to_hub(&hub, "alice").await;
    let visit = browser.follow(&hub, &hub.service_url("jhub-login")).await;
    assert_eq!(visit.status, 200, "japps login");

    let html = home_html(&hub, &browser).await;
    let own = card(&html, "alice/evil").expect("own app card");
    assert!(
        own.contains(r#"data-status="ready""#) && own.contains(r#"data-privacy="private""#),
        "{own}"
    );
    let direct = card(&html, "bob/dash").expect("directly shared app card");
    assert!(
        direct.contains(r#"data-owner="bob""#) && direct.contains(r#"data-privacy="shared""#),
        "{direct}"
    );
    let group = card(&html, "carol/report").expect("app shared through a group");
    assert!(
        group.contains(r#"data-groups="[&quot;team&quot;]""#),
        "{group}"
    );
    assert!(card(&html, "alice/").is_some(), "the default server card");
    assert!(!html.contains("<img src=x onerror"), "titles are escaped");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(
        !html.contains("</script><script>alert(2)"),
        "descriptions are escaped"
    );

    // Warm, counted by the hub itself: the user, the share list, the services.
    let before = hub.hub_api_calls().await;
    let html = home_html(&hub, &browser).await;
    let calls = calls_between(&before, &hub.hub_api_calls().await);
    assert!(card(&html, "carol/report").is_some());
    assert!(
        calls.values().sum::<u64>() <= 3,
        "home page, warm, counted by the hub: {calls:?}"
    );
    assert_eq!(
        calls,
        expect(&[
            ("GET /services", 1),
            ("GET /users/{name}", 1),
            ("GET /users/{name}/shared", 1)
        ]),
    );

    // A revoked share disappears on the next load, cache or not.
    hub.admin_client()
        .as_service()
        .revoke_all_shares("bob", "dash")
        .await
        .unwrap();
    let html = home_html(&hub, &browser).await;
    assert!(
        card(&html, "bob/dash").is_none(),
        "revoked share still shown"
    );
    assert!(card(&html, "carol/report").is_some());

    // JSON clients at the same URL keep the status.
    let status = browser.api_get(&hub.service_url("")).await;
    assert_eq!(status.json::<Value>().await.unwrap()["status"], "ok");
}

async fn server_list_cost_does_not_grow_with_the_hub(release: HubRelease) {
    let hub = start_hub(release, "").await;
    let first: Vec<String> = (0..10).map(|i| format!("user-{i:04}")).collect();
    hub.create_users(&first.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    hub.create_users(&["alice"]).await;
    let token = warm_user(&hub, "alice").await;
    let (_, small_hub) = calls_of(&hub, "server/", &token).await;

    // 1000 users, then two owners created after them, so beyond the first 200 of any
    // listing (JupyterHub lists users in creation order).
    let more: Vec<String> = (10..1000).map(|i| format!("user-{i:04}")).collect();
    for chunk in more.chunks(100) {
        hub.create_users(&chunk.iter().map(String::as_str).collect::<Vec<_>>())
            .await;
    }
    let (apps, big_hub) = calls_of(&hub, "server/", &token).await;
    assert_eq!(
        small_hub, big_hub,
        "server/ costs the same with 11 and 1001 users"
    );
    assert_eq!(apps["shared_apps"], json!([]));

    hub.create_users(&["zz-late-owner-1", "zz-late-owner-2"])
        .await;
    for owner in ["zz-late-owner-1", "zz-late-owner-2"] {
        hub.create_stopped_app(owner, "late", "Late", app_options("Late", "streamlit"))
            .await;
        hub.share(owner, "late", ShareTarget::User("alice".into()))
            .await;
    }
    let (apps, _) = calls_of(&hub, "server/", &token).await;
    assert_eq!(
        full_names(&apps["shared_apps"]),
        BTreeSet::from([
            "zz-late-owner-1/late".to_owned(),
            "zz-late-owner-2/late".to_owned()
        ]),
        "owners beyond the first 200 users are listed"
    );
}

async fn responses_keep_the_jhub_apps_shapes(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice", "bob"]).await;
    hub.create_stopped_app(
        "alice",
        "sales",
        "Sales Board",
        app_options("Sales Board", "panel"),
    )
    .await;
    let mut bobs_options = app_options("Shared", "bokeh");
    bobs_options["env"] = json!({"TOKEN": "bob's secret"});
    bobs_options["custom_command"] = json!("serve --token=secret");
    bobs_options["future_key"] = json!("anything");
    hub.create_stopped_app("bob", "shared", "Shared", bobs_options)
        .await;
    hub.share("bob", "shared", ShareTarget::User("alice".into()))
        .await;
    let token = warm_user(&hub, "alice").await;

    let apps = get_json(&hub, "server/", &token).await;
    let keys: BTreeSet<&str> = apps
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["user_apps", "shared_apps"]));
    let mut expected: BTreeSet<&str> = [
        "name",
        "full_name",
        "url",
        "progress_url",
        "started",
        "last_activity",
        "pending",
        "ready",
        "stopped",
        "user_options",
        "full_url",
        "full_progress_url",
    ]
    .into();
    if release.major() >= 6 {
        expected.insert("display_name");
    }
    for list in ["user_apps", "shared_apps"] {
        for app in apps[list].as_array().unwrap() {
            let keys: BTreeSet<&str> = app
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, expected, "{list} item {app}");
        }
    }
    let sales = apps["user_apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|app| app["name"] == "sales")
        .unwrap();
    assert_eq!(sales["user_options"], app_options("Sales Board", "panel"));
    assert_eq!(sales["stopped"], true);
    assert_eq!(sales["ready"], false);
    assert_eq!(sales["url"], "/user/alice/sales/");
    if release.major() >= 6 {
        assert_eq!(sales["display_name"], "Sales Board");
    }

    // alice sees bob's app, not his configuration.
    let shared = &apps["shared_apps"][0]["user_options"];
    let keys: BTreeSet<&str> = shared
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "jhub_app",
            "display_name",
            "description",
            "framework",
            "public",
            "keep_alive"
        ]),
        "{shared}"
    );

    let one = get_json(&hub, "server/sales", &token).await;
    assert_eq!(&one, sales);
    let missing = reqwest::Client::new()
        .get(hub.service_url("server/nope"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["detail"], "server 'nope' not found");
    // `lab`/`vscode` are the default server.
    let lab = get_json(&hub, "server/lab", &token).await;
    assert_eq!(lab["name"], "");

    let user = get_json(&hub, "user", &token).await;
    let keys: BTreeSet<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "name",
            "admin",
            "groups",
            "kind",
            "server",
            "pending",
            "last_activity",
            "servers",
            "scopes",
            "auth_state"
        ])
    );

    let services = get_json(&hub, "services/", &token).await;
    for (name, service) in services.as_object().unwrap() {
        let keys: BTreeSet<&str> = service
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["name", "kind", "admin", "display", "info", "url"]),
            "service {name}: never command, pid, prefix or roles"
        );
        assert_eq!(service["name"], name.as_str());
    }
}

async fn share_permissions_follow_the_scopes(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice", "bob", "carol", "dave"]).await;
    hub.create_group("team", &["carol", "dave", "alice"]).await;
    hub.create_group("other", &["bob"]).await;
    hub.service_hub_calls().await;
    const ACCESS: &str = "access:services!service=japps";

    // Explicit names: no hub call.
    let explicit = hub
        .user_token_with_scopes(
            "alice",
            &[
                ACCESS,
                "read:users:name!user=bob",
                "read:groups:name!group=team",
            ],
        )
        .await;
    get_json(&hub, "user", &explicit).await;
    let (targets, calls) = calls_of(&hub, "share-permissions/", &explicit).await;
    assert_eq!(targets, json!({"users": ["bob"], "groups": ["team"]}));
    assert_eq!(calls, expect(&[]), "explicit names");

    // A group filter: its members, one call.
    let grouped = hub
        .user_token_with_scopes("alice", &[ACCESS, "read:users:name!group=team"])
        .await;
    get_json(&hub, "user", &grouped).await;
    let (targets, calls) = calls_of(&hub, "share-permissions/", &grouped).await;
    assert_eq!(
        targets,
        json!({"users": ["carol", "dave"], "groups": []}),
        "never the user herself"
    );
    assert_eq!(calls, expect(&[("GET /groups/{name}", 1)]), "group filter");

    // Broad scopes (what the plugin grants by default): paginated listings.
    let broad = warm_user(&hub, "alice").await;
    let (targets, calls) = calls_of(&hub, "share-permissions/", &broad).await;
    assert_eq!(
        targets,
        json!({"users": ["bob", "carol", "dave"], "groups": ["other", "team"]})
    );
    assert_eq!(
        calls,
        expect(&[("GET /groups", 1), ("GET /users", 1)]),
        "broad scopes"
    );
    // Asked again within 30 s (a form reload): kept per user and scopes, no listing.
    let (again, calls) = calls_of(&hub, "share-permissions/", &broad).await;
    assert_eq!(again, targets);
    assert_eq!(calls, expect(&[]), "share targets are cached");
}

/// Made-up tokens are remembered apart from real users: a flood of them neither evicts a
/// user's identity nor costs a hub call when one is retried.
async fn a_flood_of_bad_tokens_keeps_users_cached(release: HubRelease) {
    let hub = start_hub(release, "").await;
    hub.create_users(&["alice"]).await;
    let alice = warm_user(&hub, "alice").await;
    let client = reqwest::Client::new();
    for n in 0..300 {
        let response = client
            .get(hub.service_url("user"))
            .header("Authorization", format!("token made-up-token-{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "made-up token {n}");
    }
    let (user, calls) = calls_of(&hub, "user", &alice).await;
    assert_eq!(user["name"], "alice");
    assert_eq!(calls, expect(&[]), "alice's identity survived the flood");
    let before = hub.service_hub_calls().await;
    let response = client
        .get(hub.service_url("user"))
        .header("Authorization", "token made-up-token-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let after = hub.service_hub_calls().await;
    assert_eq!(
        calls_between(&before, &after),
        expect(&[]),
        "a refused token is remembered"
    );
}
