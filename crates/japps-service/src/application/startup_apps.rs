//! Startup apps (`c.JAppsConfig.startup_apps`): when the service starts, each configured
//! app must exist, stopped, with exactly the configured options and shares.
//!
//! Reconciliation compares first and writes only what differs, so a second run (a restart,
//! a second replica) changes nothing. Several replicas starting at once need no shared
//! store: on 6.x creating a server is atomic, so the replica whose create the hub refuses
//! (409) leaves that app to the one that got there first; on 5.x, where two starts of a
//! new server both succeed, replicas wait a random moment first, so one usually finds the
//! other's work done or in progress. An app found starting or stopping is left alone;
//! shares found different are confirmed a moment later before they are corrected. A
//! running app with the configured options keeps running. Users are handled concurrently, each user's apps in
//! order (jhub-apps grouped them without sorting, so items of one user could race). It runs
//! with the service's own token: no user is online to act. Hub errors are retried.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use japps_domain::{AppOptions, AppPolicy, StartupApp};
use japps_hub::{HubCaller, HubError, ShareItem, ShareTarget, StartServer, fan_out};
use serde_json::{Map, Value};

use crate::application::Context;
use crate::application::thumbnails;

const ATTEMPTS: u32 = 5;
const FIRST_DELAY: Duration = Duration::from_millis(500);
const USER_CONCURRENCY: usize = 4;
const WAIT: Duration = Duration::from_secs(60);
/// The longest random wait before reconciling against a 5.x hub.
const SPREAD_5X: Duration = Duration::from_secs(3);
/// How long an existing app's shares must stay different before they are corrected.
const CONFIRM_DELAY: Duration = Duration::from_secs(1);

/// What reconciling one app did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reconciled {
    Unchanged,
    Updated,
    /// Being started or stopped when it was looked at: checked again next time.
    Busy,
    /// Another replica created or started it first; that one finishes it.
    ClaimedElsewhere,
    Failed,
}

/// Reconciles every configured startup app; logs one line per app and a summary.
pub(crate) async fn reconcile_all(context: &Context) -> Vec<Reconciled> {
    let apps = &context.settings().config.startup_apps;
    if apps.is_empty() {
        return Vec::new();
    }
    let (apps, invalid) = prepared(apps, &AppPolicy::for_operator(&context.settings().config));
    if context
        .hub()
        .version()
        .await
        .is_ok_and(|version| !version.is_v6_or_later())
    {
        // 5.x has no atomic create: two starts of a new server at the same moment both
        // succeed. Replicas started together spread out so one usually finds the other's
        // work done, or in progress (left alone); when they still meet, both store the same
        // options and the result is the same.
        tokio::time::sleep(random_offset(SPREAD_5X)).await;
    }
    let mut by_user: BTreeMap<&str, Vec<&StartupApp>> = BTreeMap::new();
    for app in &apps {
        by_user.entry(app.username.as_str()).or_default().push(app);
    }
    let groups: Vec<Vec<StartupApp>> = by_user
        .into_values()
        .map(|apps| apps.into_iter().cloned().collect())
        .collect();
    let results = fan_out(groups, USER_CONCURRENCY, |apps| async move {
        let mut results = Vec::new();
        for app in &apps {
            results.push(reconcile_with_retries(context, app).await);
        }
        results
    })
    .await;
    let results: Vec<Reconciled> = results
        .into_iter()
        .flatten()
        .chain(std::iter::repeat_n(Reconciled::Failed, invalid))
        .collect();
    let count = |kind| results.iter().filter(|r| **r == kind).count();
    tracing::info!(
        unchanged = count(Reconciled::Unchanged),
        updated = count(Reconciled::Updated),
        failed = count(Reconciled::Failed),
        busy = count(Reconciled::Busy),
        claimed_elsewhere = count(Reconciled::ClaimedElsewhere),
        "startup apps reconciled"
    );
    results
}

/// A random duration in `[0, max)`, in whole milliseconds.
fn random_offset(max: Duration) -> Duration {
    let mut bytes = [0_u8; 8];
    // Without randomness the replicas simply do not spread out.
    if getrandom::fill(&mut bytes).is_err() {
        return Duration::ZERO;
    }
    let millis = u64::try_from(max.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(u64::from_le_bytes(bytes) % millis)
}

async fn reconcile_with_retries(context: &Context, app: &StartupApp) -> Reconciled {
    let (user, server) = (app.username.as_str(), app.servername.as_str());
    let outcome = retry(
        ATTEMPTS,
        FIRST_DELAY,
        || reconcile(context, app),
        // A missing user or a name the hub refuses will not get better by waiting.
        |err: &HubError| matches!(err.status(), Some(400 | 404)),
        |attempt, err| {
            tracing::warn!(user, server, attempt, error = %err, "startup app: retrying");
        },
    )
    .await;
    match outcome {
        Ok(outcome) => {
            tracing::info!(user, server, ?outcome, "startup app");
            outcome
        }
        Err(GaveUp::Permanent(err)) => {
            tracing::error!(user, server, error = %err, "startup app cannot be created");
            Reconciled::Failed
        }
        Err(GaveUp::Exhausted { attempts, last }) => {
            tracing::warn!(user, server, attempts, error = %last, "startup app not reconciled; giving up after every attempt failed");
            Reconciled::Failed
        }
    }
}

/// Why [`retry`] stopped without a value.
#[derive(Debug, PartialEq, Eq)]
enum GaveUp<E> {
    /// An error that retrying cannot fix.
    Permanent(E),
    /// Every attempt failed; the last error.
    Exhausted { attempts: u32, last: E },
}

/// Runs `operation` up to `attempts` times, waiting `first_delay` after the first failure
/// and twice as long after each further one, but never after the last attempt.
/// `on_retry` hears of each failure that is retried.
async fn retry<T, E, F, Fut>(
    attempts: u32,
    first_delay: Duration,
    mut operation: F,
    permanent: impl Fn(&E) -> bool,
    mut on_retry: impl FnMut(u32, &E),
) -> Result<T, GaveUp<E>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let attempts = attempts.max(1);
    let mut delay = first_delay;
    let mut attempt = 1;
    loop {
        match operation().await {
            Ok(value) => return Ok(value),
            Err(err) if permanent(&err) => return Err(GaveUp::Permanent(err)),
            Err(last) if attempt == attempts => {
                return Err(GaveUp::Exhausted { attempts, last });
            }
            Err(err) => {
                on_retry(attempt, &err);
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2);
                attempt += 1;
            }
        }
    }
}

/// The startup apps whose definitions pass the checks every app passes, with their options
/// normalised the way `POST server` stores them, and how many were skipped (each logged:
/// the hub would only be asked to store an app that cannot run).
fn prepared(apps: &[StartupApp], policy: &AppPolicy) -> (Vec<StartupApp>, usize) {
    let mut valid = Vec::new();
    for app in apps {
        match desired_options(app, policy) {
            Ok(user_options) => valid.push(StartupApp {
                user_options,
                ..app.clone()
            }),
            Err(reason) => {
                tracing::error!(user = %app.username, server = %app.servername, %reason, "startup app skipped: its definition is invalid or not allowed");
            }
        }
    }
    let skipped = apps.len() - valid.len();
    (valid, skipped)
}

/// The options as stored, normalised the way `POST server` stores them.
fn desired_options(
    app: &StartupApp,
    policy: &AppPolicy,
) -> Result<Map<String, Value>, japps_domain::AppError> {
    let mut options = AppOptions::parse(app.user_options.clone())?;
    let framework = policy.check(&options)?;
    options.settle_title(&app.servername)?;
    options.jhub_app = Some(true);
    options.name = Some(app.servername.clone());
    if options.thumbnail().is_none() {
        options.thumbnail = Some(thumbnails::default_thumbnail(framework.name()));
    }
    Ok(options.to_map())
}

fn desired_shares(options: &Map<String, Value>) -> BTreeSet<ShareKey> {
    let options = AppOptions::from_stored(options.clone());
    let users = options
        .share_users()
        .into_iter()
        .map(|user| ShareKey::User(user.to_owned()));
    let groups = options
        .share_groups()
        .into_iter()
        .map(|group| ShareKey::Group(group.to_owned()));
    users.chain(groups).collect()
}

/// One grantee of a share, ordered so sets of them compare and diff cheaply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ShareKey {
    Group(String),
    User(String),
}

impl ShareKey {
    fn target(&self) -> ShareTarget {
        match self {
            Self::User(name) => ShareTarget::User(name.clone()),
            Self::Group(name) => ShareTarget::Group(name.clone()),
        }
    }
}

fn current_shares(items: &[ShareItem]) -> BTreeSet<ShareKey> {
    items
        .iter()
        .filter_map(|item| match (&item.user, &item.group) {
            (Some(user), _) => Some(ShareKey::User(user.name.clone())),
            (None, Some(group)) => Some(ShareKey::Group(group.name.clone())),
            _ => None,
        })
        .collect()
}

async fn reconcile(context: &Context, app: &StartupApp) -> Result<Reconciled, HubError> {
    let hub = context.hub();
    let service = hub.as_service();
    let (user, server) = (app.username.as_str(), app.servername.as_str());
    // Checked and normalised by `prepared`.
    let options = app.user_options.clone();
    let title = options
        .get("display_name")
        .and_then(Value::as_str)
        .unwrap_or(server)
        .to_owned();
    let v6 = hub.version().await?.is_v6_or_later();

    let existing = service.user(user, true).await?.servers.remove(server);
    if let Some(pending) = existing.as_ref().and_then(|s| s.pending.as_deref()) {
        // Someone is starting or stopping it right now: its owner, or another replica
        // storing these very options. Judging it mid-way would undo their work.
        tracing::info!(user, server, pending, "startup app is busy; left as it is");
        return Ok(Reconciled::Busy);
    }
    let options_match = existing.as_ref().is_some_and(|s| {
        s.user_options == options && (!v6 || s.display_name.as_deref() == Some(title.as_str()))
    });
    let running = existing.as_ref().is_some_and(|s| s.ready && !s.stopped);
    let mut changed = false;
    // 5.x stores options only by starting the server: it is stopped again at the end.
    let mut stop_after = false;

    if !options_match {
        if running {
            // Neither 6.x nor 5.x changes the options of a running server.
            service.stop_server(user, server, false).await?;
            wait(&service, user, server, |s| s.stopped).await?;
        }
        let store = StartServer {
            display_name: Some(title.clone()),
            user_options: Some(options.clone()),
        };
        let stored = match (v6, existing.is_some()) {
            (true, true) => service.update_server(user, server, &store).await.map(drop),
            // 6.x stores options without starting anything.
            (true, false) => service.create_server(user, server, &store).await,
            (false, _) => service.start_server(user, server, &store).await.map(drop),
        };
        if let Err(err) = stored {
            // When another replica got there first the hub refuses ours: 409 from a 6.x
            // create, 400 from a 5.x start of a server that is stopping or running.
            if matches!(err.status(), Some(400 | 409))
                && claimed_elsewhere(&service, user, server, existing.is_some()).await?
            {
                tracing::info!(
                    user,
                    server,
                    "startup app is being written by another replica"
                );
                return Ok(Reconciled::ClaimedElsewhere);
            }
            return Err(err);
        }
        stop_after = !v6;
        changed = true;
    }

    // Shares right after the options, before 5.x waits for the start: another replica
    // that finds the app between the two steps sees it shared as configured soon after.
    changed |= reconcile_shares(&service, user, server, &options, existing.is_some()).await?;

    if stop_after {
        wait(&service, user, server, |s| s.ready || s.stopped).await?;
        service.stop_server(user, server, false).await?;
        wait(&service, user, server, |s| s.stopped).await?;
    }
    Ok(if changed {
        Reconciled::Updated
    } else {
        Reconciled::Unchanged
    })
}

/// After the hub refused to create or start the server: whether someone else has just
/// done it (it exists now, or is starting) rather than the request being wrong.
async fn claimed_elsewhere(
    service: &HubCaller<'_>,
    user: &str,
    server: &str,
    existed: bool,
) -> Result<bool, HubError> {
    let now = service.user(user, true).await?.servers.remove(server);
    Ok(match now {
        None => false,
        Some(now) => !existed || now.pending.is_some() || now.ready,
    })
}

/// Grants what is configured and missing, revokes what is there and not configured; true
/// when anything was written.
async fn reconcile_shares(
    service: &HubCaller<'_>,
    user: &str,
    server: &str,
    options: &Map<String, Value>,
    existed: bool,
) -> Result<bool, HubError> {
    let want = desired_shares(options);
    let read =
        || async { Ok::<_, HubError>(current_shares(&service.server_shares(user, server).await?)) };
    let mut have = if existed {
        read().await?
    } else {
        BTreeSet::new()
    };
    if want == have {
        return Ok(false);
    }
    if existed {
        // Another replica may have created this app a moment ago and be granting its
        // shares one by one: confirm the difference before correcting it.
        tokio::time::sleep(CONFIRM_DELAY).await;
        have = read().await?;
        if want == have {
            return Ok(false);
        }
    }
    for extra in have.difference(&want) {
        service.revoke_share(user, server, &extra.target()).await?;
    }
    for missing in want.difference(&have) {
        if let Err(err) = service.share(user, server, &missing.target()).await {
            tracing::warn!(user, server, target = ?missing, error = %err, "startup app: share failed");
        }
    }
    Ok(true)
}

async fn wait(
    service: &HubCaller<'_>,
    user: &str,
    server: &str,
    done: impl Fn(&japps_hub::Server) -> bool,
) -> Result<(), HubError> {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        let model = service.user(user, true).await?;
        if model.servers.get(server).is_some_and(&done) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(HubError::Config(format!(
        "{user}/{server} did not reach the expected state in time"
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn options_are_normalised_like_created_apps() {
        let app = StartupApp {
            username: "alice".into(),
            servername: "welcome".into(),
            user_options:
                json!({"framework": "panel", "share_with": {"users": ["bob"], "groups": ["team"]}})
                    .as_object()
                    .unwrap()
                    .clone(),
        };
        let options = desired_options(&app, &AppPolicy::for_operator(&Default::default())).unwrap();
        assert_eq!(options["jhub_app"], true);
        assert_eq!(options["name"], "welcome");
        assert_eq!(options["display_name"], "welcome");
        assert!(
            options["thumbnail"]
                .as_str()
                .unwrap()
                .starts_with("data:image/")
        );
        assert_eq!(
            desired_shares(&options),
            BTreeSet::from([ShareKey::Group("team".into()), ShareKey::User("bob".into())])
        );
    }

    #[test]
    fn invalid_apps_are_skipped() {
        let app = |server: &str, options: Value| StartupApp {
            username: "alice".into(),
            servername: server.into(),
            user_options: options.as_object().unwrap().clone(),
        };
        let apps = [
            app(
                "ok",
                json!({"framework": "custom", "custom_command": "run {port}",
                             "display_name": " Spaced / Title "}),
            ),
            app("no-command", json!({"framework": "custom"})),
            app(
                "bad-env",
                json!({"framework": "panel", "env": {"JUPYTERHUB_API_URL": "x"}}),
            ),
            app(
                "lab-shared",
                json!({"framework": "jupyterlab", "share_with": {"users": ["bob"]}}),
            ),
        ];
        let config = japps_domain::JAppsConfig {
            blocked_frameworks: Some(vec!["custom".into()]),
            ..Default::default()
        };
        let (valid, skipped) = prepared(&apps, &AppPolicy::for_operator(&config));
        assert_eq!(skipped, 3);
        assert_eq!(valid.len(), 1);
        assert_eq!(valid[0].servername, "ok");
        assert_eq!(valid[0].user_options["display_name"], "Spaced / Title");
    }

    #[test]
    fn public_and_keep_alive_startup_apps_follow_the_operators_policy() {
        let app = |name: &str, options: Value| StartupApp {
            username: "alice".into(),
            servername: name.into(),
            user_options: options.as_object().unwrap().clone(),
        };
        let apps = [
            app("open", json!({"framework": "panel", "public": true})),
            app("awake", json!({"framework": "panel", "keep_alive": true})),
            app("plain", json!({"framework": "panel"})),
        ];
        let (valid, skipped) = prepared(&apps, &AppPolicy::for_operator(&Default::default()));
        assert_eq!((valid.len(), skipped), (3, 0), "allowed by default");
        let config = japps_domain::JAppsConfig {
            allow_public_apps: false,
            allow_keep_alive: false,
            ..Default::default()
        };
        let (valid, skipped) = prepared(&apps, &AppPolicy::for_operator(&config));
        assert_eq!(skipped, 2);
        assert_eq!(valid[0].servername, "plain");
    }

    #[tokio::test(start_paused = true)]
    async fn retries_wait_between_attempts_and_not_after_the_last() {
        let calls = std::cell::Cell::new(0);
        let mut retried = Vec::new();
        let started = tokio::time::Instant::now();
        let outcome: Result<(), _> = retry(
            4,
            Duration::from_secs(1),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { Err(format!("hub down ({n})")) }
            },
            |_| false,
            |attempt, err: &String| retried.push((attempt, err.clone())),
        )
        .await;
        assert_eq!(
            outcome,
            Err(GaveUp::Exhausted {
                attempts: 4,
                last: "hub down (4)".to_owned()
            })
        );
        assert_eq!(calls.get(), 4);
        assert_eq!(
            retried.len(),
            3,
            "no retry is announced after the last attempt"
        );
        // 1 + 2 + 4 s of waiting between four attempts, none after the last.
        assert_eq!(started.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_success_or_at_a_permanent_error() {
        let calls = std::cell::Cell::new(0);
        let outcome = retry(
            5,
            Duration::from_secs(1),
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { if n < 3 { Err(500) } else { Ok(n) } }
            },
            |status: &u16| *status == 404,
            |_, _| {},
        )
        .await;
        assert_eq!(outcome, Ok(3));

        let started = tokio::time::Instant::now();
        let outcome: Result<(), _> = retry(
            5,
            Duration::from_secs(1),
            || async { Err(404_u16) },
            |s| *s == 404,
            |_, _| {},
        )
        .await;
        assert_eq!(outcome, Err(GaveUp::Permanent(404)));
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}
