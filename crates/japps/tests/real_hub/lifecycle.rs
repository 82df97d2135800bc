//! The app lifecycle against real hubs: create, share, start (by the owner and by a user
//! the hub allows), edit, stop, delete — every action with the acting user's own token —
//! plus names, uploads and bad input.

use std::collections::BTreeSet;
use std::time::Duration;

use japps_domain::naming;
use japps_testkit::{HubOptions, HubRelease, TestHub, real_hub_tests};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

real_hub_tests!(
    full_lifecycle_with_users_and_a_group,
    awkward_titles_become_valid_names,
    bad_input_is_refused_with_a_message,
    uploads_are_checked_and_scaled,
    startup_apps_are_reconciled_once,
    custom_images_when_the_operator_allows_them,
);

/// The role that lets dave start alice's app: granted by the hub, not by japps.
const START_ROLE: &str = "c.JupyterHub.load_roles.append({'name': 'start-alices-app', \
     'users': ['dave'], 'scopes': ['servers!server=alice/sales-board']})\n";

async fn hub_with(release: HubRelease, japps_config: &str, extra: &str) -> TestHub {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .japps_config(japps_config)
        .extra_config(extra);
    TestHub::start(release, options).await
}

fn data(servername: &str, user_options: Value) -> String {
    json!({"servername": servername, "user_options": user_options}).to_string()
}

async fn send(request: reqwest::RequestBuilder, token: &str) -> (u16, Value) {
    let response = request
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

async fn create(hub: &TestHub, token: &str, form: Form) -> (u16, Value) {
    send(
        reqwest::Client::new()
            .post(hub.service_url("server"))
            .multipart(form),
        token,
    )
    .await
}

async fn get(hub: &TestHub, token: &str, path: &str) -> Value {
    let (status, body) = send(reqwest::Client::new().get(hub.service_url(path)), token).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

fn shared_names(apps: &Value) -> BTreeSet<String> {
    apps["shared_apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|app| app["full_name"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_for(hub: &TestHub, user: &str, server: &str, want: &str) {
    let client = hub.admin_client();
    for _ in 0..300 {
        let model = client.as_service().user(user, true).await.unwrap();
        let state = model
            .servers
            .get(server)
            .map(|s| (s.ready, s.stopped, s.pending.is_some()));
        let done = match want {
            "ready" => matches!(state, Some((true, _, false))),
            "stopped" => matches!(state, Some((false, true, false))),
            "gone" => state.is_none(),
            _ => unreachable!(),
        };
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{user}/{server} never became {want}");
}

/// How many API tokens the hub holds for `user` (japps must never add any).
async fn token_count(hub: &TestHub, user: &str) -> usize {
    let response = reqwest::Client::new()
        .get(format!("{}/users/{user}/tokens", hub.api_url()))
        .header("Authorization", format!("token {}", hub.admin_token()))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["api_tokens"].as_array().unwrap().len()
}

async fn full_lifecycle_with_users_and_a_group(release: HubRelease) {
    let hub = hub_with(release, "", START_ROLE).await;
    hub.create_users(&["alice", "bob", "carol", "dave"]).await;
    hub.create_group("team", &["carol"]).await;
    let alice = hub.user_token("alice").await;
    let bob = hub.user_token("bob").await;
    let carol = hub.user_token("carol").await;
    let dave = hub.user_token("dave").await;
    let tokens_before = token_count(&hub, "alice").await;

    // Create, shared with bob and the team.
    let options = json!({
        "display_name": "Sales Board", "description": "Quarterly numbers", "framework": "panel",
        "filepath": "", "public": false, "keep_alive": false, "env": {"MODE": "demo"},
        "custom_command": "unused by panel apps",
        "share_with": {"users": ["bob", "bob"], "groups": ["team"]}
    });
    let (status, body) = create(
        &hub,
        &alice,
        Form::new().text("data", data("Sales Board", options)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(matches!(body[0].as_u64(), Some(201 | 202)), "{body}");
    assert_eq!(body[1], "sales-board");
    assert_eq!(body.as_array().unwrap().len(), 2, "no warnings: {body}");
    wait_for(&hub, "alice", "sales-board", "ready").await;

    let stored = get(&hub, &alice, "server/sales-board").await;
    assert_eq!(stored["user_options"]["display_name"], "Sales Board");
    assert_eq!(stored["user_options"]["jhub_app"], true);
    assert_eq!(stored["user_options"]["name"], "sales-board");
    assert_eq!(stored["user_options"]["env"], json!({"MODE": "demo"}));
    assert_eq!(
        stored["user_options"]["share_with"],
        json!({"users": ["bob"], "groups": ["team"]}),
        "each target once"
    );
    assert!(
        stored["user_options"]["thumbnail"]
            .as_str()
            .unwrap()
            .starts_with("data:image/")
    );
    if release.major() >= 6 {
        assert_eq!(stored["display_name"], "Sales Board");
    }
    let bobs_view = get(&hub, &bob, "server/").await;
    assert!(shared_names(&bobs_view).contains("alice/sales-board"));
    assert!(shared_names(&get(&hub, &carol, "server/").await).contains("alice/sales-board"));
    // A sharee sees the app, not alice's configuration.
    let shared = &bobs_view["shared_apps"][0]["user_options"];
    assert_eq!(shared["display_name"], "Sales Board", "{shared}");
    for secret in [
        "env",
        "custom_command",
        "repository",
        "share_with",
        "filepath",
    ] {
        assert!(shared.get(secret).is_none(), "bob sees {secret}: {shared}");
    }

    // Stop as the owner.
    let (status, body) = send(
        reqwest::Client::new().delete(hub.service_url("server/sales-board")),
        &alice,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(matches!(body.as_u64(), Some(202 | 204)), "{body}");
    wait_for(&hub, "alice", "sales-board", "stopped").await;

    // Bob may see it but not start it; dave's role lets him start it (with his own token).
    let url = hub.service_url("server/sales-board?owner=alice");
    let (status, body) = send(reqwest::Client::new().post(&url), &bob).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("not allowed"),
        "{body}"
    );
    let (status, body) = send(reqwest::Client::new().post(&url), &dave).await;
    assert_eq!(status, 200, "{body}");
    assert!(matches!(body.as_u64(), Some(201 | 202)), "{body}");
    wait_for(&hub, "alice", "sales-board", "ready").await;

    // Edit: new description, shares move from bob+team to carol; the thumbnail is kept.
    let thumbnail = stored["user_options"]["thumbnail"]
        .as_str()
        .unwrap()
        .to_owned();
    let edited = json!({
        "display_name": "Sales Board", "description": "Now with forecasts", "framework": "panel",
        "filepath": "", "public": false, "keep_alive": true, "env": {"MODE": "prod"},
        "share_with": {"users": ["carol"], "groups": []}
    });
    let form = Form::new()
        .text("data", data("sales-board", edited))
        .text("thumbnail_data_url", thumbnail.clone());
    let (status, body) = send(
        reqwest::Client::new()
            .put(hub.service_url("server/sales-board"))
            .multipart(form),
        &alice,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[1], "sales-board");
    assert_eq!(body.as_array().unwrap().len(), 2, "no warnings: {body}");
    wait_for_options(&hub, &alice, "Now with forecasts").await;
    let after = get(&hub, &alice, "server/sales-board").await;
    assert_eq!(after["user_options"]["env"], json!({"MODE": "prod"}));
    assert_eq!(after["user_options"]["keep_alive"], true);
    assert_eq!(after["user_options"]["thumbnail"], thumbnail.as_str());
    assert!(!shared_names(&get(&hub, &bob, "server/").await).contains("alice/sales-board"));
    assert!(shared_names(&get(&hub, &carol, "server/").await).contains("alice/sales-board"));

    // Delete.
    let (status, _) = send(
        reqwest::Client::new().delete(hub.service_url("server/sales-board")),
        &alice,
    )
    .await;
    assert_eq!(status, 200);
    wait_for(&hub, "alice", "sales-board", "stopped").await;
    let (status, body) = send(
        reqwest::Client::new().delete(hub.service_url("server/sales-board?remove=true")),
        &alice,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    wait_for(&hub, "alice", "sales-board", "gone").await;
    let (status, _) = send(
        reqwest::Client::new().get(hub.service_url("server/sales-board")),
        &alice,
    )
    .await;
    assert_eq!(status, 404);

    // Never a token minted or revoked for these actions.
    assert_eq!(token_count(&hub, "alice").await, tokens_before);
    let calls = hub.service_hub_calls().await;
    assert!(
        calls.keys().all(|call| !call.contains("/tokens")),
        "{calls:?}"
    );
}

async fn wait_for_options(hub: &TestHub, token: &str, description: &str) {
    for _ in 0..200 {
        let server = get(hub, token, "server/sales-board").await;
        if server["user_options"]["description"] == description && server["pending"].is_null() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the edit never showed");
}

async fn awkward_titles_become_valid_names(release: HubRelease) {
    let hub = hub_with(release, "", "").await;
    hub.create_users(&["alice"]).await;
    let alice = hub.user_token("alice").await;
    let long = "A very long title ".repeat(17);
    let mut names = BTreeSet::new();
    for title in [
        "Über App!!",
        "----",
        "a/b",
        "?",
        long.as_str(),
        "Über App!!",
    ] {
        let options = json!({"display_name": title, "description": "", "framework": "streamlit"});
        let (status, body) =
            create(&hub, &alice, Form::new().text("data", data(title, options))).await;
        assert_eq!(status, 200, "{title:?}: {body}");
        let name = body[1].as_str().unwrap().to_owned();
        assert!(naming::is_valid(&name), "{title:?} → {name:?}");
        assert!(names.insert(name.clone()), "{title:?} reused {name:?}");
        let stored = get(&hub, &alice, &format!("server/{name}")).await;
        // The title as typed, only trimmed.
        assert_eq!(
            stored["user_options"]["display_name"],
            title.trim(),
            "{title:?}"
        );
    }
    assert_eq!(names.len(), 6);
}

async fn bad_input_is_refused_with_a_message(release: HubRelease) {
    let hub = hub_with(
        release,
        "c.JAppsConfig.blocked_frameworks = ['gradio']\nc.JAppsConfig.max_share_targets = 2\n",
        "",
    )
    .await;
    hub.create_users(&["alice"]).await;
    let alice = hub.user_token("alice").await;
    let ok = json!({"display_name": "X", "description": "", "framework": "panel"});
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "blocked framework",
            reqwest::Client::new().post(hub.service_url("server")).multipart(
                Form::new().text("data", data("g", json!({"display_name": "G", "framework": "gradio"}))),
            ),
            403,
            "Given framework \"gradio\" is not allowed on this deployment, please contact admin.",
        ),
        (
            "no data",
            reqwest::Client::new()
                .post(hub.service_url("server"))
                .multipart(Form::new().text("other", "x")),
            400,
            "`data` field is missing",
        ),
        (
            "invalid JSON",
            reqwest::Client::new()
                .post(hub.service_url("server"))
                .multipart(Form::new().text("data", "{not json")),
            400,
            "not valid JSON",
        ),
        (
            "URL-encoded invalid JSON",
            reqwest::Client::new()
                .post(hub.service_url("server"))
                .form(&[("data", "[1,2]")]),
            400,
            "not valid JSON",
        ),
        (
            "no framework",
            reqwest::Client::new()
                .post(hub.service_url("server"))
                .multipart(Form::new().text("data", data("x", json!({"display_name": "X"})))),
            400,
            "framework is required",
        ),
        (
            "shared JupyterLab",
            reqwest::Client::new().post(hub.service_url("server")).multipart(Form::new().text(
                "data",
                data("l", json!({"display_name": "L", "framework": "jupyterlab", "share_with": {"users": ["bob"]}})),
            )),
            400,
            "JupyterLab apps cannot be shared",
        ),
        (
            "custom image not allowed",
            reqwest::Client::new().post(hub.service_url("server")).multipart(Form::new().text(
                "data",
                data("i", json!({"display_name": "I", "framework": "panel", "profile_image": "evil/miner:latest"})),
            )),
            403,
            "profile_image",
        ),
        (
            "env of numbers",
            reqwest::Client::new().post(hub.service_url("server")).multipart(
                Form::new().text("data", data("e", json!({"display_name": "E", "framework": "panel", "env": {"A": 1}}))),
            ),
            400,
            "env",
        ),
        (
            "custom app without a command",
            reqwest::Client::new().post(hub.service_url("server")).multipart(
                Form::new().text("data", data("c", json!({"display_name": "C", "framework": "custom"}))),
            ),
            400,
            "a custom app needs a command",
        ),
        (
            "custom command with an unbalanced quote",
            reqwest::Client::new().post(hub.service_url("server")).multipart(Form::new().text(
                "data",
                data("c", json!({"display_name": "C", "framework": "custom", "custom_command": "python -c 'x"})),
            )),
            400,
            "unbalanced quote",
        ),
        (
            "env the hub sets",
            reqwest::Client::new().post(hub.service_url("server")).multipart(Form::new().text(
                "data",
                data("e", json!({"display_name": "E", "framework": "panel", "env": {"JUPYTERHUB_API_URL": "http://evil"}})),
            )),
            400,
            "JUPYTERHUB_API_URL",
        ),
        (
            "too many share targets",
            reqwest::Client::new().post(hub.service_url("server")).multipart(Form::new().text(
                "data",
                data("s", json!({"display_name": "S", "framework": "panel",
                                 "share_with": {"users": ["a", "b", "a"], "groups": ["g"]}})),
            )),
            400,
            "at most 2",
        ),
        (
            "public as a string",
            reqwest::Client::new().post(hub.service_url("server")).multipart(
                Form::new().text("data", data("p", json!({"display_name": "P", "framework": "panel", "public": "yes"}))),
            ),
            400,
            "user_options.public",
        ),
        (
            "plain text body",
            reqwest::Client::new()
                .post(hub.service_url("server"))
                .header("content-type", "text/plain")
                .body(data("x", ok.clone())),
            415,
            "multipart",
        ),
        (
            "edit of a missing app",
            reqwest::Client::new()
                .put(hub.service_url("server/nope"))
                .multipart(Form::new().text("data", data("nope", ok.clone()))),
            404,
            "not found",
        ),
        (
            "start of a missing server of another user",
            reqwest::Client::new().post(hub.service_url("server/nope?owner=nobody-here")),
            404,
            "",
        ),
        (
            "remove=maybe",
            reqwest::Client::new().delete(hub.service_url("server/x?remove=maybe")),
            400,
            "remove must be",
        ),
    ];
    for (what, request, status, detail) in cases {
        let (got, body) = send(request, &alice).await;
        assert_eq!(got, status, "{what}: {body}");
        let text = body["detail"].as_str().unwrap_or_default();
        assert!(text.contains(detail), "{what}: {body}");
    }
    // Nothing was created by any of them.
    let apps = get(&hub, &alice, "server/").await;
    let named: Vec<&Value> = apps["user_apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] != "")
        .collect();
    assert!(named.is_empty(), "{named:?}");
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

async fn uploads_are_checked_and_scaled(release: HubRelease) {
    let hub = hub_with(
        release,
        "c.JAppsConfig.thumbnail_max_bytes = 200 * 1024\n",
        "",
    )
    .await;
    hub.create_users(&["alice"]).await;
    let alice = hub.user_token("alice").await;
    let form = |title: &str, file: Vec<u8>, filename: &str| {
        Form::new()
            .text(
                "data",
                data(
                    title,
                    json!({"display_name": title, "description": "", "framework": "bokeh"}),
                ),
            )
            .part(
                "thumbnail",
                Part::bytes(file).file_name(filename.to_owned()),
            )
    };

    let (status, body) = create(
        &hub,
        &alice,
        form("Big Picture", png(1600, 800), "picture.png"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let name = body[1].as_str().unwrap();
    let stored = get(&hub, &alice, &format!("server/{name}")).await;
    let url = stored["user_options"]["thumbnail"].as_str().unwrap();
    let (_, encoded) = url.split_once(";base64,").expect("a base64 data URL");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let image = image::load_from_memory(&bytes).unwrap();
    assert!(
        image.width() <= 400 && image.height() <= 400,
        "{}x{}",
        image.width(),
        image.height()
    );
    assert_eq!(image.width(), 2 * image.height(), "aspect ratio kept");

    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let noise: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for (what, file, filename, status) in [
        ("SVG with a script", svg, "logo.png", 400),
        ("not an image", b"hello, world".to_vec(), "photo.jpg", 400),
        ("over the limit", noise, "big.png", 413),
    ] {
        let (got, body) = create(&hub, &alice, form(what, file, filename)).await;
        assert_eq!(got, status, "{what}: {body}");
        assert!(body["detail"].is_string(), "{what}: {body}");
    }
}

pub(crate) fn startup_apps() -> Value {
    json!([
        {"username": "alice", "servername": "welcome", "user_options": {
            "display_name": "Welcome", "description": "Start here", "framework": "panel",
            "filepath": "", "public": false, "keep_alive": false,
            "share_with": {"users": ["bob"], "groups": ["team"]}}},
        {"username": "alice", "servername": "second", "user_options": {
            "display_name": "Second", "description": "", "framework": "streamlit"}},
        {"username": "bob", "servername": "bobs-app", "user_options": {
            "display_name": "Bob's app", "description": "", "framework": "voila", "public": true}}
    ])
}

/// Servers and shares of the startup apps, as the hub holds them.
pub(crate) async fn startup_state(hub: &TestHub) -> Vec<Value> {
    let client = hub.admin_client();
    let mut state = Vec::new();
    for (user, server) in [
        ("alice", "welcome"),
        ("alice", "second"),
        ("bob", "bobs-app"),
    ] {
        let model = client.as_service().user(user, true).await.unwrap();
        let Some(found) = model.servers.get(server) else {
            return Vec::new();
        };
        state.push(
            json!({"server": format!("{user}/{server}"), "stopped": found.stopped,
                          "options": found.user_options, "display_name": found.display_name}),
        );
    }
    for user in ["bob", "carol"] {
        let shared = client.as_service().shared_with(user).await.unwrap();
        for item in shared {
            state.push(json!({"shared_with": user,
                              "server": format!("{}/{}", item.server.user.name, item.server.name),
                              "created_at": item.created_at}));
        }
    }
    state
}

async fn startup_apps_are_reconciled_once(release: HubRelease) {
    let apps = startup_apps();
    let hub = hub_with(
        release,
        &format!("import json as _json\nc.JAppsConfig.startup_apps = _json.loads(r'''{apps}''')\n"),
        "c.JupyterHub.load_groups = {'team': {'users': ['alice', 'bob', 'carol']}}\n",
    )
    .await;

    // The service reconciles in the background after it starts.
    for _ in 0..600 {
        if hub.logs().contains("startup apps reconciled") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        hub.logs()
            .contains("startup apps reconciled unchanged=0 updated=3 failed=0"),
        "{}",
        hub.logs()
    );
    let state = startup_state(&hub).await;
    assert_eq!(state.len(), 6, "{state:#?}");
    assert!(
        state[..3].iter().all(|s| s["stopped"] == true),
        "{state:#?}"
    );
    let shares: Vec<(&str, &str)> = state[3..]
        .iter()
        .map(|s| {
            (
                s["shared_with"].as_str().unwrap(),
                s["server"].as_str().unwrap(),
            )
        })
        .collect();
    // bob directly and through the team, carol through the team.
    assert_eq!(
        shares,
        [
            ("bob", "alice/welcome"),
            ("bob", "alice/welcome"),
            ("carol", "alice/welcome")
        ]
    );
    let welcome = &state[0]["options"];
    assert_eq!(welcome["jhub_app"], true);
    assert_eq!(welcome["name"], "welcome");
    assert_eq!(welcome["description"], "Start here");
    assert!(
        welcome["thumbnail"]
            .as_str()
            .unwrap()
            .starts_with("data:image/")
    );
    if release.major() >= 6 {
        assert_eq!(state[2]["display_name"], "Bob's app");
    }
    // A second run (a restart, or another replica) changes nothing.
    let port = japps_testkit::free_port();
    let config = json!({"startup_apps": apps}).to_string();
    let mut second = tokio::process::Command::new(env!("CARGO_BIN_EXE_japps"))
        .arg("serve")
        .env_clear()
        .env("JUPYTERHUB_API_TOKEN", hub.japps_token())
        .env("JUPYTERHUB_API_URL", hub.api_url().as_str())
        .env("JUPYTERHUB_SERVICE_URL", format!("http://127.0.0.1:{port}"))
        .env("JAPPS_CONFIG", config)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(second.stderr.take().unwrap()).lines();
    let summary = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("startup apps reconciled") {
                return line;
            }
        }
        panic!("the second run ended without reconciling");
    })
    .await
    .expect("the second run reconciles within a minute");
    assert!(
        summary.contains("unchanged=3 updated=0 failed=0"),
        "{summary}"
    );
    assert_eq!(
        startup_state(&hub).await,
        state,
        "nothing changed on the hub"
    );
}

async fn custom_images_when_the_operator_allows_them(release: HubRelease) {
    let hub = hub_with(release, "c.JAppsConfig.allow_profile_image = True\n", "").await;
    hub.create_users(&["alice", "bob"]).await;
    let alice = hub.user_token("alice").await;
    let bob = hub.user_token("bob").await;
    let options = json!({"display_name": "Imaged", "description": "", "framework": "panel",
                         "profile": "small", "profile_image": "quay.io/example/app:1.0", "conda_env": "base",
                         "keep_alive": true, "public": true, "env": {"K": "V"},
                         "repository": {"url": "https://example.org/repo.git", "config_directory": ".", "ref": "main"},
                         "share_with": {"users": ["bob"], "groups": []}});
    let (status, body) = create(
        &hub,
        &alice,
        Form::new().text("data", data("Imaged", options.clone())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let stored = get(&hub, &alice, "server/imaged").await;
    for field in [
        "profile",
        "profile_image",
        "conda_env",
        "keep_alive",
        "public",
        "env",
        "repository",
    ] {
        assert_eq!(
            stored["user_options"][field], options[field],
            "{field} stored as sent"
        );
    }
    // bob, whom it is shared with, sees none of that configuration.
    let bobs_view = get(&hub, &bob, "server/").await;
    let shared = &bobs_view["shared_apps"][0];
    assert_eq!(shared["full_name"], "alice/imaged", "{bobs_view}");
    for field in [
        "profile",
        "profile_image",
        "conda_env",
        "env",
        "repository",
        "share_with",
    ] {
        assert!(
            shared["user_options"].get(field).is_none(),
            "bob sees {field}: {shared}"
        );
    }
    assert_eq!(shared["user_options"]["public"], true);
}
