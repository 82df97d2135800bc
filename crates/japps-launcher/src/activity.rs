//! Activity: when the app was last used, and reporting it to the hub.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The time of the last proxied traffic (milliseconds since the epoch; 0 = none yet).
/// Cheap to touch from every request and WebSocket frame.
#[derive(Debug, Default)]
pub struct Activity {
    last_millis: AtomicI64,
}

impl Activity {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records traffic now.
    pub fn touch(&self) {
        self.last_millis.store(now_millis(), Ordering::Relaxed);
    }

    /// Milliseconds since the epoch of the last traffic, if any.
    pub fn last(&self) -> Option<i64> {
        match self.last_millis.load(Ordering::Relaxed) {
            0 => None,
            millis => Some(millis),
        }
    }
}

pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
