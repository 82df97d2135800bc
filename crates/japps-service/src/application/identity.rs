//! Who holds a token: `GET /user` with that token, cached per token like JupyterHub's own
//! `HubAuth` (same default of 300 s), so a user's requests cost no hub call while cached.
//!
//! The cache key is a digest of the hub session id and the token, never the token: a hub
//! logout changes the session id and so forces a fresh lookup. A token the hub refuses is
//! cached as "nobody" too, so a client retrying a dead token does not hammer the hub; those
//! refusals live in a second, smaller cache, so that a flood of made-up tokens evicts
//! other made-up tokens and never a real user's entry.
//! Hub failures are not cached.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use japps_hub::{HubClient, HubError, User, UserToken};
use moka::future::Cache;
use moka::policy::EvictionPolicy;
use sha2::{Digest, Sha256};

/// Enough for every active user of a large hub; each entry is one user model.
const MAX_USERS: u64 = 20_000;
/// Refused tokens remembered: enough for clients retrying a few dead tokens; a flood of
/// new ones only cycles through this cache.
const MAX_REFUSED: u64 = 2_000;

type Key = [u8; 32];

#[derive(Debug)]
pub(crate) struct Identities {
    caches: Option<Caches>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct Caches {
    users: Cache<Key, Arc<User>>,
    refused: Cache<Key, ()>,
}

/// Why a lookup gave no user: kept apart so that only hub refusals are cached.
#[derive(Debug)]
enum NoUser {
    Refused,
    Failed(Arc<HubError>),
}

impl Identities {
    /// `max_age` zero disables caching: every request asks the hub.
    pub(crate) fn new(max_age: Duration) -> Self {
        Self::with_capacity(max_age, MAX_USERS, MAX_REFUSED)
    }

    fn with_capacity(max_age: Duration, users: u64, refused: u64) -> Self {
        Self {
            caches: (!max_age.is_zero()).then(|| Caches {
                users: Cache::builder()
                    .max_capacity(users)
                    .time_to_live(max_age)
                    .build(),
                // The latest refusals are the ones retried: a flood cycles through them.
                refused: Cache::builder()
                    .eviction_policy(EvictionPolicy::lru())
                    .max_capacity(refused)
                    .time_to_live(max_age)
                    .build(),
            }),
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
        let Some(caches) = &self.caches else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return lookup(hub, token).await.map_err(Arc::new);
        };
        let key = cache_key(token, hub_session_id);
        if caches.refused.contains_key(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        let mut missed = false;
        let found = caches
            .users
            .try_get_with(key, async {
                missed = true;
                match lookup(hub, token).await {
                    Ok(Some(user)) => Ok(user),
                    Ok(None) => Err(NoUser::Refused),
                    Err(err) => Err(NoUser::Failed(Arc::new(err))),
                }
            })
            .await;
        let counter = if missed { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        match found {
            Ok(user) => Ok(Some(user)),
            Err(why) => match &*why {
                NoUser::Refused => {
                    caches.refused.insert(key, ()).await;
                    Ok(None)
                }
                NoUser::Failed(err) => Err(err.clone()),
            },
        }
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

fn cache_key(token: &UserToken, hub_session_id: Option<&str>) -> Key {
    let mut digest = Sha256::new();
    digest.update(hub_session_id.unwrap_or_default().as_bytes());
    digest.update([0]);
    digest.update(token.fingerprint());
    digest.finalize().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[test]
    fn keys_differ_by_token_and_session() {
        let a = UserToken::new("token-a".into());
        let b = UserToken::new("token-b".into());
        assert_ne!(cache_key(&a, None), cache_key(&b, None));
        assert_ne!(cache_key(&a, Some("s1")), cache_key(&a, Some("s2")));
        assert_eq!(cache_key(&a, Some("s1")), cache_key(&a, Some("s1")));
    }

    /// A hub that knows one token, alice's, and refuses every other.
    async fn hub() -> (HubClient, MockServer) {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/hub/api/user"))
            .and(header("Authorization", "token alice-token"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"kind": "user", "name": "alice"})),
            )
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/hub/api/user"))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "no"})))
            .with_priority(2)
            .mount(&server)
            .await;
        let client = client_of(&server);
        (client, server)
    }

    /// A hub client of the mock hub, with the service's token.
    fn client_of(server: &MockServer) -> HubClient {
        let url = url::Url::parse(&format!("{}/hub/api", server.uri())).unwrap();
        HubClient::new(japps_hub::HubClientConfig::new(
            url,
            japps_hub::ServiceToken::new("service-token".into()),
        ))
        .unwrap()
    }

    /// `GET /user` calls (the client also asks the hub's version once).
    async fn hub_calls(server: &MockServer) -> usize {
        let requests = server.received_requests().await.unwrap();
        requests
            .iter()
            .filter(|request| request.url.path() == "/hub/api/user")
            .count()
    }

    #[tokio::test]
    async fn a_flood_of_bad_tokens_does_not_evict_a_user() {
        let (client, server) = hub().await;
        // Room for 4 users and 4 refused tokens: the flood is 50 times that.
        let identities = Identities::with_capacity(Duration::from_secs(300), 4, 4);
        let alice = UserToken::new("alice-token".into());
        let user = identities.resolve(&client, &alice, None).await.unwrap();
        assert_eq!(user.unwrap().name, "alice");
        assert_eq!(hub_calls(&server).await, 1);
        for n in 0..200 {
            let bad = UserToken::new(format!("made-up-{n}"));
            assert!(
                identities
                    .resolve(&client, &bad, None)
                    .await
                    .unwrap()
                    .is_none()
            );
            identities
                .caches
                .as_ref()
                .unwrap()
                .refused
                .run_pending_tasks()
                .await;
            assert_eq!(hub_calls(&server).await, n + 2, "{n}");
        }
        let before = hub_calls(&server).await;
        assert_eq!(before, 201);
        let user = identities.resolve(&client, &alice, None).await.unwrap();
        assert_eq!(user.unwrap().name, "alice");
        assert_eq!(hub_calls(&server).await, before, "alice is still cached");
        // A refused token retried is answered from its own cache.
        let bad = UserToken::new("made-up-199".into());
        assert!(
            identities
                .resolve(&client, &bad, None)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(hub_calls(&server).await, before);
    }

    #[tokio::test]
    async fn hub_failures_are_not_cached() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/hub/api/user"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let client = client_of(&server);
        let identities = Identities::new(Duration::from_secs(300));
        let token = UserToken::new("any".into());
        assert!(identities.resolve(&client, &token, None).await.is_err());
        assert!(identities.resolve(&client, &token, None).await.is_err());
        assert_eq!(hub_calls(&server).await, 2);
    }
}
