//! `GET share-permissions/`: the users and groups the caller may share with.

use std::collections::BTreeSet;

use japps_domain::sharing::SharePlan;
use japps_hub::{HubClient, fan_out};
use serde::Serialize;
use utoipa::ToSchema;

use crate::application::ApplicationError;

/// How many groups' member lists are read at once.
const GROUP_CONCURRENCY: usize = 10;

#[derive(Debug, Serialize, PartialEq, Eq, ToSchema)]
pub(crate) struct ShareTargets {
    /// User names, sorted.
    #[schema(example = json!(["bob", "carol"]))]
    pub(crate) users: Vec<String>,
    /// Group names, sorted.
    #[schema(example = json!(["class-a"]))]
    pub(crate) groups: Vec<String>,
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
