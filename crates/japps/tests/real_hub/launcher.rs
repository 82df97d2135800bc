//! `japps launch` through a real hub: apps created with the japps API are spawned by the
//! plugin's spawner, run behind the launcher, and reached through the hub's proxy after
//! the hub's OAuth — by the owner, a user it is shared with, not by anyone else; public
//! apps by anyone, their logs still only by the owner; WebSockets through the whole chain;
//! activity reported; failures shown and the server stopped.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use japps_testkit::{
    Browser, HubOptions, HubRelease, TestHub, echo_command, node_proxy, real_hub_tests,
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

real_hub_tests!(
    owner_shared_user_and_stranger,
    no_credentials_reach_the_app,
    no_credentials_reach_the_app_with_host_prefixed_cookies,
    public_apps_keep_their_logs_private,
    activity_is_reported_and_kept_alive,
    an_app_that_never_gets_ready_fails_visibly,
    a_crashing_app_stops_its_server,
);

/// Hub settings every launcher test wants: the hub notices a stopped server within a
/// second, spawns have time on a loaded machine, and `root` is a hub admin.
const HUB_SETTINGS: &str = "c.Spawner.poll_interval = 1\nc.Spawner.start_timeout = 60\n\
     c.Spawner.http_timeout = 60\nc.Authenticator.admin_users = {'root'}\n";

async fn hub(release: HubRelease) -> TestHub {
    // Behind the Node proxy production hubs run: it streams (the live feed) and passes
    // binary WebSocket frames, which the pure-Python one does not.
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .extra_config(HUB_SETTINGS)
        .proxy_command(node_proxy());
    TestHub::start(release, options).await
}

/// The server as the hub sees it: (ready, stopped, last_activity).
async fn server_state(
    hub: &TestHub,
    user: &str,
    server: &str,
) -> Option<(bool, bool, Option<String>)> {
    hub.server(user, server)
        .await
        .map(|s| (s.ready, s.stopped, s.last_activity))
}

async fn wait_until(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn wait_ready(hub: &TestHub, user: &str, server: &str) {
    wait_until(
        &format!("{user}/{server} is ready"),
        Duration::from_secs(60),
        async || matches!(server_state(hub, user, server).await, Some((true, _, _))),
    )
    .await;
}

/// Waits until the launcher says the app itself answers (the hub's "ready" only means the
/// launcher listens).
async fn wait_app_phase(browser: &Browser, hub: &TestHub, app_url: &str, want: &str) -> Value {
    let url = format!("{app_url}_japps/api/status");
    let mut last = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let response = browser.api_get(&url).await;
        if response.status() == 200 {
            last = response.json().await.unwrap();
            if last["phase"] == want {
                return last;
            }
        } else {
            last = json!({"status": response.status().as_u16()});
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{} never reached phase {want}; last: {last}", hub.url(&url));
}

async fn logged_in(hub: &TestHub, user: &str) -> Browser {
    let browser = Browser::new();
    browser.login_to_hub(hub, user).await;
    browser
}

fn app_url(hub: &TestHub, user: &str, server: &str) -> String {
    hub.url(&format!("user/{user}/{server}/"))
}

async fn owner_shared_user_and_stranger(release: HubRelease) {
    let hub = hub(release).await;
    hub.create_users(&["alice", "bob", "carol", "dave"]).await;
    hub.create_group("team", &["dave"]).await;
    let alice_token = hub.user_token("alice").await;
    let server = hub.create_app(&alice_token,
        "echo",
        json!({"display_name": "Echo", "framework": "custom", "custom_command": echo_command(release, ""),
               "share_with": {"users": ["bob"], "groups": ["team"]}}),
    )
    .await;
    wait_ready(&hub, "alice", &server).await;
    let url = app_url(&hub, "alice", &server);

    // The owner: through the hub's OAuth to the app.
    let alice = logged_in(&hub, "alice").await;
    let visit = alice.follow(&hub, &url).await;
    assert!(
        visit
            .hops
            .iter()
            .any(|(_, to)| to.contains("/hub/api/oauth2/authorize")),
        "the owner went through the hub's OAuth: {:?}",
        visit.hops
    );
    wait_app_phase(&alice, &hub, &url, "ready").await;
    let visit = alice.follow(&hub, &url).await;
    assert_eq!(visit.status, 200, "{}", visit.body);
    assert!(visit.body.contains("echo app"), "{}", visit.body);

    // What the app sees: its own path without the prefix, forwarded headers, no launcher cookie.
    let headers = alice.api_get(&format!("{url}headers")).await;
    assert_eq!(headers.status(), 200);
    let seen: Value = headers.json().await.unwrap();
    let seen_headers = lowercase_keys(&seen["headers"]);
    assert_eq!(seen["path"], "/headers", "{seen}");
    assert!(seen_headers["x-forwarded-for"].as_str().is_some(), "{seen}");
    assert_eq!(
        seen_headers["x-forwarded-prefix"],
        format!("/user/alice/{server}"),
        "{seen}"
    );
    let forwarded_cookies = seen_headers["cookie"].as_str().unwrap_or_default();
    assert!(
        !forwarded_cookies.contains("japps-launch"),
        "launcher cookie leaked to the app: {forwarded_cookies}"
    );

    // A redirect from the app stays under the prefix.
    let redirect = alice.get(&format!("{url}redirect")).await;
    assert_eq!(redirect.status(), 302);
    assert_eq!(
        redirect.headers()["location"],
        format!("/user/alice/{server}/target")
    );

    // WebSocket echo through the hub's proxy and the launcher, with the owner's cookies.
    let ws_url = url.replacen("http://", "ws://", 1) + "ws";
    let mut request = ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "Cookie",
        alice.cookie_header(&url).unwrap().parse().unwrap(),
    );
    request
        .headers_mut()
        .insert("Origin", hub.public_origin().parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    for text in ["hello", "through the hub"] {
        assert_eq!(echo(&mut socket, text).await, text);
    }
    socket
        .send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    let echoed = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
    assert_eq!(
        echoed.unwrap().unwrap().unwrap().into_data().as_ref(),
        [0u8, 1, 2, 255]
    );
    socket.close(None).await.unwrap();

    // A WebSocket from another site is refused even with the owner's cookies.
    let mut request = ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "Cookie",
        alice.cookie_header(&url).unwrap().parse().unwrap(),
    );
    request
        .headers_mut()
        .insert("Origin", "https://evil.example".parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(request).await.is_err(),
        "cross-site WebSocket was accepted"
    );

    // The owner reads the app's output.
    let logs = alice.api_get(&format!("{url}_japps/api/logs")).await;
    assert_eq!(logs.status(), 200);
    let logs: Value = logs.json().await.unwrap();
    let text = log_text(&logs);
    assert!(text.contains("echo app listening"), "{text}");
    assert!(text.contains("ready after"), "{text}");

    // Bob, whom the app is shared with, gets in (after the hub's consent page if it asks).
    let bob = logged_in(&hub, "bob").await;
    let visit = bob.follow(&hub, &url).await;
    assert_eq!(visit.status, 200, "bob: {:?} {}", visit.hops, visit.body);
    assert!(visit.body.contains("echo app"));
    // … but not to the owner's logs.
    assert_eq!(
        bob.api_get(&format!("{url}_japps/api/logs")).await.status(),
        403
    );

    // Dave, through the group it is shared with; and a hub admin.
    for user in ["dave", "root"] {
        let browser = logged_in(&hub, user).await;
        let visit = browser.follow(&hub, &url).await;
        assert_eq!(visit.status, 200, "{user}: {:?} {}", visit.hops, visit.body);
        assert!(visit.body.contains("echo app"), "{user}");
    }

    // Carol is refused (by the hub at authorization, or by the launcher).
    let carol = logged_in(&hub, "carol").await;
    let visit = carol.follow(&hub, &url).await;
    assert_eq!(visit.status, 403, "carol: {:?} {}", visit.hops, visit.body);
    assert!(!visit.body.contains("echo app listening"));

    // Nobody logged in: sent to log in, never served.
    let anonymous = Browser::new();
    let first = anonymous.get(&url).await;
    assert_eq!(first.status(), 302);
    assert_eq!(
        anonymous.api_get(&format!("{url}headers")).await.status(),
        401
    );

    // Stopping the server stops the app's processes (SIGTERM to the launcher).
    let marker = format!("--root-path /user/alice/{server}");
    assert!(process_running(&marker), "the echo app should be running");
    let stop = reqwest::Client::new()
        .delete(hub.service_url(&format!("server/{server}")))
        .header("Authorization", format!("token {alice_token}"))
        .send()
        .await
        .unwrap();
    assert!(stop.status().is_success(), "{}", stop.text().await.unwrap());
    wait_until(
        "the echo app has stopped",
        Duration::from_secs(30),
        async || !process_running(&marker),
    )
    .await;
}

async fn public_apps_keep_their_logs_private(release: HubRelease) {
    let hub = hub(release).await;
    hub.create_users(&["alice", "bob"]).await;
    let alice_token = hub.user_token("alice").await;
    let server = hub
        .create_app(
            &alice_token,
            "public-echo",
            json!({"display_name": "Public echo", "framework": "custom", "public": true,
               "custom_command": echo_command(release, "")}),
        )
        .await;
    wait_ready(&hub, "alice", &server).await;
    let url = app_url(&hub, "alice", &server);
    let anonymous = Browser::new();
    wait_app_phase(&anonymous, &hub, &url, "ready").await;

    // Anyone with the URL, no login at all.
    let page = anonymous.get(&url).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("echo app"));
    let ws_url = url.replacen("http://", "ws://", 1) + "ws";
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
        .await
        .unwrap();
    socket.send(Message::text("public")).await.unwrap();
    assert_eq!(
        socket
            .next()
            .await
            .unwrap()
            .unwrap()
            .into_text()
            .unwrap()
            .as_str(),
        "public"
    );

    // The logs are not public: anonymous scripts get 401, browsers are sent to log in.
    assert_eq!(
        anonymous
            .api_get(&format!("{url}_japps/api/logs"))
            .await
            .status(),
        401
    );
    let page = anonymous.get(&format!("{url}_japps/logs")).await;
    assert_eq!(page.status(), 302);
    assert!(
        page.headers()["location"]
            .to_str()
            .unwrap()
            .contains("oauth2/authorize")
    );
    // A logged-in user without access to the server cannot log in to it at all (the hub
    // refuses the authorization), so cannot read its output either.
    let bob = logged_in(&hub, "bob").await;
    let visit = bob.follow(&hub, &format!("{url}_japps/logs")).await;
    assert_eq!(visit.status, 403, "{:?}", visit.hops);
    assert!(
        !visit.body.contains("echo app listening"),
        "bob saw the output"
    );
    assert_eq!(
        bob.api_get(&format!("{url}_japps/api/logs")).await.status(),
        401
    );
    // The owner reads them after logging in.
    let alice = logged_in(&hub, "alice").await;
    let visit = alice.follow(&hub, &format!("{url}_japps/logs")).await;
    assert_eq!(visit.status, 200, "{:?}", visit.hops);
    assert!(visit.body.contains("echo app listening"), "{}", visit.body);
}

async fn activity_is_reported_and_kept_alive(release: HubRelease) {
    let hub = hub(release).await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let busy = hub.create_app(&token,
        "busy",
        json!({"display_name": "Busy", "framework": "custom", "custom_command": echo_command(release, ""),
               "env": {"JHUB_APP_PROXY_ARGS": "--activity-interval=1"}}),
    )
    .await;
    let idle = hub
        .create_app(
            &token,
            "kept",
            json!({"display_name": "Kept alive", "framework": "custom", "keep_alive": true,
               "custom_command": echo_command(release, ""),
               "env": {"JHUB_APP_PROXY_ARGS": "--activity-interval=1"}}),
        )
        .await;
    wait_ready(&hub, "alice", &busy).await;
    wait_ready(&hub, "alice", &idle).await;
    let alice = logged_in(&hub, "alice").await;
    let busy_url = app_url(&hub, "alice", &busy);
    alice.follow(&hub, &busy_url).await;
    wait_app_phase(&alice, &hub, &busy_url, "ready").await;

    // Without traffic, nothing is reported for the busy app: its activity stays put.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = server_state(&hub, "alice", &busy).await.unwrap().2.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        server_state(&hub, "alice", &busy).await.unwrap().2.unwrap(),
        before
    );

    // Traffic through the proxy moves it.
    assert_eq!(
        alice.api_get(&format!("{busy_url}headers")).await.status(),
        200
    );
    wait_until(
        "the busy app's activity moves",
        Duration::from_secs(15),
        async || server_state(&hub, "alice", &busy).await.unwrap().2.unwrap() > before,
    )
    .await;

    // The keep-alive app reports on its own, again and again.
    let first = server_state(&hub, "alice", &idle)
        .await
        .unwrap()
        .2
        .unwrap_or_default();
    wait_until(
        "the kept-alive app reports",
        Duration::from_secs(15),
        async || {
            server_state(&hub, "alice", &idle)
                .await
                .unwrap()
                .2
                .unwrap_or_default()
                > first
        },
    )
    .await;
    let second = server_state(&hub, "alice", &idle).await.unwrap().2.unwrap();
    wait_until(
        "the kept-alive app reports again",
        Duration::from_secs(15),
        async || server_state(&hub, "alice", &idle).await.unwrap().2.unwrap() > second,
    )
    .await;
}

/// A fresh hub with one app of alice's, spawned (the launcher listens), and alice's
/// browser logged in to the hub: (hub, server name, app URL, browser).
async fn alices_app(
    release: HubRelease,
    name: &str,
    options: Value,
) -> (TestHub, String, String, Browser) {
    let hub = hub(release).await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let server = hub.create_app(&token, name, options).await;
    wait_ready(&hub, "alice", &server).await;
    let url = app_url(&hub, "alice", &server);
    let alice = logged_in(&hub, "alice").await;
    (hub, server, url, alice)
}

/// Waits until the hub no longer counts the server as running (the launcher exited).
async fn wait_server_stopped(hub: &TestHub, server: &str) {
    wait_until(
        &format!("the hub sees alice/{server} stop"),
        Duration::from_secs(40),
        async || !matches!(server_state(hub, "alice", server).await, Some((true, _, _))),
    )
    .await;
}

async fn an_app_that_never_gets_ready_fails_visibly(release: HubRelease) {
    let (hub, server, url, alice) = alices_app(
        release,
        "stuck",
        json!({"display_name": "Stuck", "framework": "custom",
               "custom_command": echo_command(release, "--never-ready"),
               "env": {"JHUB_APP_PROXY_ARGS": "--ready-timeout=4 --exit-grace=6"}}),
    )
    .await;
    let visit = alice.follow(&hub, &url).await;
    assert_eq!(visit.status, 200, "the startup page: {:?}", visit.hops);
    assert!(visit.body.contains("Starting the app"), "{}", visit.body);

    // The startup page's live feed: the app's output as it comes, then the failure.
    let mut events = alice
        .client()
        .get(format!("{url}_japps/events"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    // nginx must not hold the stream back.
    assert_eq!(events.headers()["x-accel-buffering"], "no");
    let mut feed = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(feed.contains("not listening yet") && feed.contains("\"phase\":\"failed\"")) {
        assert!(Instant::now() < deadline, "the feed stalled:\n{feed}");
        match tokio::time::timeout(Duration::from_secs(30), events.chunk()).await {
            Ok(Ok(Some(chunk))) => feed.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("the feed ended ({other:?}):\n{feed}"),
        }
    }
    assert!(feed.contains("event: log"), "{feed}");
    assert!(feed.contains("event: status"), "{feed}");
    // Heartbeats every 2 s, as events pages can see.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !feed.contains("event: ping") {
        assert!(Instant::now() < deadline, "no heartbeat:\n{feed}");
        match tokio::time::timeout(Duration::from_secs(5), events.chunk()).await {
            Ok(Ok(Some(chunk))) => feed.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("the feed ended ({other:?}):\n{feed}"),
        }
    }
    drop(events);

    let failed = wait_app_phase(&alice, &hub, &url, "failed").await;
    let reason = failed["reason"].as_str().unwrap();
    assert!(
        reason.contains("did not become ready within 4 s"),
        "{reason}"
    );
    // The page names the reason and shows what the app printed.
    let visit = alice.follow(&hub, &url).await;
    assert_eq!(visit.status, 503);
    assert!(
        visit.body.contains("did not become ready"),
        "{}",
        visit.body
    );
    assert!(
        visit.body.contains("not listening yet"),
        "the app's own output: {}",
        visit.body
    );

    // Then the launcher exits and the hub sees the server stop.
    wait_server_stopped(&hub, &server).await;
}

async fn a_crashing_app_stops_its_server(release: HubRelease) {
    let (hub, server, url, alice) = alices_app(
        release,
        "crashy",
        json!({"display_name": "Crashy", "framework": "custom",
               "custom_command": echo_command(release, "--crash-after 4"),
               "env": {"JHUB_APP_PROXY_ARGS": "--exit-grace=5"}}),
    )
    .await;
    alice.follow(&hub, &url).await;
    wait_app_phase(&alice, &hub, &url, "ready").await;
    let failed = wait_app_phase(&alice, &hub, &url, "failed").await;
    assert!(
        failed["reason"].as_str().unwrap().contains("exit status 3"),
        "{failed}"
    );
    let logs: Value = alice
        .api_get(&format!("{url}_japps/api/logs"))
        .await
        .json()
        .await
        .unwrap();
    assert!(log_text(&logs).contains("crashing on purpose"), "{logs}");
    wait_server_stopped(&hub, &server).await;
    // The hub's own log has the launcher's account of it too (spawner output).
    assert!(hub.logs().contains("crashing on purpose"));
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends `text` and returns the next message, within 10 s.
async fn echo(socket: &mut Socket, text: &str) -> String {
    let exchange = async {
        socket.send(Message::text(text)).await.unwrap();
        socket
            .next()
            .await
            .unwrap()
            .unwrap()
            .into_text()
            .unwrap()
            .as_str()
            .to_owned()
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap_or_else(|_| panic!("no echo of {text:?} within 10 s"))
}

fn log_text(logs: &Value) -> String {
    logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["text"].as_str().unwrap_or_default().to_owned() + "\n")
        .collect()
}

/// What a visitor holds besides their hub login: japps' session, a jhub-apps cookie left
/// from before an upgrade, the launcher's own cookie, a hub token in `Authorization`.
/// The app (the echo app prints what it receives) must see none of it, with the hub's
/// `__Host-` cookies (all on `Path=/`, so sent to every app) as without them.
async fn no_credentials_reach_the_app(release: HubRelease) {
    credentials_stay_out_of_the_app(release, false).await;
}

async fn no_credentials_reach_the_app_with_host_prefixed_cookies(release: HubRelease) {
    credentials_stay_out_of_the_app(release, true).await;
}

async fn credentials_stay_out_of_the_app(release: HubRelease, host_prefix: bool) {
    const JWT_SECRET: &str = "a-jwt-secret-for-the-credential-test-0123456789";
    let mut settings = HUB_SETTINGS.to_owned();
    if host_prefix {
        settings.push_str("c.JupyterHub.cookie_host_prefix_enabled = True\n");
    }
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .extra_config(&settings)
        .proxy_command(node_proxy())
        .env("JHUB_APP_JWT_SECRET_KEY", JWT_SECRET);
    let hub = TestHub::start(release, options).await;
    hub.create_users(&["alice", "bob"]).await;
    let alice_token = hub.user_token("alice").await;
    let bob_token = hub.user_token("bob").await;
    let server = hub
        .create_app(
            &alice_token,
            "creds",
            json!({"display_name": "Credentials", "framework": "custom",
               "custom_command": echo_command(release, ""),
               "share_with": {"users": ["bob"], "groups": []}}),
        )
        .await;
    wait_ready(&hub, "alice", &server).await;
    let url = app_url(&hub, "alice", &server);

    // Bob: logged into the hub, into japps (its session cookie), into the app (the
    // launcher's cookie), and still holding jhub-apps' cookie with a hub token in clear.
    let bob = logged_in(&hub, "bob").await;
    let japps = bob.follow(&hub, &hub.service_url("user")).await;
    assert_eq!(japps.status, 200, "bob logs into japps: {:?}", japps.hops);
    let legacy_jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"access_token_data": {"access_token": bob_token, "token_type": "Bearer"},
                "exp": unix_now() + 3600}),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    bob.set_cookie(
        &hub.url(""),
        &format!("jhub_apps_access_token={legacy_jwt}; Path=/"),
    );
    bob.set_cookie(&hub.url(""), "theme=dark; Path=/");
    let visit = bob.follow(&hub, &url).await;
    assert_eq!(visit.status, 200, "bob: {:?} {}", visit.hops, visit.body);
    wait_app_phase(&bob, &hub, &url, "ready").await;

    let sent = bob.cookie_header(&url).unwrap_or_default();
    let launcher_cookie = if host_prefix {
        "__Host-japps-launch-"
    } else {
        "japps-launch-"
    };
    assert!(sent.contains(launcher_cookie), "{sent}");
    assert!(sent.contains("jhub_apps_access_token="), "{sent}");
    if host_prefix {
        // A Path=/ cookie: the browser sends the hub's login to the app.
        assert!(sent.contains("__Host-jupyterhub-hub-login="), "{sent}");
    }

    let response = bob
        .client()
        .get(format!("{url}headers"))
        .header("Accept", "application/json")
        .header("Authorization", format!("token {bob_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen: Value = response.json().await.unwrap();
    let seen_headers = lowercase_keys(&seen["headers"]);
    let cookies = seen_headers["cookie"].as_str().unwrap_or_default();
    let mut names: Vec<&str> = cookies
        .split(';')
        .filter_map(|pair| pair.split('=').next())
        .map(str::trim)
        .collect();
    names.sort_unstable();
    // The hub's session id is no credential on its own (JupyterLab reads it).
    assert_eq!(
        names,
        ["jupyterhub-session-id", "theme"],
        "the app gets its own cookies only: {seen}"
    );
    assert!(seen_headers.get("authorization").is_none(), "{seen}");
    let everything = seen.to_string();
    for (what, secret) in [
        ("bob's hub token", bob_token.as_str()),
        ("the jhub-apps JWT", &legacy_jwt),
    ] {
        assert!(
            !everything.contains(secret),
            "{what} reached the app: {everything}"
        );
    }

    // A script with only its hub token gets in, and the token stays with the launcher.
    let script = reqwest::Client::new()
        .get(format!("{url}headers"))
        .header("Authorization", format!("Bearer {bob_token}"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    let seen: Value = script.json().await.unwrap();
    assert!(
        lowercase_keys(&seen["headers"])
            .get("authorization")
            .is_none(),
        "{seen}"
    );
    assert!(!seen.to_string().contains(&bob_token));
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn lowercase_keys(headers: &Value) -> Value {
    Value::Object(
        headers
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// Whether a process whose command line contains `marker` runs.
fn process_running(marker: &str) -> bool {
    std::process::Command::new("pgrep")
        .args(["-f", "--", marker])
        .output()
        .is_ok_and(|out| out.status.success())
}
