//! Whom a user may share an app with, worked out from the user's own scopes so that the
//! hub is asked as little as possible.
//!
//! Sharing with user X needs `read:users:name` on X; with group G, `read:groups:name` on G
//! (JupyterHub checks both when a share is granted). `GET /user` returns the caller's
//! expanded scopes, so broader grants (`read:users`, `list:users`) appear there as
//! `read:users:name` too.

use std::collections::BTreeSet;

const USER_NAMES: &str = "read:users:name";
const GROUP_NAMES: &str = "read:groups:name";

/// What to look up on the hub to know the share targets.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SharePlan {
    /// Every user on the hub is a target: list them (paginated).
    pub all_users: bool,
    /// Users named in the scopes: no hub call needed.
    pub users: BTreeSet<String>,
    /// Groups whose members are targets: one call per group.
    pub member_groups: BTreeSet<String>,
    /// Every group is a target: list them (paginated).
    pub all_groups: bool,
    /// Groups named in the scopes: no hub call needed.
    pub groups: BTreeSet<String>,
}

impl SharePlan {
    pub fn from_scopes<S: AsRef<str>>(scopes: &[S]) -> Self {
        let mut plan = SharePlan::default();
        for scope in scopes.iter().map(AsRef::as_ref) {
            let (base, filter) = match scope.split_once('!') {
                Some((base, filter)) => (base, Some(filter)),
                None => (scope, None),
            };
            match (base, filter.and_then(|f| f.split_once('='))) {
                (USER_NAMES, None) if filter.is_none() => plan.all_users = true,
                (USER_NAMES, Some(("user", name))) => {
                    plan.users.insert(name.to_owned());
                }
                (USER_NAMES, Some(("group", group))) => {
                    plan.member_groups.insert(group.to_owned());
                }
                (GROUP_NAMES, None) if filter.is_none() => plan.all_groups = true,
                (GROUP_NAMES, Some(("group", group))) => {
                    plan.groups.insert(group.to_owned());
                }
                _ => {}
            }
        }
        if plan.all_users {
            // The full listing covers them.
            plan.users.clear();
            plan.member_groups.clear();
        }
        if plan.all_groups {
            plan.groups.clear();
        }
        plan
    }

    /// Whether the targets are known without asking the hub.
    pub fn needs_hub(&self) -> bool {
        self.all_users || self.all_groups || !self.member_groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn explicit_names_need_no_hub_call() {
        let plan = SharePlan::from_scopes(&[
            "read:users:name!user=alice",
            "read:users:name!user=bob",
            "read:groups:name!group=team",
            "servers!user=alice",
        ]);
        assert_eq!(plan.users, set(&["alice", "bob"]));
        assert_eq!(plan.groups, set(&["team"]));
        assert!(!plan.needs_hub());
    }

    #[test]
    fn group_filters_expand_to_members() {
        let plan = SharePlan::from_scopes(&["read:users:name!group=class-a"]);
        assert_eq!(plan.member_groups, set(&["class-a"]));
        assert!(plan.needs_hub());
    }

    #[test]
    fn broad_scopes_list_everything() {
        let plan = SharePlan::from_scopes(&[
            "read:users:name",
            "read:users:name!user=alice",
            "read:users:name!group=x",
            "read:groups:name",
        ]);
        assert!(plan.all_users && plan.all_groups);
        assert!(plan.users.is_empty() && plan.member_groups.is_empty());
    }

    #[test]
    fn lookalikes_are_ignored() {
        let plan = SharePlan::from_scopes(&[
            "read:users:names",
            "read:users",
            "read:users:name!server=alice/app",
            "read:groups:name!user=alice",
        ]);
        assert_eq!(plan, SharePlan::default());
    }
}
