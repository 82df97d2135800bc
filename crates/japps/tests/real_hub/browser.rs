//! The web UI in a real headless Chromium (Debian's, from `scripts/setup-browser`), on real
//! hubs behind the Node proxy production hubs run. Hooks and URLs follow the home page's DOM
//! contract: `.app-card[data-app="<owner>/<server>"]` with `data-status`, `data-owner`,
//! `data-privacy`; `#search`, `#filters`, `#sort`, `#view-grid`/`#view-table`, `#confirm`,
//! `#notice`, `#topbar`, `<select id="theme">`, `localStorage["japps:color-mode"]`.
//!
//! One hub and one browser per test function; each test checks several things on them,
//! since booting a hub costs more than any check.

use std::path::PathBuf;
use std::time::Duration;

use japps_hub::{ShareTarget, StartServer};
use japps_testkit::{
    Chrome, DEFAULT_WAIT, HubOptions, HubRelease, TestHub, idle_program, node_proxy,
    real_hub_tests, workspace_root,
};
use serde_json::{Value, json};

real_hub_tests!(
    harness_logs_in_through_the_hub_form,
    home_shows_own_shared_and_group_apps,
    home_search_filters_sort_and_view_survive_reload,
    home_start_stop_and_delete_from_cards,
    home_sharee_who_may_not_start_is_told_why_without_a_request,
    home_theme_headless_accessibility_and_phone_layout,
    hub_pages_are_accessible_in_both_themes,
    #[ignore = "writes docs/screenshots: run scripts/screenshots"]
    home_page_screenshots,
);

/// The service prefix the home page lives at.
const PREFIX: &str = "/services/japps/";

/// Hub settings: `root` is an admin; spawns have time on a loaded machine.
const HUB_SETTINGS: &str = "c.Authenticator.admin_users = {'root'}\n\
     c.Spawner.start_timeout = 60\nc.Spawner.http_timeout = 60\n";

/// Records what the page does that the tests must see even when it happens before they
/// look: `alert` calls, requests it sends, scripts injected through user data.
const HOOKS: &str = "
    window.__alerts = [];
    window.alert = (message) => { window.__alerts.push(String(message)); };
    window.__requests = [];
    const realFetch = window.fetch.bind(window);
    window.fetch = (input, init) => {
        window.__requests.push(String(input && input.url ? input.url : input));
        return realFetch(input, init);
    };
    const realOpen = XMLHttpRequest.prototype.open;
    XMLHttpRequest.prototype.open = function (method, url, ...rest) {
        window.__requests.push(String(url));
        return realOpen.call(this, method, url, ...rest);
    };
";

async fn hub(release: HubRelease, extra: &str) -> TestHub {
    let idle = idle_program();
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .extra_config(&format!(
            "{HUB_SETTINGS}c.JAppsConfig.python_exec = {:?}\n{extra}",
            idle.display().to_string()
        ))
        .proxy_command(node_proxy());
    TestHub::start(release, options).await
}

fn app_options(title: &str, description: &str, framework: &str, public: bool) -> Value {
    json!({
        "jhub_app": true,
        "display_name": title,
        "description": description,
        "framework": framework,
        "filepath": "",
        "public": public,
        "keep_alive": false,
        "share_with": {"users": [], "groups": []}
    })
}

fn card(app: &str) -> String {
    format!(".app-card[data-app=\"{app}\"]")
}

/// The `data-app` of every card not hidden by search or filters, in page order.
async fn shown(chrome: &Chrome) -> Vec<String> {
    let value = chrome
        .eval(
            "[...document.querySelectorAll('#apps .app-card')]\
             .filter(c => !c.hidden).map(c => c.dataset.app)",
        )
        .await;
    serde_json::from_value(value).unwrap()
}

async fn card_data(chrome: &Chrome, app: &str, key: &str) -> Option<String> {
    chrome.attr(&card(app), &format!("data-{key}")).await
}

async fn wait_status(chrome: &Chrome, app: &str, status: &str, timeout: Duration) {
    chrome
        .wait_until(
            &format!("{app} is {status}"),
            &format!(
                "document.querySelector('{}')?.dataset.status === '{status}'",
                card(app).replace('\'', "\\'")
            ),
            timeout,
        )
        .await;
}

/// Starts an app's server and waits until the hub has it ready.
async fn start_app(hub: &TestHub, user: &str, server: &str) {
    hub.admin_client()
        .as_service()
        .start_server(user, server, &StartServer::default())
        .await
        .unwrap();
    for _ in 0..300 {
        if server_of(hub, user, server).await.is_some_and(|s| s.ready) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{user}/{server} did not become ready");
}

async fn server_of(hub: &TestHub, user: &str, server: &str) -> Option<japps_hub::Server> {
    hub.server(user, server).await
}

/// alice's library: her own private and public apps (one running), bob's app shared with
/// her directly, carol's shared with her group, and dave's that she must not see.
async fn library(hub: &TestHub) {
    hub.create_users(&["alice", "bob", "carol", "dave"]).await;
    hub.create_group("team", &["alice"]).await;
    let apps = [
        (
            "alice",
            "sales",
            "Sales",
            "Quarterly figures",
            "panel",
            false,
        ),
        (
            "alice",
            "atlas",
            "Atlas",
            "Maps of everything",
            "streamlit",
            true,
        ),
        ("alice", "live", "Live", "Always on", "gradio", false),
        (
            "bob",
            "report",
            "Report",
            "Bob's weekly report",
            "voila",
            false,
        ),
        ("carol", "model", "Model", "Carol's model", "gradio", false),
        ("dave", "secret", "Secret", "Not for alice", "panel", false),
    ];
    for (owner, server, title, description, framework, public) in apps {
        hub.create_stopped_app(
            owner,
            server,
            title,
            app_options(title, description, framework, public),
        )
        .await;
    }
    hub.share("bob", "report", ShareTarget::User("alice".into()))
        .await;
    hub.share("carol", "model", ShareTarget::Group("team".into()))
        .await;
    start_app(hub, "alice", "live").await;
}

/// Runs today, without the home page: the browser, the driver, the hub's login form and
/// axe-core work together on both hubs.
async fn harness_logs_in_through_the_hub_form(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice"]).await;
    let chrome = Chrome::start().await;
    chrome.add_init_script(HOOKS).await;

    chrome.goto(&hub.url("hub/login")).await;
    chrome.wait_for("input[name=username]", DEFAULT_WAIT).await;
    let violations = chrome.axe().await;
    // JupyterHub's stock login page is not ours to fix; the themed one is checked with the
    // home page.
    eprintln!(
        "axe on JupyterHub {}'s login page: {} violation(s)",
        release.pip_version(),
        violations.len()
    );
    for violation in &violations {
        eprintln!("  {violation}");
    }

    chrome.login_to_hub(&hub, "alice").await;
    let landed = chrome.current_url().await;
    assert_ne!(landed.path(), "/hub/login", "still on the login page");

    // A hub page, rendered for the logged-in user.
    chrome.goto(&hub.url("hub/token")).await;
    chrome
        .wait_until(
            "the token page is shown",
            "document.readyState === 'complete'",
            DEFAULT_WAIT,
        )
        .await;
    assert_eq!(chrome.current_url().await.path(), "/hub/token");
    // The themed pages show it in #user-name; JupyterHub's own pages in `jhdata.user`.
    let user = chrome
        .eval(
            "document.querySelector('#user-name')?.textContent.trim() \
             || (window.jhdata && window.jhdata.user)",
        )
        .await;
    assert_eq!(user, "alice", "{}", chrome.body_text().await);
    assert!(chrome.body_text().await.contains("alice"));

    // The hooks ran before the page's own scripts, and nothing alerted.
    assert_eq!(chrome.eval("window.__alerts").await, json!([]));
    assert!(chrome.open_dialog().await.is_none());
    let errors = chrome.console_errors().await;
    eprintln!("console errors on /hub/token: {errors:?}");

    // The phone the home page is checked on is really 360 CSS pixels wide.
    chrome.emulate_phone(360, 740).await;
    chrome.reload().await;
    assert_eq!(
        chrome.eval("document.documentElement.clientWidth").await,
        360
    );
    // JupyterHub's stock token page is wider than a phone: the check the home page must pass
    // sees that.
    eprintln!(
        "scrollWidth of the stock /hub/token at 360 px: {}",
        chrome.eval("document.documentElement.scrollWidth").await
    );
}

async fn home_shows_own_shared_and_group_apps(release: HubRelease) {
    let hub = hub(release, "").await;
    library(&hub).await;
    // Markup in a title and a script in a description must be shown as text.
    let title = "<img src=x onerror=alert(1)>";
    let description = "<script>window.__xss = 1; alert(2)</script>";
    hub.create_stopped_app(
        "alice",
        "xss",
        title,
        app_options(title, description, "panel", false),
    )
    .await;

    let chrome = Chrome::start().await;
    chrome.add_init_script(HOOKS).await;
    chrome.login_to_hub(&hub, "alice").await;
    assert_eq!(
        chrome.current_url().await.path(),
        PREFIX,
        "login lands on the japps home"
    );
    chrome.goto(&hub.url("hub/home")).await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    assert_eq!(
        chrome.current_url().await.path(),
        PREFIX,
        "/hub/home lands on the japps home"
    );
    assert_eq!(chrome.text("#user-name").await.trim(), "alice");

    let expected = [
        ("alice/sales", "ready", "alice", "private"),
        ("alice/atlas", "ready", "alice", "public"),
        ("alice/live", "running", "alice", "private"),
        ("bob/report", "ready", "bob", "shared"),
        ("carol/model", "ready", "carol", "shared"),
    ];
    for (app, status, owner, privacy) in expected {
        assert_eq!(
            card_data(&chrome, app, "status").await.as_deref(),
            Some(status),
            "{app}"
        );
        assert_eq!(
            card_data(&chrome, app, "owner").await.as_deref(),
            Some(owner),
            "{app}"
        );
        assert_eq!(
            card_data(&chrome, app, "privacy").await.as_deref(),
            Some(privacy),
            "{app}"
        );
    }
    assert!(
        chrome.find(&card("dave/secret")).await.is_none(),
        "dave's app is not shared"
    );
    assert_eq!(
        chrome
            .text(&format!("{} .app-title", card("bob/report")))
            .await
            .trim(),
        "Report"
    );
    assert!(
        chrome
            .text(&format!("{} .app-owner", card("bob/report")))
            .await
            .contains("bob")
    );

    // The default server, as a quick-access card.
    let default = chrome
        .wait_for("#quick-access [data-app=\"alice/\"]", DEFAULT_WAIT)
        .await;
    assert!(default.attr("data-status").await.unwrap().is_some());

    // The hostile strings are shown literally and ran nothing.
    let xss = card("alice/xss");
    assert_eq!(
        chrome.text(&format!("{xss} .app-title")).await.trim(),
        title
    );
    assert!(
        chrome
            .text(&format!("{xss} .app-description"))
            .await
            .contains("<script>")
    );
    assert!(chrome.find(&format!("{xss} img[src=x]")).await.is_none());
    assert!(
        chrome
            .find(&format!("{xss} .app-description script"))
            .await
            .is_none()
    );
    assert_eq!(chrome.eval("window.__alerts").await, json!([]));
    assert_eq!(chrome.eval("window.__xss === undefined").await, true);
    assert!(chrome.open_dialog().await.is_none());
    let errors = chrome.console_errors().await;
    assert!(
        errors.is_empty(),
        "console errors on the home page: {errors:?}"
    );
}

async fn home_search_filters_sort_and_view_survive_reload(release: HubRelease) {
    let hub = hub(release, "").await;
    library(&hub).await;
    let chrome = Chrome::home_as(&hub, "alice", HOOKS).await;
    let all: Vec<String> = [
        "alice/atlas",
        "alice/live",
        "alice/sales",
        "bob/report",
        "carol/model",
    ]
    .map(String::from)
    .to_vec();
    let sorted = |mut apps: Vec<String>| {
        apps.sort();
        apps
    };
    assert_eq!(sorted(shown(&chrome).await), all);

    let reset = async || {
        chrome.eval("localStorage.removeItem('japps:home')").await;
        chrome.reload().await;
        chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    };
    let count = async || {
        chrome
            .text("#result-count")
            .await
            .trim()
            .parse::<usize>()
            .unwrap()
    };

    // Search: by name, by description, by framework; as you type.
    for (query, want) in [
        ("sales", vec!["alice/sales"]),
        ("weekly", vec!["bob/report"]),
        ("gradio", vec!["alice/live", "carol/model"]),
    ] {
        chrome.type_into("#search", query).await;
        chrome
            .wait_until(
                &format!("the search for {query} applies"),
                &format!(
                    "[...document.querySelectorAll('#apps .app-card')].filter(c => !c.hidden).length === {}",
                    want.len()
                ),
                DEFAULT_WAIT,
            )
            .await;
        assert_eq!(sorted(shown(&chrome).await), want, "search {query}");
        assert_eq!(count().await, want.len());
    }
    chrome.reload().await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    assert_eq!(
        chrome.eval("document.querySelector('#search').value").await,
        "gradio"
    );
    assert_eq!(sorted(shown(&chrome).await), ["alice/live", "carol/model"]);
    reset().await;
    assert_eq!(sorted(shown(&chrome).await), all);

    // Each filter, alone, and after a reload.
    let filters: [(&str, Vec<&str>); 6] = [
        ("input[name=framework][value=panel]", vec!["alice/sales"]),
        ("input[name=status][value=running]", vec!["alice/live"]),
        (
            "input[name=status][value=ready]",
            vec!["alice/atlas", "alice/sales", "bob/report", "carol/model"],
        ),
        ("input[name=group][value=team]", vec!["carol/model"]),
        (
            "input[name=ownership][value=mine]",
            vec!["alice/atlas", "alice/live", "alice/sales"],
        ),
        (
            "input[name=ownership][value=shared]",
            vec!["bob/report", "carol/model"],
        ),
    ];
    for (control, want) in filters {
        chrome
            .eval("document.querySelector('#filters').open = true")
            .await;
        chrome.click(control).await;
        assert_eq!(sorted(shown(&chrome).await), want, "filter {control}");
        assert_eq!(count().await, want.len(), "count with {control}");
        chrome.reload().await;
        chrome.wait_for("#app-library", DEFAULT_WAIT).await;
        assert_eq!(
            chrome
                .eval(&format!("document.querySelector('{control}').checked"))
                .await,
            true,
            "{control} survives a reload"
        );
        assert_eq!(
            sorted(shown(&chrome).await),
            want,
            "filter {control} after a reload"
        );
        reset().await;
    }

    // Sort: by title (Atlas, Live, Model, Report, Sales) both ways; the order survives a
    // reload.
    let by_name = [
        "alice/atlas",
        "alice/live",
        "carol/model",
        "bob/report",
        "alice/sales",
    ];
    chrome.select("#sort", "name-asc").await;
    assert_eq!(shown(&chrome).await, by_name);
    chrome.select("#sort", "name-desc").await;
    let mut reversed = by_name.to_vec();
    reversed.reverse();
    assert_eq!(shown(&chrome).await, reversed);
    chrome.reload().await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    assert_eq!(
        chrome.eval("document.querySelector('#sort').value").await,
        "name-desc"
    );
    assert_eq!(shown(&chrome).await, reversed);

    // Grid and table.
    assert!(
        chrome
            .attr("#apps", "class")
            .await
            .unwrap()
            .contains("view-grid")
    );
    chrome.click("#view-table").await;
    assert!(
        chrome
            .attr("#apps", "class")
            .await
            .unwrap()
            .contains("view-table")
    );
    assert_eq!(
        chrome.attr("#view-table", "aria-pressed").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        chrome.attr("#view-grid", "aria-pressed").await.as_deref(),
        Some("false")
    );
    chrome.reload().await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    assert!(
        chrome
            .attr("#apps", "class")
            .await
            .unwrap()
            .contains("view-table")
    );
    assert_eq!(
        sorted(shown(&chrome).await),
        all,
        "the view shows the same apps"
    );
}

async fn home_start_stop_and_delete_from_cards(release: HubRelease) {
    // The hub answers a start at once (202) and the server takes a few seconds to come up,
    // so the page has a pending state to show and to follow by itself.
    let slow_spawn = "c.JupyterHub.tornado_settings = {'slow_spawn_timeout': 0}\n\
         c.Spawner.cmd = ['/bin/sh', '-c', 'sleep 3; exec \"$0\" \"$@\"', sys.executable, \
         '-m', 'jupyterhub.tests.mocksu']\n";
    let hub = hub(release, slow_spawn).await;
    hub.create_users(&["alice"]).await;
    hub.create_stopped_app(
        "alice",
        "sales",
        "Sales",
        app_options("Sales", "Figures", "panel", false),
    )
    .await;
    let chrome = Chrome::home_as(&hub, "alice", HOOKS).await;
    let sales = card("alice/sales");
    assert_eq!(
        card_data(&chrome, "alice/sales", "status").await.as_deref(),
        Some("ready")
    );

    // Every status the card shows, however briefly.
    chrome
        .execute(
            "window.__statuses = [];
             const card = document.querySelector(arguments[0]);
             new MutationObserver(() => window.__statuses.push(card.dataset.status))
                 .observe(card, {attributes: true, attributeFilter: ['data-status']});",
            vec![json!(sales)],
        )
        .await;
    chrome.click(&format!("{sales} [data-action=start]")).await;
    wait_status(&chrome, "alice/sales", "running", Duration::from_secs(60)).await;
    let statuses = chrome.eval("window.__statuses").await;
    assert_eq!(statuses[0], "pending", "pending first: {statuses}");
    assert!(server_of(&hub, "alice", "sales").await.unwrap().ready);
    let open = chrome
        .attr(&format!("{sales} [data-action=open]"), "href")
        .await
        .unwrap();
    assert!(open.contains("/user/alice/sales/"), "opens the app: {open}");
    assert!(
        !chrome.text("#notice").await.trim().is_empty(),
        "the start is reported"
    );

    // Stop asks first; cancelling changes nothing.
    chrome.click(&format!("{sales} [data-action=stop]")).await;
    chrome.wait_for("#confirm[open]", DEFAULT_WAIT).await;
    chrome.click("#confirm-cancel").await;
    chrome
        .wait_until(
            "the dialog closed",
            "!document.querySelector('#confirm').open",
            DEFAULT_WAIT,
        )
        .await;
    assert_eq!(
        card_data(&chrome, "alice/sales", "status").await.as_deref(),
        Some("running")
    );
    chrome.click(&format!("{sales} [data-action=stop]")).await;
    chrome.wait_for("#confirm[open]", DEFAULT_WAIT).await;
    chrome.click("#confirm-ok").await;
    wait_status(&chrome, "alice/sales", "ready", Duration::from_secs(60)).await;
    assert!(server_of(&hub, "alice", "sales").await.unwrap().stopped);

    // Delete asks, then removes the card and the hub's record.
    chrome.click(&format!("{sales} [data-action=delete]")).await;
    chrome.wait_for("#confirm[open]", DEFAULT_WAIT).await;
    assert!(chrome.text("#confirm-message").await.contains("Sales"));
    chrome.click("#confirm-ok").await;
    chrome
        .wait_until(
            "the card is gone",
            &format!("!document.querySelector('{}')", sales.replace('\'', "\\'")),
            Duration::from_secs(30),
        )
        .await;
    for _ in 0..100 {
        if server_of(&hub, "alice", "sales").await.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        server_of(&hub, "alice", "sales").await.is_none(),
        "the hub record is gone"
    );
    chrome.reload().await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    assert!(chrome.find(&sales).await.is_none());
}

async fn home_sharee_who_may_not_start_is_told_why_without_a_request(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice", "bob"]).await;
    hub.create_stopped_app(
        "alice",
        "board",
        "Board",
        app_options("Board", "Numbers", "panel", false),
    )
    .await;
    hub.share("alice", "board", ShareTarget::User("bob".into()))
        .await;
    let chrome = Chrome::home_as(&hub, "bob", HOOKS).await;
    let board = card("alice/board");
    let start = format!("{board} [data-action=start]");
    assert_eq!(
        chrome.attr(&start, "aria-disabled").await.as_deref(),
        Some("true")
    );
    let reason = chrome.attr(&start, "title").await.unwrap_or_default();
    assert!(
        !reason.trim().is_empty(),
        "the start button says why it is disabled"
    );

    let requests_before = chrome.eval("window.__requests.length").await;
    let resources_before = chrome
        .eval("performance.getEntriesByType('resource').length")
        .await;
    let calls_before = hub.service_hub_calls().await;
    chrome.click(&start).await;
    chrome
        .wait_until(
            "the reason is shown",
            "document.querySelector('#notice').textContent.trim() !== ''",
            DEFAULT_WAIT,
        )
        .await;
    let notice = chrome.text("#notice").await;
    assert!(
        notice.contains(reason.trim()),
        "#notice {notice:?} gives the reason {reason:?}"
    );
    // Give a request that would have been sent the time to show.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        chrome.eval("window.__requests.length").await,
        requests_before,
        "{}",
        chrome.eval("window.__requests").await
    );
    assert_eq!(
        chrome
            .eval("performance.getEntriesByType('resource').length")
            .await,
        resources_before
    );
    let calls = japps_testkit::calls_between(&calls_before, &hub.service_hub_calls().await);
    assert!(
        !calls.keys().any(|call| call.starts_with("POST")),
        "nothing was started: {calls:?}"
    );
    assert!(server_of(&hub, "alice", "board").await.unwrap().stopped);
}

async fn home_theme_headless_accessibility_and_phone_layout(release: HubRelease) {
    let hub = hub(release, "").await;
    library(&hub).await;
    let chrome = Chrome::home_as(&hub, "alice", HOOKS).await;
    let theme = async |value: &str| {
        chrome.select("#theme", value).await;
        chrome
            .wait_until(
                &format!("the {value} theme applies"),
                &format!("document.documentElement.dataset.theme === '{value}'"),
                DEFAULT_WAIT,
            )
            .await;
    };

    // Accessibility in both themes.
    for mode in ["light", "dark"] {
        theme(mode).await;
        chrome
            .assert_accessible(&format!("the home page in the {mode} theme"))
            .await;
    }

    // Dark persists: a reload, and the hub's own pages.
    assert_eq!(
        chrome
            .eval("localStorage.getItem('japps:color-mode')")
            .await,
        "dark"
    );
    chrome.reload().await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    assert_eq!(
        chrome.eval("document.documentElement.dataset.theme").await,
        "dark"
    );
    chrome.goto(&hub.url("hub/token")).await;
    assert_eq!(
        chrome.eval("document.documentElement.dataset.theme").await,
        "dark"
    );
    theme("light").await;
    chrome.goto(&hub.url(PREFIX)).await;
    assert_eq!(
        chrome.eval("document.documentElement.dataset.theme").await,
        "light"
    );

    // Headless: no top bar, the library still there.
    chrome
        .goto(&hub.url(&format!("{PREFIX}?headless=true")))
        .await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    assert!(
        chrome.find("#topbar").await.is_none(),
        "headless mode hides the top bar"
    );
    assert!(chrome.find(&card("alice/sales")).await.is_some());
    chrome.goto(&hub.url(PREFIX)).await;
    chrome.wait_for("#topbar", DEFAULT_WAIT).await;

    // A 360 px phone: nothing wider than the screen, in the grid and the table.
    chrome.emulate_phone(360, 740).await;
    chrome.reload().await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    for view in ["#view-grid", "#view-table"] {
        chrome.click(view).await;
        let width = chrome.eval("document.documentElement.scrollWidth").await;
        assert!(
            width.as_u64().unwrap() <= 360,
            "{view} at 360 px scrolls sideways: {width}"
        );
    }
}

/// Writes the README's screenshots (`scripts/screenshots`): alice's home with own and
/// shared apps, light and dark.
async fn home_page_screenshots(release: HubRelease) {
    let hub = hub(release, "").await;
    library(&hub).await;
    let chrome = Chrome::home_as(&hub, "alice", HOOKS).await;
    chrome.set_window_size(1280, 860).await;
    let dir = std::env::var_os("JAPPS_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("docs/screenshots"));
    for mode in ["light", "dark"] {
        chrome
            .eval(&format!(
                "localStorage.setItem('japps:color-mode', '{mode}')"
            ))
            .await;
        chrome.reload().await;
        chrome.wait_for("#app-library", DEFAULT_WAIT).await;
        chrome
            .wait_until(
                "fonts and images loaded",
                "document.readyState === 'complete'",
                DEFAULT_WAIT,
            )
            .await;
        let path = dir.join(format!("home-{mode}.png"));
        chrome.screenshot(&path).await;
        eprintln!("wrote {}", path.display());
    }
}

/// The hub's own pages in japps' look: its login page (logged out) and the not-running
/// page of a stopped app (offering Start to its owner) have no serious or critical axe
/// violation in either theme. With `JAPPS_SCREENSHOT_DIR` set, their screenshots go there.
async fn hub_pages_are_accessible_in_both_themes(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice"]).await;
    hub.create_stopped_app(
        "alice",
        "sales",
        "Sales",
        app_options("Sales", "Quarterly figures", "panel", false),
    )
    .await;
    let shots = std::env::var_os("JAPPS_SCREENSHOT_DIR").map(PathBuf::from);
    let chrome = Chrome::start().await;
    let pages = [
        ("login", hub.url("hub/login"), "input[name=username]"),
        (
            "not-running",
            hub.url("hub/user/alice/sales/"),
            "#japps-start",
        ),
    ];
    for (name, url, ready) in pages {
        if name == "not-running" {
            chrome.login_to_hub(&hub, "alice").await;
        }
        for mode in ["light", "dark"] {
            chrome.goto(&url).await;
            chrome
                .eval(&format!(
                    "localStorage.setItem('japps:color-mode', '{mode}')"
                ))
                .await;
            chrome.reload().await;
            chrome.wait_for(ready, DEFAULT_WAIT).await;
            assert_eq!(
                chrome
                    .eval("document.documentElement.getAttribute('data-theme')")
                    .await,
                mode,
                "{name}: the theme applies on the hub's page"
            );
            chrome.assert_accessible(&format!("{name} ({mode})")).await;
            if let Some(dir) = &shots {
                chrome
                    .screenshot(&dir.join(format!("hub-{name}-{mode}.png")))
                    .await;
            }
        }
    }
}
