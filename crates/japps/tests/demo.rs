//! The demo as a newcomer meets it: `demo/jupyterhub_config.py` itself (on free ports, with
//! the proxy and the apps' Python `scripts/demo` gives it), its example apps opened from the
//! japps home page in Chromium by their owner and by a user each is shared with, and each
//! must *render*: the Panel sliders and computed balance, the Streamlit title and metrics,
//! the Dash graph — content the page only gets over the framework's WebSocket or API
//! calls, so a proxy that breaks them leaves the check failing. Needs the frameworks venv:
//! run by `scripts/test-frameworks` (ignored in the default run, like the framework tier).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use japps_testkit::{Chrome, HubOptions, HubRelease, TestHub, node_proxy, workspace_root};
use serde_json::Value;

macro_rules! demo_tests {
    ($($name:ident),+ $(,)?) => {
        mod hub_5_5 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "framework tier: scripts/test-frameworks"]
                async fn $name() {
                    super::$name(japps_testkit::HubRelease::V5_5).await;
                }
            )+
        }
        mod hub_6_1 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "framework tier: scripts/test-frameworks"]
                async fn $name() {
                    super::$name(japps_testkit::HubRelease::V6_1).await;
                }
            )+
        }
    };
}

demo_tests!(demo_apps_render_for_their_owner_and_sharees);

/// Every text of the page, shadow roots included (Panel renders into them).
const DEEP_TEXT: &str = "(() => {
    const parts = [];
    const walk = (node) => {
        if (node.shadowRoot) walk(node.shadowRoot);
        for (const child of node.childNodes) {
            if (child.nodeType === Node.TEXT_NODE) parts.push(child.textContent);
            else walk(child);
        }
    };
    walk(document.body || document);
    return parts.join(' ');
})()";

/// One example app of the demo and what shows that it rendered. Each is opened by its owner
/// `demo` and by `alice`, who has it shared with her (Panel), through her group (Dash), or
/// only its link (Streamlit is public).
struct Example {
    server: &'static str,
    /// Texts only the running app's client code puts on the page.
    texts: &'static [&'static str],
    /// A JavaScript condition for an element the app draws, if any.
    drawn: Option<&'static str>,
}

const EXAMPLES: [Example; 3] = [
    Example {
        server: "panel-example",
        texts: &["Monthly deposit", "Balance after 10 years"],
        drawn: None,
    },
    Example {
        server: "streamlit-example",
        texts: &["Text statistics", "Distinct words"],
        drawn: None,
    },
    Example {
        server: "dash-example",
        texts: &["Function plotter"],
        drawn: Some("!!document.querySelector('#plot .main-svg')"),
    },
];

async fn demo_hub(release: HubRelease) -> TestHub {
    let python = workspace_root().join(".cache/venvs/frameworks/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-frameworks",
        python.display()
    );
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .demo_config(workspace_root().join("demo/jupyterhub_config.py"))
        .env("JAPPS_BIN", env!("CARGO_BIN_EXE_japps"))
        .env("JAPPS_DEMO_PYTHON", &python.display().to_string())
        .env("JAPPS_DEMO_PROXY", &node_proxy().display().to_string())
        .extra_config("c.Spawner.start_timeout = 120\nc.Spawner.http_timeout = 120\n");
    TestHub::start(release, options).await
}

async fn wait_until(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn demo_apps_render_for_their_owner_and_sharees(release: HubRelease) {
    let hub = demo_hub(release).await;
    // The service creates the startup apps when it starts.
    wait_until(
        "the demo's apps exist",
        Duration::from_secs(60),
        async || {
            for example in &EXAMPLES {
                if hub.server("demo", example.server).await.is_none() {
                    return false;
                }
            }
            true
        },
    )
    .await;

    let owner = Chrome::start().await;
    owner.login_to_hub(&hub, "demo").await;
    let sharee = Chrome::start().await;
    sharee.login_to_hub(&hub, "alice").await;
    for example in &EXAMPLES {
        open_from_home(&owner, &hub, example, true).await;
        assert_rendered(&owner, example, "its owner").await;
        open_from_home(&sharee, &hub, example, false).await;
        assert_rendered(&sharee, example, "a user it is shared with").await;
        assert_no_ignored_arguments(&hub, example.server).await;
    }
}

/// Opens the app as a newcomer does: the card on the home page (starting the app from its
/// dialog when it is stopped), or, for a public app not listed for this user, its link.
async fn open_from_home(chrome: &Chrome, hub: &TestHub, example: &Example, owner: bool) {
    let server = example.server;
    chrome.goto(&hub.service_url("")).await;
    chrome
        .wait_for("#app-library", Duration::from_secs(20))
        .await;
    let card = format!(".app-card[data-app=\"demo/{server}\"]");
    let link = format!("{card} a[data-action=open]");
    if chrome.find(&card).await.is_none() {
        // A public app is not listed for everyone: they get its link, the plain form (the
        // hub's `/hub/user/…` form answers 404 to users it is not shared with).
        assert!(!owner, "the owner's home has no card for {server}");
        chrome.goto(&hub.url(&format!("user/demo/{server}/"))).await;
        return;
    }
    if chrome.attr(&card, "data-status").await.as_deref() == Some("ready") {
        assert!(owner, "{server} is stopped when a sharee opens it");
        chrome.click(&link).await;
        chrome.click("#confirm-ok").await;
    }
    chrome
        .wait_until(
            &format!("{server} runs"),
            &format!(
                "document.querySelector('{}').dataset.status === 'running'",
                card.replace('\'', "\\'")
            ),
            Duration::from_secs(120),
        )
        .await;
    chrome.click(&link).await;
}

async fn assert_rendered(chrome: &Chrome, example: &Example, who: &str) {
    let server = example.server;
    // A sharee's first visit asks for the hub's consent: a newcomer clicks "Authorize".
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let consent = chrome.find("#japps-shared-consent").await.is_some();
        if consent {
            chrome.click("form [type=submit]").await;
        }
        let text = chrome.eval(DEEP_TEXT).await;
        let text = text.as_str().unwrap_or_default();
        let drawn = match example.drawn {
            Some(condition) => chrome.eval(condition).await == Value::Bool(true),
            None => true,
        };
        if drawn && example.texts.iter().all(|t| text.contains(t)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{server} did not render for {who} at {}; the page says:\n{text}\nconsole: {:?}",
            chrome.current_url().await,
            chrome.console_errors().await
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let errors: Vec<String> = chrome
        .console_errors()
        .await
        .into_iter()
        .filter(|e| e.to_lowercase().contains("websocket"))
        .collect();
    assert!(
        errors.is_empty(),
        "{server} for {who}: WebSocket errors {errors:?}"
    );
}

/// The app's startup output, read as its owner: nothing of the default server's command
/// line (`--allow-root` and the like) reached `japps launch`.
async fn assert_no_ignored_arguments(hub: &TestHub, server: &str) {
    let token = hub.user_token("demo").await;
    let logs: Value = reqwest::Client::new()
        .get(hub.url(&format!("user/demo/{server}/_japps/api/logs")))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lines: Vec<&str> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|line| line["text"].as_str())
        .collect();
    assert!(!lines.is_empty(), "{server} has no output");
    let ignored: Vec<&&str> = lines.iter().filter(|l| l.contains("ignoring")).collect();
    assert!(ignored.is_empty(), "{server}: {ignored:?}");
}
