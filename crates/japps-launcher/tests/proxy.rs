//! The launcher's proxy between real clients (reqwest, tokio-tungstenite, raw TCP) and a
//! real app (axum for HTTP, tungstenite for WebSockets), all on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use japps_launcher::activity::Activity;
use japps_launcher::proxy::{Proxy, Target};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_stream::wrappers::ReceiverStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{
    Request as WsRequest, Response as WsResponse,
};

const PREFIX: &str = "/user/alice/app/";
const BIG: usize = 20 * 1024 * 1024;

// ---------------------------------------------------------------------------------------
// The app: an axum server whose behaviour is chosen by the last path segment.

#[derive(Clone)]
struct AppState {
    /// Every request as the app saw it: "METHOD path?query".
    seen: mpsc::UnboundedSender<String>,
    /// Size of the first body frame of `upload-stream`, sent before the rest is read.
    first_frames: mpsc::UnboundedSender<usize>,
    /// Set by `stream` just before it sends its second chunk.
    second_sent: Arc<AtomicBool>,
}

struct App {
    addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<String>,
    first_frames: mpsc::UnboundedReceiver<usize>,
    second_sent: Arc<AtomicBool>,
}

impl App {
    fn seen(&mut self) -> Vec<String> {
        let mut seen = Vec::new();
        while let Ok(request) = self.seen.try_recv() {
            seen.push(request);
        }
        seen
    }
}

async fn app() -> App {
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let (frames_tx, first_frames) = mpsc::unbounded_channel();
    let second_sent = Arc::new(AtomicBool::new(false));
    let state = AppState {
        seen: seen_tx,
        first_frames: frames_tx,
        second_sent: Arc::clone(&second_sent),
    };
    let router = Router::new().fallback(app_handler).with_state(state);
    let addr = serve(router).await;
    App {
        addr,
        seen,
        first_frames,
        second_sent,
    }
}

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

async fn app_handler(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let uri = request.uri().to_string();
    state
        .seen
        .send(format!("{} {uri}", request.method()))
        .unwrap();
    let last = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    match last.as_str() {
        "stream" => {
            let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(2);
            let second_sent = Arc::clone(&state.second_sent);
            tokio::spawn(async move {
                tx.send(Ok(Bytes::from_static(b"data: first\n\n")))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
                second_sent.store(true, Ordering::SeqCst);
                tx.send(Ok(Bytes::from_static(b"data: second\n\n")))
                    .await
                    .unwrap();
            });
            (
                [("content-type", "text/event-stream")],
                Body::from_stream(ReceiverStream::new(rx)),
            )
                .into_response()
        }
        "upload" => {
            let mut body = request.into_body().into_data_stream();
            let (mut len, mut hasher) = (0, Sha256::new());
            while let Some(chunk) = body.next().await {
                let chunk = chunk.unwrap();
                len += chunk.len();
                hasher.update(&chunk);
            }
            format!("{len} {:x}", hasher.finalize()).into_response()
        }
        "upload-stream" => {
            let mut body = request.into_body().into_data_stream();
            let first = body.next().await.unwrap().unwrap();
            state.first_frames.send(first.len()).unwrap();
            let mut len = first.len();
            while let Some(chunk) = body.next().await {
                len += chunk.unwrap().len();
            }
            len.to_string().into_response()
        }
        "download" => Body::from(pattern(BIG)).into_response(),
        "fixed" => "hello".into_response(),
        "redirect" => (
            StatusCode::FOUND,
            [("location", query.get("to").cloned().unwrap_or_default())],
        )
            .into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "slow".into_response()
        }
        "hop" => Response::builder()
            .header("connection", "x-up-private")
            .header("x-up-private", "1")
            .header("keep-alive", "timeout=5")
            .header("proxy-authenticate", "Basic")
            .header("x-up-public", "1")
            .body(Body::from("hop"))
            .unwrap(),
        "ws-refused" => (StatusCode::FORBIDDEN, "no WebSocket here").into_response(),
        _ => {
            let status = query
                .get("status")
                .map_or(StatusCode::OK, |s| s.parse().unwrap());
            let mut headers: HashMap<String, Vec<String>> = HashMap::new();
            for (name, value) in request.headers() {
                headers
                    .entry(name.as_str().to_owned())
                    .or_default()
                    .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
            }
            let echo = json!({"method": request.method().as_str(), "uri": uri, "peer_port": peer.port(), "headers": headers});
            (status, axum::Json(echo)).into_response()
        }
    }
}

/// Deterministic, incompressible-looking bytes (xorshift).
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[3]
        })
        .collect()
}

/// The one value of `name` the app saw, if any (a repeated header fails the test).
fn header(echo: &Value, name: &str) -> Option<String> {
    let values = echo["headers"].get(name)?.as_array().unwrap();
    assert_eq!(
        values.len(),
        1,
        "{name} sent {} times: {values:?}",
        values.len()
    );
    Some(values[0].as_str().unwrap().to_owned())
}

// ---------------------------------------------------------------------------------------
// The launcher: the proxy behind axum, as the launcher serves it.

struct Front {
    addr: SocketAddr,
    activity: Arc<Activity>,
}

impl Front {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn front(port: u16, strip_prefix: bool) -> Front {
    let activity = Arc::new(Activity::new());
    let proxy = Proxy::new(
        Target {
            port,
            prefix: PREFIX.to_owned(),
            strip_prefix,
            forwarding: japps_auth::Forwarding::default(),
        },
        Arc::clone(&activity),
    );
    let router = Router::new().fallback(
        move |ConnectInfo(peer): ConnectInfo<SocketAddr>, request: Request| {
            let proxy = proxy.clone();
            async move { proxy.forward(request, Some(peer)).await }
        },
    );
    let addr = serve(router).await;
    Front { addr, activity }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get_echo(url: &str, headers: &[(&str, &str)]) -> Value {
    let mut request = http().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A port nothing listens on.
async fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Sends `request` as is and reads until the server closes (the request says `close`).
async fn raw(addr: SocketAddr, request: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_owned())
}

// ---------------------------------------------------------------------------------------
// Paths and headers

#[tokio::test]
async fn strip_serves_the_prefix_at_root() {
    let mut app = app().await;
    let front = front(app.addr.port(), true).await;

    let echo = get_echo(&front.url("/user/alice/app/a/b?c=d&e=%20f"), &[]).await;
    assert_eq!(echo["uri"], "/a/b?c=d&e=%20f");
    assert_eq!(
        header(&echo, "x-forwarded-prefix").as_deref(),
        Some("/user/alice/app")
    );

    let echo = get_echo(&front.url("/user/alice/app?x=1"), &[]).await;
    assert_eq!(echo["uri"], "/?x=1");
    let echo = get_echo(&front.url("/user/alice/app/"), &[]).await;
    assert_eq!(echo["uri"], "/");

    let outside = http()
        .get(front.url("/user/bob/app/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 404);
    assert_eq!(app.seen(), ["GET /a/b?c=d&e=%20f", "GET /?x=1", "GET /"]);
}

#[tokio::test]
async fn no_strip_passes_paths_unchanged() {
    let app = app().await;
    let front = front(app.addr.port(), false).await;

    let echo = get_echo(&front.url("/user/alice/app/a/b?c=d"), &[]).await;
    assert_eq!(echo["uri"], "/user/alice/app/a/b?c=d");
    assert_eq!(header(&echo, "x-forwarded-prefix"), None);
    let echo = get_echo(&front.url("/user/alice/app"), &[]).await;
    assert_eq!(echo["uri"], "/user/alice/app");
}

#[tokio::test]
async fn forwarded_headers_and_host() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;
    let own_host = front.addr.to_string();

    let echo = get_echo(&front.url(PREFIX), &[]).await;
    assert_eq!(header(&echo, "host"), Some(own_host.clone()));
    assert_eq!(header(&echo, "x-forwarded-host"), Some(own_host));
    assert_eq!(header(&echo, "x-forwarded-proto").as_deref(), Some("http"));
    assert_eq!(
        header(&echo, "x-forwarded-for").as_deref(),
        Some("127.0.0.1")
    );

    // As behind JupyterHub's proxy: its X-Forwarded-* are kept (the client's address first).
    let echo = get_echo(
        &front.url(PREFIX),
        &[
            ("host", "hub.example.org"),
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https"),
            ("authorization", "token abc"),
        ],
    )
    .await;
    assert_eq!(header(&echo, "host").as_deref(), Some("hub.example.org"));
    assert_eq!(
        header(&echo, "x-forwarded-host").as_deref(),
        Some("hub.example.org")
    );
    assert_eq!(header(&echo, "x-forwarded-proto").as_deref(), Some("https"));
    assert_eq!(
        header(&echo, "x-forwarded-for").as_deref(),
        Some("203.0.113.7, 127.0.0.1")
    );
    // A visitor's hub token is none of the app's business (unless forwarding is asked for).
    assert_eq!(header(&echo, "authorization"), None);
}

#[tokio::test]
async fn launcher_cookies_stay_with_the_launcher() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;

    let cookies = "japps-launch-session=secret; _xsrf=2|abc; __Host-japps-launch-oauth=state; \
                   jhub_apps_access_token=jwt; theme=dark";
    let echo = get_echo(&front.url(PREFIX), &[("cookie", cookies)]).await;
    assert_eq!(
        header(&echo, "cookie").as_deref(),
        Some("_xsrf=2|abc; theme=dark")
    );

    let echo = get_echo(
        &front.url(PREFIX),
        &[("cookie", "japps-launch-session=secret")],
    )
    .await;
    assert_eq!(header(&echo, "cookie"), None);

    let echo = get_echo(&front.url(PREFIX), &[("cookie", "a=1; b=2")]).await;
    assert_eq!(header(&echo, "cookie").as_deref(), Some("a=1; b=2"));
}

#[tokio::test]
async fn hop_by_hop_headers_stop_at_the_proxy() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;

    let (head, body) = raw(
        front.addr,
        "GET /user/alice/app/echo HTTP/1.1\r\nHost: hub\r\nConnection: close, X-Private\r\n\
         X-Private: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic eDp5\r\nTE: trailers\r\n\
         X-Public: 1\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let echo: Value = serde_json::from_str(&body).unwrap();
    for gone in [
        "connection",
        "x-private",
        "keep-alive",
        "proxy-authorization",
        "te",
    ] {
        assert_eq!(header(&echo, gone), None, "{gone} reached the app");
    }
    assert_eq!(header(&echo, "x-public").as_deref(), Some("1"));

    let (head, body) = raw(
        front.addr,
        "GET /user/alice/app/hop HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(body, "hop");
    for gone in ["x-up-private", "keep-alive", "proxy-authenticate"] {
        assert!(
            !head.contains(&format!("\r\n{gone}:")),
            "{gone} reached the visitor: {head}"
        );
    }
    assert!(head.contains("\r\nx-up-public: 1"), "{head}");
}

// ---------------------------------------------------------------------------------------
// Bodies

#[tokio::test]
async fn responses_stream_chunk_by_chunk() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;

    let started = Instant::now();
    let mut response = http()
        .get(front.url("/user/alice/app/events/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let first = response.chunk().await.unwrap().unwrap();
    assert_eq!(first, "data: first\n\n");
    assert!(
        !app.second_sent.load(Ordering::SeqCst),
        "the first chunk waited for the second"
    );

    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"data: second\n\n");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn request_bodies_stream_to_the_app() {
    let mut app = app().await;
    let front = front(app.addr.port(), true).await;

    type Upload = StreamBody<ReceiverStream<Result<Frame<Bytes>, Infallible>>>;
    let (tx, rx) = mpsc::channel(1);
    let client: Client<_, Upload> = Client::builder(TokioExecutor::new()).build_http();
    let request = http::Request::post(front.url("/user/alice/app/upload-stream"))
        .body(StreamBody::new(ReceiverStream::new(rx)))
        .unwrap();
    let pending = tokio::spawn(client.request(request));

    tx.send(Ok(Frame::data(Bytes::from_static(b"first part"))))
        .await
        .unwrap();
    let first = timeout(Duration::from_secs(5), app.first_frames.recv())
        .await
        .expect("the app saw nothing of the body before it was complete");
    assert_eq!(first, Some(10));
    tx.send(Ok(Frame::data(Bytes::from(vec![7u8; 100_000]))))
        .await
        .unwrap();
    drop(tx);

    let response = pending.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let total = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(total, "100010");
}

#[tokio::test]
async fn large_upload_and_download_are_intact() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;
    let data = pattern(BIG);

    let expected = format!("{BIG} {:x}", Sha256::digest(&data));
    let response = http()
        .post(front.url("/user/alice/app/upload"))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), expected);

    let response = http()
        .get(front.url("/user/alice/app/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-length"], BIG.to_string());
    let downloaded = response.bytes().await.unwrap();
    assert_eq!(downloaded.len(), BIG);
    assert!(
        downloaded == data,
        "the download differs from what the app sent"
    );
}

#[tokio::test]
async fn head_keeps_the_content_length() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;

    let response = http()
        .head(front.url("/user/alice/app/fixed"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], "5");
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn connections_to_the_app_are_reused() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;

    let mut ports = HashSet::new();
    for _ in 0..10 {
        let echo = get_echo(&front.url(PREFIX), &[]).await;
        ports.insert(echo["peer_port"].as_u64().unwrap());
    }
    assert!(
        ports.len() <= 2,
        "10 sequential requests used {} connections",
        ports.len()
    );
}

// ---------------------------------------------------------------------------------------
// WebSockets

/// What the app saw of a WebSocket handshake.
struct Handshake {
    uri: String,
    headers: HeaderMap,
}

/// A WebSocket echo app; it accepts the first subprotocol offered.
async fn ws_app() -> (u16, mpsc::UnboundedReceiver<Handshake>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                // The signature is tungstenite's.
                #[allow(clippy::result_large_err)]
                let callback = |request: &WsRequest, mut response: WsResponse| {
                    let headers = request.headers().clone();
                    if let Some(offered) = headers.get("sec-websocket-protocol") {
                        let first = offered
                            .to_str()
                            .unwrap()
                            .split(',')
                            .next()
                            .unwrap()
                            .trim()
                            .to_owned();
                        response
                            .headers_mut()
                            .insert("sec-websocket-protocol", first.parse().unwrap());
                    }
                    tx.send(Handshake {
                        uri: request.uri().to_string(),
                        headers,
                    })
                    .unwrap();
                    Ok(response)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    (port, rx)
}

#[tokio::test]
async fn websocket_echo_through_the_proxy() {
    let (port, mut handshakes) = ws_app().await;
    let front = front(port, true).await;

    let mut request = format!(
        "ws://{}/user/alice/app/api/kernels/ws?session=1",
        front.addr
    )
    .into_client_request()
    .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "v1.kernel.websocket.jupyter.org".parse().unwrap(),
    );
    request.headers_mut().insert(
        "cookie",
        "japps-launch-session=secret; _xsrf=x".parse().unwrap(),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "v1.kernel.websocket.jupyter.org"
    );

    let seen = handshakes.recv().await.unwrap();
    assert_eq!(seen.uri, "/api/kernels/ws?session=1");
    assert_eq!(seen.headers["host"], front.addr.to_string());
    assert_eq!(seen.headers["cookie"], "_xsrf=x");
    assert_eq!(seen.headers["x-forwarded-prefix"], "/user/alice/app");

    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hello"));
    ws.send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::binary(vec![0u8, 1, 2, 255])
    );

    for i in 0..5 {
        ws.send(Message::text(format!("message {i}")))
            .await
            .unwrap();
    }
    for i in 0..5 {
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text(format!("message {i}"))
        );
    }
    let big = pattern(1024 * 1024);
    ws.send(Message::binary(big.clone())).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(big));

    ws.close(None).await.unwrap();
    let reply = timeout(Duration::from_secs(5), ws.next()).await.unwrap();
    assert!(
        matches!(reply, Some(Ok(Message::Close(_)))),
        "no close reply: {reply:?}"
    );
    let end = timeout(Duration::from_secs(5), ws.next()).await.unwrap();
    assert!(
        end.is_none() || matches!(end, Some(Err(_))),
        "traffic after close: {end:?}"
    );
}

#[tokio::test]
async fn websocket_refused_by_the_app_is_an_ordinary_response() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;

    let request = format!("ws://{}/user/alice/app/ws-refused", front.addr)
        .into_client_request()
        .unwrap();
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("expected the app's 403, got {other:?}"),
    }

    // The connection is not left half-upgraded: plain HTTP still works through the proxy.
    let echo = get_echo(&front.url(PREFIX), &[]).await;
    assert_eq!(echo["uri"], "/");
}

#[tokio::test]
async fn upgrade_without_a_hyper_connection_is_a_plain_request() {
    let app = app().await;
    let proxy = Proxy::new(
        Target {
            port: app.addr.port(),
            prefix: PREFIX.to_owned(),
            strip_prefix: true,
            forwarding: japps_auth::Forwarding::default(),
        },
        Arc::new(Activity::new()),
    );
    // Called directly, as from a test router: no connection to upgrade on the visitor's side.
    let request = http::Request::get("/user/alice/app/ws")
        .header("host", "hub.example.org")
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .body(Body::empty())
        .unwrap();
    let response = proxy.forward(request, None).await;
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let echo: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo["uri"], "/ws");
    assert_eq!(header(&echo, "upgrade"), None);
    assert_eq!(header(&echo, "connection"), None);
    assert_eq!(header(&echo, "x-forwarded-for"), None);
    assert_eq!(header(&echo, "host").as_deref(), Some("hub.example.org"));
}

// ---------------------------------------------------------------------------------------
// Activity

#[tokio::test]
async fn http_requests_mark_activity() {
    let app = app().await;
    let front = front(app.addr.port(), true).await;
    assert_eq!(front.activity.last(), None);

    let outside = http().get(front.url("/elsewhere")).send().await.unwrap();
    assert_eq!(outside.status(), 404);
    assert_eq!(
        front.activity.last(),
        None,
        "a request the app never saw counted"
    );

    get_echo(&front.url(PREFIX), &[]).await;
    let first = front
        .activity
        .last()
        .expect("a proxied request is activity");
    tokio::time::sleep(Duration::from_millis(20)).await;
    get_echo(&front.url(PREFIX), &[]).await;
    assert!(front.activity.last().unwrap() > first);
}

#[tokio::test]
async fn websocket_traffic_marks_activity() {
    let (port, _handshakes) = ws_app().await;
    let front = front(port, true).await;

    let request = format!("ws://{}/user/alice/app/ws", front.addr)
        .into_client_request()
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let after_handshake = front.activity.last().expect("the handshake is a request");

    // Past the once-a-second throttle: only frames can move the clock now.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(front.activity.last(), Some(after_handshake));
    ws.send(Message::text("ping")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("ping"));
    let after_message = front.activity.last().unwrap();
    assert!(
        after_message > after_handshake,
        "WebSocket traffic did not count"
    );

    // An idle open WebSocket is not activity.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(front.activity.last(), Some(after_message));
}

// ---------------------------------------------------------------------------------------
// Redirects

async fn location(front: &Front, to: &str) -> String {
    let response = http()
        .get(front.url("/user/alice/app/go/redirect"))
        .query(&[("to", to)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn redirects_stay_under_the_prefix_when_stripping() {
    let app = app().await;
    let port = app.addr.port();
    let front = front(port, true).await;

    assert_eq!(
        location(&front, "/login?next=%2F").await,
        "/user/alice/app/login?next=%2F"
    );
    assert_eq!(
        location(&front, "/user/alice/app/lab").await,
        "/user/alice/app/lab"
    );
    assert_eq!(
        location(&front, &format!("http://127.0.0.1:{port}/x?y=1")).await,
        "/user/alice/app/x?y=1"
    );
    assert_eq!(location(&front, "../tree").await, "../tree");
    assert_eq!(
        location(&front, "https://example.org/login").await,
        "https://example.org/login"
    );
}

#[tokio::test]
async fn redirects_without_stripping_only_lose_the_app_address() {
    let app = app().await;
    let port = app.addr.port();
    let front = front(port, false).await;

    assert_eq!(location(&front, "/login").await, "/login");
    assert_eq!(
        location(&front, &format!("http://127.0.0.1:{port}/user/alice/app/x")).await,
        "/user/alice/app/x"
    );
    assert_eq!(location(&front, "lab").await, "lab");
}

// ---------------------------------------------------------------------------------------
// The app down, and readiness probes

#[tokio::test]
async fn app_down_is_a_502() {
    let front = front(dead_port().await, true).await;

    let response = http()
        .get(front.url("/user/alice/app/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert!(response.text().await.unwrap().contains("not answering"));

    let request = format!("ws://{}/user/alice/app/ws", front.addr)
        .into_client_request()
        .unwrap();
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 502)
        }
        other => panic!("expected a 502, got {other:?}"),
    }
}

#[tokio::test]
async fn probe_reports_the_status_verbatim() {
    let mut app = app().await;
    let proxy = Proxy::new(
        Target {
            port: app.addr.port(),
            prefix: PREFIX.to_owned(),
            strip_prefix: true,
            forwarding: japps_auth::Forwarding::default(),
        },
        Arc::new(Activity::new()),
    );

    assert_eq!(
        proxy
            .probe("/user/alice/app/api?status=204", Duration::from_secs(5))
            .await,
        Ok(204)
    );
    assert_eq!(
        proxy
            .probe("/health?status=503", Duration::from_secs(5))
            .await,
        Ok(503)
    );
    // No prefix logic: the path reaches the app exactly as given.
    assert_eq!(
        app.seen(),
        [
            "GET /user/alice/app/api?status=204",
            "GET /health?status=503"
        ]
    );

    let started = Instant::now();
    let slow = proxy.probe("/slow", Duration::from_millis(200)).await;
    assert!(slow.unwrap_err().contains("no answer within 200 ms"));
    assert!(started.elapsed() < Duration::from_secs(2));

    assert!(
        proxy
            .probe("no slash", Duration::from_secs(1))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn probe_of_a_dead_app_is_an_error() {
    let proxy = Proxy::new(
        Target {
            port: dead_port().await,
            prefix: PREFIX.to_owned(),
            strip_prefix: true,
            forwarding: japps_auth::Forwarding::default(),
        },
        Arc::new(Activity::new()),
    );
    let err = proxy.probe("/", Duration::from_secs(5)).await.unwrap_err();
    assert!(err.to_lowercase().contains("connect"), "{err}");
}
