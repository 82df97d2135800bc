//! Versions: `japps --version` and the status endpoint name the version and revision; a
//! launcher that is not the service's japps version says so in the app's output, and the
//! plugin says so in the hub's log.

use std::time::{Duration, Instant};

use japps_testkit::{HubOptions, HubRelease, TestHub, echo_app, real_hub_tests};
use reqwest::multipart::Form;
use serde_json::{Value, json};

real_hub_tests!(a_launcher_of_another_version_is_reported);

async fn a_launcher_of_another_version_is_reported(release: HubRelease) {
    let real = env!("CARGO_BIN_EXE_japps");
    let version = std::process::Command::new(real)
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8(version.stdout).unwrap();
    let revision = japps_domain::build_info::REVISION;
    assert_eq!(
        version.trim(),
        format!("japps {} ({revision})", japps_domain::build_info::VERSION)
    );

    // The service claims to be another version; the launcher is the real binary.
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("japps-service");
    std::fs::write(
        &service,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'japps 0.0.1 (old)'; exit 0; fi\n\
             exec {real} \"$@\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &service,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let options = HubOptions::new(&service).japps_config(&format!(
        "c.JAppsConfig.launcher_bin = {:?}",
        real.to_owned()
    ));
    let hub = TestHub::start(release, options).await;
    let status: Value = reqwest::get(hub.service_url("status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["revision"], revision, "{status}");
    assert!(
        hub.logs().contains("is japps 0.0.1 (old) but the launcher"),
        "the hub's log warns"
    );

    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let command = format!(
        "{} {} --port {{port}}",
        release.venv().join("bin/python").display(),
        echo_app().display()
    );
    let data = json!({"servername": "app", "user_options": {
        "display_name": "App", "framework": "custom", "custom_command": command}})
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
    let server = answer[1].as_str().unwrap();
    let logs_url = hub.url(&format!("user/alice/{server}/_japps/api/logs"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = reqwest::Client::new()
            .get(&logs_url)
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            let logs: Value = response.json().await.unwrap();
            let text = logs.to_string();
            if text.contains("the hub's japps service is 0.0.1") {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the app's output never warned about the version"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
