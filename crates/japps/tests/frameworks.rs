//! The framework tier: a real app of every framework, with its built-in example, started
//! through a real hub by the japps spawner and `japps launch`, reached through the hub's
//! proxy after the hub's login, with the framework's own follow-up traffic (WebSocket or
//! API) working. Needs the frameworks venv: run `scripts/test-frameworks` (the tests are
//! ignored in the default run because the venv is large).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use japps_testkit::{Browser, HubOptions, HubRelease, TestHub, node_proxy, workspace_root};
use reqwest::multipart::Form;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

macro_rules! framework_tests {
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

framework_tests!(
    panel, bokeh, streamlit, plotlydash, voila, gradio, jupyterlab
);

/// A running example app of `framework`, logged in as its owner alice.
struct Running {
    hub: TestHub,
    browser: Browser,
    /// `http://127.0.0.1:PORT/user/alice/<server>/`
    url: String,
}

impl Running {
    async fn start(release: HubRelease, framework: &str) -> Self {
        let python = workspace_root().join(".cache/venvs/frameworks/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/setup-frameworks",
            python.display()
        );
        let proxy =
            workspace_root().join(".cache/node-chp/node_modules/.bin/configurable-http-proxy");
        assert!(
            proxy.exists(),
            "{} is missing: run scripts/setup-frameworks",
            proxy.display()
        );
        let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
            .proxy_command(node_proxy())
            .japps_config(&format!(
                "c.JAppsConfig.python_exec = {:?}",
                python.display().to_string()
            ))
            .extra_config("c.Spawner.start_timeout = 120\nc.Spawner.http_timeout = 120\n");
        let hub = TestHub::start(release, options).await;
        hub.create_users(&["alice"]).await;
        let token = hub.user_token("alice").await;
        let data = json!({"servername": framework, "user_options": {
            "display_name": format!("{framework} example"), "framework": framework, "filepath": ""}});
        let response = reqwest::Client::new()
            .post(hub.service_url("server"))
            .header("Authorization", format!("token {token}"))
            .multipart(Form::new().text("data", data.to_string()))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        let server = body[1]
            .as_str()
            .unwrap_or_else(|| panic!("create: {body}"))
            .to_owned();
        let url = hub.url(&format!("user/alice/{server}/"));
        let browser = Browser::new();
        browser.login_to_hub(&hub, "alice").await;
        let running = Self { hub, browser, url };
        running.wait_until_ready().await;
        running
    }

    /// Polls the launcher's status until the app answers (frameworks take seconds to import).
    async fn wait_until_ready(&self) {
        // The first visit logs in to the launcher (or, for JupyterLab, to the app).
        self.browser.follow(&self.hub, &self.url).await;
        let deadline = Instant::now() + Duration::from_secs(240);
        let mut last = String::new();
        while Instant::now() < deadline {
            let response = self.browser.api_get(&self.at("_japps/api/status")).await;
            if response.status() == 200 {
                let status: Value = response.json().await.unwrap();
                match status["phase"].as_str() {
                    Some("ready") => return,
                    Some("failed") => {
                        panic!("{} failed: {status}\n{}", self.url, self.output().await)
                    }
                    _ => {}
                }
                last = status.to_string();
            } else {
                last = format!("status {}", response.status());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!(
            "{} not ready in time ({last})\n{}",
            self.url,
            self.output().await
        );
    }

    /// The app's output, for failure messages.
    async fn output(&self) -> String {
        let response = self.browser.api_get(&self.at("_japps/api/logs")).await;
        let logs: Value = response.json().await.unwrap_or(Value::Null);
        logs["lines"]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| format!("{}\n", l["text"].as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_else(|| format!("(no logs: {logs})"))
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A page through the hub, following any login; must be 200 HTML.
    async fn page(&self, path: &str) -> String {
        let visit = self.browser.follow(&self.hub, &self.at(path)).await;
        assert_eq!(
            visit.status, 200,
            "GET {path}: {:?}\n{}",
            visit.hops, visit.body
        );
        visit.body
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.browser
            .client()
            .get(self.at(path))
            .send()
            .await
            .unwrap()
    }

    /// A WebSocket through the hub's proxy with alice's cookies, from the hub's origin.
    async fn websocket(&self, path: &str, protocols: &[&str]) -> Socket {
        let ws_url = self.at(path).replacen("http://", "ws://", 1);
        let mut request = ws_url.as_str().into_client_request().unwrap();
        let headers = request.headers_mut();
        if let Some(cookies) = self.browser.cookie_header(&self.url) {
            headers.insert("Cookie", cookies.parse().unwrap());
        }
        headers.insert("Origin", self.hub.public_origin().parse().unwrap());
        if !protocols.is_empty() {
            headers.insert(
                "Sec-WebSocket-Protocol",
                protocols.join(", ").parse().unwrap(),
            );
        }
        let (socket, response) = tokio::time::timeout(
            Duration::from_secs(30),
            tokio_tungstenite::connect_async(request),
        )
        .await
        .expect("WebSocket handshake timed out")
        .unwrap_or_else(|err| panic!("WebSocket {path}: {err}"));
        assert_eq!(response.status(), 101);
        socket
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message within 60 s.
async fn next_text(socket: &mut Socket) -> String {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .expect("no WebSocket message within 60 s")
            .expect("WebSocket closed")
            .unwrap();
        match message {
            Message::Text(text) => return text.as_str().to_owned(),
            Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            Message::Close(frame) => panic!("WebSocket closed: {frame:?}"),
        }
    }
}

/// Bokeh's server protocol: the page carries a session token; the WebSocket (subprotocols
/// "bokeh" + token) first sends an ACK, then answers a PULL-DOC-REQ with the document.
async fn bokeh_session(app: &Running, page: &str, ws_path: &str, marker: &str) {
    let html = app.page(page).await;
    let token = html
        .split("\"token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no session token in the page:\n{html}"))
        .to_owned();
    let mut socket = app.websocket(ws_path, &["bokeh", &token]).await;
    let header: Value = serde_json::from_str(&next_text(&mut socket).await).unwrap();
    assert_eq!(header["msgtype"], "ACK", "{header}");
    next_text(&mut socket).await; // metadata
    next_text(&mut socket).await; // content
    for part in [
        json!({"msgid": "1", "msgtype": "PULL-DOC-REQ"}),
        json!({}),
        json!({}),
    ] {
        socket.send(Message::text(part.to_string())).await.unwrap();
    }
    let header: Value = serde_json::from_str(&next_text(&mut socket).await).unwrap();
    assert_eq!(header["msgtype"], "PULL-DOC-REPLY", "{header}");
    next_text(&mut socket).await;
    let content = next_text(&mut socket).await;
    assert!(content.contains(marker), "the document lacks {marker:?}");
}

async fn panel(release: HubRelease) {
    let app = Running::start(release, "panel").await;
    bokeh_session(&app, "", "ws", "Monthly deposit").await;
}

async fn bokeh(release: HubRelease) {
    let app = Running::start(release, "bokeh").await;
    bokeh_session(&app, "bokeh_app", "bokeh_app/ws", "Frequency").await;
}

async fn streamlit(release: HubRelease) {
    let app = Running::start(release, "streamlit").await;
    let html = app.page("").await;
    assert!(
        html.contains("<div id=\"root\">") || html.contains("streamlit"),
        "{html}"
    );
    let health = app.get("_stcore/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    // The session WebSocket the page opens; the server accepts it through the whole chain.
    let mut socket = app.websocket("_stcore/stream", &["streamlit"]).await;
    socket.close(None).await.unwrap();
}

async fn plotlydash(release: HubRelease) {
    let app = Running::start(release, "plotlydash").await;
    let html = app.page("").await;
    assert!(html.contains("Function plotter"), "{html}");
    // Dash builds every URL of the page from this prefix: it must be the public one.
    let config: Value = html
        .split("<script id=\"_dash-config\" type=\"application/json\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("no _dash-config in the page:\n{html}"));
    let prefix = app
        .url
        .trim_start_matches(&app.hub.public_origin())
        .to_owned();
    assert_eq!(
        config["requests_pathname_prefix"],
        prefix.as_str(),
        "{config}"
    );
    let layout = app.get("_dash-layout").await;
    assert_eq!(layout.status(), 200);
    // The callback the page fires when a control changes.
    let body = json!({"output": "plot.figure", "outputs": {"id": "plot", "property": "figure"},
        "inputs": [{"id": "function", "property": "value", "value": "cosine"},
                   {"id": "scale", "property": "value", "value": 2}],
        "changedPropIds": ["function.value"], "state": []});
    let response = app
        .browser
        .client()
        .post(app.at("_dash-update-component"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reply: Value = response.json().await.unwrap();
    assert!(
        reply["response"]["plot"]["figure"]["layout"]
            .to_string()
            .contains("cosine"),
        "{reply}"
    );
}

async fn voila(release: HubRelease) {
    let app = Running::start(release, "voila").await;
    let html = app.page("").await;
    assert!(html.contains("Prime numbers"), "{html}");
    let kernel = html
        .split("\"kernelId\"")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .unwrap_or_else(|| panic!("no kernel id in the page"))
        .to_owned();
    let mut socket = app
        .websocket(
            &format!("api/kernels/{kernel}/channels?session_id=japps-test"),
            &[],
        )
        .await;
    let request = json!({"header": {"msg_id": "japps-1", "msg_type": "kernel_info_request", "username": "alice",
        "session": "japps-test", "date": "2026-01-01T00:00:00Z", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell", "buffers": []});
    socket
        .send(Message::text(request.to_string()))
        .await
        .unwrap();
    loop {
        let reply: Value = serde_json::from_str(&next_text(&mut socket).await).unwrap();
        if reply["parent_header"]["msg_id"] == "japps-1" && reply["msg_type"] == "kernel_info_reply"
        {
            assert_eq!(reply["content"]["status"], "ok");
            break;
        }
    }
}

async fn gradio(release: HubRelease) {
    let app = Running::start(release, "gradio").await;
    app.page("").await;
    let config: Value = app.get("config").await.json().await.unwrap();
    let root = config["root"].as_str().unwrap_or_default();
    assert!(
        root.ends_with(
            app.url
                .trim_start_matches(&app.hub.public_origin())
                .trim_end_matches('/')
        ),
        "{config}"
    );
    let info: Value = app.get("gradio_api/info").await.json().await.unwrap();
    assert!(
        info["named_endpoints"].get("/transform").is_some(),
        "{info}"
    );
    let call: Value = app
        .browser
        .client()
        .post(app.at("gradio_api/call/transform"))
        .json(&json!({"data": ["japps", "backwards", 2]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event = call["event_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{call}"));
    let result = app
        .get(&format!("gradio_api/call/transform/{event}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        result.contains("event: complete") && result.contains("sppaj"),
        "{result}"
    );
}

async fn jupyterlab(release: HubRelease) {
    let app = Running::start(release, "jupyterlab").await;
    // JupyterLab runs its own hub OAuth (the same server client) behind the launcher.
    let html = app.page("lab").await;
    assert!(html.contains("jupyter-config-data"), "{html}");
    let status = app.browser.api_get(&app.at("api/status")).await;
    assert_eq!(status.status(), 200, "{}", status.text().await.unwrap());
    let contents = app.browser.api_get(&app.at("api/contents")).await;
    assert_eq!(contents.status(), 200);
}
