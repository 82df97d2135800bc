//! `japps serve` as the hub runs it: started through the plugin, reached through the proxy.

use japps_testkit::{HubOptions, HubRelease, TestHub, real_hub_tests};
use serde_json::Value;

use crate::start_hub;

real_hub_tests!(
    status_through_the_hub_proxy,
    plugin_configuration_reaches_the_service,
    runs_as_external_service_with_only_the_hub_environment,
    the_hub_and_the_service_stop_when_a_test_panics,
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
    // with non-default settings (one of them a callable, which cannot travel as JSON)
    // proves the JSON reached it intact; the hub lists the service as the plugin set it up.
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps")).japps_config(
        "c.JAppsConfig.allowed_frameworks = ['panel', 'streamlit']\n\
         c.JAppsConfig.conda_envs = lambda user: ['env-a']\n",
    );
    let hub = TestHub::start(release, options).await;
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

/// An operator may run `japps serve` beside the hub (e.g. its own Deployment): it gets only
/// the variables the hub would give it, no plugin configuration, and must work with
/// defaults and stop cleanly on SIGTERM.
async fn runs_as_external_service_with_only_the_hub_environment(release: HubRelease) {
    use tokio::io::AsyncBufReadExt;

    let port = japps_testkit::free_port();
    let token = japps_testkit::random_token();
    // 6.x waits up to `timeout` (default 30 s) at startup for external services; this one
    // is started only once the hub runs.
    let hub = start_hub(
        release,
        &format!(
            "import jupyterhub\n\
             _ext = {{'name': 'apps-ext', 'url': 'http://127.0.0.1:{port}', 'api_token': '{token}'}}\n\
             if jupyterhub.version_info[0] >= 6:\n    _ext['timeout'] = 1\n\
             c.JupyterHub.services.append(_ext)\n\
             c.JupyterHub.load_roles.append({{'name': 'apps-ext', 'services': ['apps-ext'], \
             'scopes': ['list:users', 'read:users', 'list:services', 'read:services']}})\n"
        ),
    )
    .await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_japps"))
        .arg("serve")
        .env_clear()
        .env("JUPYTERHUB_SERVICE_NAME", "apps-ext")
        .env("JUPYTERHUB_API_TOKEN", &token)
        .env("JUPYTERHUB_API_URL", hub.api_url().as_str())
        .env("JUPYTERHUB_SERVICE_PREFIX", "/services/apps-ext/")
        .env("JUPYTERHUB_SERVICE_URL", format!("http://127.0.0.1:{port}"))
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut log_lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let connected = format!("connected to JupyterHub version={}", release.pip_version());
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(line) = log_lines.next_line().await.unwrap() {
            log.push_str(&line);
            log.push('\n');
            if line.contains(&connected) {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{connected:?} not logged:\n{log}"));

    // The proxy may need a moment to reach a target that came up after its route.
    let mut body = Value::Null;
    for _ in 0..100 {
        let response = reqwest::get(hub.url("services/apps-ext/status"))
            .await
            .unwrap();
        if response.status() == 200 {
            body = response.json().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        body["status"], "ok",
        "the external service answers through the hub's proxy"
    );

    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("japps serve stops within 10 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    while let Some(line) = log_lines.next_line().await.unwrap() {
        log.push_str(&line);
        log.push('\n');
    }
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(!log.contains(&token), "the token never reaches the log");
}

/// The harness promise: a panicking test still stops its hub, proxy and japps service.
async fn the_hub_and_the_service_stop_when_a_test_panics(release: HubRelease) {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let outcome = tokio::spawn(async move {
        let hub = start_hub(release, "").await;
        sender
            .send((hub.url(""), hub.service_direct_url()))
            .unwrap();
        panic!("a failing test");
    })
    .await;
    assert!(outcome.unwrap_err().is_panic());
    let (hub_url, service_url) = receiver.await.unwrap();
    let client = reqwest::Client::new();
    for url in [hub_url, service_url] {
        assert!(
            client.get(&url).send().await.is_err(),
            "{url} still answers after the test panicked"
        );
    }
}
