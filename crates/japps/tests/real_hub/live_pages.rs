//! Live pages behind proxies that hold server-sent events back: the launcher's startup page
//! must open the app soon after it is ready, whatever sits between the browser and the
//! launcher. These hubs run the pure-Python configurable-http-proxy, which buffers streamed
//! answers until they end.

use std::time::{Duration, Instant};

use japps_testkit::{Chrome, HubOptions, HubRelease, TestHub, real_hub_tests, workspace_root};
use reqwest::multipart::Form;
use serde_json::{Value, json};

real_hub_tests!(startup_page_opens_the_app_behind_a_buffering_proxy);

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

async fn startup_page_opens_the_app_behind_a_buffering_proxy(release: HubRelease) {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .extra_config("c.Spawner.start_timeout = 60\nc.Spawner.http_timeout = 60\n");
    let hub = TestHub::start(release, options).await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let data = json!({"servername": "slow", "user_options": {
        "display_name": "Slow", "framework": "custom",
        "custom_command": echo_command(release, "--startup-delay 12"),
    }})
    .to_string();
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
    let app_url = hub.url(&format!("user/alice/{server}/"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !hub.server("alice", &server).await.is_some_and(|s| s.ready) {
        assert!(Instant::now() < deadline, "the launcher never started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

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
