//! Typed hub models (JupyterHub's REST API, 5.5 and 6.x), read leniently.
//!
//! The hub leaves out fields the token has no scope for, adds fields across
//! versions (`display_name`, `user_info` in 6.x), and some deployments patch
//! models. So: unknown fields are ignored (or kept in `extra` where the
//! service passes them through), missing fields and `null` collections
//! default, and only a missing `name` makes a model undecodable.
//! Timestamps stay ISO 8601 strings as the hub sends them.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::HubVersion;

/// A user model (`GET /user`, `GET /users/{name}`, listing items). `GET /user`
/// with a service token answers a service model; it decodes here too, with
/// `kind == "service"` and the service fields in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    #[serde(default)]
    pub kind: String,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub admin: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<String>,
    /// Named servers by name; the default server is under `""`. Only active
    /// servers unless asked with `include_stopped`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub servers: BTreeMap<String, Server>,
    /// Expanded scopes of the calling token (`GET /user` only).
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub roles: Vec<String>,
    /// The default server's pending action.
    #[serde(default)]
    pub pending: Option<String>,
    /// The default server's URL, when it runs.
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub last_activity: Option<String>,
    /// Filled only by `GET /users/{name}` with `admin:auth_state`.
    #[serde(default)]
    pub auth_state: Option<Value>,
    /// JupyterHub 6.x.
    #[serde(default)]
    pub user_info: Option<Value>,
    /// Everything else (`token_id`, `session_id`, service fields…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A server model. A stopped server (listed with
/// `include_stopped`) has `ready: false, stopped: true, pending: None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Server {
    #[serde(default)]
    pub name: String,
    /// JupyterHub 6.x only.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `owner/name`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub full_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub url: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ready: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub stopped: bool,
    /// `spawn`, `stop`, `check` (6.x also `rename`), or none.
    #[serde(default)]
    pub pending: Option<String>,
    #[serde(default)]
    pub started: Option<String>,
    #[serde(default)]
    pub last_activity: Option<String>,
    /// Where japps keeps an app's definition.
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_options: Map<String, Value>,
    #[serde(default)]
    pub progress_url: Option<String>,
    /// `None` unless the hub has a `public_url` (or subdomains).
    #[serde(default)]
    pub full_url: Option<String>,
    #[serde(default)]
    pub full_progress_url: Option<String>,
    /// Only with `admin:server_state`.
    #[serde(default)]
    pub state: Option<Value>,
}

/// A group model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    #[serde(default)]
    pub kind: String,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub users: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub properties: Map<String, Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub roles: Vec<String>,
}

/// A value of the `GET /services` dict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub admin: bool,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    /// Whether the hub home page lists it; the hub's default is true.
    #[serde(default = "default_true", deserialize_with = "null_as_true")]
    pub display: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub info: Map<String, Value>,
    #[serde(default)]
    pub command: Option<Value>,
    #[serde(default)]
    pub pid: Option<u64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub roles: Vec<String>,
}

/// One share of a server (`GET /users/{name}/shared`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareItem {
    pub server: SharedServer,
    #[serde(default, deserialize_with = "null_as_default")]
    pub scopes: Vec<String>,
    /// The user it is shared with, for `kind == "user"`.
    #[serde(default)]
    pub user: Option<NameRef>,
    /// The group it is shared with, for `kind == "group"`.
    #[serde(default)]
    pub group: Option<NameRef>,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// The server a share is about; `user` is its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedServer {
    pub user: NameRef,
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub url: String,
    #[serde(default)]
    pub full_url: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ready: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameRef {
    pub name: String,
}

/// What to start a server with. `None` fields are not sent, and the hub then
/// reuses what it stored at the last start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartServer {
    /// The human title; stored by JupyterHub 6.x only.
    pub display_name: Option<String>,
    pub user_options: Option<Map<String, Value>>,
}

impl StartServer {
    /// The POST body for this hub version, or `None` for an empty body.
    ///
    /// 6.x reads a top-level `display_name`/`user_options` key as the new
    /// form. 5.x takes the whole body as user_options and has no display
    /// name. An empty body means "no options" on both.
    pub(crate) fn body_for(&self, version: HubVersion) -> Option<Value> {
        if version.is_v6_or_later() {
            let body = self.v6_body();
            (body.as_object().is_some_and(|b| !b.is_empty())).then_some(body)
        } else {
            self.user_options.clone().map(Value::Object)
        }
    }
}

impl StartServer {
    /// `{"display_name"?, "user_options"?}`: the body 6.x reads on POST, PUT and PATCH.
    pub(crate) fn v6_body(&self) -> Value {
        let mut body = Map::new();
        if let Some(name) = &self.display_name {
            body.insert("display_name".into(), Value::String(name.clone()));
        }
        if let Some(options) = &self.user_options {
            body.insert("user_options".into(), Value::Object(options.clone()));
        }
        Value::Object(body)
    }
}

/// Whom to share a server with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareTarget {
    User(String),
    Group(String),
}

/// The hub's answer to a start request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnOutcome {
    /// 201: the server is up.
    Started,
    /// 202: still spawning; follow its progress.
    Pending,
}

/// The hub's answer to a stop request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// 204: stopped (or was not running); removed too if asked.
    Stopped,
    /// 202: the stop is still in progress.
    Pending,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_as_true<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(true))
}

fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn user_with_running_and_stopped_servers_v6() {
        let user: User = serde_json::from_value(json!({
            "kind": "user", "name": "alice", "admin": false, "groups": ["team"],
            "roles": ["user"], "pending": null, "server": null,
            "created": "2026-01-01T00:00:00.000000Z", "last_activity": null,
            "auth_state": null, "user_info": {}, "some_new_field": 1,
            "servers": {
                "app-two": {
                    "name": "app-two", "display_name": "App Two", "full_name": "alice/app-two",
                    "last_activity": "2026-01-01T00:00:00Z", "started": "2026-01-01T00:00:00Z",
                    "pending": null, "ready": true, "stopped": false, "url": "/user/alice/app-two/",
                    "user_options": {"framework": "streamlit"},
                    "progress_url": "/hub/api/users/alice/servers/app-two/progress",
                    "full_url": null, "full_progress_url": null
                },
                "old": {
                    "name": "old", "full_name": "alice/old", "last_activity": null, "started": null,
                    "pending": null, "ready": false, "stopped": true, "url": "/user/alice/old/",
                    "user_options": {}, "progress_url": "/hub/api/users/alice/servers/old/progress"
                }
            }
        }))
        .unwrap();
        assert_eq!(user.name, "alice");
        assert_eq!(user.groups, ["team"]);
        assert_eq!(user.extra.get("some_new_field"), Some(&json!(1)));
        let app = &user.servers["app-two"];
        assert_eq!(app.display_name.as_deref(), Some("App Two"));
        assert!(app.ready && !app.stopped);
        assert_eq!(app.user_options["framework"], "streamlit");
        let old = &user.servers["old"];
        assert!(!old.ready && old.stopped && old.pending.is_none());
        assert_eq!(old.display_name, None);
    }

    #[test]
    fn minimal_and_null_fields_default() {
        let user: User = serde_json::from_value(json!({
            "name": "bob", "groups": null, "servers": null
        }))
        .unwrap();
        assert!(user.groups.is_empty() && user.servers.is_empty() && !user.admin);
        let server: Server = serde_json::from_value(json!({"user_options": null})).unwrap();
        assert!(server.user_options.is_empty());
        assert!(serde_json::from_value::<User>(json!({"kind": "user"})).is_err());
    }

    #[test]
    fn service_token_whoami_decodes_as_user() {
        let me: User = serde_json::from_value(json!({
            "kind": "service", "name": "japps", "admin": false, "url": "http://127.0.0.1:10202",
            "prefix": "/services/japps/", "command": ["japps", "serve"], "pid": 0, "info": {},
            "display": true, "scopes": ["list:users"], "token_id": "a1", "session_id": null
        }))
        .unwrap();
        assert_eq!(me.kind, "service");
        assert_eq!(me.scopes, ["list:users"]);
        assert_eq!(me.extra["prefix"], "/services/japps/");
    }

    #[test]
    fn share_item_and_service_shapes() {
        let share: ShareItem = serde_json::from_value(json!({
            "server": {"user": {"name": "alice"}, "name": "app-one", "url": "/user/alice/app-one/",
                       "full_url": null, "ready": true},
            "scopes": ["access:servers!server=alice/app-one"],
            "user": {"name": "bob"}, "group": null, "kind": "user",
            "created_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(share.server.user.name, "alice");
        assert_eq!(share.user.map(|u| u.name).as_deref(), Some("bob"));
        assert!(share.group.is_none());

        let service: Service = serde_json::from_value(json!({
            "name": "japps", "kind": "service", "admin": false, "url": "", "prefix": "/services/japps/",
            "command": ["japps"], "pid": 1234, "info": {"icon": "x"}, "roles": ["japps-service"]
        }))
        .unwrap();
        assert!(service.display, "display defaults to true");
        assert_eq!(service.pid, Some(1234));
        assert_eq!(service.info["icon"], "x");
    }

    #[test]
    fn share_target_wire_form() {
        let user = serde_json::to_value(ShareTarget::User("bob".into())).unwrap();
        let group = serde_json::to_value(ShareTarget::Group("team".into())).unwrap();
        assert_eq!(user, json!({"user": "bob"}));
        assert_eq!(group, json!({"group": "team"}));
    }

    #[test]
    fn start_body_per_version() {
        let v5 = HubVersion::new(5, 5, 4);
        let v6 = HubVersion::new(6, 1, 1);
        let mut options = Map::new();
        options.insert("framework".into(), json!("panel"));
        options.insert("display_name".into(), json!("My App"));
        let full = StartServer {
            display_name: Some("My App".into()),
            user_options: Some(options.clone()),
        };
        assert_eq!(full.body_for(v5), Some(Value::Object(options.clone())));
        assert_eq!(
            full.body_for(v6),
            Some(json!({"display_name": "My App", "user_options": options}))
        );

        let name_only = StartServer {
            display_name: Some("My App".into()),
            user_options: None,
        };
        assert_eq!(name_only.body_for(v5), None);
        assert_eq!(
            name_only.body_for(v6),
            Some(json!({"display_name": "My App"}))
        );
        assert_eq!(StartServer::default().body_for(v5), None);
        assert_eq!(StartServer::default().body_for(v6), None);
    }
}
