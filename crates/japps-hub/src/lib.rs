//! The JupyterHub REST client of japps, and the only place japps talks to
//! the hub.
//!
//! - [`HubClient`]: one pooled keep-alive client per process, with timeouts,
//!   the cached hub version, and a [`CallRecorder`] counting every call.
//! - [`HubCaller`]: the endpoints, called with the service's token
//!   ([`HubClient::as_service`]) or a user's ([`HubClient::as_user`]).
//! - [`request_id`]: the id sent to the hub with each call.
//! - [`fan_out`]: bounded concurrency for a request's independent calls.
//! - [`HubError`]: every failure, ready to map to an HTTP status.

mod caller;
mod client;
mod credentials;
mod endpoint;
mod error;
mod fanout;
mod models;
mod oauth;
mod pagination;
mod recorder;
pub mod request_id;
mod version;

pub use caller::HubCaller;
pub use client::{HubClient, HubClientConfig};
pub use credentials::{ServiceToken, UserToken};
pub use error::HubError;
pub use fanout::fan_out;
pub use models::{
    Group, NameRef, Server, Service, ShareItem, ShareTarget, SharedServer, SpawnOutcome,
    StartServer, StopOutcome, User,
};
pub use oauth::{OAuthCode, OAuthToken};
pub use recorder::{CallCounts, CallRecorder, tally};
pub use version::{HubVersion, ParseVersionError};
