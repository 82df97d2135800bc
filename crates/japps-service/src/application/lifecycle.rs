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

use japps_domain::naming;
use japps_hub::{
    HubCaller, HubError, ShareTarget, SpawnOutcome, StartServer, StopOutcome, fan_out,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::application::thumbnails::{self, ThumbnailPolicy};
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::state::AppState;

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
    /// Edit only: the app's current thumbnail, sent back by the form.
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

/// `share_with` of an app.
#[derive(Debug, Default, Deserialize)]
struct ShareWith {
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// `POST server`: stores the app under a fresh name, shares it, starts it.
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    request: AppRequest,
    thumbnail: ThumbnailInput,
) -> Result<Outcome, ServiceError> {
    let me = caller.user.name.as_str();
    let mut options = validated_options(state, request.user_options)?;
    let title = display_title(&options, &request.servername)?;
    options.insert("display_name".into(), Value::String(title.clone()));
    let policy = ThumbnailPolicy::from_config(&state.settings().config);
    let framework = framework(&options).to_owned();
    let thumbnail = match thumbnail.upload {
        Some(bytes) => processed_upload(bytes, policy).await?,
        None => thumbnails::default_thumbnail(&framework),
    };
    options.insert("thumbnail".into(), Value::String(thumbnail));
    let shares = share_targets(&options)?;

    let hub = state.hub();
    let existing = hub.as_service().user(me, true).await?.servers;
    let name = naming::unique(&title, |candidate| existing.contains_key(candidate));
    options.insert("name".into(), Value::String(name.clone()));
    options.insert("jhub_app".into(), Value::Bool(true));

    let as_user = hub.as_user(&caller.token);
    let store = StartServer {
        display_name: Some(hub_display_name(&title)),
        user_options: Some(options),
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
        if status >= 400 && !server_exists(state, me, &name).await {
            let message = format!("the hub refused to create the app: {}", warnings.join("; "));
            return Err(match status {
                403 => ServiceError::Forbidden(message),
                404 => ServiceError::NotFound(message),
                400..=499 => ServiceError::Conflict(message),
                _ => ServiceError::BadGateway(message),
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
    state: &AppState,
    caller: &Caller,
    name: &str,
    request: AppRequest,
    thumbnail: ThumbnailInput,
) -> Result<Outcome, ServiceError> {
    let me = caller.user.name.as_str();
    let hub = state.hub();
    let current = hub
        .as_service()
        .user(me, true)
        .await?
        .servers
        .remove(name)
        .ok_or_else(|| ServiceError::NotFound(format!("server '{name}' not found")))?;

    let mut options = validated_options(state, request.user_options)?;
    let title = display_title(&options, name)?;
    options.insert("display_name".into(), Value::String(title.clone()));
    let policy = ThumbnailPolicy::from_config(&state.settings().config);
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
        (None, Some(url)) if !url.is_empty() => thumbnails::check_data_url(&url, &policy)?,
        _ => thumbnails::default_thumbnail(framework(&options)),
    };
    options.insert("thumbnail".into(), Value::String(thumbnail));
    options.insert("name".into(), Value::String(name.to_owned()));
    options.insert("jhub_app".into(), Value::Bool(true));
    let shares = share_targets(&options)?;

    let as_user = hub.as_user(&caller.token);
    let update = StartServer {
        display_name: Some(hub_display_name(&title)),
        user_options: Some(options),
    };
    let was_active = current.ready || current.pending.is_some();
    if was_active {
        as_user.stop_server(me, name, false).await?;
        wait_until_stopped(state, me, name).await?;
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
    state: &AppState,
    caller: &Caller,
    owner: Option<&str>,
    name: &str,
) -> Result<u16, ServiceError> {
    let owner = owner.unwrap_or(&caller.user.name);
    let result = state
        .hub()
        .as_user(&caller.token)
        .start_server(owner, name, &StartServer::default())
        .await;
    match result {
        Ok(outcome) => Ok(spawn_status(outcome)),
        // The hub answers 404 both for a missing server and for one the caller has no
        // rights on; on this failure path only, the service looks which one it is.
        Err(err)
            if err.is_not_found()
                && owner != caller.user.name
                && server_exists(state, owner, name).await =>
        {
            Err(ServiceError::Forbidden(format!(
                "you are not allowed to start server '{name}' of {owner}"
            )))
        }
        Err(err) => Err(refusal(err, owner, name)),
    }
}

/// `DELETE server/{name}[?remove=true]`: stops (or deletes) one of the caller's servers.
pub(crate) async fn stop(
    state: &AppState,
    caller: &Caller,
    name: &str,
    remove: bool,
) -> Result<u16, ServiceError> {
    let me = caller.user.name.as_str();
    let outcome = state
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
async fn processed_upload(bytes: Vec<u8>, policy: ThumbnailPolicy) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || thumbnails::data_url_from_upload(&bytes, &policy))
        .await
        .map_err(|err| {
            ServiceError::BadRequest(format!("the thumbnail could not be processed: {err}"))
        })?
}

/// The user options as sent, checked: the framework is allowed, custom images only when
/// the operator allows them, and fields have the types jhub-apps stores.
fn validated_options(
    state: &AppState,
    options: Map<String, Value>,
) -> Result<Map<String, Value>, ServiceError> {
    let framework = options
        .get("framework")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ServiceError::BadRequest("user_options.framework is required".into()))?;
    if !state.catalog().framework_policy().allows(framework) {
        return Err(ServiceError::Forbidden(format!(
            "Given framework \"{framework}\" is not allowed on this deployment, please contact admin."
        )));
    }
    let custom_image = options
        .get("profile_image")
        .and_then(Value::as_str)
        .is_some_and(|image| !image.trim().is_empty());
    if custom_image && !state.settings().config.allow_profile_image {
        return Err(ServiceError::Forbidden(
            "custom images (profile_image) are not allowed on this deployment".into(),
        ));
    }
    for field in [
        "display_name",
        "description",
        "filepath",
        "custom_command",
        "conda_env",
        "profile",
        "profile_image",
    ] {
        if let Some(value) = options.get(field)
            && !(value.is_string() || value.is_null())
        {
            return Err(ServiceError::BadRequest(format!(
                "user_options.{field} must be a string"
            )));
        }
    }
    for field in ["public", "keep_alive"] {
        if let Some(value) = options.get(field)
            && !(value.is_boolean() || value.is_null())
        {
            return Err(ServiceError::BadRequest(format!(
                "user_options.{field} must be true or false"
            )));
        }
    }
    match options.get("env") {
        None | Some(Value::Null) => {}
        Some(Value::Object(env)) if env.values().all(Value::is_string) => {}
        Some(_) => {
            return Err(ServiceError::BadRequest(
                "user_options.env must be an object of string values".into(),
            ));
        }
    }
    match options.get("repository") {
        None | Some(Value::Null) => {}
        Some(Value::Object(repo)) if repo.get("url").is_some_and(Value::is_string) => {}
        Some(_) => {
            return Err(ServiceError::BadRequest(
                "user_options.repository must be {url, config_directory?, ref?}".into(),
            ));
        }
    }
    Ok(options)
}

fn framework(options: &Map<String, Value>) -> &str {
    options
        .get("framework")
        .and_then(Value::as_str)
        .unwrap_or("custom")
}

/// The app's title: `display_name`, else the requested server name; `/` removed and
/// trimmed as jhub-apps' form does.
fn display_title(options: &Map<String, Value>, fallback: &str) -> Result<String, ServiceError> {
    let raw = options
        .get("display_name")
        .and_then(Value::as_str)
        .filter(|title| !title.trim().is_empty())
        .unwrap_or(fallback);
    let title: String = raw.replace('/', "").trim().to_owned();
    if title.is_empty() {
        return Err(ServiceError::BadRequest(
            "the app needs a name (user_options.display_name)".into(),
        ));
    }
    Ok(title)
}

/// The title as JupyterHub 6 accepts a display name: printable, at most 255 characters.
fn hub_display_name(title: &str) -> String {
    let printable: String = title.chars().filter(|c| !c.is_control()).collect();
    let cut: String = printable.trim().chars().take(MAX_DISPLAY_NAME).collect();
    if cut.is_empty() { "app".into() } else { cut }
}

fn share_targets(options: &Map<String, Value>) -> Result<ShareWith, ServiceError> {
    let shares: ShareWith = match options.get("share_with") {
        None | Some(Value::Null) => ShareWith::default(),
        Some(value) => serde_json::from_value(value.clone()).map_err(|_| {
            ServiceError::BadRequest(
                "user_options.share_with must be {users: [...], groups: [...]}".into(),
            )
        })?,
    };
    let sharing = !shares.users.is_empty() || !shares.groups.is_empty();
    if sharing && framework(options) == "jupyterlab" {
        return Err(ServiceError::BadRequest(
            "JupyterLab apps cannot be shared: they give access to the owner's files".into(),
        ));
    }
    Ok(shares)
}

/// Grants every share (after revoking the old ones when `replace`), concurrently; returns
/// one message per share that failed.
async fn apply_shares(
    as_user: HubCaller<'_>,
    owner: &str,
    name: &str,
    shares: &ShareWith,
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
    let mut targets: Vec<ShareTarget> = Vec::new();
    targets.extend(shares.users.iter().cloned().map(ShareTarget::User));
    targets.extend(shares.groups.iter().cloned().map(ShareTarget::Group));
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

async fn server_exists(state: &AppState, user: &str, name: &str) -> bool {
    state
        .hub()
        .as_service()
        .user(user, true)
        .await
        .is_ok_and(|model| model.servers.contains_key(name))
}

async fn wait_until_stopped(state: &AppState, user: &str, name: &str) -> Result<(), ServiceError> {
    let deadline = tokio::time::Instant::now() + STOP_WAIT;
    loop {
        let model = state.hub().as_service().user(user, true).await?;
        match model.servers.get(name) {
            Some(server) if server.stopped || (!server.ready && server.pending.is_none()) => {
                return Ok(());
            }
            None => return Err(ServiceError::NotFound(format!("server '{name}' not found"))),
            Some(_) if tokio::time::Instant::now() > deadline => {
                return Err(ServiceError::Conflict(format!(
                    "server '{name}' did not stop within {} s; try again",
                    STOP_WAIT.as_secs()
                )));
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// A hub refusal of an action, in the caller's terms.
fn refusal(err: HubError, owner: &str, name: &str) -> ServiceError {
    match err.status() {
        Some(403) => ServiceError::Forbidden(format!(
            "you are not allowed to do this with server '{name}' of {owner}"
        )),
        Some(404) => ServiceError::NotFound(format!("{owner} has no server named '{name}'")),
        Some(400 | 409) => ServiceError::Conflict(hub_message(&err)),
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
    use super::*;

    fn options(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn titles_and_display_names() {
        let o = options(serde_json::json!({"display_name": "  a/b Report "}));
        assert_eq!(display_title(&o, "x").unwrap(), "ab Report");
        assert_eq!(
            display_title(&options(serde_json::json!({})), "Fallback").unwrap(),
            "Fallback"
        );
        assert!(display_title(&options(serde_json::json!({"display_name": "/"})), "").is_err());
        assert_eq!(hub_display_name(&"é".repeat(300)).chars().count(), 255);
        assert_eq!(hub_display_name("a\u{7}b"), "ab");
    }

    #[test]
    fn jupyterlab_apps_are_not_shared() {
        let lab = options(
            serde_json::json!({"framework": "jupyterlab", "share_with": {"users": ["bob"]}}),
        );
        assert!(share_targets(&lab).is_err());
        let lab_alone = options(
            serde_json::json!({"framework": "jupyterlab", "share_with": {"users": [], "groups": []}}),
        );
        assert!(share_targets(&lab_alone).is_ok());
        let bad = options(serde_json::json!({"framework": "panel", "share_with": ["bob"]}));
        assert!(share_targets(&bad).is_err());
    }
}
