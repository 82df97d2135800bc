//! What a newcomer meets, in Chromium: live pages behind proxies that hold server-sent
//! events back (these hubs run the pure-Python configurable-http-proxy, which buffers
//! streamed answers until they end), the hub's consent page on a first visit to an app
//! shared with them, and links to a stopped app while its owner's default server runs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use japps_testkit::{
    Chrome, HubOptions, HubRelease, TestHub, echo_command, free_port, node_proxy, real_hub_tests,
    workspace_root,
};
use serde_json::{Value, json};

real_hub_tests!(
    startup_page_opens_the_app_behind_a_buffering_proxy,
    startup_page_opens_the_app_behind_nginx,
    sharee_first_visit_explains_the_consent_page,
    links_to_a_stopped_app_never_reach_the_default_server,
);

/// How long after the launcher is ready the startup page may take to show the app.
const OPENS_WITHIN: Duration = Duration::from_secs(3);

async fn hub(release: HubRelease, extra: &str) -> TestHub {
    hub_behind(release, extra, None).await
}

/// A hub on the pure-Python proxy, or on `proxy`.
async fn hub_behind(release: HubRelease, extra: &str, proxy: Option<PathBuf>) -> TestHub {
    let mut options = HubOptions::new(env!("CARGO_BIN_EXE_japps")).extra_config(&format!(
        "c.Spawner.start_timeout = 60\nc.Spawner.http_timeout = 60\n{extra}"
    ));
    if let Some(proxy) = proxy {
        options = options.proxy_command(proxy);
    }
    TestHub::start(release, options).await
}

/// Debian's nginx (`scripts/setup-browser`) on a free port in front of the hub, with its
/// defaults (`proxy_buffering on`) and the WebSocket headers every guide adds.
struct Nginx {
    /// `http://127.0.0.1:PORT/`
    url: String,
    process: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(hub_port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let path = dir.path().display();
        let config = format!(
            "daemon off;\npid {path}/nginx.pid;\nerror_log {path}/error.log;\n\
             events {{}}\n\
             http {{\n\
             access_log off;\n\
             client_body_temp_path {path}/body;\nproxy_temp_path {path}/proxy;\n\
             fastcgi_temp_path {path}/fastcgi;\nuwsgi_temp_path {path}/uwsgi;\n\
             scgi_temp_path {path}/scgi;\n\
             map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n\
             server {{\n\
             listen 127.0.0.1:{port};\n\
             location / {{\n\
             proxy_pass http://127.0.0.1:{hub_port};\n\
             proxy_http_version 1.1;\n\
             proxy_set_header Host $http_host;\n\
             proxy_set_header Upgrade $http_upgrade;\n\
             proxy_set_header Connection $connection_upgrade;\n\
             }}\n}}\n}}\n"
        );
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, config).unwrap();
        // As root, nginx's workers run as `nobody`, who must reach its temporary files.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let process = japps_testkit::mark(&mut std::process::Command::new("/usr/sbin/nginx"))
            .arg("-c")
            .arg(&file)
            .arg("-p")
            .arg(dir.path())
            .spawn()
            .expect("nginx (scripts/setup-browser installs it)");
        let url = format!("http://127.0.0.1:{port}/");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            url,
            process,
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: a fast shutdown that takes the workers along.
        if let Ok(pid) = i32::try_from(self.process.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let _ = self.process.wait();
    }
}

/// Creates alice's echo app through the API and waits until its launcher runs; returns the
/// server name.
async fn alices_app(hub: &TestHub, token: &str, options: Value) -> String {
    let server = hub.create_app(token, "app", options).await;
    wait_server(hub, "alice", &server, true).await;
    server
}

async fn wait_server(hub: &TestHub, user: &str, server: &str, ready: bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while hub.server(user, server).await.is_some_and(|s| s.ready) != ready {
        assert!(
            Instant::now() < deadline,
            "{user}/{server:?} never got ready={ready}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn startup_page_opens_the_app_behind_a_buffering_proxy(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice"]).await;
    let chrome = Chrome::start().await;
    chrome.login_to_hub(&hub, "alice").await;
    startup_page_opens_the_app(&hub, &chrome, &hub.url("")).await;
}

async fn startup_page_opens_the_app_behind_nginx(release: HubRelease) {
    // The Node proxy streams; nginx in front of it buffers, as it does by default.
    let hub = hub_behind(release, "", Some(node_proxy())).await;
    hub.create_users(&["alice"]).await;
    let nginx = Nginx::start(hub.public_url().port().unwrap());
    let chrome = Chrome::start().await;
    login(&chrome, &nginx.url, "alice").await;
    startup_page_opens_the_app(&hub, &chrome, &nginx.url).await;
}

/// Logs `user` in to the hub at `base` (the hub's own URL or a proxy's in front of it).
async fn login(chrome: &Chrome, base: &str, user: &str) {
    chrome.goto(&format!("{base}hub/login")).await;
    chrome.type_into("input[name=username]", user).await;
    chrome
        .type_into("input[name=password]", "any password")
        .await;
    chrome.click("form [type=submit]").await;
    chrome
        .wait_until(
            &format!("the hub logged {user} in"),
            "!location.pathname.endsWith('/hub/login') && document.readyState === 'complete'",
            Duration::from_secs(30),
        )
        .await;
}

/// Alice (logged in to `chrome`) opens her slow app at `base`: the startup page, then the
/// app, within [`OPENS_WITHIN`] of the launcher being ready.
async fn startup_page_opens_the_app(hub: &TestHub, chrome: &Chrome, base: &str) {
    let token = hub.user_token("alice").await;
    let server = alices_app(
        hub,
        &token,
        json!({"display_name": "Slow", "framework": "custom",
               "custom_command": echo_command(hub.release(), "--startup-delay 12")}),
    )
    .await;
    let app_url = hub.url(&format!("user/alice/{server}/"));
    chrome.goto(&format!("{base}user/alice/{server}/")).await;
    chrome
        .wait_for("#status-text", Duration::from_secs(20))
        .await;
    let status = chrome.text("#status-text").await;
    assert!(status.contains("Starting"), "the startup page: {status}");

    // The moment the launcher says the app is ready, as seen from outside the page.
    let status_url = format!("{app_url}_japps/api/status");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    let ready_at = loop {
        let phase: Value = client
            .get(&status_url)
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if phase["phase"] == "ready" {
            break Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "the app never got ready: {phase}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    chrome
        .wait_until(
            "the startup page opened the app",
            "document.title === 'echo app'",
            Duration::from_secs(30),
        )
        .await;
    let waited = ready_at.elapsed();
    assert!(
        waited <= OPENS_WITHIN,
        "the app opened {waited:?} after it was ready (at most {OPENS_WITHIN:?})"
    );
    // The proxy held the stream back: the page got there by asking, not by an event.
    let errors = chrome.console_errors().await;
    assert!(
        errors.iter().all(|e| !e.contains("_japps/api/status")),
        "{errors:?}"
    );
}

async fn sharee_first_visit_explains_the_consent_page(release: HubRelease) {
    let hub = hub(release, "").await;
    hub.create_users(&["alice", "bob"]).await;
    let token = hub.user_token("alice").await;
    let server = alices_app(
        &hub,
        &token,
        json!({"display_name": "Shared", "framework": "custom",
               "custom_command": echo_command(release, ""),
               "share_with": {"users": ["bob"], "groups": []}}),
    )
    .await;
    let chrome = Chrome::start().await;
    chrome.login_to_hub(&hub, "bob").await;
    chrome
        .goto(&hub.url(&format!("user/alice/{server}/")))
        .await;
    let note = chrome
        .wait_for("#japps-shared-consent", Duration::from_secs(20))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        note.contains(&format!("alice shared “{server}” with you")),
        "{note}"
    );
    assert!(note.contains("once per app"), "{note}");
    // The hub's own form is still there, below the explanation, and works.
    chrome.click("form [type=submit]").await;
    chrome
        .wait_until(
            "bob got into the app",
            "document.title === 'echo app'",
            Duration::from_secs(30),
        )
        .await;

    // The owner is never asked about their own app, so never told.
    let owner = Chrome::start().await;
    owner.login_to_hub(&hub, "alice").await;
    owner.goto(&hub.url(&format!("user/alice/{server}/"))).await;
    owner
        .wait_until(
            "alice got into her app",
            "document.title === 'echo app'",
            Duration::from_secs(30),
        )
        .await;
}

/// A default server that answers 404 to every path it does not know, as JupyterLab does:
/// the echo app, told its port by the hub's environment.
fn default_server_config(release: HubRelease) -> String {
    let python = release.venv().join("bin/python");
    let app = workspace_root().join("crates/japps-testkit/apps/echo_app.py");
    format!(
        "c.Spawner.cmd = ['sh', '-c', 'u=${{JUPYTERHUB_SERVICE_URL##*:}}; exec {} {} \
         --port ${{u%%/*}} --root-path \"$JUPYTERHUB_SERVICE_PREFIX\"']\n",
        python.display(),
        app.display()
    )
}

async fn links_to_a_stopped_app_never_reach_the_default_server(release: HubRelease) {
    let hub = hub(release, &default_server_config(release)).await;
    hub.create_users(&["alice", "bob"]).await;
    let token = hub.user_token("alice").await;
    let server = alices_app(
        &hub,
        &token,
        json!({"display_name": "Sleepy", "framework": "custom",
               "custom_command": echo_command(release, ""),
               "share_with": {"users": ["bob"], "groups": []}}),
    )
    .await;
    // Stop the app; start alice's default server, whose proxy route covers the app's path.
    let client = reqwest::Client::new();
    let status = client
        .delete(hub.service_url(&format!("server/{server}")))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "stop: {status}");
    wait_server(&hub, "alice", &server, false).await;
    let status = client
        .post(hub.url("hub/api/users/alice/server"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "default server: {status}");
    wait_server(&hub, "alice", "", true).await;
    // The path without /hub/ is the default server's now: what a link must not be.
    let direct = client
        .get(hub.url(&format!("user/alice/{server}/")))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        direct, 404,
        "the default server answers the app's plain path"
    );

    for (user, expected) in [("alice", "#japps-start"), ("bob", "#japps-not-allowed")] {
        let chrome = Chrome::start().await;
        chrome.login_to_hub(&hub, user).await;
        chrome.goto(&hub.service_url("")).await;
        let card = format!(".app-card[data-app=\"alice/{server}\"] a[data-action=open]");
        chrome.wait_for(&card, Duration::from_secs(20)).await;
        let link = chrome.attr(&card, "href").await.unwrap();
        let link_path = reqwest::Url::parse(&hub.url(""))
            .unwrap()
            .join(&link)
            .unwrap();
        assert!(
            link_path
                .path()
                .contains(&format!("/hub/user/alice/{server}/")),
            "{user}'s card links {link}"
        );
        // The app page's sharing link, as the copy button gives it.
        chrome
            .goto(&hub.service_url(&format!("apps/alice/{server}")))
            .await;
        let shared = chrome.attr("#copy-link", "data-url").await.unwrap();
        let shared = link_path.join(&shared).unwrap();
        assert_eq!(
            shared, link_path,
            "{user}: the sharing link is the card's link"
        );
        for url in [link_path.as_str(), shared.as_str()] {
            chrome.goto(url).await;
            chrome.wait_for(expected, Duration::from_secs(20)).await;
            let body = chrome.body_text().await;
            assert!(!body.contains("404"), "{user} got a 404 at {url}: {body}");
        }
    }
}
