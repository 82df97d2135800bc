//! A real headless Chromium for the web UI tests: Debian's `chromium`, driven over WebDriver
//! through Debian's `chromedriver` (both installed by `scripts/setup-browser`).
//!
//! Each [`Chrome`] runs its own `chromedriver` on a free loopback port with a fresh profile
//! directory, so tests running at the same time share nothing. Dropping it kills the driver
//! and the browser it started (also when the test panics).
//!
//! The helpers panic with what was expected and where the page was, as the rest of the test
//! kit does: a test reads as a list of steps, not of error handling.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{TestHub, free_port, workspace_root};

pub use fantoccini;

/// Where Debian installs the browser and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long the helpers wait for an element or a condition unless told otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15);

/// The window size tests start with: a laptop screen.
pub const DESKTOP: (u32, u32) = (1280, 900);

/// One accessibility problem axe-core found on a page.
#[derive(Debug, Clone, Deserialize)]
pub struct Violation {
    /// The rule, e.g. `color-contrast`.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    #[serde(default)]
    pub impact: Option<String>,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub nodes: Vec<ViolationNode>,
}

/// An element a [`Violation`] was found on.
#[derive(Debug, Clone, Deserialize)]
pub struct ViolationNode {
    /// The element's markup, shortened by axe.
    #[serde(default)]
    pub html: String,
    /// CSS selectors leading to the element (nested for shadow DOM and frames).
    #[serde(default)]
    pub target: Value,
}

impl Violation {
    /// `serious` or `critical`: what the UI must never have.
    pub fn is_serious(&self) -> bool {
        matches!(self.impact.as_deref(), Some("serious" | "critical"))
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] {}: {}",
            self.impact.as_deref().unwrap_or("?"),
            self.id,
            self.help
        )?;
        for node in &self.nodes {
            write!(f, "\n    {} {}", node.target, node.html)?;
        }
        Ok(())
    }
}

/// A `chromedriver` process group: the driver and every browser process it starts.
#[derive(Debug)]
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts `chromedriver` on a free port and waits until it answers; a port taken by
    /// another process in between is retried on a new one.
    async fn start(log: &Path) -> Driver {
        use std::os::unix::process::CommandExt;

        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: run scripts/setup-browser (as root)"
            );
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        for _attempt in 0..3 {
            let port = free_port();
            let log_file = File::create(log).expect("create chromedriver.log");
            let child = crate::mark(&mut Command::new(CHROMEDRIVER))
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("log handle"))
                .stderr(log_file)
                // Its own process group, which the browser joins: one signal ends both.
                .process_group(0)
                .spawn()
                .expect("start chromedriver");
            let mut driver = Driver { child, port };
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if driver.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                if let Ok(response) = http.get(format!("{}/status", driver.url())).send().await
                    && let Ok(status) = response.json::<Value>().await
                    && status["value"]["ready"] == true
                {
                    return driver;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            eprintln!(
                "chromedriver did not come up on port {port}; trying another port\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        panic!("chromedriver did not start (log: {})", log.display());
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let pid = i32::try_from(self.child.id()).expect("pid fits i32");
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// A headless Chromium session of its own. See the module documentation.
#[derive(Debug)]
pub struct Chrome {
    client: Client,
    session: String,
    http: reqwest::Client,
    // Dropped in this order: the session handle, then the processes, then the profile.
    driver: Driver,
    dir: tempfile::TempDir,
}

impl Chrome {
    /// Starts `chromedriver` and a headless Chromium with a fresh profile, at [`DESKTOP`]
    /// size.
    pub async fn start() -> Chrome {
        let dir = tempfile::Builder::new()
            .prefix("japps-chrome-")
            .tempdir()
            .expect("temporary directory");
        let driver = Driver::start(&dir.path().join("chromedriver.log")).await;
        let profile = dir.path().join("profile");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    // Containers and CI run as root, where Chromium's sandbox cannot start.
                    "--no-sandbox",
                    // /dev/shm is tiny in containers; shared memory there crashes tabs.
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                    format!("--user-data-dir={}", profile.display()),
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-extensions",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--password-store=basic",
                    "--lang=en-US",
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
            // An alert left open fails the next command instead of being dismissed
            // silently: an unexpected dialog is a bug the tests should see.
            "unhandledPromptBehavior": "ignore",
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url())
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "no Chromium session: {err}\n{}",
                    std::fs::read_to_string(dir.path().join("chromedriver.log"))
                        .unwrap_or_default()
                )
            });
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Chrome {
            client,
            session,
            http,
            driver,
            dir,
        }
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Navigates and waits for the page's `load` event.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|err| panic!("goto {url}: {err}"));
    }

    /// The current page's address.
    pub async fn current_url(&self) -> url::Url {
        self.client.current_url().await.expect("current URL")
    }

    /// Reloads the page and waits for it to load.
    pub async fn reload(&self) {
        self.client.refresh().await.expect("reload");
    }

    /// Resizes the window, e.g. to `(360, 740)` for a phone.
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("set window size");
    }

    /// Makes the page a phone's: a `width` × `height` CSS-pixel viewport, touch, overlay
    /// scrollbars and the page's `<meta name="viewport">` honoured, as on a real phone (a
    /// narrow desktop window keeps a desktop scrollbar that eats into the width).
    pub async fn emulate_phone(&self, width: u32, height: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 2, "mobile": true}),
        )
        .await;
        self.cdp(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": true}),
        )
        .await;
    }

    /// Runs a script (a function body: use `return`, `arguments[i]` for `args`).
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        match self.client.execute(script, args).await {
            Ok(value) => value,
            Err(err) => panic!("script failed: {err}\n{script}"),
        }
    }

    /// The value of a JavaScript expression.
    pub async fn eval(&self, expression: &str) -> Value {
        self.execute(&format!("return ({expression});"), Vec::new())
            .await
    }

    /// The first element matching `css`, if there is one now.
    pub async fn find(&self, css: &str) -> Option<Element> {
        self.client.find(Locator::Css(css)).await.ok()
    }

    /// Every element matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    /// Waits until an element matches `css`, and returns it.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(element) = self.find(css).await {
                return element;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no element matches {css} after {timeout:?} on {}\n{}",
                    self.current_url().await,
                    self.body_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a JavaScript expression is truthy; `what` says what was awaited when it
    /// never is.
    pub async fn wait_until(&self, what: &str, expression: &str, timeout: Duration) {
        let script = format!("return !!({expression});");
        let deadline = Instant::now() + timeout;
        loop {
            // The page may be between two documents (a navigation): that is "not yet".
            if let Ok(Value::Bool(true)) = self.client.execute(&script, Vec::new()).await {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting until {what} ({expression}) on {}\n{}",
                    self.current_url().await,
                    self.body_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Chooses the option `value` of the `<select>` matching `css`, as a person would
    /// (a `change` event follows).
    pub async fn select(&self, css: &str, value: &str) {
        self.wait_for(css, DEFAULT_WAIT)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|err| panic!("select {value} in {css}: {err}"));
    }

    /// Clicks the element matching `css` (waiting for it first).
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css, DEFAULT_WAIT).await;
        element
            .click()
            .await
            .unwrap_or_else(|err| panic!("click {css}: {err}"));
    }

    /// Replaces the value of the input matching `css` by typing `text` into it, as a person
    /// would (key events, so `input` listeners run).
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.wait_for(css, DEFAULT_WAIT).await;
        element
            .clear()
            .await
            .unwrap_or_else(|err| panic!("clear {css}: {err}"));
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    /// The rendered text of the element matching `css` (waiting for it first).
    pub async fn text(&self, css: &str) -> String {
        let element = self.wait_for(css, DEFAULT_WAIT).await;
        element
            .text()
            .await
            .unwrap_or_else(|err| panic!("text of {css}: {err}"))
    }

    /// An attribute of the element matching `css` (waiting for the element first).
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let element = self.wait_for(css, DEFAULT_WAIT).await;
        element
            .attr(name)
            .await
            .unwrap_or_else(|err| panic!("attribute {name} of {css}: {err}"))
    }

    /// The page's visible text (for failure messages).
    pub async fn body_text(&self) -> String {
        match self
            .client
            .execute(
                "return document.body ? document.body.innerText : '';",
                Vec::new(),
            )
            .await
        {
            Ok(Value::String(text)) => text.chars().take(2000).collect(),
            _ => String::new(),
        }
    }

    /// Logs into the hub through its own login form (the DummyAuthenticator takes any
    /// password) and waits until the browser has left the login page.
    pub async fn login_to_hub(&self, hub: &TestHub, user: &str) {
        self.goto(&hub.url("hub/login")).await;
        self.type_into("input[name=username]", user).await;
        self.type_into("input[name=password]", "any password").await;
        self.click("form [type=submit]").await;
        self.wait_until(
            &format!("the hub logged {user} in"),
            "!location.pathname.endsWith('/hub/login') && document.readyState === 'complete'",
            Duration::from_secs(30),
        )
        .await;
    }

    /// A browser with `init_script` in every page, `user` logged in to the hub and to
    /// japps (its home page's app library shown), so japps' pages open at once.
    pub async fn home_as(hub: &crate::TestHub, user: &str, init_script: &str) -> Chrome {
        let chrome = Chrome::start().await;
        chrome.add_init_script(init_script).await;
        chrome.login_to_hub(hub, user).await;
        chrome.goto(&hub.service_url("")).await;
        chrome.wait_for("#app-library", DEFAULT_WAIT).await;
        chrome
    }

    /// Fails the test when axe-core finds a serious or critical violation on the page.
    pub async fn assert_accessible(&self, what: &str) {
        let serious: Vec<String> = self
            .axe()
            .await
            .iter()
            .filter(|violation| violation.is_serious())
            .map(ToString::to_string)
            .collect();
        assert!(
            serious.is_empty(),
            "{what}: serious accessibility violations:\n{}",
            serious.join("\n")
        );
    }

    /// Runs axe-core (from `scripts/setup-browser`) on the current page and returns every
    /// rule it found violated.
    pub async fn axe(&self) -> Vec<Violation> {
        let source = std::fs::read_to_string(axe_path()).unwrap_or_else(|err| {
            panic!("{}: {err}: run scripts/setup-browser", axe_path().display())
        });
        self.execute(&source, Vec::new()).await;
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                    .then(r => done(JSON.stringify(r.violations)),
                          e => done(JSON.stringify({error: String(e)})));",
                Vec::new(),
            )
            .await
            .unwrap_or_else(|err| panic!("axe.run: {err}"));
        let text = result.as_str().expect("axe returns JSON text");
        serde_json::from_str(text).unwrap_or_else(|err| panic!("axe results ({err}): {text}"))
    }

    /// Adds a script that runs in every document loaded from now on, before the page's own
    /// scripts (e.g. hooks that record `alert` calls or requests).
    pub async fn add_init_script(&self, source: &str) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": source}),
        )
        .await;
    }

    /// A Chrome DevTools command through the driver.
    pub async fn cdp(&self, command: &str, params: Value) -> Value {
        self.driver_post(
            "goog/cdp/execute",
            json!({"cmd": command, "params": params}),
        )
        .await
        .unwrap_or_else(|err| panic!("CDP {command}: {err}"))
    }

    /// What the pages logged as errors to the browser console (uncaught exceptions,
    /// failed loads, `console.error`) since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let Ok(Value::Array(entries)) =
            self.driver_post("se/log", json!({"type": "browser"})).await
        else {
            return Vec::new();
        };
        entries
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .filter_map(|entry| entry["message"].as_str().map(str::to_owned))
            .collect()
    }

    /// The text of an open `alert`/`confirm`/`prompt`, if one is open.
    pub async fn open_dialog(&self) -> Option<String> {
        self.client.get_alert_text().await.ok()
    }

    /// Saves a PNG of the window's viewport.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot directory");
        }
        std::fs::write(path, png).unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
    }

    /// The directory of this browser's profile and driver log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    async fn driver_post(&self, command: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}/session/{}/{command}", self.driver.url(), self.session);
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|err| err.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|err| err.to_string())?;
        if status.is_success() {
            Ok(body["value"].clone())
        } else {
            Err(format!("{status}: {body}"))
        }
    }
}

/// axe-core as `scripts/setup-browser` installs it.
pub fn axe_path() -> PathBuf {
    workspace_root().join(".cache/axe/node_modules/axe-core/axe.min.js")
}
