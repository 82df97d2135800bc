//! A real JupyterHub for integration tests.
//!
//! [`TestHub::start`] boots JupyterHub from the project-local virtualenv that
//! `scripts/setup-python` creates, with a generated `jupyterhub_config.py` that installs the
//! real japps plugin, runs the real `japps` binary as the managed service, uses the
//! DummyAuthenticator, sqlite and the pure-Python configurable-http-proxy, all on free
//! loopback ports in a temporary directory. Dropping the [`TestHub`] stops the hub, its proxy
//! and its services, also when the test panics; if the test process itself is killed, the
//! hub notices its parent is gone and shuts itself down.
//!
//! Every test that needs a hub should run against both supported releases; see
//! [`real_hub_tests!`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod browser;
mod chrome;
mod config;
mod front;
mod hub_metrics;
mod process;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use japps_hub::{HubClient, HubClientConfig, ServiceToken};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use url::Url;

pub use browser::{
    Browser, Cookie, HUB_LOGIN_COOKIE, SameSite, Visit, is_removal, parse_set_cookie,
    response_set_cookies,
};
pub use chrome::{Chrome, DEFAULT_WAIT, DESKTOP, Violation, ViolationNode, axe_path, fantoccini};
pub use config::{HubOptions, JhubAppsOptions};
pub use front::RoundRobin;
use process::HubProcess;

/// The JupyterHub releases japps supports, as pinned in `scripts/versions.sh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubRelease {
    V5_5,
    V6_1,
}

impl HubRelease {
    pub const ALL: [HubRelease; 2] = [HubRelease::V5_5, HubRelease::V6_1];

    /// The exact version installed from PyPI.
    pub fn pip_version(self) -> &'static str {
        match self {
            HubRelease::V5_5 => "5.5.4",
            HubRelease::V6_1 => "6.1.1",
        }
    }

    pub fn major(self) -> u64 {
        match self {
            HubRelease::V5_5 => 5,
            HubRelease::V6_1 => 6,
        }
    }

    /// The virtualenv holding this release, the proxy and the japps plugin.
    pub fn venv(self) -> PathBuf {
        venv_root().join(format!("hub-{}", self.pip_version()))
    }
}

/// Where `scripts/setup-python` and `scripts/setup-jhub-apps` put their virtualenvs:
/// `$JAPPS_VENV_ROOT`, or `.cache/venvs` in the checkout.
pub(crate) fn venv_root() -> PathBuf {
    std::env::var_os("JAPPS_VENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".cache/venvs"))
}

/// The jhub-apps release (PyPI `jhub-apps`) that [`TestHub::start_jhub_apps`] runs, as
/// installed by `scripts/setup-jhub-apps`.
pub const JHUB_APPS_VERSION: &str = "2026.9.1";

/// The port jhub-apps' service always listens on (on all interfaces).
pub const JHUB_APPS_PORT: u16 = 10202;

/// The name of jhub-apps' login cookie: an HS256 JWT around the user's hub token.
pub const JHUB_APPS_COOKIE: &str = "jhub_apps_access_token";

/// The repository checkout this crate was built from.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/japps-testkit sits two levels below the workspace root")
        .to_path_buf()
}

/// The environment variable every process the tests start carries (hubs, and through
/// `env_keep` their services, proxies and servers; browsers; nginx; launchers), so that
/// `scripts/check-leaks` finds any still running after the suite, and only this
/// checkout's.
pub const TEST_MARKER_ENV: &str = "JAPPS_TEST_SUITE";

/// The marker's value: `JAPPS_TEST_SUITE` as `scripts/test` exports it, else the checkout.
pub fn test_marker() -> String {
    std::env::var(TEST_MARKER_ENV).unwrap_or_else(|_| workspace_root().display().to_string())
}

/// Marks `command` (and so everything it starts) as the test suite's.
pub fn mark(command: &mut std::process::Command) -> &mut std::process::Command {
    command.env(TEST_MARKER_ENV, test_marker())
}

/// A running JupyterHub with japps installed. Stopped when dropped.
#[derive(Debug)]
pub struct TestHub {
    release: HubRelease,
    public_url: Url,
    api_url: Url,
    service_port: u16,
    admin_token: String,
    japps_token: String,
    /// Set for a hub running the original jhub-apps: its `JHUB_APP_JWT_SECRET_KEY`.
    jwt_secret: Option<String>,
    /// Process groups of managed services to kill after the hub stopped (jhub-apps' startup
    /// service leaves `tail -f /dev/null` behind otherwise).
    service_groups: Vec<i32>,
    /// The hub process's extra environment, and whether japps is an external service (no
    /// japps behind the proxy until the test starts one): what [`TestHub::restart`] needs.
    env: Vec<(String, String)>,
    external_service: bool,
    process: HubProcess,
    // Dropped after `process` (field order), so the hub can still write its log while it stops.
    dir: tempfile::TempDir,
}

impl TestHub {
    /// Boots a hub and waits until the hub API and the japps service answer through the
    /// hub's proxy. Panics, with the hub's log, when that does not happen within a minute.
    pub async fn start(release: HubRelease, options: HubOptions) -> TestHub {
        let venv = release.venv();
        assert!(
            venv.join("bin/jupyterhub").exists(),
            "no JupyterHub {} virtualenv at {}: run scripts/setup-python",
            release.pip_version(),
            venv.display()
        );
        // Free ports are chosen before the hub binds them; under parallel tests another
        // process can take one in between. Such a start is retried on new ports.
        for attempt in 1..=3 {
            let dir = tempfile::Builder::new()
                .prefix("japps-hub-")
                .tempdir()
                .expect("temporary directory");
            let ports = Ports::free();
            let admin_token = random_token();
            let japps_token = random_token();
            let config_path = dir.path().join("jupyterhub_config.py");
            let inputs = config::ConfigInputs {
                dir: dir.path(),
                venv: &venv,
                ports: &ports,
                admin_token: &admin_token,
                japps_token: &japps_token,
                options: &options,
            };
            let mut env = options.env.clone();
            let text = match &options.demo_config {
                Some(demo) => {
                    env.extend(config::demo_port_env(&ports));
                    config::render_demo(demo, &inputs)
                }
                None => config::render(&inputs),
            };
            std::fs::write(&config_path, text).expect("write jupyterhub_config.py");

            let process = HubProcess::spawn(&venv, dir.path(), &config_path, &env);
            // With subdomains the hub's cookies are for `localhost` and its pages redirect
            // there: tests reach it by that name.
            let host = if options.subdomains {
                "localhost"
            } else {
                "127.0.0.1"
            };
            let public_url = Url::parse(&format!("http://{host}:{}/", ports.public)).unwrap();
            let api_url = public_url.join("hub/api").unwrap();
            let hub = TestHub {
                release,
                public_url,
                api_url,
                service_port: ports.service,
                admin_token,
                japps_token,
                jwt_secret: None,
                service_groups: Vec::new(),
                env: env.clone(),
                external_service: options.external_service,
                process,
                dir,
            };
            let wait_for_service = !options.external_service;
            match hub
                .try_wait_until_up(Duration::from_secs(60), wait_for_service)
                .await
            {
                Ok(()) => return hub,
                Err(_) if attempt < 3 && hub.lost_a_port() => {
                    eprintln!("JupyterHub lost a port race; starting again on new ports");
                }
                Err(problem) => panic!("{problem}\n--- hub log ---\n{}", hub.logs()),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Boots a hub running the original jhub-apps (PyPI `jhub-apps`, from the virtualenv
    /// `scripts/setup-jhub-apps` creates) instead of japps, installed the way its
    /// documentation says: `install_jhub_apps`, `c.JupyterHub.bind_url`,
    /// `JHUB_APP_JWT_SECRET_KEY` in the environment. Its service is also named `japps`, so
    /// [`Self::service_url`] and [`Self::japps_client`] address it; it listens on the fixed
    /// port [`JHUB_APPS_PORT`], so only one such hub can run at a time. The hub's JupyterHub
    /// version is whatever that virtualenv holds (5.5.4). Apps never really run: the spawner
    /// starts the hub's mock single-user server instead of jhub-apps' app command (which
    /// downloads jhub-app-proxy), enough for [`Self::create_stopped_app`].
    /// Authenticate as a user with the cookie [`Self::jhub_apps_access_token`] makes.
    pub async fn start_jhub_apps(options: JhubAppsOptions) -> TestHub {
        let venv = &options.venv;
        assert!(
            venv.join("bin/jupyterhub").exists() && venv.join(".recipe").exists(),
            "no jhub-apps {JHUB_APPS_VERSION} virtualenv at {}: run scripts/setup-jhub-apps",
            venv.display()
        );
        // JupyterHub gives a managed service 10 seconds to answer. Importing jhub-apps takes
        // seconds of CPU in each of its workers, which a busy 2-core machine may not fit in;
        // the hub then exits. Such a start is tried again, up to 3 times in all.
        for attempt in 1..=3 {
            if let Err(err) = TcpListener::bind(("0.0.0.0", JHUB_APPS_PORT)) {
                panic!(
                    "port {JHUB_APPS_PORT}, where jhub-apps' service always listens, is taken \
                     ({err}): stop whatever uses it (another jhub-apps hub?)"
                );
            }
            let mut hub = Self::spawn_jhub_apps(&options);
            // The hub starts its services in sessions of their own, which its process group
            // does not reach; note them while it boots so dropping the hub ends them, also
            // when the hub gives up on them.
            let deadline = Instant::now() + Duration::from_secs(90);
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .unwrap();
            while hub.process.exit_status().is_none() && Instant::now() < deadline {
                for group in process::session_children(hub.process.pid()) {
                    if !hub.service_groups.contains(&group) {
                        hub.service_groups.push(group);
                    }
                }
                if let Ok(response) = client.get(hub.service_url("status")).send().await
                    && response.status().is_success()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if attempt < 3
                && hub.process.exit_status().is_some()
                && hub.logs().contains("Cannot connect to japps service")
            {
                eprintln!("jhub-apps' service did not answer in time; starting its hub again");
                drop(hub);
                continue;
            }
            hub.wait_until_up(Duration::from_secs(30)).await;
            let version = hub.hub_version().await;
            hub.release = HubRelease::ALL
                .into_iter()
                .find(|release| {
                    let (major_minor, _) = release.pip_version().rsplit_once('.').unwrap();
                    version.starts_with(&format!("{major_minor}."))
                })
                .unwrap_or_else(|| panic!("jhub-apps virtualenv runs JupyterHub {version}"));
            return hub;
        }
        unreachable!("the last attempt returns or panics")
    }

    /// Writes the configuration of a jhub-apps hub and starts JupyterHub with it.
    fn spawn_jhub_apps(options: &JhubAppsOptions) -> TestHub {
        let dir = tempfile::Builder::new()
            .prefix("jhub-apps-hub-")
            .tempdir()
            .expect("temporary directory");
        let mut ports = Ports::free();
        ports.service = JHUB_APPS_PORT;
        let admin_token = random_token();
        let service_token = random_token();
        let config_path = dir.path().join("jupyterhub_config.py");
        std::fs::write(
            &config_path,
            config::render_jhub_apps(&config::JhubAppsInputs {
                dir: dir.path(),
                ports: &ports,
                admin_token: &admin_token,
                service_token: &service_token,
                options,
            }),
        )
        .expect("write jupyterhub_config.py");
        let mut env = options.env.clone();
        env.push((
            "JHUB_APP_JWT_SECRET_KEY".to_owned(),
            options.jwt_secret.clone(),
        ));
        let process = HubProcess::spawn(&options.venv, dir.path(), &config_path, &env);
        let public_url = Url::parse(&format!("http://127.0.0.1:{}/", ports.public)).unwrap();
        let api_url = public_url.join("hub/api").unwrap();
        TestHub {
            // Set from the version the hub reports once it is up.
            release: HubRelease::V5_5,
            public_url,
            api_url,
            service_port: ports.service,
            admin_token,
            japps_token: service_token,
            jwt_secret: Some(options.jwt_secret.clone()),
            service_groups: Vec::new(),
            env: env.clone(),
            external_service: false,
            process,
            dir,
        }
    }

    /// The JupyterHub version the running hub reports.
    pub async fn hub_version(&self) -> String {
        let root = self.admin_get("hub/api/").await;
        root["version"].as_str().unwrap_or_default().to_owned()
    }

    async fn admin_get(&self, path: &str) -> serde_json::Value {
        let response = reqwest::Client::new()
            .get(self.url(path))
            .header("Authorization", format!("token {}", self.admin_token))
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "GET {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("GET {path}: {err}: {text}"))
    }

    /// Whether this hub runs the original jhub-apps ([`Self::start_jhub_apps`]).
    pub fn is_jhub_apps(&self) -> bool {
        self.jwt_secret.is_some()
    }

    /// The `jhub_apps_access_token` cookie value jhub-apps' OAuth callback would set for a
    /// user whose hub token is `hub_token`: an HS256 JWT signed with the hub's
    /// `JHUB_APP_JWT_SECRET_KEY`, valid for an hour. Only for a [`Self::start_jhub_apps`] hub.
    pub fn jhub_apps_access_token(&self, hub_token: &str) -> String {
        let secret = self
            .jwt_secret
            .as_deref()
            .expect("jhub_apps_access_token needs a hub started with start_jhub_apps");
        let exp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let claims = serde_json::json!({
            "access_token_data": {"access_token": hub_token, "token_type": "Bearer"},
            "exp": exp,
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("sign the jhub-apps cookie")
    }

    async fn wait_until_up(&self, limit: Duration) {
        if let Err(problem) = self.try_wait_until_up(limit, true).await {
            panic!("{problem}\n--- hub log ---\n{}", self.logs());
        }
    }

    /// Waits for the hub API and, with `service`, for the japps service through the proxy;
    /// says why not when they do not come up.
    async fn try_wait_until_up(&self, limit: Duration, service: bool) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let deadline = Instant::now() + limit;
        let mut urls = vec![self.url("hub/api/")];
        if service {
            urls.push(self.service_url("status"));
        }
        for url in urls {
            loop {
                if let Some(status) = self.process.exit_status() {
                    return Err(format!("JupyterHub exited during startup ({status})."));
                }
                if let Ok(response) = client.get(&url).send().await
                    && response.status().is_success()
                {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!("{url} did not answer within {limit:?}."));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// Whether a failed start lost a race for one of its free ports (another test's
    /// process took it between choosing and binding): worth trying again on new ports.
    fn lost_a_port(&self) -> bool {
        let logs = self.logs();
        logs.contains("Address already in use") || logs.contains("Failed to bind")
    }

    pub fn release(&self) -> HubRelease {
        self.release
    }

    /// The hub's public (proxy) address, `http://127.0.0.1:<port>/`.
    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    /// The origin browsers see the hub (and japps) at: `http://127.0.0.1:<port>`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// A URL on the hub's public (proxy) address, e.g. `url("hub/login")`.
    pub fn url(&self, path: &str) -> String {
        self.public_url.join(path).unwrap().to_string()
    }

    /// A URL below the japps service prefix, through the hub's proxy.
    pub fn service_url(&self, path: &str) -> String {
        self.url(&format!("services/japps/{path}"))
    }

    /// The japps service's own address, bypassing the proxy.
    pub fn service_direct_url(&self) -> String {
        format!("http://127.0.0.1:{}/services/japps/", self.service_port)
    }

    /// Stops the hub (and its proxy and managed services) the way an operator would; its
    /// database stays, so [`TestHub::restart`] brings it back with everything it held.
    pub fn stop(&self) {
        self.process.stop(self.dir.path());
    }

    /// Stops the hub if it runs, starts it again with the same configuration, database and
    /// ports, and waits until it answers (and its japps service, unless external).
    pub async fn restart(&mut self) {
        self.stop();
        self.process = HubProcess::spawn(
            &self.release.venv(),
            self.dir.path(),
            &self.config_path(),
            &self.env,
        );
        if let Err(problem) = self
            .try_wait_until_up(Duration::from_secs(60), !self.external_service)
            .await
        {
            panic!("{problem}\n--- hub log ---\n{}", self.logs());
        }
    }

    /// Freezes the hub process (SIGSTOP): connections are accepted by the kernel and never
    /// answered, as with a hub stuck in a long database call. [`TestHub::resume`] thaws it.
    pub fn pause(&self) {
        let pid = Pid::from_raw(i32::try_from(self.process.pid()).expect("pid fits i32"));
        nix::sys::signal::kill(pid, Signal::SIGSTOP).expect("SIGSTOP the hub");
    }

    pub fn resume(&self) {
        let pid = Pid::from_raw(i32::try_from(self.process.pid()).expect("pid fits i32"));
        nix::sys::signal::kill(pid, Signal::SIGCONT).expect("SIGCONT the hub");
    }

    /// The port the hub reaches the japps service on.
    pub fn service_port(&self) -> u16 {
        self.service_port
    }

    /// The hub's REST API, through the proxy.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// A hub client holding an admin-like test service token (users, groups, servers,
    /// shares, tokens), for setting up fixtures.
    pub fn admin_client(&self) -> HubClient {
        self.client_with(&self.admin_token)
    }

    /// A hub client holding the japps service's own token, so with exactly the
    /// permissions the plugin gives the service.
    pub fn japps_client(&self) -> HubClient {
        self.client_with(&self.japps_token)
    }

    fn client_with(&self, token: &str) -> HubClient {
        HubClient::new(HubClientConfig::new(
            self.api_url.clone(),
            ServiceToken::new(token.to_owned()),
        ))
        .expect("hub client")
    }

    /// The test-admin service's token (admin on users, groups, servers and tokens; reads
    /// metrics; may use the japps service).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The japps service token (so a test can check it never leaks).
    pub fn japps_token(&self) -> &str {
        &self.japps_token
    }

    /// Creates users in one bulk call. Hundreds of users take the hub a while on a busy
    /// machine: fixtures get more time than the service's own hub calls.
    pub async fn create_users(&self, names: &[&str]) {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut config = HubClientConfig::new(
            self.api_url.clone(),
            ServiceToken::new(self.admin_token.clone()),
        );
        config.timeout = std::time::Duration::from_secs(180);
        HubClient::new(config)
            .expect("hub client")
            .as_service()
            .create_users(&names)
            .await
            .expect("create users");
    }

    /// Creates a group with the given members.
    pub async fn create_group(&self, name: &str, members: &[&str]) {
        let members: Vec<String> = members.iter().map(|name| (*name).to_owned()).collect();
        self.admin_client()
            .as_service()
            .create_group(name, &members)
            .await
            .expect("create group");
    }

    /// Issues an API token for a user, holding all of the user's permissions. Tests use it
    /// to act as that user; japps itself never mints tokens.
    pub async fn user_token(&self, user: &str) -> String {
        self.issue_token(user, None).await.token
    }

    /// Issues an API token for a user limited to `scopes` (each must be held by the user).
    pub async fn user_token_with_scopes(&self, user: &str, scopes: &[&str]) -> String {
        self.issue_token(user, Some(scopes)).await.token
    }

    /// Issues an API token for a user (all of the user's permissions when `scopes` is
    /// `None`), valid for an hour, and returns it with its id (for [`Self::revoke_token`]).
    pub async fn issue_token(&self, user: &str, scopes: Option<&[&str]>) -> IssuedToken {
        let mut request = serde_json::json!({"note": "japps test", "expires_in": 3600});
        if let Some(scopes) = scopes {
            request["scopes"] = serde_json::json!(scopes);
        }
        let response = reqwest::Client::new()
            .post(format!("{}/users/{user}/tokens", self.api_url))
            .header("Authorization", format!("token {}", self.admin_token))
            .json(&request)
            .send()
            .await
            .expect("token request");
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 201, "minting a test token for {user}: {body}");
        IssuedToken {
            id: body["id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Revokes one of a user's tokens at the hub.
    pub async fn revoke_token(&self, user: &str, id: &str) {
        let response = reqwest::Client::new()
            .delete(format!("{}/users/{user}/tokens/{id}", self.api_url))
            .header("Authorization", format!("token {}", self.admin_token))
            .send()
            .await
            .expect("token revocation");
        assert_eq!(response.status(), 204, "revoking token {id} of {user}");
    }

    /// The hub calls the japps service has made so far, by call (`"GET /user"` → count),
    /// read from its metrics page with the admin token. That token's identity is cached
    /// after the first read, so reading twice shows exactly the calls made in between.
    pub async fn service_hub_calls(&self) -> BTreeMap<String, u64> {
        self.service_hub_calls_with(&self.admin_token).await
    }

    /// [`Self::service_hub_calls`], reading the metrics page with another token that has
    /// the `read:metrics` scope. A token read for the first time costs the service one
    /// `GET /user`, counted in that same read.
    pub async fn service_hub_calls_with(&self, token: &str) -> BTreeMap<String, u64> {
        let response = reqwest::Client::new()
            .get(self.service_url("metrics"))
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .expect("GET metrics");
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "GET /services/japps/metrics: {text}");
        let calls: BTreeMap<String, u64> = text
            .lines()
            .filter_map(|line| line.strip_prefix("japps_hub_calls_total{call=\""))
            .filter_map(|rest| rest.split_once("\"} "))
            .map(|(call, count)| (call.to_owned(), count.trim().parse().unwrap()))
            .collect();
        assert!(
            calls.contains_key("GET /user"),
            "no japps_hub_calls_total lines in:\n{text}"
        );
        calls
    }

    /// Creates a named server for `user` with these options, as the app lifecycle would
    /// (start, then stop, keeping the record), using the admin token. Returns when stopped.
    pub async fn create_stopped_app(
        &self,
        user: &str,
        server: &str,
        title: &str,
        options: serde_json::Value,
    ) {
        let client = self.admin_client();
        let caller = client.as_service();
        let start = japps_hub::StartServer {
            display_name: Some(title.to_owned()),
            user_options: options.as_object().cloned(),
        };
        caller
            .start_server(user, server, &start)
            .await
            .unwrap_or_else(|err| panic!("start {user}/{server}: {err}"));
        self.wait_for_server(user, server, |s| s.ready).await;
        caller
            .stop_server(user, server, false)
            .await
            .unwrap_or_else(|err| panic!("stop {user}/{server}: {err}"));
        self.wait_for_server(user, server, |s| s.stopped).await;
    }

    /// Creates (and so starts) an app through the japps API with `token` (its owner's);
    /// returns its server name. Fails the test on an error or a warning.
    pub async fn create_app(&self, token: &str, name: &str, options: serde_json::Value) -> String {
        let data = serde_json::json!({"servername": name, "user_options": options}).to_string();
        let response = reqwest::Client::new()
            .post(self.service_url("server"))
            .header("Authorization", format!("token {token}"))
            .multipart(reqwest::multipart::Form::new().text("data", data))
            .send()
            .await
            .unwrap_or_else(|err| panic!("create {name}: {err}"));
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(status, 200, "create {name}: {body}");
        assert!(body.get(2).is_none(), "create {name} had warnings: {body}");
        body[1].as_str().unwrap_or_default().to_owned()
    }

    /// `user`'s server `name` as the hub reports it now (read with the admin token).
    pub async fn server(&self, user: &str, name: &str) -> Option<japps_hub::Server> {
        self.admin_client()
            .as_service()
            .user(user, true)
            .await
            .expect("read user")
            .servers
            .remove(name)
    }

    async fn wait_for_server(
        &self,
        user: &str,
        server: &str,
        done: impl Fn(&japps_hub::Server) -> bool,
    ) {
        // A spawn takes well under a second on an idle machine, but a test run keeps both
        // cores busy with other hubs and browsers.
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.server(user, server).await.is_some_and(|s| done(&s)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{user}/{server} did not reach the expected state");
    }

    /// Shares `owner`'s server with a user or a group, using the admin token.
    pub async fn share(&self, owner: &str, server: &str, target: japps_hub::ShareTarget) {
        self.admin_client()
            .as_service()
            .share(owner, server, &target)
            .await
            .unwrap_or_else(|err| panic!("share {owner}/{server}: {err}"));
    }

    /// The hub API requests the hub has answered so far, by call (`"GET /users/{name}"` →
    /// count), as the hub itself counts them: `jupyterhub_request_duration_seconds_count`
    /// on its Prometheus page `/hub/metrics`, read with the admin token (`read:metrics`).
    /// Only the REST API's handlers (`jupyterhub.apihandlers.*`) are counted, so neither the
    /// metrics page itself nor hub pages; answers other than 2xx/3xx are counted under the
    /// call with the status appended (`"GET /users/{name} 404"`). Every call goes through
    /// the hub, whichever service makes it, so this counts japps and jhub-apps alike.
    pub async fn hub_api_calls(&self) -> BTreeMap<String, u64> {
        let response = reqwest::Client::new()
            .get(self.url("hub/metrics"))
            .header("Authorization", format!("token {}", self.admin_token))
            .send()
            .await
            .expect("GET /hub/metrics");
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "GET /hub/metrics: {text}");
        let calls = hub_metrics::api_calls(&text);
        assert!(
            text.contains(hub_metrics::REQUESTS),
            "no {} lines in /hub/metrics",
            hub_metrics::REQUESTS
        );
        calls
    }

    /// Everything the hub, its proxy and its services (japps included) have logged so far.
    /// The hub's `jupyterhub_config.py`.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("jupyterhub_config.py")
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hub.log")).unwrap_or_default()
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        // Found before the hub stops: afterwards its servers (launchers, the mock server)
        // and services belong to init and can no longer be told from anyone's.
        let sessions = process::session_children(self.process.pid());
        self.process.stop(self.dir.path());
        for group in sessions {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
        // The hub stopped its services' main processes; their children may remain.
        for group in &self.service_groups {
            let _ = killpg(Pid::from_raw(*group), Signal::SIGKILL);
        }
        if std::thread::panicking() {
            let logs = self.logs();
            let tail: Vec<&str> = logs.lines().rev().take(60).collect();
            eprintln!(
                "--- last lines of the JupyterHub {} log ---",
                self.release.pip_version()
            );
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// A hub API token issued by [`TestHub::issue_token`].
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token's id in the hub (`DELETE /users/{name}/tokens/{id}`).
    pub id: String,
    pub token: String,
}

/// Free loopback ports for the hub's public proxy, the hub itself, the proxy's API and the
/// japps service.
#[derive(Debug)]
struct Ports {
    public: u16,
    hub: u16,
    proxy_api: u16,
    service: u16,
}

impl Ports {
    fn free() -> Ports {
        // Hold all listeners at once so the four ports differ.
        let listeners: Vec<TcpListener> = (0..4)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("free port"))
            .collect();
        let port = |i: usize| listeners[i].local_addr().unwrap().port();
        Ports {
            public: port(0),
            hub: port(1),
            proxy_api: port(2),
            service: port(3),
        }
    }
}

/// The calls made between two [`TestHub::service_hub_calls`] snapshots, zero counts left out.
pub fn calls_between(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(call, count)| (call.clone(), count - before.get(call).copied().unwrap_or(0)))
        .filter(|(_, delta)| *delta > 0)
        .collect()
}

/// A loopback port that was free a moment ago, for a process a test starts itself.
/// The Node configurable-http-proxy from `scripts/setup-node-proxy`, for hubs whose tests
/// need a proxy that streams responses and passes WebSocket subprotocols and binary frames
/// through (the launcher tests); panics with the fix when it is missing.
pub fn node_proxy() -> PathBuf {
    let proxy = workspace_root().join(".cache/node-chp/node_modules/.bin/configurable-http-proxy");
    assert!(
        proxy.exists(),
        "{} is missing: run scripts/setup-node-proxy",
        proxy.display()
    );
    proxy
}

/// The stdlib-only HTTP + WebSocket app the launcher tests run as a `custom` app.
pub fn echo_app() -> PathBuf {
    workspace_root().join("crates/japps-testkit/apps/echo_app.py")
}

/// The echo app as a `custom` app's command, run by `release`'s Python; `flags` are the
/// echo app's own (`--startup-delay 5`, `--never-ready`, …).
pub fn echo_command(release: HubRelease, flags: &str) -> String {
    format!(
        "{} {} --port {{port}} --root-path {{root_path}} {flags}",
        release.venv().join("bin/python").display(),
        echo_app().display()
    )
}

/// A stand-in for an app's program that starts and never answers (`sleep 3600`), for
/// tests that need apps to exist, not to run; one file per test process.
pub fn idle_program() -> PathBuf {
    let path = std::env::temp_dir().join(format!("japps-idle-{}", std::process::id()));
    if !path.exists() {
        let partial = path.with_extension(format!("partial-{:?}", std::thread::current().id()));
        std::fs::write(&partial, "#!/bin/sh\nexec sleep 3600\n").expect("write the idle program");
        let mut permissions = std::fs::metadata(&partial)
            .expect("idle program")
            .permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&partial, permissions).expect("make it executable");
        std::fs::rename(&partial, &path).expect("put the idle program in place");
    }
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

/// A random token, as the hub makes them (32 hex digits).
pub fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Generates, for each named async test function `fn name(release: HubRelease)`, one
/// `#[tokio::test]` per supported JupyterHub release: `hub_5_5::name` and `hub_6_1::name`.
/// Attributes written before a name (e.g. `#[ignore = "why"]`) go on both tests.
#[macro_export]
macro_rules! real_hub_tests {
    ($($(#[$attr:meta])* $name:ident),+ $(,)?) => {
        mod hub_5_5 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                $(#[$attr])*
                async fn $name() {
                    super::$name($crate::HubRelease::V5_5).await;
                }
            )+
        }
        mod hub_6_1 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                $(#[$attr])*
                async fn $name() {
                    super::$name($crate::HubRelease::V6_1).await;
                }
            )+
        }
    };
}
