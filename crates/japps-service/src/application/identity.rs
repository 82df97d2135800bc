//! Who holds a token: `GET /user` with that token, cached per token like JupyterHub's own
//! `HubAuth` (same default of 300 s), so a user's requests cost no hub call while cached.
//!
//! The cache key is a digest of the hub session id and the token, never the token: a hub
//! logout changes the session id and so forces a fresh lookup. A token the hub refuses is
//! cached as "nobody" too, so a client retrying a dead token does not hammer the hub.
//! Hub failures are not cached.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use japps_hub::{HubClient, HubError, User, UserToken};
use moka::future::Cache;
use sha2::{Digest, Sha256};

/// Enough for every active user of a large hub; each entry is one user model.
const MAX_ENTRIES: u64 = 20_000;

#[derive(Debug)]
pub(crate) struct Identities {
    cache: Option<Cache<[u8; 32], Option<Arc<User>>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Identities {
    /// `max_age` zero disables caching: every request asks the hub.
    pub(crate) fn new(max_age: Duration) -> Self {
        let cache = (!max_age.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(max_age)
                .build()
        });
        Self {
            cache,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The user behind `token`, or `None` when the hub does not accept it. Concurrent
    /// lookups of the same token share one hub call.
    pub(crate) async fn resolve(
        &self,
        hub: &HubClient,
        token: &UserToken,
        hub_session_id: Option<&str>,
    ) -> Result<Option<Arc<User>>, Arc<HubError>> {
        let Some(cache) = &self.cache else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return lookup(hub, token).await.map_err(Arc::new);
        };
        let key = cache_key(token, hub_session_id);
        let mut missed = false;
        let user = cache
            .try_get_with(key, async {
                missed = true;
                lookup(hub, token).await
            })
            .await?;
        let counter = if missed { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(user)
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub(crate) fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}

async fn lookup(hub: &HubClient, token: &UserToken) -> Result<Option<Arc<User>>, HubError> {
    match hub.as_user(token).whoami().await {
        Ok(user) => Ok(Some(Arc::new(user))),
        // The hub answers 403 for unknown, expired or revoked tokens.
        Err(HubError::Status {
            status: 401 | 403, ..
        }) => Ok(None),
        Err(err) => Err(err),
    }
}

fn cache_key(token: &UserToken, hub_session_id: Option<&str>) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(hub_session_id.unwrap_or_default().as_bytes());
    digest.update([0]);
    digest.update(token.fingerprint());
    digest.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_token_and_session() {
        let a = UserToken::new("token-a".into());
        let b = UserToken::new("token-b".into());
        assert_ne!(cache_key(&a, None), cache_key(&b, None));
        assert_ne!(cache_key(&a, Some("s1")), cache_key(&a, Some("s2")));
        assert_eq!(cache_key(&a, Some("s1")), cache_key(&a, Some("s1")));
    }
}
