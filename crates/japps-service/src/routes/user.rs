//! `GET {prefix}user`: the caller's hub user model in the jhub-apps shape. Costs no hub call
//! while the caller's identity is cached.

use std::collections::BTreeMap;

use axum::Json;
use japps_hub::Server;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::routes::responses::LoginErrors;
use crate::schema::HubServer;

/// jhub-apps' `User` response model: the hub model minus fields the UI does not use
/// (`roles`, `created`); `share_permissions` has its own endpoint in japps.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserModel<'a> {
    #[schema(example = "alice")]
    name: &'a str,
    admin: bool,
    /// The groups the user is in.
    #[schema(value_type = Vec<String>)]
    groups: &'a [String],
    /// `user`, or `service` for a hub service calling with its own token.
    #[schema(example = "user")]
    kind: &'a str,
    /// The default server's URL, when it runs.
    server: Option<&'a str>,
    /// The default server's pending action (`spawn`, `stop`, ...).
    pending: Option<&'a str>,
    last_activity: Option<&'a str>,
    /// The user's servers by name (the default server is `""`), as the hub reports them.
    #[schema(value_type = BTreeMap<String, HubServer>)]
    servers: &'a BTreeMap<String, Server>,
    /// The expanded scopes of the caller's token.
    #[schema(value_type = Vec<String>)]
    scopes: &'a [String],
    /// The authenticator's state, when the hub shares it with the token.
    #[schema(value_type = Option<Object>)]
    auth_state: Option<&'a Value>,
}

/// `GET {prefix}user`: the caller's user model.
#[utoipa::path(
    get,
    path = "/user",
    operation_id = "get_user",
    tag = "user",
    summary = "The caller's user model",
    description = "jhub-apps' `User`: the hub's user model without `roles` and `created` \
        (`share_permissions` has its own endpoint). No hub call while the caller's identity \
        is cached.",
    responses(
        (status = 200, description = "The caller.", body = UserModel),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
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
