//! Joining an upgraded (WebSocket) connection of the visitor to the app's.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::activity::Activity;

/// A busy socket would otherwise touch the activity clock for every frame.
const TOUCH_EVERY: Duration = Duration::from_secs(1);

/// Once both upgrades complete (the visitor's after hyper has sent it the `101`), copies
/// bytes both ways until either side closes. Runs in a task of its own: the `101` has to
/// be returned before the visitor's side can upgrade.
pub(super) fn join(visitor: OnUpgrade, app: OnUpgrade, activity: Arc<Activity>) {
    tokio::spawn(async move {
        let (visitor, app) = match tokio::try_join!(visitor, app) {
            Ok(both) => both,
            Err(err) => {
                tracing::debug!("WebSocket upgrade failed: {err}");
                return;
            }
        };
        let mut visitor = TouchingIo::new(TokioIo::new(visitor), activity);
        let mut app = TokioIo::new(app);
        match tokio::io::copy_bidirectional(&mut visitor, &mut app).await {
            Ok((up, down)) => tracing::trace!("WebSocket closed after {up} bytes up, {down} down"),
            // Resets and abrupt closes are how many WebSockets end.
            Err(err) => tracing::debug!("WebSocket ended: {err}"),
        }
    });
}

/// IO that marks `activity` when bytes are read or written through it, at most once per
/// [`TOUCH_EVERY`]. Wrapping the visitor's side sees both directions.
#[derive(Debug)]
pub(super) struct TouchingIo<T> {
    io: T,
    activity: Arc<Activity>,
    next_touch: Instant,
}

impl<T> TouchingIo<T> {
    pub(super) fn new(io: T, activity: Arc<Activity>) -> Self {
        Self {
            io,
            activity,
            next_touch: Instant::now(),
        }
    }

    fn moved(&mut self) {
        let now = Instant::now();
        if now >= self.next_touch {
            self.activity.touch();
            self.next_touch = now + TOUCH_EVERY;
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TouchingIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.moved();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TouchingIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.moved();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.moved();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_and_writes_touch_at_most_once_a_second() {
        let activity = Arc::new(Activity::new());
        let (near, mut far) = tokio::io::duplex(64);
        let mut io = TouchingIo::new(near, Arc::clone(&activity));

        io.write_all(b"ping").await.unwrap();
        let first = activity.last().unwrap();
        let mut buf = [0u8; 4];
        far.read_exact(&mut buf).await.unwrap();

        // Within the second: no new touch however much moves.
        tokio::time::sleep(Duration::from_millis(20)).await;
        far.write_all(b"pong").await.unwrap();
        io.read_exact(&mut buf).await.unwrap();
        assert_eq!(activity.last(), Some(first));

        tokio::time::sleep(TOUCH_EVERY).await;
        far.write_all(b"pong").await.unwrap();
        io.read_exact(&mut buf).await.unwrap();
        assert!(activity.last().unwrap() > first);
    }
}
