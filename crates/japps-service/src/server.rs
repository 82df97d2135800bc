//! Binding and serving, with the listener and the shutdown signal injectable so tests can run
//! the real server on an ephemeral port.

use std::future::Future;
use std::io;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::router::router;
use crate::state::AppState;

/// Binds the address from the settings (a host name is resolved; the first address that
/// binds wins).
pub async fn bind(host: &str, port: u16) -> io::Result<TcpListener> {
    TcpListener::bind((host, port)).await
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(
        %address,
        prefix = %state.settings().prefix,
        hub_api = %state.settings().api_url,
        version = crate::VERSION,
        "japps serve listening"
    );
    let app = router(state.clone()).map_err(io::Error::other)?;
    tokio::spawn(connect_and_reconcile(state));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("japps serve stopped");
    Ok(())
}

/// Learns the hub version once in the background (the answer is cached by the hub client
/// for the 5.x/6.x differences), so a hub that is still starting never delays our startup;
/// then reconciles the startup apps.
async fn connect_and_reconcile(state: AppState) {
    let mut delay = Duration::from_millis(250);
    for _ in 0..8 {
        match state.hub().version().await {
            Ok(version) => {
                tracing::info!(%version, "connected to JupyterHub");
                crate::application::startup_apps::reconcile_all(state.app()).await;
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, "JupyterHub not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}
