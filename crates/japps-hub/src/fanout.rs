//! Bounded concurrency for independent hub calls of one request.

use std::future::Future;

use futures::StreamExt as _;

/// Runs `f` on every item with at most `limit` futures in flight and returns
/// the outputs in input order (not completion order).
///
/// The futures run on the caller's task (no spawning), so a
/// [`request_id::scope`](crate::request_id::scope) or
/// [`tally`](crate::tally) around the caller covers them, and dropping the
/// returned future cancels them all. A `limit` of 0 is treated as 1.
pub async fn fan_out<I, T, F, Fut>(items: I, limit: usize, f: F) -> Vec<Fut::Output>
where
    I: IntoIterator<Item = T>,
    F: FnMut(T) -> Fut,
    Fut: Future,
{
    futures::stream::iter(items)
        .map(f)
        .buffered(limit.max(1))
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn never_exceeds_limit_and_keeps_order() {
        let in_flight = AtomicUsize::new(0);
        let max_seen = AtomicUsize::new(0);
        let outputs = fan_out(0..25u64, 4, |i| {
            let (in_flight, max_seen) = (&in_flight, &max_seen);
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                max_seen.fetch_max(now, Ordering::SeqCst);
                // Later items finish first, so completion order differs from input order.
                tokio::time::sleep(Duration::from_millis(25 - i)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                i * 10
            }
        })
        .await;
        assert_eq!(outputs, (0..25).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(max_seen.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn zero_limit_still_makes_progress() {
        let outputs = fan_out(["a", "b"], 0, |s| async move { s.len() }).await;
        assert_eq!(outputs, vec![1, 1]);
    }
}
