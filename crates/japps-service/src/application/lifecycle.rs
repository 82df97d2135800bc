//! The app lifecycle: create, start, edit, stop, delete and share.
//!
//! Every action runs with the acting user's own hub token, so the hub enforces that user's
//! permissions and records the user as the actor; japps never mints a token and never uses
//! its own privileges on a server a user names. Reads that only choose a name or look at
//! the current state use the service token, like every other read.
//!
//! An app is stored before anything else can fail, and never removed except on an explicit
//! delete: a failed start, a failed share or a failed edit leaves the app in place and
//! tells the caller what went wrong.

use std::time::Duration;

use japps_domain::{AppOptions, AppPolicy, naming};
use japps_hub::{
    HubCaller, HubError, ShareTarget, SpawnOutcome, StartServer, StopOutcome, fan_out,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::application::ApplicationError;
use crate::application::Caller;
use crate::application::Context;
use crate::application::thumbnails::{self, ThumbnailPolicy};

/// How many share grants run at once.
const SHARE_CONCURRENCY: usize = 10;
/// JupyterHub 6 keeps display names up to this many characters.
const MAX_DISPLAY_NAME: usize = 255;
/// How long an edit waits for a running app to stop before changing it.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// The JSON `data` of a create or edit request (jhub-apps' `ServerCreation`).
#[derive(Debug, Deserialize)]
pub(crate) struct AppRequest {
    #[serde(default)]
    pub(crate) servername: String,
    #[serde(default)]
    pub(crate) user_options: Map<String, Value>,
}

/// The thumbnail parts of a create or edit request.
#[derive(Debug, Default)]
pub(crate) struct ThumbnailInput {
    pub(crate) upload: Option<Vec<u8>>,
    /// A picture as a data URL: on edit the app's current thumbnail sent back by the form;
    /// on create one fetched from a git repository. Checked like an upload.
    pub(crate) data_url: Option<String>,
}

/// What a create or edit did: the hub's status for the start (or 200 when nothing was
/// started), the server name, and what did not work although the app is saved.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: u16,
    pub(crate) name: String,
    pub(crate) warnings: Vec<String>,
}

/// `POST server`: stores the app under a fresh name, shares it, starts it.
pub(crate) async fn create(
    context: &Context,
    caller: &Caller,
    request: AppRequest,
    thumbnail: ThumbnailInput,
) -> Result<Outcome, ApplicationError> {
    let me = caller.user.name.as_str();
    let (mut options, framework) = checked_options(context, request.user_options)?;
    let title = options.settle_title(&request.servername)?;
    let policy = ThumbnailPolicy::from_config(&context.settings().config);
    let thumbnail = match (thumbnail.upload, thumbnail.data_url) {
        (Some(bytes), _) => processed_upload(bytes, policy).await?,
        // The form sends the thumbnail a repository's configuration gave it as a data URL.
        (None, Some(url)) if !url.is_empty() => {
            off_workers(move || thumbnails::check_data_url(&url, &policy)).await?
        }
        _ => thumbnails::default_thumbnail(framework.name()),
    };
    options.thumbnail = Some(thumbnail);
    let shares = share_targets(&options);

    let hub = context.hub();
    let existing = hub.as_service().user(me, true).await?.servers;
    let name = naming::unique(&title, |candidate| existing.contains_key(candidate));
    options.name = Some(name.clone());
    options.jhub_app = Some(true);

    let as_user = hub.as_user(&caller.token);
    let store = StartServer {
        display_name: Some(hub_display_name(&title)),
        user_options: Some(options.to_map()),
    };
    let mut warnings = Vec::new();
    let status = if hub.version().await?.is_v6_or_later() {
        // 6.x can store the app without starting it: nothing is lost if the start fails.
        as_user.create_server(me, &name, &store).await?;
        warnings.extend(apply_shares(as_user, me, &name, &shares, false).await);
        start_reporting(as_user, me, &name, &StartServer::default(), &mut warnings).await
    } else {
        // 5.x stores the options only by starting with them.
        let status = start_reporting(as_user, me, &name, &store, &mut warnings).await;
        if status >= 400 && !server_exists(context, me, &name).await {
            let message = format!("the hub refused to create the app: {}", warnings.join("; "));
            return Err(match status {
                403 => ApplicationError::NotAllowed(message),
                404 => ApplicationError::NotFound(message),
                400..=499 => ApplicationError::Conflict(message),
                _ => ApplicationError::HubFailed(message),
            });
        }
        warnings.extend(apply_shares(as_user, me, &name, &shares, false).await);
        status
    };
    Ok(Outcome {
        status,
        name,
        warnings,
    })
}

/// `PUT server/{name}`: new options and shares for an existing app of the caller.
pub(crate) async fn edit(
    context: &Context,
    caller: &Caller,
    name: &str,
    request: AppRequest,
    thumbnail: ThumbnailInput,
) -> Result<Outcome, ApplicationError> {
    let me = caller.user.name.as_str();
    let hub = context.hub();
    let current = hub
        .as_service()
        .user(me, true)
        .await?
        .servers
        .remove(name)
        .ok_or_else(|| ApplicationError::NotFound(format!("server '{name}' not found")))?;

    let (mut options, framework) = checked_options(context, request.user_options)?;
    let title = options.settle_title(name)?;
    let policy = ThumbnailPolicy::from_config(&context.settings().config);
    let thumbnail = match (thumbnail.upload, thumbnail.data_url) {
        (Some(bytes), _) => processed_upload(bytes, policy).await?,
        // The app's own current thumbnail comes back unchanged: it was accepted before
        // (or by jhub-apps, whose stored thumbnails may not pass today's checks).
        (None, Some(url))
            if current
                .user_options
                .get("thumbnail")
                .and_then(Value::as_str)
                == Some(url.as_str()) =>
        {
            url
        }
        (None, Some(url)) if !url.is_empty() => {
            off_workers(move || thumbnails::check_data_url(&url, &policy)).await?
        }
        _ => thumbnails::default_thumbnail(framework.name()),
    };
    options.thumbnail = Some(thumbnail);
    options.name = Some(name.to_owned());
    options.jhub_app = Some(true);
    let shares = share_targets(&options);

    let as_user = hub.as_user(&caller.token);
    let update = StartServer {
        display_name: Some(hub_display_name(&title)),
        user_options: Some(options.to_map()),
    };
    let was_active = current.ready || current.pending.is_some();
    if was_active {
        as_user.stop_server(me, name, false).await?;
        wait_until_stopped(context, me, name).await?;
    }
    let mut warnings = Vec::new();
    let status = if hub.version().await?.is_v6_or_later() {
        as_user.update_server(me, name, &update).await?;
        if was_active {
            start_reporting(as_user, me, name, &StartServer::default(), &mut warnings).await
        } else {
            200
        }
    } else {
        // 5.x changes stored options only through a start with them (as jhub-apps did).
        start_reporting(as_user, me, name, &update, &mut warnings).await
    };
    warnings.extend(apply_shares(as_user, me, name, &shares, true).await);
    Ok(Outcome {
        status,
        name: name.to_owned(),
        warnings,
    })
}

/// `POST server/{name}[?owner=]`: starts an app with its stored options, as the caller.
/// Whether the caller may start another user's app is the hub's decision.
pub(crate) async fn start(
    context: &Context,
    caller: &Caller,
    owner: Option<&str>,
    name: &str,
) -> Result<u16, ApplicationError> {
    let owner = owner.unwrap_or(&caller.user.name);
    let result = context
        .hub()
        .as_user(&caller.token)
        .start_server(owner, name, &StartServer::default())
        .await;
    match result {
        Ok(outcome) => Ok(spawn_status(outcome)),
        // The hub answers 404 both for a missing server and for one the caller has no
        // rights on. A user the app is shared with knows it exists and hears why; anyone
        // else hears the same "not found" as for an app that does not exist (looked up on
        // this failure path only).
        Err(err)
            if err.is_not_found()
                && owner != caller.user.name
                && shared_with_caller(context, &caller.user.name, owner, name).await =>
        {
            Err(ApplicationError::NotAllowed(format!(
                "you are not allowed to start server '{name}' of {owner}"
            )))
        }
        Err(err) => Err(refusal(err, owner, name)),
    }
}

/// `DELETE server/{name}[?remove=true]`: stops (or deletes) one of the caller's servers.
pub(crate) async fn stop(
    context: &Context,
    caller: &Caller,
    name: &str,
    remove: bool,
) -> Result<u16, ApplicationError> {
    let me = caller.user.name.as_str();
    let outcome = context
        .hub()
        .as_user(&caller.token)
        .stop_server(me, name, remove)
        .await
        .map_err(|err| refusal(err, me, name))?;
    Ok(match outcome {
        StopOutcome::Stopped => 204,
        StopOutcome::Pending => 202,
    })
}

/// Decodes and scales an upload off the async workers: it can take a few hundred ms of CPU.
async fn processed_upload(
    bytes: Vec<u8>,
    policy: ThumbnailPolicy,
) -> Result<String, ApplicationError> {
    off_workers(move || thumbnails::data_url_from_upload(&bytes, &policy)).await
}

/// Runs a thumbnail's decoding on the blocking pool, in its turn. A panic there is a bug of
/// the service (500), not a fault of the request.
async fn off_workers<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApplicationError> + Send + 'static,
) -> Result<T, ApplicationError> {
    let _turn = thumbnails::decode_turn().await?;
    tokio::task::spawn_blocking(work).await.map_err(|err| {
        ApplicationError::Internal(format!("the thumbnail could not be processed: {err}"))
    })?
}

/// The app definition of a request, read and checked against the app rules and the
/// operator's policy.
fn checked_options(
    context: &Context,
    options: Map<String, Value>,
) -> Result<(AppOptions, japps_domain::frameworks::Framework), ApplicationError> {
    let options = AppOptions::parse(options)?;
    let framework = AppPolicy::from_config(&context.settings().config).check(&options)?;
    Ok((options, framework))
}

/// The title as JupyterHub 6 accepts a display name: printable, at most 255 characters.
fn hub_display_name(title: &str) -> String {
    let printable: String = title.chars().filter(|c| !c.is_control()).collect();
    let cut: String = printable.trim().chars().take(MAX_DISPLAY_NAME).collect();
    if cut.is_empty() { "app".into() } else { cut }
}

/// Whom the app is shared with, each once.
fn share_targets(options: &AppOptions) -> Vec<ShareTarget> {
    let users = options
        .share_users()
        .into_iter()
        .map(|user| ShareTarget::User(user.to_owned()));
    let groups = options
        .share_groups()
        .into_iter()
        .map(|group| ShareTarget::Group(group.to_owned()));
    users.chain(groups).collect()
}

/// Grants every share (after revoking the old ones when `replace`), concurrently; returns
/// one message per share that failed.
async fn apply_shares(
    as_user: HubCaller<'_>,
    owner: &str,
    name: &str,
    shares: &[ShareTarget],
    replace: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    if replace && let Err(err) = as_user.revoke_all_shares(owner, name).await {
        failures.push(format!(
            "could not revoke the previous shares: {}",
            hub_message(&err)
        ));
    }
    // Collected first: a lazy iterator of closures over borrowed names would make the
    // handler's future not `Send` for every lifetime axum asks for.
    let targets: Vec<ShareTarget> = shares.to_vec();
    let results = fan_out(targets, SHARE_CONCURRENCY, |target| async move {
        let result = as_user.share(owner, name, &target).await;
        (target, result)
    })
    .await;
    for (target, result) in results {
        if let Err(err) = result {
            let (kind, who) = match &target {
                ShareTarget::User(user) => ("user", user),
                ShareTarget::Group(group) => ("group", group),
            };
            failures.push(format!(
                "could not share with {kind} {who}: {}",
                hub_message(&err)
            ));
        }
    }
    failures
}

/// Starts a server; a refusal becomes a warning and its status, not an error, because the
/// app itself is saved.
async fn start_reporting(
    as_user: HubCaller<'_>,
    owner: &str,
    name: &str,
    request: &StartServer,
    warnings: &mut Vec<String>,
) -> u16 {
    match as_user.start_server(owner, name, request).await {
        Ok(outcome) => spawn_status(outcome),
        Err(err) => {
            warnings.push(format!(
                "the app is saved but did not start: {}",
                hub_message(&err)
            ));
            err.status().unwrap_or(502)
        }
    }
}

fn spawn_status(outcome: SpawnOutcome) -> u16 {
    match outcome {
        SpawnOutcome::Started => 201,
        SpawnOutcome::Pending => 202,
    }
}

/// Whether `owner`'s server `name` is shared with `me` (directly or through a group).
async fn shared_with_caller(context: &Context, me: &str, owner: &str, name: &str) -> bool {
    context
        .hub()
        .as_service()
        .shared_with(me)
        .await
        .is_ok_and(|shares| {
            shares
                .iter()
                .any(|share| share.server.user.name == owner && share.server.name == name)
        })
}

async fn server_exists(context: &Context, user: &str, name: &str) -> bool {
    context
        .hub()
        .as_service()
        .user(user, true)
        .await
        .is_ok_and(|model| model.servers.contains_key(name))
}

async fn wait_until_stopped(
    context: &Context,
    user: &str,
    name: &str,
) -> Result<(), ApplicationError> {
    let deadline = tokio::time::Instant::now() + STOP_WAIT;
    loop {
        let model = context.hub().as_service().user(user, true).await?;
        match model.servers.get(name) {
            Some(server) if server.stopped || (!server.ready && server.pending.is_none()) => {
                return Ok(());
            }
            None => {
                return Err(ApplicationError::NotFound(format!(
                    "server '{name}' not found"
                )));
            }
            Some(_) if tokio::time::Instant::now() > deadline => {
                return Err(ApplicationError::Conflict(format!(
                    "server '{name}' did not stop within {} s; try again",
                    STOP_WAIT.as_secs()
                )));
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// A hub refusal of an action, in the caller's terms.
fn refusal(err: HubError, owner: &str, name: &str) -> ApplicationError {
    match err.status() {
        Some(403) => ApplicationError::NotAllowed(format!(
            "you are not allowed to do this with server '{name}' of {owner}"
        )),
        Some(404) => ApplicationError::NotFound(format!("{owner} has no server named '{name}'")),
        Some(400 | 409) => ApplicationError::Conflict(hub_message(&err)),
        _ => err.into(),
    }
}

/// The hub's own words, without our call pattern.
fn hub_message(err: &HubError) -> String {
    match err {
        HubError::Status {
            message: Some(message),
            ..
        } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use japps_domain::AppError;

    use super::*;

    fn options(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn display_names_for_the_hub() {
        assert_eq!(hub_display_name(&"é".repeat(300)).chars().count(), 255);
        assert_eq!(hub_display_name("a\u{7}b"), "ab");
        assert_eq!(hub_display_name("a/b"), "a/b");
    }

    #[test]
    fn refusals_keep_their_meaning() {
        let bad = ApplicationError::from(AppError::Invalid("x".into()));
        assert!(matches!(bad, ApplicationError::Invalid(_)), "{bad:?}");
        let forbidden = ApplicationError::from(AppError::NotAllowed("y".into()));
        assert!(
            matches!(forbidden, ApplicationError::NotAllowed(_)),
            "{forbidden:?}"
        );
    }

    #[test]
    fn shares_are_listed_once() {
        let options = AppOptions::from_stored(options(
            serde_json::json!({"share_with": {"users": ["bob", "bob"], "groups": ["team"]}}),
        ));
        assert_eq!(
            share_targets(&options),
            [
                ShareTarget::User("bob".into()),
                ShareTarget::Group("team".into())
            ]
        );
    }

    #[tokio::test]
    async fn a_panic_while_decoding_is_a_server_error() {
        let err = off_workers(|| -> Result<(), ApplicationError> { panic!("decoder bug") })
            .await
            .unwrap_err();
        assert!(matches!(err, ApplicationError::Internal(_)), "{err:?}");
        let err = processed_upload(
            b"not an image".to_vec(),
            ThumbnailPolicy::from_config(&japps_domain::JAppsConfig::default()),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ApplicationError::Invalid(_)), "{err:?}");
    }
}
