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

/// Reports activity to the hub every `interval`: the last proxied traffic if there was
/// any since the previous report, or "now" for keep-alive apps. Runs until dropped.
pub async fn report(
    activity: std::sync::Arc<Activity>,
    hub: japps_hub::HubClient,
    user: String,
    server: String,
    interval: std::time::Duration,
    keep_alive: bool,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; the first report is one interval after start.
    ticker.tick().await;
    let mut reported: Option<i64> = None;
    loop {
        ticker.tick().await;
        let when = if keep_alive {
            Some(now_millis())
        } else {
            activity
                .last()
                .filter(|last| reported.is_none_or(|prev| *last > prev))
        };
        let Some(when) = when else { continue };
        let Some(stamp) = rfc3339(when) else { continue };
        match hub.as_service().post_activity(&user, &server, &stamp).await {
            Ok(()) => {
                reported = Some(when);
                tracing::debug!("activity reported: {stamp}");
            }
            // The hub may be restarting; the next tick tries again with newer news.
            Err(err) => tracing::warn!("cannot report activity to the hub: {err}"),
        }
    }
}

/// Milliseconds since the epoch as the hub's ISO 8601 UTC form.
fn rfc3339(millis: i64) -> Option<String> {
    let nanos = i128::from(millis) * 1_000_000;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_moves_the_clock() {
        let activity = Activity::new();
        assert_eq!(activity.last(), None);
        activity.touch();
        let first = activity.last().unwrap();
        assert!(first > 1_600_000_000_000);
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_764_230_400_123).unwrap(),
            "2025-11-27T08:00:00.123Z"
        );
    }
}
