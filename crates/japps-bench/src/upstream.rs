//! The app behind the proxies in the launcher proxy benchmark: `japps-bench upstream`.
//!
//! A small hyper server on `127.0.0.1:{port}`, the same program behind every path measured
//! (directly, through `japps launch`, through jhsingle-native-proxy), and never the
//! bottleneck:
//! - `GET /small`: a 100-byte text answer;
//! - `GET /large`: `--large-mib` MiB of bytes, with `Content-Length`;
//! - `GET /ws`: a WebSocket that echoes every text and binary message;
//! - `GET /`: `ok` (both proxies' readiness check).
//!
//! It exits by itself after `--exit-after` seconds, in case a proxy that started it is
//! killed without passing the signal on.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::header::{CONNECTION, CONTENT_TYPE, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

/// The body of `/small`: 100 bytes.
pub(crate) const SMALL_BODY: &[u8; 100] =
    b"small response from the benchmark's upstream app: 100 bytes of text, like a tiny JSON answer.......\n";

/// The bytes `/large` answers with: a repeating pattern, so a proxy cannot compress it away
/// by accident and a client can tell a truncated body.
pub(crate) fn large_body(mib: usize) -> Bytes {
    let len = mib * 1024 * 1024;
    Bytes::from(
        (0..len)
            .map(|i| b"0123456789abcdef"[i % 16])
            .collect::<Vec<u8>>(),
    )
}

struct Bodies {
    small: Bytes,
    large: Bytes,
}

/// Serves until `exit_after` has passed.
pub(crate) async fn serve(port: u16, large_mib: usize, exit_after: Duration) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let bodies = Arc::new(Bodies {
        small: Bytes::from_static(SMALL_BODY),
        large: large_body(large_mib),
    });
    let deadline = tokio::time::sleep(exit_after);
    tokio::pin!(deadline);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: try again shortly.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut deadline => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let bodies = Arc::clone(&bodies);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(req, Arc::clone(&bodies)));
            // Resets by clients (and proxies) that close early are no concern here.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

async fn handle(
    mut req: Request<Incoming>,
    bodies: Arc<Bodies>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match req.uri().path() {
        "/small" => answer(StatusCode::OK, "text/plain", bodies.small.clone()),
        "/large" => answer(
            StatusCode::OK,
            "application/octet-stream",
            bodies.large.clone(),
        ),
        "/" => answer(StatusCode::OK, "text/plain", Bytes::from_static(b"ok\n")),
        "/ws" => match req.headers().get(SEC_WEBSOCKET_KEY) {
            Some(key) => {
                let accept = derive_accept_key(key.as_bytes());
                let upgrade = hyper::upgrade::on(&mut req);
                tokio::spawn(async move {
                    if let Ok(upgraded) = upgrade.await {
                        echo(TokioIo::new(upgraded)).await;
                    }
                });
                let mut response = Response::new(Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                let headers = response.headers_mut();
                headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
                headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
                if let Ok(accept) = HeaderValue::from_str(&accept) {
                    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
                }
                response
            }
            None => answer(
                StatusCode::BAD_REQUEST,
                "text/plain",
                Bytes::from_static(b"WebSocket only\n"),
            ),
        },
        _ => answer(
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found\n"),
        ),
    };
    Ok(response)
}

fn answer(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Echoes text and binary messages until the client closes (pings are answered by
/// tungstenite itself).
async fn echo<S>(io: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, None).await;
    while let Some(Ok(message)) = ws.next().await {
        let reply = match message {
            Message::Text(_) | Message::Binary(_) => message,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
        if ws.send(reply).await.is_err() {
            break;
        }
    }
}
