//! `GET {prefix}user`: the caller's hub user model in the jhub-apps shape. Costs no hub call
//! while the caller's identity is cached.

use std::collections::BTreeMap;

use axum::Json;
use japps_hub::Server;
use serde::Serialize;
use serde_json::Value;

use crate::auth::Caller;

/// jhub-apps' `User` response model: the hub model minus fields the UI does not use
/// (`roles`, `created`); `share_permissions` has its own endpoint in japps.
#[derive(Debug, Serialize)]
pub(crate) struct UserModel<'a> {
    name: &'a str,
    admin: bool,
    groups: &'a [String],
    kind: &'a str,
    server: Option<&'a str>,
    pending: Option<&'a str>,
    last_activity: Option<&'a str>,
    servers: &'a BTreeMap<String, Server>,
    scopes: &'a [String],
    auth_state: Option<&'a Value>,
}

pub(crate) async fn get(caller: Caller) -> Json<Value> {
    let user = &caller.user;
    let model = UserModel {
        name: &user.name,
        admin: user.admin,
        groups: &user.groups,
        kind: if user.kind.is_empty() {
            "user"
        } else {
            &user.kind
        },
        server: user.server.as_deref(),
        pending: user.pending.as_deref(),
        last_activity: user.last_activity.as_deref(),
        servers: &user.servers,
        scopes: &user.scopes,
        auth_state: user.auth_state.as_ref(),
    };
    Json(serde_json::to_value(model).unwrap_or(Value::Null))
}
