//! Per-user subdomains (`c.JupyterHub.subdomain_host`) end to end, on loopback with
//! `*.localhost` host names: japps stays on the hub's host (`localhost:<port>`), alice's
//! app runs on hers (`alice.localhost:<port>`) behind the launcher's own login, every
//! cookie japps and the launcher set is host-only (no `Domain`; `__Host-` when the hub
//! enables it), and a state-changing request from the app's host to japps is refused.

use std::time::{Duration, Instant};

use japps_testkit::{
    Browser, Chrome, DEFAULT_WAIT, HubOptions, HubRelease, TestHub, Visit, echo_command,
    node_proxy, parse_set_cookie, real_hub_tests,
};
use serde_json::{Value, json};

real_hub_tests!(
    apps_run_on_their_owners_hosts,
    apps_run_on_their_owners_hosts_with_host_prefixed_cookies,
);

const HUB_SETTINGS: &str = "c.Spawner.poll_interval = 1\nc.Spawner.start_timeout = 60\n\
     c.Spawner.http_timeout = 60\n";

async fn apps_run_on_their_owners_hosts(release: HubRelease) {
    on_subdomains(release, false).await;
}

async fn apps_run_on_their_owners_hosts_with_host_prefixed_cookies(release: HubRelease) {
    on_subdomains(release, true).await;
}

/// Every cookie set on the way: host-only, `japps-` named (`__Host-` prefixed when asked,
/// then on `Path=/` and `Secure`).
fn assert_host_only(what: &str, visit: &Visit, host_prefix: bool) -> Vec<String> {
    let mut names = Vec::new();
    for raw in &visit.set_cookies {
        let cookie = parse_set_cookie(raw).unwrap_or_else(|| panic!("{what}: bad cookie {raw}"));
        if !cookie.name().contains("japps-") {
            continue; // the hub's own
        }
        assert!(
            cookie.domain().is_none(),
            "{what}: {} has a Domain",
            cookie.name()
        );
        if host_prefix {
            assert!(cookie.name().starts_with("__Host-japps-"), "{what}: {raw}");
            assert_eq!(cookie.path(), Some("/"), "{what}: {raw}");
            assert_eq!(cookie.secure(), Some(true), "{what}: {raw}");
        } else {
            assert!(cookie.name().starts_with("japps-"), "{what}: {raw}");
        }
        names.push(cookie.name().to_owned());
    }
    assert!(!names.is_empty(), "{what}: japps set no cookie");
    names
}

async fn on_subdomains(release: HubRelease, host_prefix: bool) {
    let mut settings = HUB_SETTINGS.to_owned();
    if host_prefix {
        settings.push_str("c.JupyterHub.cookie_host_prefix_enabled = True\n");
    }
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .extra_config(&settings)
        .proxy_command(node_proxy())
        .subdomains();
    let hub = TestHub::start(release, options).await;
    let port = hub.public_url().port().unwrap();
    let hub_origin = format!("http://localhost:{port}");
    let alice_origin = format!("http://alice.localhost:{port}");
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let server = hub
        .create_app(
            &token,
            "echo",
            json!({"display_name": "Echo", "framework": "custom",
                   "custom_command": echo_command(release, "")}),
        )
        .await;
    let app_server = hub.server("alice", &server).await.unwrap();
    let app_url = format!("{alice_origin}/user/alice/{server}/");
    assert_eq!(
        app_server.url, app_url,
        "the hub serves the app on alice's host"
    );

    // The hub's login form, then japps' OAuth: all on the hub's host.
    let alice = Browser::with_loopback_hosts(&hub, &["alice.localhost"]);
    alice.login_to_hub(&hub, "alice").await;
    let home = alice.follow(&hub, &hub.service_url("")).await;
    assert_eq!(home.status, 200, "{:?}", home.hops);
    assert_eq!(home.final_url.origin().ascii_serialization(), hub_origin);
    assert!(home.body.contains("id=\"app-library\""), "{}", home.body);
    assert!(
        home.hops
            .iter()
            .any(|(_, to)| to.starts_with(&format!("{hub_origin}/hub/api/oauth2/authorize"))),
        "{:?}",
        home.hops
    );
    let japps_cookies = assert_host_only("japps", &home, host_prefix);
    let session = if host_prefix {
        "__Host-japps-session"
    } else {
        "japps-session"
    };
    assert!(japps_cookies.iter().any(|name| name == session));

    // The app, from japps' link through the hub, on alice's host after the launcher's own
    // login.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !hub.server("alice", &server).await.is_some_and(|s| s.ready) {
        assert!(Instant::now() < deadline, "the app never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if host_prefix {
        // reqwest's cookie store keeps `Secure` cookies from plain-http `localhost` but not
        // from `alice.localhost`; Chromium treats both as secure contexts, as for real.
        launcher_in_chromium(&hub, &server, &app_url).await;
        refused_from_the_app_host(&hub, &alice, &server, &alice_origin, &hub_origin).await;
        return;
    }
    let mut visit = alice
        .follow(&hub, &hub.url(&format!("user/alice/{server}/")))
        .await;
    assert!(
        visit.hops.iter().any(|(_, to)| to.starts_with(&app_url)),
        "sent to alice's host: {:?}",
        visit.hops
    );
    let launcher_cookies = assert_host_only("launcher", &visit, host_prefix);
    while !visit.body.contains("echo app") {
        assert!(
            Instant::now() < deadline,
            "the app never answered: {}",
            visit.body
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        visit = alice.follow(&hub, &app_url).await;
    }
    assert_eq!(visit.status, 200);
    assert_eq!(visit.final_url.origin().ascii_serialization(), alice_origin);

    // Host-only: japps' session never goes to alice's host, the launcher's never to the hub's.
    let to_app = alice.cookie_header(&app_url).unwrap_or_default();
    assert!(!to_app.contains("japps-session"), "{to_app}");
    assert!(
        launcher_cookies
            .iter()
            .any(|name| to_app.contains(&format!("{name}="))),
        "{to_app}"
    );
    let to_hub = alice
        .cookie_header(&format!("{hub_origin}/user/alice/{server}/"))
        .unwrap_or_default();
    assert!(!to_hub.contains("japps-launch"), "{to_hub}");
    let seen: Value = alice
        .api_get(&format!("{app_url}headers"))
        .await
        .json()
        .await
        .unwrap();
    let seen = seen.to_string();
    assert!(
        !seen.contains("japps-session") && !seen.contains("japps-launch"),
        "{seen}"
    );

    refused_from_the_app_host(&hub, &alice, &server, &alice_origin, &hub_origin).await;
}

/// A page on alice's host posting to japps with her session: refused as cross-origin,
/// whatever the browser says of it; her session still works afterwards.
async fn refused_from_the_app_host(
    hub: &TestHub,
    alice: &Browser,
    server: &str,
    alice_origin: &str,
    hub_origin: &str,
) {
    let user_url = hub.service_url("user");
    let start_url = hub.service_url(&format!("server/{server}"));
    for (url, headers) in [
        (
            &start_url,
            vec![("Origin", alice_origin), ("Sec-Fetch-Site", "same-site")],
        ),
        (
            &start_url,
            vec![("Origin", alice_origin), ("Sec-Fetch-Site", "cross-site")],
        ),
        (&start_url, vec![("Origin", alice_origin)]),
        (&hub.service_url("logout"), vec![("Origin", alice_origin)]),
    ] {
        let response = alice.post(url, &headers).await;
        assert_eq!(response.status(), 403, "{url} {headers:?}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("cross-site request refused"),
            "{url}"
        );
    }
    assert_eq!(alice.api_get(&user_url).await.status(), 200);
    // From japps' own page the same request passes the check.
    let own = alice
        .post(
            &hub.service_url("logout"),
            &[("Origin", hub_origin), ("Sec-Fetch-Site", "same-origin")],
        )
        .await;
    assert_eq!(own.status(), 204);
}

/// Alice in Chromium: the hub's login form, then the app through the hub's redirect to her
/// host and the launcher's login; the cookies the browser then holds are host-only
/// `__Host-` cookies of the host that set them.
async fn launcher_in_chromium(hub: &TestHub, server: &str, app_url: &str) {
    let chrome = Chrome::start().await;
    chrome.login_to_hub(hub, "alice").await;
    chrome.goto(&hub.service_url("")).await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    chrome
        .goto(&hub.url(&format!("user/alice/{server}/")))
        .await;
    chrome
        .wait_until(
            "the echo app answers on alice's host",
            "document.body.innerText.includes('echo app')",
            Duration::from_secs(60),
        )
        .await;
    let mut reached = chrome.current_url().await;
    reached.set_query(None); // the hub's `?redirects=1`
    assert_eq!(reached.as_str(), app_url);
    let cookies = chrome.cdp("Network.getAllCookies", json!({})).await;
    let cookies = cookies["cookies"].as_array().cloned().unwrap_or_default();
    let ours: Vec<&Value> = cookies
        .iter()
        .filter(|cookie| {
            cookie["name"]
                .as_str()
                .is_some_and(|n| n.contains("japps-"))
        })
        .collect();
    let host_of = |prefix: &str| {
        ours.iter()
            .find(|c| c["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
            .map(|c| c["domain"].as_str().unwrap_or_default().to_owned())
    };
    // A host-only cookie's domain is the bare host; a `Domain` cookie's starts with a dot.
    assert_eq!(
        host_of("__Host-japps-session").as_deref(),
        Some("localhost"),
        "{ours:?}"
    );
    assert_eq!(
        host_of("__Host-japps-launch-").as_deref(),
        Some("alice.localhost"),
        "{ours:?}"
    );
    for cookie in &ours {
        assert!(
            cookie["name"].as_str().unwrap().starts_with("__Host-"),
            "{cookie}"
        );
        assert_eq!(cookie["path"], "/", "{cookie}");
        assert_eq!(cookie["secure"], true, "{cookie}");
        assert!(
            !cookie["domain"].as_str().unwrap().starts_with('.'),
            "{cookie}"
        );
    }
}
