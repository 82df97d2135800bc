//! The apps a user sees: their own named servers and the servers shared with them.
//!
//! Budget: the caller's own model and the list of shares run concurrently (2 hub
//! calls), then one `GET /users/{owner}` per distinct owner of a shared server, at most 10
//! at once. Never a listing of all users, so the cost does not grow with the hub.

use std::collections::{BTreeMap, BTreeSet};

use japps_domain::AppOptions;
use japps_hub::{HubClient, HubError, Server, ShareItem, fan_out};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::application::ApplicationError;
use crate::schema::UserOptions;

/// How many owners' models are fetched at once.
const OWNER_CONCURRENCY: usize = 10;

/// A server as the jhub-apps API shows it: the hub's server model without the spawner's
/// `state` (which the service may read but a user must never see).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ServerView {
    /// The server name; `""` is the default server.
    #[schema(example = "sales")]
    name: String,
    /// JupyterHub 6 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    /// `owner/name`.
    #[schema(example = "alice/sales")]
    full_name: String,
    #[schema(example = "/user/alice/sales/")]
    url: String,
    progress_url: Option<String>,
    started: Option<String>,
    last_activity: Option<String>,
    /// `spawn`, `stop`, `check` (JupyterHub 6 also `rename`), or null.
    pending: Option<String>,
    ready: bool,
    stopped: bool,
    /// The app's definition, as its creator stored it; for a shared app, only what
    /// describes it (name, title, description, framework, thumbnail, flags).
    #[schema(value_type = UserOptions)]
    user_options: Map<String, Value>,
    /// Only when the hub knows its public URL.
    full_url: Option<String>,
    full_progress_url: Option<String>,
}

impl From<Server> for ServerView {
    fn from(server: Server) -> Self {
        let Server {
            name,
            display_name,
            full_name,
            url,
            ready,
            stopped,
            pending,
            started,
            last_activity,
            user_options,
            progress_url,
            full_url,
            full_progress_url,
            state: _,
        } = server;
        Self {
            name,
            display_name,
            full_name,
            url,
            progress_url,
            started,
            last_activity,
            pending,
            ready,
            stopped,
            user_options,
            full_url,
            full_progress_url,
        }
    }
}

impl ServerView {
    /// A server as a user it is shared with sees it: the app, not the owner's
    /// configuration (environment, command, repository…).
    fn for_sharee(server: Server) -> Self {
        let mut view = Self::from(server);
        view.user_options = AppOptions::from_stored(std::mem::take(&mut view.user_options))
            .for_sharee()
            .to_map();
        view
    }
}

/// `GET server/`: `{user_apps, shared_apps}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AppsView {
    /// Every server of the caller, stopped ones and the default server included.
    pub(crate) user_apps: Vec<ServerView>,
    /// Servers other users share with the caller.
    pub(crate) shared_apps: Vec<ServerView>,
}

/// Every server of `me` (stopped ones included) and every server shared with `me`.
pub(crate) async fn visible_apps(hub: &HubClient, me: &str) -> Result<AppsView, ApplicationError> {
    let service = hub.as_service();
    let (own, shares) = tokio::join!(service.user(me, true), service.shared_with(me));
    let own = own?;
    let shares = shares?;

    let shared = shared_servers(hub, me, &shares).await;
    Ok(AppsView {
        user_apps: own.servers.into_values().map(ServerView::from).collect(),
        shared_apps: shared.into_iter().map(ServerView::for_sharee).collect(),
    })
}

/// Resolves share items to full server models, matched by (owner, server name). Servers
/// of `me` are not "shared with me"; an owner that cannot be read is skipped and logged,
/// so one broken account never breaks everybody's launcher.
async fn shared_servers(hub: &HubClient, me: &str, shares: &[ShareItem]) -> Vec<Server> {
    // One share can arrive twice (directly and through a group): keep each server once.
    let mut wanted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for share in shares {
        let owner = share.server.user.name.as_str();
        if owner != me {
            wanted
                .entry(owner)
                .or_default()
                .insert(share.server.name.as_str());
        }
    }
    // Owned names: the futures must be `Send` for any lifetime the router picks.
    let owners: Vec<String> = wanted.keys().map(|owner| (*owner).to_owned()).collect();
    let models = fan_out(owners, OWNER_CONCURRENCY, |owner| async move {
        let model = hub.as_service().user(&owner, true).await;
        (owner, model)
    })
    .await;

    let mut servers = Vec::new();
    for (owner, model) in models {
        match model {
            Ok(mut model) => {
                for name in &wanted[owner.as_str()] {
                    match model.servers.remove(*name) {
                        Some(server) => servers.push(server),
                        None => {
                            tracing::info!(owner = %owner, server = %name, "shared server no longer exists")
                        }
                    }
                }
            }
            Err(err) => log_skipped_owner(&owner, &err),
        }
    }
    servers
}

fn log_skipped_owner(owner: &str, err: &HubError) {
    if err.is_not_found() {
        tracing::info!(owner, "owner of a shared server no longer exists; skipped");
    } else {
        tracing::warn!(owner, error = %err, "cannot read the owner of a shared server; skipped");
    }
}

/// `GET server/{name}`: one of the caller's servers (`""` is the default server).
pub(crate) async fn own_server(
    hub: &HubClient,
    me: &str,
    name: &str,
) -> Result<ServerView, ApplicationError> {
    let mut model = hub.as_service().user(me, true).await?;
    model
        .servers
        .remove(name)
        .map(ServerView::from)
        .ok_or_else(|| ApplicationError::NotFound(format!("server '{name}' not found")))
}
