//! JupyterHub's own pages with the plugin's templates: the landing on japps' home, the
//! hub's pages in japps' look (headless too), the not-running page of an app that starts
//! it through japps, and `keep_hub_home`.

use std::time::{Duration, Instant};

use japps_testkit::{
    Browser, HubOptions, HubRelease, TestHub, echo_app, node_proxy, real_hub_tests,
};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, LOCATION};
use reqwest::multipart::Form;
use serde_json::{Value, json};

real_hub_tests!(
    login_and_hub_home_land_on_japps_home,
    not_running_page_starts_an_app_through_japps,
    keep_hub_home_keeps_the_stock_home,
);

const HOME: &str = "/services/japps/";

fn options() -> HubOptions {
    HubOptions::new(env!("CARGO_BIN_EXE_japps"))
}

/// The hub's login form by hand, to see where the hub sends the browser afterwards.
async fn login_location(hub: &TestHub, browser: &Browser, user: &str) -> String {
    let page = browser.get(&hub.url("hub/login")).await;
    let html = page.text().await.unwrap();
    let xsrf = attribute_after(&html, "name=\"_xsrf\"", "value")
        .or_else(|| browser.cookie(&hub.url("hub/login"), "_xsrf"))
        .expect("an _xsrf token on the login page");
    let response = browser
        .client()
        .post(hub.url("hub/login"))
        .header(ACCEPT, "text/html")
        .form(&[
            ("_xsrf", xsrf.as_str()),
            ("username", user),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    location(&response)
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The value of `attr="..."` in the first tag after `marker`, HTML entities for `&` undone.
fn attribute_after(html: &str, marker: &str, attr: &str) -> Option<String> {
    let start = html.find(marker)?;
    let tag_end = start + html[start..].find('>')?;
    let tag_start = html[..start].rfind('<')?;
    let tag = &html[tag_start..tag_end];
    let key = format!("{attr}=\"");
    let from = tag.find(&key)? + key.len();
    let to = from + tag[from..].find('"')?;
    Some(tag[from..to].replace("&amp;", "&"))
}

/// japps' look: its stylesheet, the theme read before paint, its top bar.
fn assert_japps_look(html: &str, what: &str) {
    for needle in [
        "/services/japps/static/web/app.css",
        "/services/japps/theme.css",
        "localStorage.getItem(\"japps:color-mode\")",
        "setAttribute(\"data-theme\"",
        "id=\"topbar\"",
        "<select id=\"theme\">",
    ] {
        assert!(html.contains(needle), "{what}: no {needle:?} in\n{html}");
    }
}

async fn login_and_hub_home_land_on_japps_home(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;

    // Not logged in: the login page, a 404 and headless pages, in japps' look.
    let anonymous = Browser::new();
    let login = anonymous.get(&hub.url("hub/login")).await;
    assert_eq!(login.status(), 200);
    assert_japps_look(&login.text().await.unwrap(), "login page");
    let headless = anonymous.get(&hub.url("hub/login?headless=true")).await;
    let html = headless.text().await.unwrap();
    assert!(
        html.contains("/services/japps/static/web/app.css"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"topbar\""),
        "headless: no top bar\n{html}"
    );

    // The login lands on japps' home in one redirect, and so do /hub/ and /hub/home.
    let browser = Browser::new();
    assert_eq!(login_location(&hub, &browser, "alice").await, HOME);
    let root = browser.get(&hub.url("hub/")).await;
    assert_eq!(
        (root.status(), location(&root)),
        (StatusCode::FOUND, HOME.to_owned())
    );
    // A template cannot redirect: /hub/home is a page that navigates at once.
    let home = browser.get(&hub.url("hub/home")).await;
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(
        html.contains("<meta http-equiv=\"refresh\" content=\"0; url=/services/japps/\">"),
        "{html}"
    );
    assert!(
        html.contains("location.replace(\"/services/japps/\""),
        "{html}"
    );
    assert!(
        html.contains("id=\"japps-home-link\" href=\"/services/japps/\""),
        "{html}"
    );

    // Logged-in pages keep the hub's links, japps' home as Home.
    let token = browser.get(&hub.url("hub/token")).await;
    assert_eq!(token.status(), 200);
    let html = token.text().await.unwrap();
    assert_japps_look(&html, "token page");
    for needle in [
        "id=\"link-home\" href=\"/services/japps/\"",
        "id=\"link-token\" href=\"/hub/token\"",
        "id=\"link-logout\"",
        "<span id=\"user-name\">alice</span>",
    ] {
        assert!(html.contains(needle), "token page: no {needle:?}\n{html}");
    }
    assert!(!html.contains("id=\"link-admin\""), "alice is no admin");
    let headless = browser.get(&hub.url("hub/token?headless=true")).await;
    let html = headless.text().await.unwrap();
    assert!(
        !html.contains("id=\"topbar\""),
        "headless: no top bar\n{html}"
    );
    assert!(
        html.contains("/services/japps/static/web/app.css"),
        "{html}"
    );

    let missing = browser.get(&hub.url("hub/no-such-page")).await;
    assert_eq!(missing.status(), 404);
    assert_japps_look(&missing.text().await.unwrap(), "404 page");
}

const HUB_SETTINGS: &str = "c.Spawner.poll_interval = 1\nc.Spawner.start_timeout = 60\n\
     c.Spawner.http_timeout = 60\n";

async fn wait_for(hub: &TestHub, user: &str, server: &str, ready: bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let state = hub.server(user, server).await.map(|s| (s.ready, s.stopped));
        if ready && matches!(state, Some((true, _))) || !ready && matches!(state, Some((_, true))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{user}/{server} never became ready={ready}");
}

async fn not_running_page_starts_an_app_through_japps(release: HubRelease) {
    let options = options()
        .extra_config(HUB_SETTINGS)
        .proxy_command(node_proxy());
    let hub = TestHub::start(release, options).await;
    hub.create_users(&["alice", "bob"]).await;
    let command = format!(
        "{} {} --port {{port}} --root-path {{root_path}}",
        release.venv().join("bin/python").display(),
        echo_app().display()
    );
    let data = json!({"servername": "echo", "user_options": {
        "display_name": "Echo", "framework": "custom", "custom_command": command,
        "share_with": {"users": ["bob"]}}})
    .to_string();
    let created: Value = reqwest::Client::new()
        .post(hub.service_url("server"))
        .header(
            "Authorization",
            format!("token {}", hub.user_token("alice").await),
        )
        .multipart(Form::new().text("data", data))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let server = created[1].as_str().unwrap().to_owned();
    wait_for(&hub, "alice", &server, true).await;
    let stop = async || {
        hub.admin_client()
            .as_service()
            .stop_server("alice", &server, false)
            .await
            .unwrap();
        wait_for(&hub, "alice", &server, false).await;
    };
    stop().await;
    let page_url = hub.url(&format!("hub/user/alice/{server}/"));

    // The owner is offered Start, which the page performs through japps.
    let alice = Browser::new();
    alice.login_to_hub(&hub, "alice").await;
    let page = alice.get(&page_url).await;
    assert_eq!(page.status(), 424);
    let html = page.text().await.unwrap();
    assert_japps_look(&html, "not-running page");
    assert!(!html.contains("id=\"japps-not-allowed\""), "{html}");
    let start_url = attribute_after(&html, "id=\"japps-start\"", "data-start-url")
        .unwrap_or_else(|| panic!("no Start button:\n{html}"));
    let pending_url = attribute_after(&html, "id=\"japps-start\"", "data-pending-url").unwrap();
    let login_url = attribute_after(&html, "id=\"japps-start\"", "data-login-url").unwrap();
    assert_eq!(
        start_url,
        format!("/services/japps/server/{server}?owner=alice")
    );
    assert_eq!(login_url, "/services/japps/jhub-login");
    let same_origin = [
        ("Sec-Fetch-Site", "same-origin"),
        ("Origin", &hub.public_origin()),
    ];

    // The first click, without a japps session: 401, so the page logs in and comes back.
    let first = alice.post(&hub.url(&start_url[1..]), &same_origin).await;
    assert_eq!(first.status(), 401);
    let next = format!("/hub/user/alice/{server}/#japps-start");
    let back = alice
        .follow(
            &hub,
            &hub.url(&format!(
                "services/japps/jhub-login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            )),
        )
        .await;
    assert_eq!(
        back.final_url.path(),
        format!("/hub/user/alice/{server}/"),
        "{:#?}",
        back.hops
    );
    let started = alice.post(&hub.url(&start_url[1..]), &same_origin).await;
    assert!(started.status().is_success(), "{}", started.status());
    wait_for(&hub, "alice", &server, true).await;

    // The progress page returns the owner to the app once it is up.
    assert!(pending_url.starts_with(&format!("/hub/spawn-pending/alice/{server}?next=")));
    let mut visit = alice.follow(&hub, &hub.url(&pending_url[1..])).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !visit.body.contains("echo app") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        visit = alice.follow(&hub, &hub.url(&pending_url[1..])).await;
    }
    assert_eq!(
        visit.final_url.path(),
        format!("/user/alice/{server}/"),
        "{:#?}\n{}",
        visit.hops,
        visit.body
    );
    assert!(visit.body.contains("echo app"), "{}", visit.body);

    // A sharee without the right to start it is told so, with no button.
    stop().await;
    let bob = Browser::new();
    bob.login_to_hub(&hub, "bob").await;
    let page = bob.get(&page_url).await;
    assert_eq!(page.status(), 424);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"japps-not-allowed\""), "{html}");
    assert!(!html.contains("id=\"japps-start\""), "{html}");
    assert!(
        html.contains("<span id=\"user-name\">bob</span>"),
        "the viewer, not the owner"
    );

    // The default server keeps the stock page.
    let page = alice.get(&hub.url("hub/user/alice/")).await;
    assert_eq!(page.status(), 424);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"start\""), "{html}");
    assert!(html.contains("href=\"/hub/spawn/alice"), "{html}");
    assert!(!html.contains("japps-start"), "{html}");
    assert_japps_look(&html, "default server's not-running page");
}

async fn keep_hub_home_keeps_the_stock_home(release: HubRelease) {
    let options = options().japps_config("c.JAppsConfig.keep_hub_home = True");
    let hub = TestHub::start(release, options).await;
    let browser = Browser::new();
    assert_ne!(login_location(&hub, &browser, "alice").await, HOME);
    let home = browser.get(&hub.url("hub/home")).await;
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(
        html.contains("Named Servers"),
        "the stock home page\n{html}"
    );
    assert!(!html.contains("http-equiv=\"refresh\""), "{html}");
    assert_japps_look(&html, "stock home page");
}
