//! `GET share-permissions/`: the users and groups the caller may share with.
//!
//! With broad scopes the answer costs paginated listings of every user and group, so it is
//! kept per user (and per set of scopes: a role change gives a fresh answer) for
//! [`SHARE_TARGETS_SECONDS`]; a user reloading the form does not list the hub again.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use sha2::{Digest, Sha256};

use japps_domain::sharing::SharePlan;
use japps_hub::{HubClient, fan_out};
use serde::Serialize;
use utoipa::ToSchema;

use crate::application::ApplicationError;

/// How many groups' member lists are read at once.
const GROUP_CONCURRENCY: usize = 10;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub(crate) struct ShareTargets {
    /// User names, sorted.
    #[schema(example = json!(["bob", "carol"]))]
    pub(crate) users: Vec<String>,
    /// Group names, sorted.
    #[schema(example = json!(["class-a"]))]
    pub(crate) groups: Vec<String>,
}

/// How long one user's share targets are kept. A user or group created meanwhile shows up
/// after at most this long.
pub(crate) const SHARE_TARGETS_SECONDS: u64 = 30;
/// Users whose answers are kept at once.
const MAX_CACHED_USERS: u64 = 10_000;

/// Share targets per (user, scopes).
#[derive(Debug)]
pub(crate) struct ShareTargetCache {
    cache: Cache<[u8; 32], Arc<ShareTargets>>,
}

impl ShareTargetCache {
    pub(crate) fn new(max_age: Duration) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(MAX_CACHED_USERS)
                .time_to_live(max_age)
                .build(),
        }
    }

    /// [`share_targets`], from the cache when this user with these scopes asked within
    /// its time; concurrent requests share one resolution. Failures are not kept.
    pub(crate) async fn get(
        &self,
        hub: &HubClient,
        me: &str,
        scopes: &[String],
    ) -> Result<Arc<ShareTargets>, ApplicationError> {
        let mut key = Sha256::new();
        key.update(me.as_bytes());
        for scope in scopes {
            key.update([0]);
            key.update(scope.as_bytes());
        }
        self.cache
            .try_get_with(key.finalize().into(), async {
                share_targets(hub, me, scopes).await.map(Arc::new)
            })
            .await
            .map_err(|err| (*err).clone())
    }
}

/// Resolves the caller's scopes with the fewest hub calls: none for explicitly named users
/// and groups, one per `!group=` filter, a paginated listing only for broad scopes.
pub(crate) async fn share_targets(
    hub: &HubClient,
    me: &str,
    scopes: &[String],
) -> Result<ShareTargets, ApplicationError> {
    let plan = SharePlan::from_scopes(scopes);
    let service = hub.as_service();

    let mut users: BTreeSet<String> = plan.users.clone();
    if plan.all_users {
        users.extend(
            service
                .list_users()
                .await?
                .into_iter()
                .map(|user| user.name),
        );
    }
    let groups_of_members = fan_out(
        plan.member_groups.iter().cloned(),
        GROUP_CONCURRENCY,
        |group| async move {
            let model = service.group(&group).await;
            (group, model)
        },
    )
    .await;
    for (group, result) in groups_of_members {
        match result {
            Ok(model) => users.extend(model.users),
            Err(err) if err.is_not_found() => {
                tracing::info!(group = %group, "group in the caller's scopes does not exist")
            }
            Err(err) => return Err(err.into()),
        }
    }
    users.remove(me);

    let mut groups: BTreeSet<String> = plan.groups.clone();
    if plan.all_groups {
        groups.extend(
            service
                .list_groups()
                .await?
                .into_iter()
                .map(|group| group.name),
        );
    }
    Ok(ShareTargets {
        users: users.into_iter().collect(),
        groups: groups.into_iter().collect(),
    })
}
