//! `japps serve` as the hub runs it: started through the plugin, reached through the proxy.

use japps_testkit::{HubRelease, real_hub_tests};
use serde_json::Value;

use crate::start_hub;

real_hub_tests!(
    status_through_the_hub_proxy,
    plugin_configuration_reaches_the_service
);

async fn status_through_the_hub_proxy(release: HubRelease) {
    let hub = start_hub(release, "").await;
    let client = reqwest::Client::new();
    for path in ["", "status"] {
        let response = client.get(hub.service_url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET /services/japps/{path}");
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!id.is_empty());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    }
    let missing = client
        .get(hub.service_url("no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert!(body["detail"].is_string());

    // The service found the hub through the environment the hub gave it.
    let logs = hub.logs();
    let expected = format!("connected to JupyterHub version={}", release.pip_version());
    wait_for_log(&hub, &expected).await;
    assert!(logs.contains("japps serve listening"), "{logs}");
}

async fn plugin_configuration_reaches_the_service(release: HubRelease) {
    // The service refuses to start on a configuration it cannot read, so a running service
    // with a non-default setting proves the JSON reached it; the hub sees the service role.
    let hub = start_hub(
        release,
        "c.JAppsConfig.allowed_frameworks = ['panel', 'streamlit']\n\
         c.JAppsConfig.conda_envs = lambda user: ['env-a']\n",
    )
    .await;
    let services = hub.japps_client().as_service().services().await.unwrap();
    let japps = &services["japps"];
    assert_eq!(japps.prefix.as_deref(), Some("/services/japps/"));
    assert!(
        !japps.display,
        "the japps service is not listed on the hub home page"
    );
}

async fn wait_for_log(hub: &japps_testkit::TestHub, needle: &str) {
    for _ in 0..100 {
        if hub.logs().contains(needle) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{needle:?} never logged:\n{}", hub.logs());
}
