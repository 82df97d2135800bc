//! Counting hub calls.
//!
//! The hub is the bottleneck of every JupyterHub, so japps promises a budget
//! of hub calls per service request (the budget the real-hub tests assert). Every call this crate makes is
//! counted here once, under its endpoint key (`GET /users/{name}`, not the
//! concrete path), *before* it is sent: an attempt that times out or fails
//! still cost the hub something.
//!
//! Two views:
//! - [`CallRecorder`]: process-wide totals per endpoint, lock-free, for
//!   `/metrics` and for tests that diff two snapshots;
//! - [`tally`]: the calls made by one future (one service request), for
//!   per-route metrics and budget assertions that hold under concurrency.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::endpoint::Endpoint;

/// Process-wide hub call counts. Cloning shares the counters.
#[derive(Clone, Default)]
pub struct CallRecorder {
    counters: Arc<[AtomicU64; Endpoint::ALL.len()]>,
}

impl CallRecorder {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn record(&self, endpoint: Endpoint) {
        self.counters[endpoint.index()].fetch_add(1, Ordering::Relaxed);
        record_in_tallies(endpoint);
    }

    /// The current counts of every endpoint called at least once.
    pub fn snapshot(&self) -> CallCounts {
        CallCounts(
            Endpoint::ALL
                .iter()
                .map(|e| (e.key(), self.counters[e.index()].load(Ordering::Relaxed)))
                .filter(|&(_, n)| n > 0)
                .map(|(key, n)| (key.to_owned(), n))
                .collect(),
        )
    }

    /// All calls so far.
    pub fn total(&self) -> u64 {
        self.counters
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Calls under one endpoint key (`"GET /users"`), or, given a bare path
    /// pattern (`"/users"`), under that path with any method.
    pub fn count(&self, pattern: &str) -> u64 {
        Endpoint::ALL
            .iter()
            .filter(|e| key_matches(e.key(), pattern))
            .map(|e| self.counters[e.index()].load(Ordering::Relaxed))
            .sum()
    }

    /// Every endpoint key the client can count under, called or not: lets a
    /// metrics exporter emit stable zero-valued series.
    pub fn patterns() -> impl Iterator<Item = &'static str> {
        Endpoint::ALL.iter().map(|e| e.key())
    }

    pub fn reset(&self) {
        for counter in self.counters.iter() {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

impl fmt::Debug for CallRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CallRecorder")
            .field(&self.snapshot())
            .finish()
    }
}

fn key_matches(key: &str, pattern: &str) -> bool {
    key == pattern || key.split_once(' ').is_some_and(|(_, path)| path == pattern)
}

/// Hub call counts per endpoint key (`"GET /users/{name}"`); endpoints with
/// no calls are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts(pub BTreeMap<String, u64>);

impl CallCounts {
    /// Calls under one endpoint key, or under a bare path with any method
    /// (same matching as [`CallRecorder::count`]).
    pub fn count(&self, pattern: &str) -> u64 {
        self.0
            .iter()
            .filter(|(key, _)| key_matches(key, pattern))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// The calls made since `earlier` (a snapshot of the same recorder).
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        CallCounts(
            self.0
                .iter()
                .map(|(key, &n)| {
                    (
                        key,
                        n.saturating_sub(earlier.0.get(key).copied().unwrap_or(0)),
                    )
                })
                .filter(|&(_, n)| n > 0)
                .map(|(key, n)| (key.clone(), n))
                .collect(),
        )
    }
}

/// One `pattern count` per line, sorted by pattern.
impl fmt::Display for CallCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, n) in &self.0 {
            writeln!(f, "{key} {n}")?;
        }
        Ok(())
    }
}

/// The calls of one [`tally`] scope; nested scopes also count into their parents.
#[derive(Debug)]
struct Tally {
    counts: Mutex<BTreeMap<&'static str, u64>>,
    parent: Option<Arc<Tally>>,
}

tokio::task_local! {
    static TALLY: Arc<Tally>;
}

/// Runs `fut` and returns, with its output, the hub calls it made (on its own
/// task, which includes [`fan_out`](crate::fan_out); not work it spawned).
/// Scopes nest: a call counts in every enclosing tally.
pub async fn tally<F: Future>(fut: F) -> (F::Output, CallCounts) {
    let scope = Arc::new(Tally {
        counts: Mutex::default(),
        parent: TALLY.try_with(Arc::clone).ok(),
    });
    let output = TALLY.scope(Arc::clone(&scope), fut).await;
    let counts = lock(&scope.counts)
        .iter()
        .map(|(key, &n)| ((*key).to_owned(), n))
        .collect();
    (output, CallCounts(counts))
}

fn record_in_tallies(endpoint: Endpoint) {
    let _ = TALLY.try_with(|innermost| {
        let mut scope = Some(innermost);
        while let Some(tally) = scope {
            *lock(&tally.counts).entry(endpoint.key()).or_default() += 1;
            scope = tally.parent.as_ref();
        }
    });
}

/// A panic elsewhere while holding the lock cannot leave a count map invalid,
/// so a poisoned lock is still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_per_path() {
        let recorder = CallRecorder::new();
        recorder.record(Endpoint::ListUsers);
        recorder.record(Endpoint::ListUsers);
        recorder.record(Endpoint::CreateUsers);
        recorder.record(Endpoint::GetUser);
        assert_eq!(recorder.count("GET /users"), 2);
        assert_eq!(recorder.count("/users"), 3);
        assert_eq!(recorder.count("GET /users/{name}"), 1);
        assert_eq!(recorder.count("GET /nothing"), 0);
        assert_eq!(recorder.total(), 4);

        let clone = recorder.clone();
        clone.reset();
        assert_eq!(recorder.total(), 0);
        assert!(recorder.snapshot().is_empty());
    }

    #[test]
    fn snapshot_diff_and_display() {
        let recorder = CallRecorder::new();
        recorder.record(Endpoint::GetUser);
        let before = recorder.snapshot();
        recorder.record(Endpoint::GetUser);
        recorder.record(Endpoint::ListShared);
        recorder.record(Endpoint::ListShared);
        let between = recorder.snapshot().since(&before);
        assert_eq!(between.total(), 3);
        assert_eq!(
            between.to_string(),
            "GET /users/{name} 1\nGET /users/{name}/shared 2\n"
        );
        assert_eq!(
            recorder.snapshot().since(&recorder.snapshot()),
            CallCounts::default()
        );
    }

    #[test]
    fn patterns_lists_every_endpoint() {
        let patterns: Vec<_> = CallRecorder::patterns().collect();
        assert!(patterns.contains(&"GET /"));
        assert!(patterns.contains(&"POST /users/{name}/servers/{server}"));
        assert_eq!(patterns.len(), Endpoint::ALL.len());
    }

    #[tokio::test]
    async fn tally_counts_only_its_own_calls_and_nests() {
        let recorder = CallRecorder::new();
        recorder.record(Endpoint::Root);
        let ((_, inner), outer) = tally(async {
            recorder.record(Endpoint::GetUser);
            tally(async { recorder.record(Endpoint::ListShared) }).await
        })
        .await;
        assert_eq!(inner.to_string(), "GET /users/{name}/shared 1\n");
        assert_eq!(outer.total(), 2);
        assert_eq!(outer.count("GET /users/{name}"), 1);
        assert_eq!(recorder.total(), 3);
    }
}
