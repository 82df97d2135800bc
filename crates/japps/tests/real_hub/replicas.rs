//! japps as an external service with replicas: two `japps serve` processes started from the
//! environment `python -m japps service-env` prints, behind one round-robin address that the
//! hub's proxy routes `/services/japps/` to (as a Kubernetes Service would).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use japps_hub::ShareTarget;
use japps_testkit::{
    Browser, HubOptions, HubRelease, RoundRobin, TestHub, echo_command, free_port, real_hub_tests,
};
use reqwest::multipart::Form;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

use crate::lifecycle::{startup_apps, startup_state};

real_hub_tests!(replicas_share_sessions_apps_and_the_startup_work);

/// One `japps serve` replica on its own loopback port, its log kept as JSON lines.
pub(crate) struct Replica {
    port: u16,
    pub(crate) child: tokio::process::Child,
    log: Arc<Mutex<Vec<Value>>>,
}

impl Replica {
    pub(crate) fn start(env: &[(String, String)]) -> Replica {
        let port = free_port();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_japps"))
            .arg("serve")
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("JAPPS_BIND_URL", format!("http://127.0.0.1:{port}"))
            .env("JAPPS_LOG_FORMAT", "json")
            .env("RUST_LOG", "info,japps_hub=debug")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start japps serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = Arc::clone(&log);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let entry = serde_json::from_str(&line).unwrap_or(json!({"text": line}));
                sink.lock().unwrap().push(entry);
            }
        });
        Replica { port, child, log }
    }

    pub(crate) fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/services/japps/{path}", self.port)
    }

    /// The `fields` of every log entry whose message is `message`.
    fn entries(&self, message: &str) -> Vec<Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|entry| entry["fields"]["message"] == message)
            .map(|entry| entry["fields"].clone())
            .collect()
    }

    /// What it did to each startup app and every hub write, for failure messages.
    fn startup_story(&self) -> String {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|e| {
                let fields = &e["fields"];
                let message = fields["message"].as_str().unwrap_or_default();
                message.starts_with("startup app")
                    || (message == "hub call" && fields["method"] != "GET")
            })
            .map(|e| format!("{} {}\n", e["timestamp"], e["fields"]))
            .collect()
    }

    pub(crate) fn log_text(&self) -> String {
        let log = self.log.lock().unwrap();
        log.iter().map(|e| format!("{e}\n")).collect()
    }

    /// The summary of its startup-app reconciliation, once it is there.
    async fn reconciled(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(summary) = self.entries("startup apps reconciled").pop() {
                return summary;
            }
            assert!(
                Instant::now() < deadline,
                "no reconciliation within 2 minutes:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn wait_until_up(&self) {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(response) = client.get(self.url("status")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "replica on {} did not come up:\n{}",
            self.port,
            self.log_text()
        );
    }

    /// Successful hub writes it made, by endpoint (`POST /shares/{owner}/{server}` …).
    fn hub_writes(&self) -> BTreeMap<String, u64> {
        let mut writes = BTreeMap::new();
        for call in self.entries("hub call") {
            let method = call["method"].as_str().unwrap_or_default();
            let ok = call["status"]
                .as_u64()
                .is_some_and(|s| (200..300).contains(&s));
            if ok && method != "GET" {
                *writes
                    .entry(call["pattern"].as_str().unwrap_or_default().to_owned())
                    .or_insert(0) += 1;
            }
        }
        writes
    }
}

/// `python -m japps service-env -f <the hub's config>`: the environment of a replica.
pub(crate) async fn service_env(hub: &TestHub) -> Vec<(String, String)> {
    let output = tokio::process::Command::new(hub.release().venv().join("bin/python"))
        .args(["-m", "japps", "service-env", "-f"])
        .arg(hub.config_path())
        .env_remove("JHUB_APP_JWT_SECRET_KEY")
        .output()
        .await
        .expect("run python -m japps service-env");
    assert!(
        output.status.success(),
        "service-env failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn summed(summaries: &[&Value], field: &str) -> u64 {
    summaries.iter().map(|s| s[field].as_u64().unwrap()).sum()
}

fn sum_writes(replicas: &[&Replica]) -> BTreeMap<String, u64> {
    let mut total = BTreeMap::new();
    for replica in replicas {
        for (pattern, count) in replica.hub_writes() {
            *total.entry(pattern).or_insert(0) += count;
        }
    }
    total
}

/// Who each startup app is shared with, as the hub holds it (without grant times).
fn shares(state: &[Value]) -> Vec<(String, String)> {
    state
        .iter()
        .filter(|entry| entry.get("shared_with").is_some())
        .map(|entry| {
            (
                entry["shared_with"].as_str().unwrap().to_owned(),
                entry["server"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn replicas_share_sessions_apps_and_the_startup_work(release: HubRelease) {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .external_service()
        .japps_config(&format!(
            "import json as _json\nc.JAppsConfig.startup_apps = _json.loads(r'''{}''')\n",
            startup_apps()
        ))
        .extra_config(
            "c.JupyterHub.load_groups = {'team': {'users': ['alice', 'bob', 'carol']}}\n",
        );
    let hub = TestHub::start(release, options).await;

    // What an operator gives every replica.
    let env = service_env(&hub).await;
    let var = |name: &str| {
        env.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| panic!("service-env has no {name}: {env:?}"))
    };
    assert_eq!(var("JUPYTERHUB_API_TOKEN"), hub.japps_token());
    assert_eq!(var("JUPYTERHUB_SERVICE_PREFIX"), "/services/japps/");
    assert!(var("JHUB_APP_JWT_SECRET_KEY").len() >= 32);
    assert!(var("JAPPS_CONFIG").contains("\"startup_apps\""));
    let api = reqwest::get(format!("{}/", var("JUPYTERHUB_API_URL")))
        .await
        .expect("the hub API at service-env's JUPYTERHUB_API_URL");
    assert!(api.status().is_success(), "{}", var("JUPYTERHUB_API_URL"));

    // Both replicas start at once: every startup app is written once, by one of them.
    let (first, second) = (Replica::start(&env), Replica::start(&env));
    let front =
        RoundRobin::start(hub.service_port(), vec![first.address(), second.address()]).await;
    let (a, b) = tokio::join!(first.reconciled(), second.reconciled());
    let both = [&a, &b];
    let story = format!(
        "first:\n{}second:\n{}",
        first.startup_story(),
        second.startup_story()
    );
    assert_eq!(summed(&both, "failed"), 0, "{story}");
    for summary in both {
        let accounted: u64 = ["unchanged", "updated", "busy", "claimed_elsewhere"]
            .iter()
            .map(|field| summary[*field].as_u64().unwrap())
            .sum();
        assert_eq!(accounted, 3, "{summary}\n{story}");
    }
    let writes = sum_writes(&[&first, &second]);
    let write = |pattern: &str| writes.get(pattern).copied().unwrap_or(0);
    // Nothing revoked: there was nothing to revoke.
    assert_eq!(write("PATCH /shares/{owner}/{server}"), 0, "{story}");
    assert_eq!(write("DELETE /shares/{owner}/{server}"), 0, "{story}");
    if release.major() >= 6 {
        // Creating a server is atomic on 6.x: each app is written by exactly one replica,
        // alice/welcome shared once with bob and once with the team.
        assert_eq!(summed(&both, "updated"), 3, "{story}");
        assert_eq!(write("PUT /users/{name}/servers/{server}"), 3, "{story}");
        assert_eq!(write("POST /shares/{owner}/{server}"), 2, "{story}");
        assert_eq!(write("PATCH /users/{name}/servers/{server}"), 0, "{story}");
        assert_eq!(write("DELETE /users/{name}/servers/{server}"), 0, "{story}");
    } else {
        // 5.x stores options by starting the server, and two starts of a new server at the
        // same moment both succeed (the second answers 202 "already spawning"): the random
        // offset makes a meeting rare, not impossible. When they meet, both write the same
        // options; what must hold is the result, checked below, and that every app was
        // written by someone.
        let updated = summed(&both, "updated");
        assert!((3..=6).contains(&updated), "{story}");
        assert!(write("POST /users/{name}/servers/{server}") >= 3, "{story}");
        if updated > 3 {
            eprintln!("the replicas met on a 5.x hub ({updated} app writes):\n{story}");
        }
    }
    let state = startup_state(&hub).await;
    assert_eq!(state.len(), 6, "{state:#?}");
    assert!(
        state[..3].iter().all(|s| s["stopped"] == true),
        "{state:#?}"
    );
    let configured_shares = shares(&state);

    // A login started on one replica finishes on the other, and its session works on both.
    first.wait_until_up().await;
    second.wait_until_up().await;
    let browser = Browser::new();
    browser.login_to_hub(&hub, "alice").await;
    let started = browser
        .get(&first.url("jhub-login?next=%2Fservices%2Fjapps%2F"))
        .await;
    assert!(started.status().is_redirection(), "{}", started.status());
    let authorize = hub
        .public_url()
        .join(started.headers()["location"].to_str().unwrap())
        .unwrap();
    assert!(
        authorize.path().ends_with("/oauth2/authorize"),
        "{authorize}"
    );
    let authorized = browser.get(authorize.as_str()).await;
    assert!(
        authorized.status().is_redirection(),
        "{}",
        authorized.status()
    );
    let callback = hub
        .public_url()
        .join(authorized.headers()["location"].to_str().unwrap())
        .unwrap();
    assert_eq!(callback.path(), "/services/japps/oauth_callback");
    let finished = browser
        .get(&second.url(&format!("oauth_callback?{}", callback.query().unwrap())))
        .await;
    assert!(
        finished.status().is_redirection(),
        "the callback on the other replica: {} {}",
        finished.status(),
        finished.text().await.unwrap_or_default()
    );
    for replica in [&first, &second] {
        let me = browser.api_get(&replica.url("user")).await;
        assert_eq!(me.status(), 200, "session on replica {}", replica.port);
        assert_eq!(me.json::<Value>().await.unwrap()["name"], "alice");
    }

    // An app created through one replica is there for the other.
    let alice = hub.user_token("alice").await;
    let client = reqwest::Client::new();
    let data = json!({"servername": "", "user_options": {
        "display_name": "Shared board", "description": "", "framework": "custom",
        "custom_command": echo_command(release, "")}})
    .to_string();
    let created = client
        .post(first.url("server"))
        .header("Authorization", format!("token {alice}"))
        .multipart(Form::new().text("data", data))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200, "{}", created.text().await.unwrap());
    let listed: Value = client
        .get(second.url("server/"))
        .header("Authorization", format!("token {alice}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed["user_apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|app| app["name"].as_str())
        .collect();
    assert!(names.contains(&"shared-board"), "{listed:#}");

    // Drift made by hand is corrected by the next replica that starts: a share removed, one
    // added.
    let admin = hub.admin_client();
    let service = admin.as_service();
    service
        .revoke_share("alice", "welcome", &ShareTarget::User("bob".into()))
        .await
        .unwrap();
    service
        .share("alice", "welcome", &ShareTarget::User("carol".into()))
        .await
        .unwrap();
    let third = Replica::start(&env);
    let summary = third.reconciled().await;
    assert_eq!(summary["updated"], 1, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(shares(&startup_state(&hub).await), configured_shares);
    drop(third);

    // One replica killed mid-run: from then on the other serves every request, with the
    // session the first one made and the app it created.
    let requests = 40;
    let mut before = front.served();
    let mut first = first;
    let mut failures_after_kill = Vec::new();
    let mut killed_at = None;
    for i in 0..requests {
        if i == requests / 4 {
            first.child.kill().await.unwrap();
            killed_at = Some(Instant::now());
            before = front.served();
            // The proxy drops its idle connections to the dead replica.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let response = browser.api_get(&hub.service_url("server/")).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let ok = status == 200 && body["user_apps"].to_string().contains("shared-board");
        if killed_at.is_some() && !ok {
            failures_after_kill.push((i, status, body));
        }
    }
    assert!(failures_after_kill.is_empty(), "{failures_after_kill:#?}");
    let after = front.served();
    assert_eq!(after[0], before[0], "nothing reaches the killed replica");
    assert!(
        after[1] > before[1],
        "the survivor served: {before:?} → {after:?}"
    );
    drop(front);
}
