//! Who asks: a user (or service) the hub knows, with their own hub token.

use std::sync::Arc;

use japps_hub::{User, UserToken};

/// An authenticated, authorized caller (see `crate::auth` for how a request becomes one).
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) user: Arc<User>,
    /// The caller's own hub token: actions on the hub run with it.
    pub(crate) token: UserToken,
}
