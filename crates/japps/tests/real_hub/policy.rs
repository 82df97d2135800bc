//! The operator's policy on apps (`c.JAppsConfig.allow_public_apps`, `allow_keep_alive`,
//! `launcher_args_final`): refused by the service when an app is created, and enforced
//! again by `japps launch` for an app that reaches the hub some other way (stored before
//! the operator changed the policy, or written to the hub directly, as here).

use std::time::{Duration, Instant};

use japps_testkit::{Browser, HubOptions, HubRelease, TestHub, echo_command, real_hub_tests};
use serde_json::{Value, json};

real_hub_tests!(
    public_and_keep_alive_apps_refused_and_enforced_by_the_launcher,
    final_launcher_args_cannot_be_overridden_per_app,
);

const HUB_SETTINGS: &str = "c.Spawner.poll_interval = 1\nc.Spawner.start_timeout = 60\n\
     c.Spawner.http_timeout = 60\n";

async fn hub(release: HubRelease, japps_config: &str) -> TestHub {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .japps_config(japps_config)
        .extra_config(HUB_SETTINGS);
    TestHub::start(release, options).await
}

/// `POST server` with `options` as `token`'s user: (status, body).
async fn create(hub: &TestHub, token: &str, options: Value) -> (u16, Value) {
    let data = json!({"servername": "refused", "user_options": options}).to_string();
    let response = reqwest::Client::new()
        .post(hub.service_url("server"))
        .header("Authorization", format!("token {token}"))
        .multipart(reqwest::multipart::Form::new().text("data", data))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

fn detail(body: &Value) -> &str {
    body["detail"].as_str().unwrap_or_default()
}

async fn public_and_keep_alive_apps_refused_and_enforced_by_the_launcher(release: HubRelease) {
    let hub = hub(
        release,
        "c.JAppsConfig.allow_public_apps = False\nc.JAppsConfig.allow_keep_alive = False",
    )
    .await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let echo = echo_command(release, "");

    let (status, body) = create(
        &hub,
        &token,
        json!({"display_name": "Open", "framework": "custom", "custom_command": echo,
               "public": true}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        detail(&body).starts_with("user_options.public: public apps"),
        "{body}"
    );
    let (status, body) = create(
        &hub,
        &token,
        json!({"display_name": "Awake", "framework": "custom", "custom_command": echo,
               "keep_alive": true}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        detail(&body).starts_with("user_options.keep_alive:"),
        "{body}"
    );
    let (status, body) = create(
        &hub,
        &token,
        json!({"display_name": "Sneaky", "framework": "custom", "custom_command": echo,
               "env": {"JHUB_APP_PROXY_ARGS": "--authtype=none"}}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        detail(&body).starts_with("user_options.env: \"JHUB_APP_PROXY_ARGS\""),
        "{body}"
    );
    assert!(
        hub.server("alice", "refused").await.is_none(),
        "nothing was stored"
    );

    // A public, keep-alive app written to the hub directly, past the service.
    let options = json!({"jhub_app": true, "display_name": "Open", "framework": "custom",
        "custom_command": echo, "public": true, "keep_alive": true,
        "env": {"JHUB_APP_PROXY_ARGS": "--activity-interval=1"}});
    hub.admin_client()
        .as_service()
        .start_server(
            "alice",
            "open",
            &japps_hub::StartServer {
                display_name: Some("Open".into()),
                user_options: options.as_object().cloned(),
            },
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !hub.server("alice", "open").await.is_some_and(|s| s.ready) {
        assert!(Instant::now() < deadline, "alice/open never got ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // An anonymous visitor is sent to log in, not let in.
    let url = hub.url("user/alice/open/");
    let page = Browser::new().get(&url).await;
    assert_eq!(
        page.status(),
        302,
        "a public app under allow_public_apps=False"
    );
    assert!(
        page.headers()["location"]
            .to_str()
            .unwrap()
            .contains("oauth2/authorize"),
        "{:?}",
        page.headers()
    );
    // And nobody's activity keeps it alive: without traffic its activity stays put.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = hub.server("alice", "open").await.unwrap().last_activity;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        hub.server("alice", "open").await.unwrap().last_activity,
        before
    );
    let logs = hub.logs();
    assert!(logs.contains("does not allow public apps"), "{logs}");
    assert!(logs.contains("does not allow keep-alive"), "{logs}");
}

async fn final_launcher_args_cannot_be_overridden_per_app(release: HubRelease) {
    let hub = hub(
        release,
        "c.JAppsConfig.launcher_args = ['--ready-timeout=120', '--authtype=oauth']",
    )
    .await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    for overrides in ["--ready-timeout=600", "--authtype none"] {
        let (status, body) = create(
            &hub,
            &token,
            json!({"display_name": "Longer", "framework": "custom",
                   "custom_command": echo_command(release, ""),
                   "env": {"JHUB_APP_PROXY_ARGS": overrides}}),
        )
        .await;
        assert_eq!(status, 403, "{overrides}: {body}");
        assert!(
            detail(&body).contains("launcher_args_final"),
            "{overrides}: {body}"
        );
    }
    // Flags the operator left alone stay the app's.
    hub.create_app(
        &token,
        "graceful",
        json!({"display_name": "Graceful", "framework": "custom",
               "custom_command": echo_command(release, ""),
               "env": {"JHUB_APP_PROXY_ARGS": "--exit-grace=5"}}),
    )
    .await;
}
