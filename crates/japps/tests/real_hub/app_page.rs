//! The app's own page (`{prefix}apps/<owner>/<server>`) in a real headless Chromium, on real
//! hubs behind the Node proxy, with the launcher running the echo app: live progress while
//! it starts (the launcher's event stream, after logging in to the launcher in a hidden
//! iframe), start / stop / delete from the page, a failed start's reason and output, and
//! what a sharee, an admin and a stranger see. Hooks: `#app-page` with `data-status`
//! (`starting`, `running`, `ready`, `failed`, `stopping`…), `data-hub-status`, `data-role`;
//! `#log-lines`, `#failure`, `#open-app`, `#start-app`, `#stop-app`, `#delete-app`.

use std::path::PathBuf;
use std::time::Duration;

use japps_hub::ShareTarget;
use japps_testkit::{
    Browser, Chrome, DEFAULT_WAIT, HubOptions, HubRelease, TestHub, echo_command, idle_program,
    node_proxy, real_hub_tests,
};
use serde_json::{Value, json};

real_hub_tests!(
    owner_follows_a_start_live_stops_and_starts_again,
    a_failed_start_shows_its_reason_and_output_then_delete,
    sharee_admin_and_stranger_see_what_they_may,
);

const PREFIX: &str = "/services/japps/";

/// The hub notices a stopped server within a second; spawns have time on a loaded machine;
/// `root` is a hub admin.
const HUB_SETTINGS: &str = "c.Spawner.poll_interval = 1\nc.Spawner.start_timeout = 60\n\
     c.Spawner.http_timeout = 60\nc.Authenticator.admin_users = {'root'}\n";

const LONG_WAIT: Duration = Duration::from_secs(90);

/// Records what the page does: a marker that a reload would lose, every status shown.
const HOOKS: &str = "
    window.__statuses = [];
    document.addEventListener('DOMContentLoaded', () => {
        const page = document.getElementById('app-page');
        if (!page) return;
        window.__statuses.push(page.dataset.status);
        new MutationObserver(() => {
            const last = window.__statuses[window.__statuses.length - 1];
            if (last !== page.dataset.status) window.__statuses.push(page.dataset.status);
        }).observe(page, {attributes: true, attributeFilter: ['data-status']});
    });
";

async fn hub(release: HubRelease, extra: &str) -> TestHub {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .extra_config(&format!("{HUB_SETTINGS}{extra}"))
        .proxy_command(node_proxy());
    TestHub::start(release, options).await
}

fn page_url(hub: &TestHub, owner: &str, server: &str) -> String {
    hub.url(&format!("{PREFIX}apps/{owner}/{server}"))
}

async fn open_page(chrome: &Chrome, hub: &TestHub, owner: &str, server: &str) {
    chrome.goto(&page_url(hub, owner, server)).await;
    chrome.wait_for("#app-page", DEFAULT_WAIT).await;
}

async fn wait_page(chrome: &Chrome, key: &str, value: &str, timeout: Duration) {
    chrome
        .wait_until(
            &format!("the page's {key} is {value}"),
            &format!("document.getElementById('app-page')?.dataset.{key} === '{value}'"),
            timeout,
        )
        .await;
}

async fn wait_text(chrome: &Chrome, css: &str, text: &str, timeout: Duration) {
    chrome
        .wait_until(
            &format!("{css} shows {text:?}"),
            &format!("(document.querySelector({css:?})?.textContent || '').includes({text:?})"),
            timeout,
        )
        .await;
}

async fn visible(chrome: &Chrome, css: &str) -> bool {
    chrome
        .eval(&format!(
            "(() => {{ const el = document.querySelector({css:?}); \
               return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0; }})()"
        ))
        .await
        == Value::Bool(true)
}

async fn set_mode(chrome: &Chrome, mode: &str) {
    chrome.select("#theme", mode).await;
    chrome
        .wait_until(
            &format!("the {mode} theme applies"),
            &format!("document.documentElement.dataset.theme === '{mode}'"),
            DEFAULT_WAIT,
        )
        .await;
    // Buttons fade their background for 0.15 s: let them settle before axe or a picture.
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// axe-core finds no serious or critical violation, in the light and the dark theme.
async fn assert_accessible_in_both_themes(chrome: &Chrome, what: &str) {
    for mode in ["light", "dark"] {
        set_mode(chrome, mode).await;
        chrome.assert_accessible(&format!("{what} ({mode})")).await;
    }
    set_mode(chrome, "light").await;
}

/// Screenshots for a person to look at, when `JAPPS_SCREENSHOT_DIR` is set.
async fn screenshots(chrome: &Chrome, release: HubRelease, name: &str) {
    let Some(dir) = std::env::var_os("JAPPS_SCREENSHOT_DIR").map(PathBuf::from) else {
        return;
    };
    for mode in ["light", "dark"] {
        set_mode(chrome, mode).await;
        let path = dir.join(format!("app-page-{name}-{mode}-{release:?}.png"));
        chrome.screenshot(&path).await;
    }
    set_mode(chrome, "light").await;
}

async fn statuses(chrome: &Chrome) -> Vec<String> {
    serde_json::from_value(chrome.eval("window.__statuses").await).unwrap()
}

async fn owner_follows_a_start_live_stops_and_starts_again(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice", "root"]).await;
    let token = hub.user_token("alice").await;
    let chrome = Chrome::home_as(&hub, "alice", HOOKS).await;
    chrome.set_window_size(1280, 1100).await;

    // Created through the API, the page opened at once: the app answers only after 8 s.
    let server = hub
        .create_app(
            &token,
            "echo",
            json!({"display_name": "Echo", "description": "Says back what it hears.",
               "framework": "custom", "custom_command": echo_command(release, "--startup-delay 8"),
               "env": {"ECHO_SECRET": "owner-only-value-4711"}}),
        )
        .await;
    open_page(&chrome, &hub, "alice", &server).await;
    chrome.eval("window.__marker = 'no reload'").await;
    assert_eq!(
        chrome.attr("#app-page", "data-role").await.as_deref(),
        Some("owner")
    );

    // Live output while it starts (through the launcher's login in a hidden iframe).
    wait_text(&chrome, "#log-lines", "answering 503", LONG_WAIT).await;
    assert_eq!(
        chrome.attr("#app-page", "data-status").await.as_deref(),
        Some("starting"),
        "the app is still starting while its output shows"
    );
    assert!(!visible(&chrome, "#open-app").await);
    screenshots(&chrome, release, "starting").await;

    // Then running, without a reload.
    wait_page(&chrome, "status", "running", LONG_WAIT).await;
    assert!(visible(&chrome, "#open-app").await, "the open button shows");
    let open = chrome.attr("#open-app", "href").await.unwrap();
    assert!(
        open.ends_with(&format!("/hub/user/alice/{server}/")),
        "{open}"
    );
    assert_eq!(chrome.text("#app-status").await, "Running");
    assert_eq!(chrome.eval("window.__marker").await, "no reload");
    let seen = statuses(&chrome).await;
    let starting = seen.iter().position(|s| s == "starting");
    let running = seen.iter().position(|s| s == "running");
    assert!(
        starting.is_some() && starting < running,
        "starting, then running: {seen:?}"
    );
    screenshots(&chrome, release, "running").await;

    // The definition, the env value masked until revealed.
    assert!(chrome.text("#app-command").await.contains("echo_app.py"));
    assert!(chrome.text("#app-env").await.contains("ECHO_SECRET"));
    assert!(!visible(&chrome, "#app-env .env-value").await);
    chrome.click("#app-env .env-reveal").await;
    assert!(visible(&chrome, "#app-env .env-value").await);
    assert_eq!(
        chrome.text("#app-env .env-value").await,
        "owner-only-value-4711"
    );

    assert_accessible_in_both_themes(&chrome, "the owner's page of a running app").await;

    // An admin sees the whole definition of alice's app, not the values.
    let admin = Chrome::home_as(&hub, "root", HOOKS).await;
    open_page(&admin, &hub, "alice", &server).await;
    assert_eq!(
        admin.attr("#app-page", "data-role").await.as_deref(),
        Some("admin")
    );
    assert!(admin.text("#app-command").await.contains("echo_app.py"));
    assert!(admin.text("#app-env").await.contains("ECHO_SECRET"));
    let html = admin
        .eval("document.documentElement.outerHTML")
        .await
        .to_string();
    assert!(
        !html.contains("owner-only-value-4711"),
        "no values for admins"
    );
    assert!(admin.find("#logs").await.is_some());
    assert!(admin.find("#delete-app").await.is_none());
    // Its output: streamed if the hub lets the admin into the launcher at once, else a link.
    admin
        .wait_until(
            "the admin sees the output or a link to it",
            "(document.getElementById('log-lines').textContent.includes('echo app listening')) \
             || !document.getElementById('open-logs').hidden",
            LONG_WAIT,
        )
        .await;
    let streamed = admin
        .eval("document.getElementById('log-lines').textContent.includes('echo app listening')")
        .await;
    eprintln!(
        "{release:?}: the admin's page {}",
        if streamed == Value::Bool(true) {
            "streams the output"
        } else {
            "links to the launcher's logs page"
        }
    );
    drop(admin);

    // The stream works here: however quiet the running app, the page never polled.
    assert_eq!(
        chrome
            .eval(
                "performance.getEntriesByType('resource')\
                 .filter(e => e.name.includes('_japps/api/logs')).length"
            )
            .await,
        0,
        "no polling while the event stream works"
    );

    // Without an event stream (as behind a proxy that buffers it), the page polls the
    // launcher's status and output instead.
    let polling = Chrome::start().await;
    polling
        .add_init_script("window.EventSource = undefined;")
        .await;
    polling.login_to_hub(&hub, "alice").await;
    open_page(&polling, &hub, "alice", &server).await;
    wait_text(&polling, "#log-lines", "echo app listening", LONG_WAIT).await;
    wait_page(&polling, "status", "running", LONG_WAIT).await;
    assert!(visible(&polling, "#open-app").await);
    drop(polling);

    // Stop from the page (it asks first); the status follows.
    chrome.click("#stop-app").await;
    chrome.wait_for("#confirm[open]", DEFAULT_WAIT).await;
    chrome.click("#confirm-ok").await;
    wait_page(&chrome, "hubStatus", "ready", LONG_WAIT).await;
    assert!(hub.server("alice", &server).await.unwrap().stopped);
    assert!(visible(&chrome, "#start-app").await);
    assert!(!visible(&chrome, "#open-app").await);

    // Start again: the output starts afresh, then running.
    chrome.click("#start-app").await;
    wait_text(&chrome, "#log-lines", "answering 503", LONG_WAIT).await;
    wait_page(&chrome, "status", "running", LONG_WAIT).await;
    assert!(hub.server("alice", &server).await.unwrap().ready);
    assert_eq!(chrome.eval("window.__marker").await, "no reload");
    let console = chrome.console_errors().await;
    eprintln!("console errors (401s before the launcher login are expected): {console:?}");
}

async fn a_failed_start_shows_its_reason_and_output_then_delete(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let chrome = Chrome::home_as(&hub, "alice", HOOKS).await;
    chrome.set_window_size(1280, 1100).await;
    let server = hub
        .create_app(
            &token,
            "stuck",
            json!({"display_name": "Stuck", "framework": "custom",
               "custom_command": echo_command(release, "--never-ready"),
               "env": {"JHUB_APP_PROXY_ARGS": "--ready-timeout=4 --exit-grace=12"}}),
        )
        .await;
    open_page(&chrome, &hub, "alice", &server).await;

    wait_page(&chrome, "status", "failed", LONG_WAIT).await;
    assert!(visible(&chrome, "#failure").await);
    assert!(
        chrome
            .text("#failure-reason")
            .await
            .contains("did not become ready within 4 s"),
        "{}",
        chrome.text("#failure-reason").await
    );
    assert!(
        chrome
            .text("#failure-lines")
            .await
            .contains("not listening yet"),
        "the last lines: {}",
        chrome.text("#failure-lines").await
    );
    assert_eq!(chrome.text("#app-status").await, "Failed");
    assert!(!visible(&chrome, "#open-app").await);
    screenshots(&chrome, release, "failed").await;
    assert_accessible_in_both_themes(&chrome, "a failed start").await;

    // The launcher exits, the hub stops the server: the failure stays, Start comes back.
    wait_page(&chrome, "hubStatus", "ready", LONG_WAIT).await;
    assert!(visible(&chrome, "#start-app").await);
    assert!(visible(&chrome, "#failure").await);

    // Delete (asks first) → home with a notice, the app gone.
    chrome.click("#delete-app").await;
    chrome.wait_for("#confirm[open]", DEFAULT_WAIT).await;
    assert!(chrome.text("#confirm-message").await.contains("Stuck"));
    chrome.click("#confirm-ok").await;
    chrome
        .wait_until(
            "home",
            &format!(
                "location.pathname === '{PREFIX}' && !!document.getElementById('app-library')"
            ),
            DEFAULT_WAIT,
        )
        .await;
    wait_text(&chrome, "#notice", "Stuck deleted", DEFAULT_WAIT).await;
    assert_eq!(
        chrome.eval("sessionStorage.getItem('japps:notice')").await,
        Value::Null,
        "shown once"
    );
    assert!(
        chrome
            .find(&format!(".app-card[data-app=\"alice/{server}\"]"))
            .await
            .is_none()
    );
    assert!(hub.server("alice", &server).await.is_none());
}

async fn sharee_admin_and_stranger_see_what_they_may(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice", "bob", "carol", "root"]).await;
    let secrets = [
        "env-secret-9931",
        "SECRET_NAME_X",
        "cmd-secret-8812",
        "repo-secret-7719",
        "git.example.org",
        "secret-path-5501",
        "secret-conda-3307",
    ];
    hub.create_stopped_app(
        "alice",
        "vault",
        "Vault",
        json!({
            "jhub_app": true, "display_name": "Vault", "description": "Figures for the team.",
            "framework": "custom", "custom_command": format!("{} --token cmd-secret-8812", idle_program().display()),
            "filepath": "/home/alice/secret-path-5501.py", "conda_env": "secret-conda-3307",
            "env": {"SECRET_NAME_X": "env-secret-9931"},
            "repository": {"url": "https://alice:repo-secret-7719@git.example.org/vault.git"},
            "public": false, "keep_alive": false,
            "share_with": {"users": ["bob"], "groups": []},
        }),
    )
    .await;
    hub.share("alice", "vault", ShareTarget::User("bob".into()))
        .await;

    // bob, the sharee: the reduced page, reached from his home's Details link.
    let bob = Chrome::home_as(&hub, "bob", HOOKS).await;
    let details = bob
        .attr(
            ".app-card[data-app=\"alice/vault\"] [data-action=details]",
            "href",
        )
        .await
        .unwrap();
    assert!(
        details.ends_with("/services/japps/apps/alice/vault"),
        "{details}"
    );
    bob.click(".app-card[data-app=\"alice/vault\"] [data-action=details]")
        .await;
    bob.wait_for("#app-page", DEFAULT_WAIT).await;
    assert_eq!(
        bob.attr("#app-page", "data-role").await.as_deref(),
        Some("sharee")
    );
    assert_eq!(bob.text("#app-title").await, "Vault");
    assert!(bob.text("#app-description").await.contains("Figures"));
    assert_eq!(bob.text("#app-owner").await, "alice");
    for hidden in [
        "#logs",
        "#log-lines",
        "#app-env",
        "#app-command",
        "#app-repository",
        "#app-filepath",
        "#app-shares",
        "#stop-app",
        "#delete-app",
        "#edit-app",
    ] {
        assert!(
            bob.find(hidden).await.is_none(),
            "{hidden} on the sharee's page"
        );
    }
    assert_accessible_in_both_themes(&bob, "the sharee's page").await;
    screenshots(&bob, release, "sharee").await;
    drop(bob);

    // The page sources, as bob's browser gets them, and `server/` with bob's token.
    let bob_http = Browser::new();
    bob_http.login_to_hub(&hub, "bob").await;
    let page = bob_http
        .follow(&hub, &page_url(&hub, "alice", "vault"))
        .await;
    assert_eq!(page.status, 200, "{:?}", page.hops);
    let home = bob_http.follow(&hub, &hub.url(PREFIX)).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("data-app=\"alice/vault\""));
    let bob_token = hub.user_token("bob").await;
    let api = reqwest::Client::new()
        .get(hub.service_url("server/"))
        .header("Authorization", format!("token {bob_token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(api.contains("Vault"), "{api}");
    let state = bob_http
        .api_get(&hub.url(&format!("{PREFIX}apps/alice/vault/state")))
        .await;
    assert_eq!(state.status(), 200);
    let state = state.text().await.unwrap();
    for (what, text) in [
        ("the page", &page.body),
        ("home", &home.body),
        ("server/", &api),
        ("state", &state),
    ] {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in bob's {what}");
        }
        for key in [
            "\"env\"",
            "custom_command",
            "\"repository\"",
            "conda_env",
            "filepath",
            "share_with",
        ] {
            assert!(!text.contains(key), "{key} in bob's {what}");
        }
    }

    // Hub calls: a page load and a state poll cost one call each (the share list for a
    // sharee whose owner's definition is cached; the owner's model for the owner).
    let alice_http = Browser::new();
    alice_http.login_to_hub(&hub, "alice").await;
    assert_eq!(
        alice_http
            .follow(&hub, &page_url(&hub, "alice", "vault"))
            .await
            .status,
        200
    );
    for (who, browser, expected) in [
        ("bob", &bob_http, "GET /users/{name}/shared"),
        ("alice", &alice_http, "GET /users/{name}"),
    ] {
        for what in ["", "/state"] {
            let before = hub.service_hub_calls().await;
            let url = hub.url(&format!("{PREFIX}apps/alice/vault{what}"));
            let status = if what.is_empty() {
                browser.follow(&hub, &url).await.status
            } else {
                browser.api_get(&url).await.status()
            };
            assert_eq!(status, 200, "{who} {what}");
            let mut calls = japps_testkit::calls_between(&before, &hub.service_hub_calls().await);
            calls.remove("GET /user");
            assert_eq!(
                calls,
                std::collections::BTreeMap::from([(expected.to_owned(), 1)]),
                "{who}: hub calls for apps/alice/vault{what}"
            );
        }
    }

    // carol, a stranger: the same 404 as for an app that does not exist.
    let carol = Browser::new();
    carol.login_to_hub(&hub, "carol").await;
    let real = carol.follow(&hub, &page_url(&hub, "alice", "vault")).await;
    let missing = carol.follow(&hub, &page_url(&hub, "alice", "nosuch")).await;
    let nobody = carol.follow(&hub, &page_url(&hub, "nobody", "vault")).await;
    assert_eq!(real.status, 404);
    assert_eq!(missing.status, 404);
    assert_eq!(nobody.status, 404);
    assert!(real.body.contains("App not found"));
    assert_eq!(
        real.body.replace("alice/vault", "X"),
        missing.body.replace("alice/nosuch", "X"),
        "a stranger cannot tell an existing app from a missing one"
    );
    for secret in secrets {
        assert!(!real.body.contains(secret));
    }
    let state = carol
        .api_get(&hub.url(&format!("{PREFIX}apps/alice/vault/state")))
        .await;
    assert_eq!(state.status(), 404);
    // The default server is no app.
    let default = carol.follow(&hub, &page_url(&hub, "carol", "")).await;
    assert_eq!(default.status, 404);

    // root, an admin: the whole definition, the credentials of the repository redacted.
    let root = Chrome::home_as(&hub, "root", HOOKS).await;
    open_page(&root, &hub, "alice", "vault").await;
    assert_eq!(
        root.attr("#app-page", "data-role").await.as_deref(),
        Some("admin")
    );
    assert!(root.text("#app-command").await.contains("cmd-secret-8812"));
    assert!(
        root.text("#app-filepath")
            .await
            .contains("secret-path-5501")
    );
    assert!(
        root.text("#app-conda-env")
            .await
            .contains("secret-conda-3307")
    );
    assert!(root.text("#app-shares").await.contains("bob"));
    let repository = root.text("#app-repository").await;
    assert!(
        repository.contains("https://git.example.org/vault.git"),
        "{repository}"
    );
    assert!(!repository.contains("repo-secret-7719"), "{repository}");
    assert!(root.text("#app-env").await.contains("SECRET_NAME_X"));
    let html = root
        .eval("document.documentElement.outerHTML")
        .await
        .to_string();
    assert!(!html.contains("env-secret-9931"), "values are the owner's");
    assert!(!html.contains("repo-secret-7719"));
    assert!(root.find("#logs").await.is_some());

    // alice, the owner, on a phone: nothing wider than the screen.
    let alice = Chrome::home_as(&hub, "alice", HOOKS).await;
    alice.emulate_phone(360, 740).await;
    open_page(&alice, &hub, "alice", "vault").await;
    let width = alice.eval("document.documentElement.scrollWidth").await;
    assert!(
        width.as_u64().unwrap() <= 360,
        "the page scrolls sideways at 360 px: {width}"
    );
    screenshots(&alice, release, "phone").await;
}
