//! The hub endpoints japps uses, called with one identity's token.
//!
//! Every method is exactly one hub call, except listings, which make one call
//! per page. `start_server` may add the once-per-process `GET /` for the hub
//! version.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::json;
use url::Url;

use crate::client::{Body, HubRequest, Reply, decode_json};
use crate::endpoint::Endpoint;
use crate::pagination::{self, Cursor};
use crate::{
    Group, HubClient, HubError, Service, ShareItem, ShareTarget, SpawnOutcome, StartServer,
    StopOutcome, User,
};

/// A [`HubClient`] bound to one token; from [`HubClient::as_service`] or
/// [`HubClient::as_user`].
#[derive(Clone, Copy)]
pub struct HubCaller<'a> {
    client: &'a HubClient,
    token: &'a SecretString,
    /// "service" or "user", for `Debug` only.
    identity: &'static str,
}

impl fmt::Debug for HubCaller<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubCaller")
            .field("as", &self.identity)
            .finish_non_exhaustive()
    }
}

impl<'a> HubCaller<'a> {
    pub(crate) fn new(
        client: &'a HubClient,
        token: &'a SecretString,
        identity: &'static str,
    ) -> Self {
        Self {
            client,
            token,
            identity,
        }
    }

    /// `GET /user`: the token's owner, with the token's expanded `scopes`.
    pub async fn whoami(&self) -> Result<User, HubError> {
        self.fetch(Endpoint::CurrentUser, &[], Body::Empty).await
    }

    /// `GET /users/{name}`; with `include_stopped`, `servers` also lists
    /// stopped named servers (where japps' apps live).
    pub async fn user(&self, name: &str, include_stopped: bool) -> Result<User, HubError> {
        let endpoint = Endpoint::GetUser;
        let mut url = self.client.url(endpoint, &[name])?;
        if include_stopped {
            url.query_pairs_mut()
                .append_key_only("include_stopped_servers");
        }
        let reply = self.call(endpoint, url, Body::Empty).await?;
        decode_json(endpoint, &reply.body)
    }

    /// `GET /users`, every page.
    pub async fn list_users(&self) -> Result<Vec<User>, HubError> {
        self.list(Endpoint::ListUsers, &[]).await
    }

    /// `POST /users`: creates several users at once (409 if all exist).
    pub async fn create_users(&self, names: &[String]) -> Result<Vec<User>, HubError> {
        let body = Body::Json(json!({ "usernames": names }));
        self.fetch(Endpoint::CreateUsers, &[], body).await
    }

    /// `GET /groups/{name}`.
    pub async fn group(&self, name: &str) -> Result<Group, HubError> {
        self.fetch(Endpoint::GetGroup, &[name], Body::Empty).await
    }

    /// `GET /groups`, every page.
    pub async fn list_groups(&self) -> Result<Vec<Group>, HubError> {
        self.list(Endpoint::ListGroups, &[]).await
    }

    /// `POST /groups/{name}` with its first members (409 if it exists).
    pub async fn create_group(&self, name: &str, users: &[String]) -> Result<Group, HubError> {
        let body = Body::Json(json!({ "users": users }));
        self.fetch(Endpoint::CreateGroup, &[name], body).await
    }

    /// `GET /services`: a dict by name, not paginated.
    pub async fn services(&self) -> Result<BTreeMap<String, Service>, HubError> {
        self.fetch(Endpoint::ListServices, &[], Body::Empty).await
    }

    /// `GET /users/{name}/shared`: servers shared *with* `user` (directly or
    /// through a group), every page.
    pub async fn shared_with(&self, user: &str) -> Result<Vec<ShareItem>, HubError> {
        self.list(Endpoint::ListShared, &[user]).await
    }

    /// `POST /users/{user}/servers/{server}`: creates the named server if
    /// needed and starts it. The body's form depends on the hub version
    /// ([`StartServer`]), read once per process.
    pub async fn start_server(
        &self,
        user: &str,
        server: &str,
        request: &StartServer,
    ) -> Result<SpawnOutcome, HubError> {
        let endpoint = Endpoint::StartServer;
        let url = self.client.url(endpoint, &[user, server])?;
        let version = self.client.version().await?;
        let body = request.body_for(version).map_or(Body::Empty, Body::Json);
        let reply = self.call(endpoint, url, body).await?;
        Ok(match reply.status {
            202 => SpawnOutcome::Pending,
            _ => SpawnOutcome::Started,
        })
    }

    /// `PUT /users/{user}/servers/{server}` (JupyterHub 6 only): creates the named server
    /// record with its options, without starting it. 409 when it exists.
    pub async fn create_server(
        &self,
        user: &str,
        server: &str,
        request: &StartServer,
    ) -> Result<(), HubError> {
        let endpoint = Endpoint::CreateServer;
        let url = self.client.url(endpoint, &[user, server])?;
        let body = request.v6_body();
        self.call(endpoint, url, Body::Json(body)).await.map(drop)
    }

    /// `PATCH /users/{user}/servers/{server}` (JupyterHub 6 only): replaces the stored
    /// options and display name of a server that is not running (400 if it is).
    pub async fn update_server(
        &self,
        user: &str,
        server: &str,
        request: &StartServer,
    ) -> Result<(), HubError> {
        let endpoint = Endpoint::UpdateServer;
        let url = self.client.url(endpoint, &[user, server])?;
        let body = request.v6_body();
        self.call(endpoint, url, Body::Json(body)).await.map(drop)
    }

    /// `DELETE /users/{user}/servers/{server}`; `remove` also deletes the
    /// server record (and with it the stored app definition).
    pub async fn stop_server(
        &self,
        user: &str,
        server: &str,
        remove: bool,
    ) -> Result<StopOutcome, HubError> {
        let endpoint = Endpoint::StopServer;
        let url = self.client.url(endpoint, &[user, server])?;
        let body = if remove {
            Body::Json(json!({ "remove": true }))
        } else {
            Body::Empty
        };
        let reply = self.call(endpoint, url, body).await?;
        Ok(match reply.status {
            202 => StopOutcome::Pending,
            _ => StopOutcome::Stopped,
        })
    }

    /// `POST /shares/{owner}/{server}`: grants the target access to the server.
    pub async fn share(
        &self,
        owner: &str,
        server: &str,
        target: &ShareTarget,
    ) -> Result<ShareItem, HubError> {
        let body = serde_json::to_value(target)
            .map_err(|e| HubError::Config(format!("cannot encode a share target: {e}")))?;
        self.fetch(Endpoint::Share, &[owner, server], Body::Json(body))
            .await
    }

    /// `GET /shares/{owner}/{server}`: the shares the owner granted on the server.
    pub async fn server_shares(
        &self,
        owner: &str,
        server: &str,
    ) -> Result<Vec<ShareItem>, HubError> {
        self.list(Endpoint::ListServerShares, &[owner, server])
            .await
    }

    /// `DELETE /shares/{owner}/{server}`: revokes every share of the server.
    pub async fn revoke_all_shares(&self, owner: &str, server: &str) -> Result<(), HubError> {
        let endpoint = Endpoint::RevokeShares;
        let url = self.client.url(endpoint, &[owner, server])?;
        self.call(endpoint, url, Body::Empty).await.map(drop)
    }

    /// `PATCH /shares/{owner}/{server}` without `scopes`: revokes everything the server's
    /// owner granted to this one user or group (the hub answers `{}` when nothing is left).
    pub async fn revoke_share(
        &self,
        owner: &str,
        server: &str,
        target: &ShareTarget,
    ) -> Result<(), HubError> {
        let endpoint = Endpoint::RevokeShare;
        let url = self.client.url(endpoint, &[owner, server])?;
        let body = serde_json::to_value(target)
            .map_err(|e| HubError::Config(format!("cannot encode a share target: {e}")))?;
        self.call(endpoint, url, Body::Json(body)).await.map(drop)
    }

    /// `POST /users/{name}/activity`: the server `server` of `user` was used at
    /// `last_activity` (an ISO 8601 UTC timestamp). Needs `users:activity`, which a
    /// server's own token has. The hub keeps the newest value, so repeats are harmless.
    pub async fn post_activity(
        &self,
        user: &str,
        server: &str,
        last_activity: &str,
    ) -> Result<(), HubError> {
        let endpoint = Endpoint::PostActivity;
        let url = self.client.url(endpoint, &[user])?;
        let mut servers = serde_json::Map::new();
        servers.insert(server.to_owned(), json!({ "last_activity": last_activity }));
        let body = json!({ "last_activity": last_activity, "servers": servers });
        self.call(endpoint, url, Body::Json(body)).await.map(drop)
    }

    async fn call(&self, endpoint: Endpoint, url: Url, body: Body) -> Result<Reply, HubError> {
        let request = HubRequest::new(endpoint, url).token(self.token).body(body);
        self.client.send(request).await
    }

    async fn fetch<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        args: &[&str],
        body: Body,
    ) -> Result<T, HubError> {
        let url = self.client.url(endpoint, args)?;
        let reply = self.call(endpoint, url, body).await?;
        decode_json(endpoint, &reply.body)
    }

    /// Follows the hub's pagination to the end, one call per page.
    async fn list<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        args: &[&str],
    ) -> Result<Vec<T>, HubError> {
        let base = self.client.url(endpoint, args)?;
        let mut items = Vec::new();
        let mut cursor = Cursor::FIRST;
        for _ in 0..pagination::MAX_PAGES {
            let mut url = base.clone();
            url.query_pairs_mut()
                .append_pair("offset", &cursor.offset.to_string())
                .append_pair("limit", &cursor.limit.to_string());
            let request = HubRequest::new(endpoint, url).token(self.token).paginated();
            let reply = self.client.send(request).await?;
            let (page, next) = pagination::read_page(endpoint.key(), &reply.body, cursor)?;
            items.extend(page);
            match next {
                Some(next) => cursor = next,
                None => return Ok(items),
            }
        }
        Err(HubError::decode(
            endpoint.key(),
            format!("more than {} pages", pagination::MAX_PAGES),
        ))
    }
}
