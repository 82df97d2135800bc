//! What a newcomer meets, in Chromium: live pages behind proxies that hold server-sent
//! events back (these hubs run the pure-Python configurable-http-proxy, which buffers
//! streamed answers until they end), the hub's consent page on a first visit to an app
//! shared with them, and links to a stopped app while its owner's default server runs.

use std::time::{Duration, Instant};

use japps_testkit::{Chrome, HubOptions, HubRelease, TestHub, real_hub_tests, workspace_root};
use reqwest::multipart::Form;
use serde_json::{Value, json};

real_hub_tests!(
    startup_page_opens_the_app_behind_a_buffering_proxy,
    sharee_first_visit_explains_the_consent_page,
    links_to_a_stopped_app_never_reach_the_default_server,
);

/// How long after the launcher is ready the startup page may take to show the app.
const OPENS_WITHIN: Duration = Duration::from_secs(3);

fn echo_command(release: HubRelease, flags: &str) -> String {
    format!(
        "{} {} --port {{port}} --root-path {{root_path}} {flags}",
        release.venv().join("bin/python").display(),
        workspace_root()
            .join("crates/japps-testkit/apps/echo_app.py")
            .display()
    )
}

async fn hub(release: HubRelease, extra: &str) -> TestHub {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps")).extra_config(&format!(
        "c.Spawner.start_timeout = 60\nc.Spawner.http_timeout = 60\n{extra}"
    ));
    TestHub::start(release, options).await
}

/// Creates alice's echo app through the API and waits until its launcher runs; returns the
/// server name.
async fn alices_app(hub: &TestHub, token: &str, options: Value) -> String {
    let data = json!({"servername": "app", "user_options": options}).to_string();
    let answer: Value = reqwest::Client::new()
        .post(hub.service_url("server"))
        .header("Authorization", format!("token {token}"))
        .multipart(Form::new().text("data", data))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let server = answer[1].as_str().unwrap().to_owned();
    wait_server(hub, "alice", &server, true).await;
    server
}

async fn wait_server(hub: &TestHub, user: &str, server: &str, ready: bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while hub.server(user, server).await.is_some_and(|s| s.ready) != ready {
        assert!(
            Instant::now() < deadline,
            "{user}/{server:?} never got ready={ready}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn startup_page_opens_the_app_behind_a_buffering_proxy(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let server = alices_app(
        &hub,
        &token,
        json!({"display_name": "Slow", "framework": "custom",
               "custom_command": echo_command(release, "--startup-delay 12")}),
    )
    .await;
    let app_url = hub.url(&format!("user/alice/{server}/"));

    let chrome = Chrome::start().await;
    chrome.login_to_hub(&hub, "alice").await;
    chrome.goto(&app_url).await;
    chrome
        .wait_for("#status-text", Duration::from_secs(20))
        .await;
    let status = chrome.text("#status-text").await;
    assert!(status.contains("Starting"), "the startup page: {status}");

    // The moment the launcher says the app is ready, as seen from outside the page.
    let status_url = format!("{app_url}_japps/api/status");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    let ready_at = loop {
        let phase: Value = client
            .get(&status_url)
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if phase["phase"] == "ready" {
            break Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "the app never got ready: {phase}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    chrome
        .wait_until(
            "the startup page opened the app",
            "document.title === 'echo app'",
            Duration::from_secs(30),
        )
        .await;
    let waited = ready_at.elapsed();
    assert!(
        waited <= OPENS_WITHIN,
        "the app opened {waited:?} after it was ready (at most {OPENS_WITHIN:?})"
    );
    // The proxy held the stream back: the page got there by asking, not by an event.
    let errors = chrome.console_errors().await;
    assert!(
        errors.iter().all(|e| !e.contains("_japps/api/status")),
        "{errors:?}"
    );
}

async fn sharee_first_visit_explains_the_consent_page(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice", "bob"]).await;
    let token = hub.user_token("alice").await;
    let server = alices_app(
        &hub,
        &token,
        json!({"display_name": "Shared", "framework": "custom",
               "custom_command": echo_command(release, ""),
               "share_with": {"users": ["bob"], "groups": []}}),
    )
    .await;
    let chrome = Chrome::start().await;
    chrome.login_to_hub(&hub, "bob").await;
    chrome
        .goto(&hub.url(&format!("user/alice/{server}/")))
        .await;
    let note = chrome
        .wait_for("#japps-shared-consent", Duration::from_secs(20))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        note.contains(&format!("alice shared “{server}” with you")),
        "{note}"
    );
    assert!(note.contains("once per app"), "{note}");
    // The hub's own form is still there, below the explanation, and works.
    chrome.click("form [type=submit]").await;
    chrome
        .wait_until(
            "bob got into the app",
            "document.title === 'echo app'",
            Duration::from_secs(30),
        )
        .await;

    // The owner is never asked about their own app, so never told.
    let owner = Chrome::start().await;
    owner.login_to_hub(&hub, "alice").await;
    owner.goto(&hub.url(&format!("user/alice/{server}/"))).await;
    owner
        .wait_until(
            "alice got into her app",
            "document.title === 'echo app'",
            Duration::from_secs(30),
        )
        .await;
}

/// A default server that answers 404 to every path it does not know, as JupyterLab does:
/// the echo app, told its port by the hub's environment.
fn default_server_config(release: HubRelease) -> String {
    let python = release.venv().join("bin/python");
    let app = workspace_root().join("crates/japps-testkit/apps/echo_app.py");
    format!(
        "c.Spawner.cmd = ['sh', '-c', 'u=${{JUPYTERHUB_SERVICE_URL##*:}}; exec {} {} \
         --port ${{u%%/*}} --root-path \"$JUPYTERHUB_SERVICE_PREFIX\"']\n",
        python.display(),
        app.display()
    )
}

async fn links_to_a_stopped_app_never_reach_the_default_server(release: HubRelease) {
    let hub = hub(release, &default_server_config(release)).await;
    hub.create_users(&["alice", "bob"]).await;
    let token = hub.user_token("alice").await;
    let server = alices_app(
        &hub,
        &token,
        json!({"display_name": "Sleepy", "framework": "custom",
               "custom_command": echo_command(release, ""),
               "share_with": {"users": ["bob"], "groups": []}}),
    )
    .await;
    // Stop the app; start alice's default server, whose proxy route covers the app's path.
    let client = reqwest::Client::new();
    let status = client
        .delete(hub.service_url(&format!("server/{server}")))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "stop: {status}");
    wait_server(&hub, "alice", &server, false).await;
    let status = client
        .post(hub.url("hub/api/users/alice/server"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "default server: {status}");
    wait_server(&hub, "alice", "", true).await;
    // The path without /hub/ is the default server's now: what a link must not be.
    let direct = client
        .get(hub.url(&format!("user/alice/{server}/")))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        direct, 404,
        "the default server answers the app's plain path"
    );

    for (user, expected) in [("alice", "#japps-start"), ("bob", "#japps-not-allowed")] {
        let chrome = Chrome::start().await;
        chrome.login_to_hub(&hub, user).await;
        chrome.goto(&hub.service_url("")).await;
        let card = format!(".app-card[data-app=\"alice/{server}\"] a[data-action=open]");
        chrome.wait_for(&card, Duration::from_secs(20)).await;
        let link = chrome.attr(&card, "href").await.unwrap();
        let link_path = reqwest::Url::parse(&hub.url(""))
            .unwrap()
            .join(&link)
            .unwrap();
        assert!(
            link_path
                .path()
                .contains(&format!("/hub/user/alice/{server}/")),
            "{user}'s card links {link}"
        );
        chrome.goto(link_path.as_str()).await;
        chrome.wait_for(expected, Duration::from_secs(20)).await;
        let body = chrome.body_text().await;
        assert!(!body.contains("404"), "{user} got a 404: {body}");
    }
}
