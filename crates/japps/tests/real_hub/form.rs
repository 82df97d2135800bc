//! The app form (`create-app`, `edit-app`, the server-types step, `success`) in a real
//! headless Chromium on real hubs: the page script sends the multipart request to the JSON
//! API, the launcher runs the app, sharees see it. DOM contract: `#app-form` with inputs
//! `#display_name`, `#description`, `#framework`, `#custom_command`, `#filepath`,
//! `.env-row .env-key/.env-value`, `#env-add`, `input[name=share-user|share-group]`,
//! `#public`, `#thumbnail`, `#submit-app` (step 1), `#step-profiles`, `#submit-final`,
//! `#back-step`; each field's message in `#<id>-error`.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use japps_testkit::{
    Chrome, DEFAULT_WAIT, HubOptions, HubRelease, TestHub, calls_between, idle_program, node_proxy,
    real_hub_tests, workspace_root,
};
use serde_json::{Value, json};

real_hub_tests!(
    form_creates_a_running_panel_app_shared_with_a_user_and_a_group,
    form_validations_show_at_the_field_and_keep_what_was_typed,
    form_deploys_from_git_then_edits_description_and_shares,
    form_server_types_step_and_headless_success,
    form_shows_the_operators_policy_at_the_field,
);

const PREFIX: &str = "/services/japps/";

/// Records the requests the page sends (see `browser.rs`).
const HOOKS: &str = "
    window.__requests = [];
    const realFetch = window.fetch.bind(window);
    window.fetch = (input, init) => {
        window.__requests.push(String(input && input.url ? input.url : input));
        return realFetch(input, init);
    };
";

/// A hub whose apps run in `python` (the frameworks venv for apps that must really run,
/// else an idle stand-in).
/// `japps` is `c.JAppsConfig` (and spawner) configuration the plugin reads at install.
async fn hub(release: HubRelease, python: &Path, japps: &str) -> TestHub {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .japps_config(japps)
        .extra_config(&format!(
            "c.Authenticator.admin_users = {{'root'}}\n\
             c.Spawner.start_timeout = 120\nc.Spawner.http_timeout = 120\n\
             c.JAppsConfig.python_exec = {:?}\n",
            python.display().to_string()
        ))
        .proxy_command(node_proxy());
    TestHub::start(release, options).await
}

/// The venv with every framework (`scripts/setup-frameworks`).
fn frameworks_python() -> PathBuf {
    let python = workspace_root().join(".cache/venvs/frameworks/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-frameworks",
        python.display()
    );
    python
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 160])
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// Files the browser uploads, in a directory that lives as long as the test.
fn files() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("japps-form-files-")
        .tempdir()
        .unwrap();
    let small = dir.path().join("thumb.png");
    std::fs::write(&small, png(450, 260)).unwrap();
    let big = dir.path().join("big.png");
    // Over the 5 MB limit; its content does not matter to the size checks.
    let mut bytes = png(64, 64);
    bytes.resize(6 * 1024 * 1024, 0);
    std::fs::write(&big, bytes).unwrap();
    let svg = dir.path().join("logo.svg");
    std::fs::write(
        &svg,
        br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#,
    )
    .unwrap();
    (dir, small, big, svg)
}

async fn browser_as(hub: &TestHub, user: &str) -> Chrome {
    let chrome = Chrome::start().await;
    chrome.add_init_script(HOOKS).await;
    chrome.login_to_hub(hub, user).await;
    chrome
}

async fn open_form(chrome: &Chrome, hub: &TestHub, path: &str) {
    chrome.goto(&hub.url(&format!("{PREFIX}{path}"))).await;
    chrome.wait_for("#app-form", DEFAULT_WAIT).await;
}

async fn value(chrome: &Chrome, id: &str) -> String {
    chrome
        .eval(&format!("document.getElementById('{id}').value"))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn error_of(chrome: &Chrome, id: &str) -> String {
    chrome
        .eval(&format!(
            "document.getElementById('{id}-error').textContent"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn focused(chrome: &Chrome) -> String {
    chrome
        .eval("document.activeElement && document.activeElement.id")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The page's requests to `POST/PUT server…` so far.
async fn server_requests(chrome: &Chrome) -> usize {
    chrome
        .eval("window.__requests.filter(u => /\\/server(\\/|$)/.test(new URL(u, location.href).pathname)).length")
        .await
        .as_u64()
        .unwrap() as usize
}

async fn invalid(chrome: &Chrome, id: &str) -> bool {
    chrome
        .eval(&format!(
            "document.getElementById('{id}').getAttribute('aria-invalid') === 'true'"
        ))
        .await
        == json!(true)
}

async fn set_file(chrome: &Chrome, path: &Path) {
    chrome
        .wait_for("#thumbnail", DEFAULT_WAIT)
        .await
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
}

async fn submit(chrome: &Chrome) {
    chrome
        .eval("document.getElementById('app-form').requestSubmit()")
        .await;
}

async fn api(hub: &TestHub, token: &str, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(hub.service_url(path))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn wait_ready(hub: &TestHub, user: &str, server: &str, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if hub.server(user, server).await.is_some_and(|s| s.ready) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{user}/{server} did not become ready\n{}",
            hub.logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn wait_path(chrome: &Chrome, path: &str) {
    chrome
        .wait_until(
            &format!("the browser is at {path}"),
            &format!("location.pathname === '{path}'"),
            Duration::from_secs(60),
        )
        .await;
}

/// The home page of `user` lists `app` (or not).
async fn home_lists(hub: &TestHub, chrome: &Chrome, app: &str) -> bool {
    chrome.goto(&hub.url(PREFIX)).await;
    chrome.wait_for("#app-library", DEFAULT_WAIT).await;
    chrome
        .find(&format!(".app-card[data-app=\"{app}\"]"))
        .await
        .is_some()
}

/// The app at `/user/<owner>/<server>/` answers the browser with the Panel page.
async fn opens_panel(hub: &TestHub, chrome: &Chrome, owner: &str, server: &str) {
    chrome
        .goto(&hub.url(&format!("user/{owner}/{server}/")))
        .await;
    // The hub asks the user to authorize the app's access to their identity.
    chrome
        .wait_until(
            "the app or the hub's authorize page",
            "!location.pathname.endsWith('/oauth2/authorize') || !!document.querySelector('form [type=submit]')",
            Duration::from_secs(60),
        )
        .await;
    if chrome
        .current_url()
        .await
        .path()
        .ends_with("/oauth2/authorize")
    {
        chrome.click("form [type=submit]").await;
    }
    chrome
        .wait_until(
            "the Panel app answers",
            "!!document.querySelector('script[src*=\"bokeh\"], script[src*=\"panel\"]') \
             || /bokeh|panel/i.test(document.documentElement.outerHTML.slice(0, 20000))",
            Duration::from_secs(60),
        )
        .await;
    let path = chrome.current_url().await.path().to_owned();
    assert!(
        path.starts_with(&format!("/user/{owner}/{server}/")),
        "at {path}"
    );
}

async fn set_mode(chrome: &Chrome, mode: &str) {
    chrome
        .eval(&format!(
            "(localStorage.setItem('japps:color-mode', '{mode}'), \
              document.documentElement.setAttribute('data-theme', '{mode}'))"
        ))
        .await;
}

/// Where screenshots go: `JAPPS_SCREENSHOT_DIR`, else the temporary directory.
fn shot(name: &str) -> PathBuf {
    std::env::var_os("JAPPS_SCREENSHOT_DIR")
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join(name)
}

async fn form_creates_a_running_panel_app_shared_with_a_user_and_a_group(release: HubRelease) {
    let hub = hub(release, &frameworks_python(), "").await;
    hub.create_users(&["alice", "bob", "carol", "dave"]).await;
    hub.create_group("team", &["carol"]).await;
    let (_files, small, _, _) = files();
    let alice = browser_as(&hub, "alice").await;
    open_form(&alice, &hub, "create-app").await;

    alice.type_into("#display_name", "Sales board").await;
    alice
        .type_into("#description", "Quarterly numbers, live")
        .await;
    alice.select("#framework", "panel").await;
    assert_eq!(value(&alice, "filepath").await, "", "the example app");
    alice.click("#env-add").await;
    alice.type_into(".env-row .env-key", "MODE").await;
    alice.type_into(".env-row .env-value", "demo").await;
    alice.click("input[name=share-user][value=bob]").await;
    alice.click("input[name=share-group][value=team]").await;
    assert!(
        alice
            .text("#share-summary")
            .await
            .contains("bob, team (group)"),
        "{}",
        alice.text("#share-summary").await
    );
    set_file(&alice, &small).await;
    alice
        .wait_until(
            "the preview shows",
            "!document.getElementById('thumb-preview').hidden",
            DEFAULT_WAIT,
        )
        .await;
    alice.click("#submit-app").await;
    wait_path(&alice, &format!("{PREFIX}apps/alice/sales-board")).await;
    // The app's page follows the start: not running yet, then running with its output.
    let landed = alice.attr("#app-page", "data-status").await.unwrap();
    assert_ne!(landed, "running", "the app page opens while the app starts");
    alice
        .wait_until(
            "the app page shows the app running",
            "document.getElementById('app-page').dataset.status === 'running' \
             && !document.getElementById('open-app').hidden",
            Duration::from_secs(150),
        )
        .await;
    let output = alice.text("#log-lines").await;
    assert!(!output.trim().is_empty(), "the app page shows the output");

    let token = hub.user_token("alice").await;
    let app = api(&hub, &token, "server/sales-board").await;
    let options = &app["user_options"];
    assert_eq!(options["display_name"], "Sales board");
    assert_eq!(options["env"], json!({"MODE": "demo"}));
    assert_eq!(
        options["share_with"],
        json!({"users": ["bob"], "groups": ["team"]})
    );
    let thumbnail = options["thumbnail"].as_str().unwrap();
    assert!(
        thumbnail.starts_with("data:image/jpeg;base64,")
            || thumbnail.starts_with("data:image/png;base64,"),
        "the uploaded picture, re-encoded: {}",
        &thumbnail[..40]
    );
    wait_ready(&hub, "alice", "sales-board", Duration::from_secs(150)).await;
    let listed = api(&hub, &token, "server/").await;
    assert!(
        listed["user_apps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "sales-board" && a["ready"] == true),
        "{listed}"
    );
    opens_panel(&hub, &alice, "alice", "sales-board").await;

    // bob (a user share) and carol (in the shared group) see it; bob opens it; dave not.
    let bob = browser_as(&hub, "bob").await;
    assert!(home_lists(&hub, &bob, "alice/sales-board").await);
    opens_panel(&hub, &bob, "alice", "sales-board").await;
    let carol = browser_as(&hub, "carol").await;
    assert!(home_lists(&hub, &carol, "alice/sales-board").await);
    drop(carol);
    let dave = browser_as(&hub, "dave").await;
    assert!(!home_lists(&hub, &dave, "alice/sales-board").await);
}

async fn form_validations_show_at_the_field_and_keep_what_was_typed(release: HubRelease) {
    let hub = hub(release, &idle_program(), "").await;
    hub.create_users(&["alice", "bob"]).await;
    let (_files, small, big, svg) = files();
    let chrome = browser_as(&hub, "alice").await;
    // The page costs few hub calls (measured on the second load: the login is settled).
    open_form(&chrome, &hub, "create-app").await;
    let before = hub.service_hub_calls().await;
    open_form(&chrome, &hub, "create-app").await;
    let after = hub.service_hub_calls().await;
    let calls = calls_between(&before, &after);
    eprintln!("hub calls for one create-app page load: {calls:?}");
    assert!(calls.values().sum::<u64>() <= 3, "{calls:?}");

    for mode in ["light", "dark"] {
        set_mode(&chrome, mode).await;
        chrome
            .screenshot(&shot(&format!(
                "form-create-{mode}-{}.png",
                release.major()
            )))
            .await;
    }
    set_mode(&chrome, "light").await;

    // Empty name: the message at the field, focus there, nothing sent.
    submit(&chrome).await;
    assert!(invalid(&chrome, "display_name").await);
    assert_eq!(focused(&chrome).await, "display_name");
    assert!(error_of(&chrome, "display_name").await.contains("name"));
    assert_eq!(server_requests(&chrome).await, 0);

    // 201 characters: the counter and the message as soon as it is typed.
    chrome.type_into("#display_name", "Sales board").await;
    chrome.type_into("#description", &"d".repeat(201)).await;
    assert_eq!(chrome.text("#description-count").await, "201/200");
    assert!(error_of(&chrome, "description").await.contains("200"));
    submit(&chrome).await;
    assert_eq!(focused(&chrome).await, "description");
    assert!(!invalid(&chrome, "display_name").await, "fixed: no message");
    chrome.type_into("#description", "Quarterly numbers").await;

    // custom without a command: the field appears, and says it is needed.
    chrome.select("#framework", "custom").await;
    assert!(
        chrome
            .find("#custom_command-field:not([hidden])")
            .await
            .is_some()
    );
    submit(&chrome).await;
    assert_eq!(focused(&chrome).await, "custom_command");
    assert!(
        error_of(&chrome, "custom_command")
            .await
            .contains("command")
    );
    chrome
        .type_into("#custom_command", "python -m http.server {port}")
        .await;

    // Env keys the API refuses, caught by the browser.
    chrome.click("#env-add").await;
    chrome.type_into(".env-row .env-key", "1X").await;
    chrome.type_into(".env-row .env-value", "kept").await;
    submit(&chrome).await;
    let key_id = chrome.attr(".env-row .env-key", "id").await.unwrap();
    assert_eq!(focused(&chrome).await, key_id);
    assert!(
        error_of(&chrome, &key_id)
            .await
            .contains("not a variable name")
    );
    chrome
        .type_into(".env-row .env-key", "JUPYTERHUB_API_TOKEN")
        .await;
    submit(&chrome).await;
    assert!(error_of(&chrome, &key_id).await.contains("cannot be used"));
    assert_eq!(server_requests(&chrome).await, 0, "nothing sent so far");

    // Thumbnails: too large, SVG.
    set_file(&chrome, &big).await;
    assert!(
        error_of(&chrome, "thumbnail")
            .await
            .contains("limit is 5 MB")
    );
    set_file(&chrome, &svg).await;
    assert!(error_of(&chrome, "thumbnail").await.contains("SVG"));
    submit(&chrome).await;
    assert_eq!(server_requests(&chrome).await, 0);

    // Accessibility and the look with the messages shown, light and dark.
    for mode in ["light", "dark"] {
        set_mode(&chrome, mode).await;
        chrome
            .assert_accessible(&format!("the form with errors ({mode})"))
            .await;
        chrome
            .screenshot(&shot(&format!(
                "form-errors-{mode}-{}.png",
                release.major()
            )))
            .await;
    }
    set_mode(&chrome, "light").await;

    // With the browser's checks off, the server's refusals land at the same fields.
    chrome
        .eval("document.getElementById('app-form').dataset.browserChecks = 'off'")
        .await;
    chrome.type_into(".env-row .env-key", "1X").await;
    chrome.click("#thumb-remove").await;
    submit(&chrome).await;
    chrome
        .wait_until(
            "the server's refusal shows at the env key",
            &format!(
                "document.getElementById('{key_id}-error').textContent.includes('user_options.env')"
            ),
            DEFAULT_WAIT,
        )
        .await;
    assert_eq!(focused(&chrome).await, key_id);
    assert_eq!(server_requests(&chrome).await, 1);
    chrome.type_into(".env-row .env-key", "MODE").await;
    set_file(&chrome, &svg).await;
    submit(&chrome).await;
    chrome
        .wait_until(
            "the server refuses the SVG at the field",
            "document.getElementById('thumbnail-error').textContent.includes('SVG thumbnails are not accepted')",
            DEFAULT_WAIT,
        )
        .await;
    assert_eq!(focused(&chrome).await, "thumbnail");
    set_file(&chrome, &big).await;
    submit(&chrome).await;
    chrome
        .wait_until(
            "the server refuses the 6 MB picture at the field",
            "/too large|limit/.test(document.getElementById('thumbnail-error').textContent) && window.__requests.length >= 3",
            DEFAULT_WAIT,
        )
        .await;
    assert_eq!(server_requests(&chrome).await, 3);
    chrome
        .screenshot(&shot(&format!("form-server-error-{}.png", release.major())))
        .await;

    // Nothing typed was lost, and nothing was stored.
    assert_eq!(value(&chrome, "display_name").await, "Sales board");
    assert_eq!(value(&chrome, "description").await, "Quarterly numbers");
    assert_eq!(
        value(&chrome, "custom_command").await,
        "python -m http.server {port}"
    );
    assert_eq!(
        chrome
            .eval("document.querySelector('.env-row .env-value').value")
            .await,
        "kept"
    );
    assert!(hub.server("alice", "sales-board").await.is_none());

    // Fixed, it is created under the name it asked for: no refusal left a record.
    chrome.click("#thumb-remove").await;
    set_file(&chrome, &small).await;
    chrome.select("#framework", "panel").await;
    submit(&chrome).await;
    wait_path(&chrome, &format!("{PREFIX}apps/alice/sales-board")).await;
    assert!(hub.server("alice", "sales-board").await.is_some());

    // The phone width: nothing wider than the screen.
    chrome.emulate_phone(360, 740).await;
    open_form(&chrome, &hub, "create-app").await;
    let width = chrome.eval("document.documentElement.scrollWidth").await;
    assert!(width.as_u64().unwrap() <= 360, "scrolls sideways: {width}");
    chrome.click("#env-add").await;
    chrome
        .eval("document.getElementById('env-add').scrollIntoView({block: 'center'})")
        .await;
    chrome
        .screenshot(&shot(&format!("form-phone-{}.png", release.major())))
        .await;
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A repository with a Panel app and its `conda-project.yml` in `deploy/`.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("japps-form-repo-")
        .tempdir()
        .unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("app.py"),
        "import panel as pn\npn.panel('Hello from git').servable()\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("deploy")).unwrap();
    std::fs::write(root.join("deploy/logo.png"), png(300, 150)).unwrap();
    std::fs::write(
        root.join("deploy/conda-project.yml"),
        "name: demo\nenvironments:\n  default: [environment.yml]\nvariables:\n\
         \x20 JHUB_APP_CONFIG_display_name: Git board\n\
         \x20 JHUB_APP_CONFIG_description: From the repository\n\
         \x20 JHUB_APP_CONFIG_framework: panel\n\
         \x20 JHUB_APP_CONFIG_filepath: app.py\n\
         \x20 JHUB_APP_CONFIG_thumbnail_path: deploy/logo.png\n\
         \x20 API_URL: https://example.org/api\n",
    )
    .unwrap();
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    git(root, &["add", "--all"]);
    git(root, &["commit", "--quiet", "--message", "the app"]);
    dir
}

async fn form_deploys_from_git_then_edits_description_and_shares(release: HubRelease) {
    let hub = hub(
        release,
        &frameworks_python(),
        "c.JAppsConfig.allow_local_git_repositories = True\n",
    )
    .await;
    hub.create_users(&["alice", "bob", "carol"]).await;
    let repo = repository();
    let url = format!("file://{}", repo.path().display());
    let chrome = browser_as(&hub, "alice").await;
    open_form(&chrome, &hub, "create-app").await;

    // A failing fetch says why at the URL; then the real one fills the form.
    chrome.click("input[name=source][value=git]").await;
    chrome
        .type_into(
            "#git_url",
            &format!("file://{}/nope", repo.path().display()),
        )
        .await;
    chrome.click("#fetch-config").await;
    chrome
        .wait_until(
            "the fetch's refusal shows",
            "document.getElementById('git_url-error').textContent.length > 0",
            Duration::from_secs(60),
        )
        .await;
    chrome.type_into("#git_url", &url).await;
    chrome.type_into("#git_dir", "deploy").await;
    chrome.click("#fetch-config").await;
    chrome
        .wait_until(
            "the form is filled",
            "document.getElementById('display_name').value === 'Git board'",
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(value(&chrome, "description").await, "From the repository");
    assert_eq!(value(&chrome, "framework").await, "panel");
    assert_eq!(value(&chrome, "filepath").await, "app.py");
    assert_eq!(
        chrome
            .eval("[...document.querySelectorAll('.env-row')].map(r => r.querySelector('.env-key').value + '=' + r.querySelector('.env-value').value)")
            .await,
        json!(["API_URL=https://example.org/api"])
    );
    assert!(
        chrome
            .eval("document.getElementById('thumb-preview').src.startsWith('data:image/')")
            .await
            == json!(true)
    );
    chrome.click("input[name=share-user][value=bob]").await;
    chrome.click("#submit-app").await;
    wait_path(&chrome, &format!("{PREFIX}apps/alice/git-board")).await;
    let token = hub.user_token("alice").await;
    let app = api(&hub, &token, "server/git-board").await;
    assert_eq!(
        app["user_options"]["repository"],
        json!({"url": url, "ref": "main", "config_directory": "deploy"})
    );
    assert!(
        app["user_options"]["thumbnail"]
            .as_str()
            .unwrap()
            .starts_with("data:image/jpeg"),
        "the repository's (opaque) picture, re-encoded"
    );
    let picture = app["user_options"]["thumbnail"].clone();
    wait_ready(&hub, "alice", "git-board", Duration::from_secs(150)).await;
    let bob = browser_as(&hub, "bob").await;
    assert!(home_lists(&hub, &bob, "alice/git-board").await);

    // Edit: Save waits for a change; new description, shares move from bob to carol.
    let before = hub.service_hub_calls().await;
    open_form(&chrome, &hub, "edit-app?id=git-board").await;
    let calls = calls_between(&before, &hub.service_hub_calls().await);
    eprintln!("hub calls for one edit-app page load: {calls:?}");
    assert!(calls.values().sum::<u64>() <= 4, "{calls:?}");
    assert_eq!(value(&chrome, "display_name").await, "Git board");
    assert!(
        chrome
            .eval("document.getElementById('sharing-link').value")
            .await
            .as_str()
            .unwrap()
            .ends_with("/hub/user/alice/git-board/")
    );
    let disabled = async || {
        chrome
            .eval("document.getElementById('submit-app').disabled")
            .await
            == json!(true)
    };
    assert!(disabled().await, "nothing changed yet");
    chrome.type_into("#description", "Now with forecasts").await;
    assert!(!disabled().await);
    chrome
        .type_into("#description", "From the repository")
        .await;
    assert!(disabled().await, "back as it was");
    chrome.type_into("#description", "Now with forecasts").await;
    chrome.click("input[name=share-user][value=bob]").await;
    chrome.click("input[name=share-user][value=carol]").await;
    for mode in ["dark", "light"] {
        set_mode(&chrome, mode).await;
        chrome
            .assert_accessible(&format!("the edit form ({mode})"))
            .await;
        chrome
            .screenshot(&shot(&format!("form-edit-{mode}-{}.png", release.major())))
            .await;
    }
    chrome.click("#submit-app").await;
    wait_path(&chrome, PREFIX).await;
    chrome
        .wait_until(
            "the saved notice",
            "document.getElementById('notice').textContent.includes('saved')",
            DEFAULT_WAIT,
        )
        .await;
    let app = api(&hub, &token, "server/git-board").await;
    assert_eq!(app["user_options"]["description"], "Now with forecasts");
    assert_eq!(
        app["user_options"]["share_with"],
        json!({"users": ["carol"], "groups": []})
    );
    assert_eq!(
        app["user_options"]["repository"]["url"], url,
        "the repository stays"
    );
    assert_eq!(
        app["user_options"]["thumbnail"], picture,
        "the picture is sent back unchanged"
    );
    assert!(
        !home_lists(&hub, &bob, "alice/git-board").await,
        "bob lost it"
    );
    let carol = browser_as(&hub, "carol").await;
    assert!(home_lists(&hub, &carol, "alice/git-board").await);

    // A share the hub refuses: saved, and the answer's warning is shown on the next page.
    open_form(&chrome, &hub, "edit-app?id=git-board").await;
    chrome.type_into("#description", "Third version").await;
    chrome
        .eval(
            "(() => { const box = document.querySelector('input[name=share-user][value=bob]'); \
             box.value = 'ghost'; box.checked = true; \
             box.dispatchEvent(new Event('change', {bubbles: true})); })()",
        )
        .await;
    chrome.click("#submit-app").await;
    wait_path(&chrome, PREFIX).await;
    chrome
        .wait_until(
            "the warning is shown",
            "document.getElementById('notice').className === 'error' \
             && document.getElementById('notice').textContent.includes('ghost')",
            DEFAULT_WAIT,
        )
        .await;
    let app = api(&hub, &token, "server/git-board").await;
    assert_eq!(app["user_options"]["description"], "Third version");

    // What cannot be edited, and says why.
    for (query, says) in [
        ("edit-app", "No app found"),
        ("edit-app?id=nope", "No app found"),
        ("edit-app?id=lab", "default server"),
        ("edit-app?id=", "default server"),
    ] {
        chrome.goto(&hub.url(&format!("{PREFIX}{query}"))).await;
        chrome.wait_for("#unavailable", DEFAULT_WAIT).await;
        assert!(chrome.body_text().await.contains(says), "{query}");
    }
    // carol may not edit alice's app: it is not hers.
    carol
        .goto(&hub.url(&format!("{PREFIX}edit-app?id=git-board")))
        .await;
    carol.wait_for("#unavailable", DEFAULT_WAIT).await;
    assert!(
        carol
            .body_text()
            .await
            .contains("You can only edit your own apps")
    );
}

async fn form_server_types_step_and_headless_success(release: HubRelease) {
    let hub = hub(
        release,
        &idle_program(),
        "c.KubeSpawner.profile_list = [\n\
         \x20   {'display_name': 'Small', 'slug': 'small', 'description': '2 CPU'},\n\
         \x20   {'display_name': 'GPU', 'slug': 'gpu', 'description': 'One A100', 'default': True,\n\
         \x20    'kubespawner_override': {'image': 'img:1'}},\n\
         ]\n",
    )
    .await;
    hub.create_users(&["alice"]).await;
    let chrome = browser_as(&hub, "alice").await;
    open_form(&chrome, &hub, "create-app").await;
    assert_eq!(chrome.text("#submit-app").await, "Next");
    chrome.type_into("#display_name", "Typed board").await;
    chrome.type_into("#description", "kept across steps").await;
    chrome.click("#submit-app").await;
    chrome
        .wait_for("#step-profiles:not([hidden])", DEFAULT_WAIT)
        .await;
    assert_eq!(focused(&chrome).await, "profiles-title");
    assert_eq!(
        chrome
            .eval("document.querySelector('input[name=profile]:checked').value")
            .await,
        "gpu",
        "the default profile"
    );
    assert!(
        chrome.find("#profile_image").await.is_none(),
        "custom images are off by default"
    );
    assert_eq!(server_requests(&chrome).await, 0, "Next sends nothing");
    for mode in ["light", "dark"] {
        set_mode(&chrome, mode).await;
        chrome
            .assert_accessible(&format!("the server-types step ({mode})"))
            .await;
        chrome
            .screenshot(&shot(&format!(
                "form-profiles-{mode}-{}.png",
                release.major()
            )))
            .await;
    }
    set_mode(&chrome, "light").await;
    chrome.click("#back-step").await;
    chrome
        .wait_for("#step-app:not([hidden])", DEFAULT_WAIT)
        .await;
    assert_eq!(value(&chrome, "display_name").await, "Typed board");
    assert_eq!(value(&chrome, "description").await, "kept across steps");
    // A picture dropped on the drop zone (a real DataTransfer with a PNG made in the page).
    let dropped = chrome
        .eval(
            "(async () => { const canvas = document.createElement('canvas'); \
             canvas.width = 90; canvas.height = 52; \
             const blob = await new Promise(done => canvas.toBlob(done, 'image/png')); \
             const transfer = new DataTransfer(); \
             transfer.items.add(new File([blob], 'dropped.png', {type: 'image/png'})); \
             document.getElementById('thumb-drop').dispatchEvent(new DragEvent('drop', \
                 {dataTransfer: transfer, bubbles: true, cancelable: true})); \
             return document.getElementById('thumbnail').files[0].name; })()",
        )
        .await;
    assert_eq!(dropped, "dropped.png");
    assert_eq!(
        chrome
            .eval("document.getElementById('thumb-preview').hidden")
            .await,
        false
    );
    assert_eq!(error_of(&chrome, "thumbnail").await, "");
    chrome.click("#submit-app").await;
    chrome.click("input[name=profile][value=small]").await;
    chrome.click("#submit-final").await;
    wait_path(&chrome, &format!("{PREFIX}apps/alice/typed-board")).await;
    let token = hub.user_token("alice").await;
    let app = api(&hub, &token, "server/typed-board").await;
    assert_eq!(app["user_options"]["profile"], "small");
    assert!(app["user_options"].get("profile_image").is_none());
    assert!(
        app["user_options"]["thumbnail"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png"),
        "the dropped picture (transparent: PNG)"
    );

    // Headless (the JupyterLab extension's frame): no top bar, no git choice, the file
    // path from the query, and the success page at the end.
    chrome
        .goto(&hub.url(&format!(
            "{PREFIX}create-app?headless=true&filepath=%2Fhome%2Falice%2Fdash.py"
        )))
        .await;
    chrome.wait_for("#app-form", DEFAULT_WAIT).await;
    assert!(chrome.find("#topbar").await.is_none());
    assert!(chrome.find("input[name=source]").await.is_none());
    assert_eq!(value(&chrome, "filepath").await, "/home/alice/dash.py");
    chrome.type_into("#display_name", "Headless one").await;
    chrome.click("#submit-app").await;
    chrome.click("#submit-final").await;
    wait_path(&chrome, &format!("{PREFIX}success")).await;
    chrome.wait_for("#open-app", DEFAULT_WAIT).await;
    assert!(chrome.body_text().await.contains("App submitted"));
    assert!(chrome.find("#topbar").await.is_none(), "still headless");
    assert_eq!(
        chrome.attr("#open-app", "target").await.as_deref(),
        Some("_blank")
    );
    assert_eq!(
        chrome.attr("#open-app", "rel").await.as_deref(),
        Some("noopener")
    );
    let href = chrome.attr("#open-app", "href").await.unwrap();
    assert!(href.ends_with("/hub/user/alice/headless-one/"), "{href}");
    let app = api(&hub, &token, "server/headless-one").await;
    assert_eq!(app["user_options"]["filepath"], "/home/alice/dash.py");
}

/// `c.JAppsConfig.allow_public_apps = False`: the service's 403 shows at the public switch,
/// which gets the focus, and nothing is created.
async fn form_shows_the_operators_policy_at_the_field(release: HubRelease) {
    let hub = hub(
        release,
        &idle_program(),
        "c.JAppsConfig.allow_public_apps = False",
    )
    .await;
    hub.create_users(&["alice"]).await;
    let chrome = browser_as(&hub, "alice").await;
    open_form(&chrome, &hub, "create-app").await;
    chrome.type_into("#display_name", "Open board").await;
    chrome.select("#framework", "custom").await;
    chrome
        .type_into("#custom_command", "python -m http.server {port}")
        .await;
    chrome
        .eval("document.getElementById('public').click()")
        .await;
    submit(&chrome).await;
    let deadline = std::time::Instant::now() + DEFAULT_WAIT;
    let mut shown = String::new();
    while std::time::Instant::now() < deadline {
        shown = error_of(&chrome, "public").await;
        if !shown.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        shown.contains("public apps (reachable without logging in) are not allowed"),
        "{shown:?}"
    );
    assert!(invalid(&chrome, "public").await);
    assert_eq!(focused(&chrome).await, "public");
    assert_eq!(value(&chrome, "display_name").await, "Open board", "kept");
    let token = hub.user_token("alice").await;
    let apps = api(&hub, &token, "server/").await["user_apps"].to_string();
    assert!(!apps.contains("Open board"), "nothing created: {apps}");
}
