//! The request id sent to the hub as `X-Request-Id`.
//!
//! The service wraps each incoming request in [`scope`]; every hub call made
//! inside it (including those run concurrently by [`fan_out`](crate::fan_out),
//! which stays on the same task) then carries the service's request id, so one
//! id ties the service log to the hub log. Work spawned onto another task
//! (`tokio::spawn`) must be wrapped in its own `scope`.

use std::future::Future;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `fut` with `id` as the current request id.
pub async fn scope<F: Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// The request id of the enclosing [`scope`], if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The id for one hub call: the scoped one, else a fresh one so that
/// background calls can still be found in the hub log.
pub(crate) fn for_call() -> String {
    current().unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn scoped_id_is_visible_inside_only() {
        assert_eq!(current(), None);
        let inside = scope("req-1".into(), async { current() }).await;
        assert_eq!(inside.as_deref(), Some("req-1"));
        assert_eq!(current(), None);
    }

    #[tokio::test]
    async fn unscoped_calls_get_fresh_ids() {
        let (a, b) = (for_call(), for_call());
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
