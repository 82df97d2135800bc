//! `japps doctor` with the japps service's environment, against a real hub: a right setup
//! passes; a wrong token, an unreachable hub, a short session key and a configuration
//! file whose checks fail each make it fail, saying which check and what to do.

use std::process::{Command, Output};

use japps_testkit::{HubRelease, real_hub_tests, workspace_root};
use serde_json::json;

use crate::start_hub;

real_hub_tests!(doctor_passes_a_right_setup_and_names_each_wrong_one);

const KEY: &str = "0123456789abcdef0123456789abcdef0123";

/// The variables the hub gives the japps service (see the plugin's `_service_spec`).
fn service_env(
    release: HubRelease,
    api_url: &str,
    token: &str,
    key: &str,
    config: &std::path::Path,
) -> Vec<(String, String)> {
    [
        ("JUPYTERHUB_API_URL", api_url.to_owned()),
        ("JUPYTERHUB_API_TOKEN", token.to_owned()),
        ("JUPYTERHUB_CLIENT_ID", "service-japps".to_owned()),
        (
            "JUPYTERHUB_OAUTH_CALLBACK_URL",
            "/services/japps/oauth_callback".to_owned(),
        ),
        ("JUPYTERHUB_SERVICE_PREFIX", "/services/japps/".to_owned()),
        ("JHUB_APP_JWT_SECRET_KEY", key.to_owned()),
        (
            "JAPPS_CONFIG",
            json!({"jupyterhub_config_path": config}).to_string(),
        ),
        (
            "JAPPS_PYTHON",
            release.venv().join("bin/python").display().to_string(),
        ),
        (
            "PYTHONPATH",
            workspace_root().join("python").display().to_string(),
        ),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

fn doctor(env: Vec<(String, String)>) -> (bool, String) {
    let Output { status, stdout, .. } = Command::new(env!("CARGO_BIN_EXE_japps"))
        .arg("doctor")
        .env_clear()
        .envs(env)
        .output()
        .unwrap();
    (status.success(), String::from_utf8(stdout).unwrap())
}

async fn doctor_passes_a_right_setup_and_names_each_wrong_one(release: HubRelease) {
    let hub = start_hub(release, "").await;
    let api = hub.api_url().to_string();
    let config = hub.config_path();

    let (ok, out) = doctor(service_env(release, &api, hub.japps_token(), KEY, &config));
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("ok   hub: JupyterHub {}", release.pip_version())),
        "{out}"
    );
    assert!(
        out.contains("ok   token: service japps has the scopes"),
        "{out}"
    );
    assert!(out.contains("ok   oauth: client service-japps"), "{out}");
    assert!(out.contains("ok   session key"), "{out}");
    // The plugin's checks of the configuration file ran too.
    assert!(out.contains("ok   installed"), "{out}");
    assert!(out.contains("warn origin"), "{out}");

    let (ok, out) = doctor(service_env(release, &api, "not-a-token", KEY, &config));
    assert!(!ok && out.contains("FAIL token: the hub refuses"), "{out}");

    let dead = format!("http://127.0.0.1:{}/hub/api", japps_testkit::free_port());
    let (ok, out) = doctor(service_env(release, &dead, hub.japps_token(), KEY, &config));
    assert!(!ok && out.contains("FAIL hub:"), "{out}");

    let (ok, out) = doctor(service_env(
        release,
        &api,
        hub.japps_token(),
        "short",
        &config,
    ));
    assert!(!ok && out.contains("FAIL session key"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("jupyterhub_config.py");
    std::fs::write(&bare, "c = get_config()\n").unwrap();
    let (ok, out) = doctor(service_env(release, &api, hub.japps_token(), KEY, &bare));
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL installed"), "{out}");
    assert!(out.contains("FAIL config"), "{out}");
}
