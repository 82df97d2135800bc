//! The headers of japps' own pages on real hubs: a Content-Security-Policy on every service
//! page and on the launcher's startup page (never on the app's own answers), framing only
//! for headless pages, `nosniff` and a referrer policy everywhere; and in a real Chromium,
//! no page of japps breaks its policy (violation events and console errors collected on the
//! home page, the form, the app page following a start, and the launcher's startup page).

use std::time::{Duration, Instant};

use japps_testkit::{
    Browser, Chrome, DEFAULT_WAIT, HubOptions, HubRelease, TestHub, echo_command, node_proxy,
    real_hub_tests,
};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

real_hub_tests!(
    every_page_carries_the_security_headers,
    no_page_breaks_its_content_security_policy,
);

const HUB_SETTINGS: &str = "c.Spawner.poll_interval = 1\nc.Spawner.start_timeout = 60\n\
     c.Spawner.http_timeout = 60\n";

/// Records every CSP violation of every document, before the page's own scripts run.
const CSP_HOOK: &str = "
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
        window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
";

async fn hub(release: HubRelease) -> TestHub {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .extra_config(HUB_SETTINGS)
        .proxy_command(node_proxy());
    TestHub::start(release, options).await
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// `nosniff` and the referrer policy: on every answer japps makes.
fn assert_base_headers(what: &str, headers: &HeaderMap) {
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert!(
        matches!(
            header(headers, "referrer-policy"),
            "same-origin" | "no-referrer"
        ),
        "{what}: {headers:?}"
    );
}

/// A service page: the policy, framing as asked, and markup that needs nothing inline.
fn assert_page(what: &str, headers: &HeaderMap, body: &str, framable: bool) {
    assert_base_headers(what, headers);
    let csp = header(headers, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: {directive} missing: {csp}"
        );
    }
    assert!(!csp.contains("unsafe"), "{what}: {csp}");
    if framable {
        assert!(csp.contains("frame-ancestors 'self'"), "{what}: {csp}");
        assert_eq!(header(headers, "x-frame-options"), "SAMEORIGIN", "{what}");
    } else {
        assert!(csp.ends_with("frame-ancestors 'none'"), "{what}: {csp}");
        assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    }
    assert_no_inline_code(what, body);
}

fn assert_no_inline_code(what: &str, body: &str) {
    let lower = body.to_ascii_lowercase();
    assert!(!lower.contains("<script>"), "{what}: inline script");
    assert!(!lower.contains(" style=\""), "{what}: style attribute");
    assert!(!lower.contains("javascript:"), "{what}: javascript: URL");
    for handler in [
        " onclick=",
        " onload=",
        " onerror=",
        " onchange=",
        " onsubmit=",
    ] {
        assert!(!lower.contains(handler), "{what}: {handler}");
    }
}

async fn wait_phase(browser: &Browser, app_url: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        let response = browser
            .api_get(&format!("{app_url}_japps/api/status"))
            .await;
        if response.status() == 200 {
            last = response.json().await.unwrap();
            if last["phase"] == want {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{app_url} never reached {want}: {last}");
}

async fn wait_hub_ready(hub: &TestHub, user: &str, server: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if hub.server(user, server).await.is_some_and(|s| s.ready) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{user}/{server} never became ready on the hub");
}

async fn every_page_carries_the_security_headers(release: HubRelease) {
    let hub = hub(release).await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let server = hub
        .create_app(
            &token,
            "slow",
            json!({"display_name": "Slow", "framework": "custom",
                   "custom_command": echo_command(release, "--startup-delay 20")}),
        )
        .await;
    let alice = Browser::new();
    alice.login_to_hub(&hub, "alice").await;
    let home = alice.follow(&hub, &hub.service_url("")).await;
    assert_eq!(home.status, 200, "{:?}", home.hops);

    for (path, framable) in [
        ("".to_owned(), false),
        ("?headless=true".to_owned(), true),
        ("create-app".to_owned(), false),
        ("create-app?headless=true".to_owned(), true),
        (format!("edit-app?id={server}"), false),
        (format!("success?headless=true&id={server}"), true),
        (format!("apps/alice/{server}"), false),
    ] {
        let response = alice.get(&hub.service_url(&path)).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        assert_page(&path, &headers, &body, framable);
    }
    // A page for an app nobody may see (404) is a page like the others.
    let missing = alice.get(&hub.service_url("apps/alice/nothing")).await;
    assert_eq!(missing.status(), 404);
    let headers = missing.headers().clone();
    assert_page(
        "missing app",
        &headers,
        &missing.text().await.unwrap(),
        false,
    );

    // The API description keeps its own, stricter policy.
    let docs = alice.get(&hub.service_url("docs")).await;
    assert_base_headers("docs", docs.headers());
    assert!(header(docs.headers(), "content-security-policy").starts_with("default-src 'none'"));

    // JSON, errors, assets and redirects: nosniff and the referrer policy too.
    for path in [
        "status",
        "user",
        "server/",
        "nowhere",
        "static/web/app.js",
        "jhub-login",
    ] {
        let response = alice.api_get(&hub.service_url(path)).await;
        assert_base_headers(path, response.headers());
    }
    let anonymous = reqwest::Client::new()
        .get(hub.service_url("user"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_base_headers("401", anonymous.headers());

    // The launcher's startup page, after its own login: its policy, framable by the app's
    // origin only (the app page's hidden login frame).
    wait_hub_ready(&hub, "alice", &server).await;
    let app_url = hub.url(&format!("user/alice/{server}/"));
    let visit = alice.follow(&hub, &app_url).await;
    assert_eq!(visit.status, 200, "{:?} {}", visit.hops, visit.body);
    assert!(visit.body.contains("Starting the app"), "{}", visit.body);
    let page = alice.get(&app_url).await;
    let headers = page.headers().clone();
    let body = page.text().await.unwrap();
    assert!(body.contains("Starting the app"), "{body}");
    assert_base_headers("startup page", &headers);
    let csp = header(&headers, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'sha256-",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'self'",
    ] {
        assert!(csp.contains(directive), "startup page: {directive}: {csp}");
    }
    assert_eq!(header(&headers, "x-frame-options"), "SAMEORIGIN");
    assert_no_inline_code("startup page", &body.replace("<style>", ""));
    let script = alice
        .api_get(&format!("{app_url}_japps/static/status.js"))
        .await;
    assert_eq!(script.status(), 200);
    assert!(header(script.headers(), "content-type").starts_with("text/javascript"));

    // The app's own answers keep the app's headers: the launcher adds none of its own.
    wait_phase(&alice, &app_url, "ready").await;
    let proxied = alice.api_get(&format!("{app_url}headers")).await;
    assert_eq!(proxied.status(), 200);
    for name in [
        "content-security-policy",
        "x-frame-options",
        "referrer-policy",
    ] {
        assert!(
            proxied.headers().get(name).is_none(),
            "the launcher added {name} to the app's answer"
        );
    }
}

/// Every CSP violation the browser saw on the current page, events and console errors.
async fn violations(chrome: &Chrome) -> Vec<String> {
    let mut found: Vec<String> =
        serde_json::from_value(chrome.eval("window.__csp || []").await).unwrap_or_default();
    found.extend(
        chrome
            .console_errors()
            .await
            .into_iter()
            .filter(|line| line.contains("Content Security Policy") || line.contains("Refused to")),
    );
    found
}

async fn assert_no_violation(chrome: &Chrome, what: &str) {
    // Scripts that run late (timers, the event stream) get a moment.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let found = violations(chrome).await;
    assert!(found.is_empty(), "{what}: CSP violations: {found:#?}");
}

async fn no_page_breaks_its_content_security_policy(release: HubRelease) {
    let hub = hub(release).await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let chrome = Chrome::home_as(&hub, "alice", CSP_HOOK).await;
    assert_no_violation(&chrome, "home").await;
    // The collector sees what the policy refuses: an inline script added to the page.
    chrome
        .execute(
            "const s = document.createElement('script'); s.textContent = 'window.__ran = 1'; \
             document.body.appendChild(s);",
            Vec::new(),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = violations(&chrome).await;
    assert!(
        refused.iter().any(|v| v.contains("script-src")),
        "{refused:?}"
    );
    assert_eq!(chrome.eval("window.__ran === undefined").await, true);
    chrome.execute("window.__csp = [];", Vec::new()).await;
    // The theme switch (the stored choice read by the head script on the next load).
    chrome.select("#theme", "dark").await;
    chrome.reload().await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    assert_eq!(
        chrome.eval("document.documentElement.dataset.theme").await,
        "dark"
    );
    assert_no_violation(&chrome, "home, dark").await;

    chrome.goto(&hub.service_url("create-app")).await;
    chrome.wait_for("#app-form", DEFAULT_WAIT).await;
    chrome.click("#env-add").await;
    chrome.click("#submit-app").await;
    chrome
        .wait_for("#display_name[aria-invalid=true]", DEFAULT_WAIT)
        .await;
    assert_no_violation(&chrome, "form").await;
    chrome
        .goto(&hub.service_url("create-app?headless=true"))
        .await;
    chrome.wait_for("#app-form", DEFAULT_WAIT).await;
    assert_no_violation(&chrome, "headless form").await;

    // The app page while the app starts: the hidden login frame to the launcher, then its
    // event stream, until the app runs.
    let server = hub
        .create_app(
            &token,
            "slow",
            json!({"display_name": "Slow", "framework": "custom",
                   "custom_command": echo_command(release, "--startup-delay 20")}),
        )
        .await;
    chrome
        .goto(&hub.service_url(&format!("apps/alice/{server}")))
        .await;
    chrome.wait_for("#app-page", DEFAULT_WAIT).await;
    chrome
        .wait_until(
            "the page follows the launcher",
            "document.getElementById('app-page').dataset.phase === 'starting'",
            Duration::from_secs(60),
        )
        .await;
    assert_no_violation(&chrome, "app page, starting").await;

    // The launcher's own startup page, then the app it opens when ready.
    chrome
        .goto(&hub.url(&format!("user/alice/{server}/")))
        .await;
    chrome
        .wait_until(
            "the startup page shows",
            "!!document.getElementById('status-text')",
            DEFAULT_WAIT,
        )
        .await;
    assert_no_violation(&chrome, "launcher startup page").await;
    chrome
        .wait_until(
            "the startup page opens the app",
            "document.body.innerText.includes('echo app')",
            Duration::from_secs(60),
        )
        .await;
    chrome
        .goto(&hub.url(&format!("user/alice/{server}/_japps/logs")))
        .await;
    chrome.wait_for("#log", DEFAULT_WAIT).await;
    assert_no_violation(&chrome, "launcher logs page").await;

    chrome
        .goto(&hub.service_url(&format!("apps/alice/{server}")))
        .await;
    chrome
        .wait_until(
            "the app page shows it running",
            "document.getElementById('app-page').dataset.status === 'running'",
            Duration::from_secs(60),
        )
        .await;
    assert_no_violation(&chrome, "app page, running").await;
}
