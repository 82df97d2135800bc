//! The apps a user sees: their own named servers and the servers shared with them.
//!
//! Budget: the caller's own model and the list of shares run concurrently (2 hub
//! calls; 3 with the services for the home page). The definitions of other owners' apps
//! are cached per (owner, server) for `shared_app_cache_seconds`; an owner is read again
//! (one `GET /users/{owner}`, at most 10 at once) only when an entry is missing, expired or
//! contradicted by the share list. Never a listing of all users, so the cost does not grow
//! with the hub, and in steady state not with the number of owners either.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use japps_domain::AppOptions;
use japps_hub::{HubClient, HubError, Server, ShareItem, fan_out};
use moka::future::Cache;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::application::services::{self, ServiceView};
use crate::application::{ApplicationError, Caller, Context};
use crate::schema::UserOptions;

/// How many owners' models are fetched at once.
const OWNER_CONCURRENCY: usize = 10;

/// A server as the jhub-apps API shows it: the hub's server model without the spawner's
/// `state` (which the service may read but a user must never see).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct ServerView {
    /// The server name; `""` is the default server.
    #[schema(example = "sales")]
    pub(crate) name: String,
    /// JupyterHub 6 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) display_name: Option<String>,
    /// `owner/name`.
    #[schema(example = "alice/sales")]
    pub(crate) full_name: String,
    #[schema(example = "/user/alice/sales/")]
    pub(crate) url: String,
    pub(crate) progress_url: Option<String>,
    pub(crate) started: Option<String>,
    pub(crate) last_activity: Option<String>,
    /// `spawn`, `stop`, `check` (JupyterHub 6 also `rename`), or null.
    pub(crate) pending: Option<String>,
    pub(crate) ready: bool,
    pub(crate) stopped: bool,
    /// The app's definition, as its creator stored it; for a shared app, only what
    /// describes it (name, title, description, framework, thumbnail, flags).
    #[schema(value_type = UserOptions)]
    pub(crate) user_options: Map<String, Value>,
    /// Only when the hub knows its public URL.
    pub(crate) full_url: Option<String>,
    pub(crate) full_progress_url: Option<String>,
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

/// Everything the launcher shows a user: the JSON `server/` and the home page are two
/// views of it.
#[derive(Debug)]
pub(crate) struct Library {
    /// Every server of the caller, stopped ones and the default server included.
    pub(crate) user_apps: Vec<ServerView>,
    pub(crate) shared_apps: Vec<SharedApp>,
    /// The hub's services, when asked for (an unreadable list is empty, logged).
    pub(crate) services: BTreeMap<String, ServiceView>,
}

/// A server another user shares with the caller, as the sharee may see it.
#[derive(Debug, Clone)]
pub(crate) struct SharedApp {
    pub(crate) owner: String,
    pub(crate) view: ServerView,
    /// The groups through which it is shared with the caller (empty: directly only).
    pub(crate) groups: BTreeSet<String>,
}

impl From<Library> for AppsView {
    fn from(library: Library) -> Self {
        Self {
            user_apps: library.user_apps,
            shared_apps: library
                .shared_apps
                .into_iter()
                .map(|app| app.view)
                .collect(),
        }
    }
}

/// The definitions of other owners' shared servers, by (owner, server name), already cut
/// to what a sharee may see. Whether an entry is still shared is never cached: the share
/// list is read on every request.
#[derive(Debug)]
pub(crate) struct SharedAppCache {
    cache: Option<Cache<(String, String), ServerView>>,
}

/// Enough for the shared apps of every active user of a large hub.
const SHARED_APP_ENTRIES: u64 = 50_000;

impl SharedAppCache {
    /// `ttl` zero disables the cache: every owner is read on every request.
    pub(crate) fn new(ttl: Duration) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(SHARED_APP_ENTRIES)
                .time_to_live(ttl)
                .build()
        });
        Self { cache }
    }

    async fn get(&self, owner: &str, name: &str) -> Option<ServerView> {
        let cache = self.cache.as_ref()?;
        cache.get(&(owner.to_owned(), name.to_owned())).await
    }

    async fn put(&self, owner: &str, view: &ServerView) {
        if let Some(cache) = &self.cache {
            cache
                .insert((owner.to_owned(), view.name.clone()), view.clone())
                .await;
        }
    }
}

/// Every server of the caller and every server shared with them, and with `with_services`
/// the hub's services: 2 or 3 concurrent hub calls, plus one per owner whose cached
/// definitions are missing, expired or contradicted by the share list.
pub(crate) async fn library(
    cx: &Context,
    caller: &Caller,
    with_services: bool,
) -> Result<Library, ApplicationError> {
    let me = caller.user.name.as_str();
    let service = cx.hub().as_service();
    let services = async {
        if !with_services {
            return BTreeMap::new();
        }
        match services::list(cx.hub()).await {
            Ok(services) => services,
            Err(err) => {
                // The apps matter more than the services menu: show them anyway.
                tracing::warn!(error = %err, "cannot list the hub's services");
                BTreeMap::new()
            }
        }
    };
    let (own, shares, services) =
        tokio::join!(service.user(me, true), service.shared_with(me), services);
    let own = own?;
    let shares = shares?;
    Ok(Library {
        user_apps: own.servers.into_values().map(ServerView::from).collect(),
        shared_apps: shared_apps(cx, me, &shares).await,
        services,
    })
}

/// What the share list says about one shared server, each time.
#[derive(Debug, Default)]
struct Shared {
    ready: bool,
    url: String,
    groups: BTreeSet<String>,
}

/// Resolves share items to the servers' sharee views, matched by (owner, server name).
/// Servers of `me` are not "shared with me"; an owner that cannot be read is skipped and
/// logged, so one broken account never breaks everybody's launcher.
///
/// The share list carries only `ready` and the URL of each server. A cached definition
/// is used while its `ready` agrees with the share list and it is not pending; otherwise
/// its owner is read again, so a start or stop by the owner shows on the next load and a
/// pending app is followed until it settles. `last_activity` may be as old as the cache.
async fn shared_apps(cx: &Context, me: &str, shares: &[ShareItem]) -> Vec<SharedApp> {
    // One share can arrive twice (directly and through a group): keep each server once.
    let mut wanted: BTreeMap<(String, String), Shared> = BTreeMap::new();
    for share in shares {
        let owner = share.server.user.name.as_str();
        if owner == me {
            continue;
        }
        let entry = wanted
            .entry((owner.to_owned(), share.server.name.clone()))
            .or_default();
        entry.ready |= share.server.ready;
        entry.url.clone_from(&share.server.url);
        if let Some(group) = &share.group {
            entry.groups.insert(group.name.clone());
        }
    }

    let cache = cx.shared_apps();
    let mut known: BTreeMap<(String, String), ServerView> = BTreeMap::new();
    let mut stale: BTreeSet<String> = BTreeSet::new();
    for ((owner, name), shared) in &wanted {
        match cache.get(owner, name).await {
            Some(view) if view.ready == shared.ready && view.pending.is_none() => {
                known.insert((owner.clone(), name.clone()), view);
            }
            _ => {
                stale.insert(owner.clone());
            }
        }
    }

    let hub = cx.hub();
    let models = fan_out(stale, OWNER_CONCURRENCY, |owner| async move {
        let model = hub.as_service().user(&owner, true).await;
        (owner, model)
    })
    .await;
    for (owner, model) in models {
        let mut model = match model {
            Ok(model) => model,
            Err(err) => {
                log_skipped_owner(&owner, &err);
                continue;
            }
        };
        let names: Vec<String> = wanted
            .keys()
            .filter(|(o, _)| *o == owner)
            .map(|(_, name)| name.clone())
            .collect();
        for name in names {
            let key = (owner.clone(), name);
            match model.servers.remove(&key.1) {
                Some(server) => {
                    let view = ServerView::for_sharee(server);
                    cache.put(&owner, &view).await;
                    known.insert(key, view);
                }
                None => {
                    known.remove(&key);
                    tracing::info!(owner = %owner, server = %key.1, "shared server no longer exists");
                }
            }
        }
    }

    wanted
        .into_iter()
        .filter_map(|(key, shared)| {
            let mut view = known.remove(&key)?;
            view.ready = shared.ready;
            if !shared.url.is_empty() {
                view.url = shared.url;
            }
            Some(SharedApp {
                owner: key.0,
                view,
                groups: shared.groups,
            })
        })
        .collect()
}

/// The stored thumbnail (a data URL) of an app the caller sees: one of theirs (1 hub call)
/// or one shared with them (the share list, plus the owner when not cached).
pub(crate) async fn thumbnail(
    cx: &Context,
    caller: &Caller,
    owner: &str,
    name: &str,
) -> Result<Option<String>, ApplicationError> {
    let me = caller.user.name.as_str();
    let not_found = || ApplicationError::NotFound(format!("no app {owner}/{name}"));
    let view = if owner == me {
        own_server(cx.hub(), me, name).await?
    } else {
        let shares = cx.hub().as_service().shared_with(me).await?;
        let mine: Vec<ShareItem> = shares
            .into_iter()
            .filter(|share| share.server.user.name == owner && share.server.name == name)
            .collect();
        if mine.is_empty() {
            return Err(not_found());
        }
        shared_apps(cx, me, &mine)
            .await
            .pop()
            .ok_or_else(not_found)?
            .view
    };
    Ok(view
        .user_options
        .get("thumbnail")
        .and_then(Value::as_str)
        .filter(|url| !url.is_empty())
        .map(str::to_owned))
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

/// Who looks at an app's page, which decides what they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppRole {
    /// The app is theirs: its whole definition.
    Owner,
    /// A hub admin looking at another user's app: its whole definition.
    Admin,
    /// A user it is shared with: only what describes it ([`ServerView::for_sharee`]).
    Sharee,
}

/// One app as its page shows it to the caller.
#[derive(Debug, Clone)]
pub(crate) struct AppDetail {
    pub(crate) owner: String,
    pub(crate) role: AppRole,
    /// For a sharee, already cut to the display fields.
    pub(crate) view: ServerView,
}

/// One app for its page (or its state poll): the caller's own (1 hub call), any user's
/// for a hub admin (1 call), or one shared with the caller (the share list, plus the
/// owner's model when not cached or pending: 1–2 calls). The default server and servers
/// not made as apps are not apps. Whatever the reason, the caller hears the same "not
/// found", so a stranger cannot tell an app that exists from one that does not.
pub(crate) async fn app_detail(
    cx: &Context,
    caller: &Caller,
    owner: &str,
    name: &str,
) -> Result<AppDetail, ApplicationError> {
    let me = caller.user.name.as_str();
    let not_found = || ApplicationError::NotFound(format!("no app {owner}/{name}"));
    if name.is_empty() {
        return Err(not_found());
    }
    let (role, view) = if owner == me || caller.user.admin {
        let model = match cx.hub().as_service().user(owner, true).await {
            Ok(model) => model,
            Err(err) if err.is_not_found() => return Err(not_found()),
            Err(err) => return Err(err.into()),
        };
        let mut servers = model.servers;
        let view = servers
            .remove(name)
            .map(ServerView::from)
            .ok_or_else(not_found)?;
        let role = if owner == me {
            AppRole::Owner
        } else {
            AppRole::Admin
        };
        (role, view)
    } else {
        let shares = cx.hub().as_service().shared_with(me).await?;
        let mine: Vec<ShareItem> = shares
            .into_iter()
            .filter(|share| share.server.user.name == owner && share.server.name == name)
            .collect();
        if mine.is_empty() {
            return Err(not_found());
        }
        let shared = shared_apps(cx, me, &mine)
            .await
            .pop()
            .ok_or_else(not_found)?;
        (AppRole::Sharee, shared.view)
    };
    if !is_app(&view) {
        return Err(not_found());
    }
    Ok(AppDetail {
        owner: owner.to_owned(),
        role,
        view,
    })
}

/// Only servers made as apps have an app page (and are in the library).
pub(crate) fn is_app(view: &ServerView) -> bool {
    view.user_options.get("jhub_app").and_then(Value::as_bool) == Some(true)
        || view.user_options.contains_key("framework")
}
