//! The application layer: what japps does for a user, independent of how it is asked (JSON
//! API today, server-rendered pages later). It owns every hub call a request makes, and with
//! them the per-request hub-call budget.
//!
//! It takes plain inputs — the [`Context`] (hub client, settings, prepared catalog), the
//! [`Caller`] and the request's data — and answers with values or an
//! [`ApplicationError`]; it knows nothing of HTTP (status codes, cookies, redirects and
//! media types belong to the routes).

pub(crate) mod apps;
mod caller;
pub(crate) mod catalog;
mod error;
pub(crate) mod git_config;
pub(crate) mod identity;
pub(crate) mod lifecycle;
pub(crate) mod python;
pub(crate) mod services;
pub(crate) mod sharing;
pub(crate) mod startup_apps;
pub(crate) mod thumbnails;

use std::sync::Arc;
use std::time::Duration;

use japps_hub::{HubClient, HubClientConfig};

pub(crate) use caller::Caller;
pub(crate) use error::ApplicationError;

use crate::application::apps::SharedAppCache;
use crate::application::catalog::Catalog;
use crate::application::identity::Identities;
use crate::application::sharing::{SHARE_TARGETS_SECONDS, ShareTargetCache};
use crate::settings::Settings;

/// What every use case works with: one per process, cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    hub: HubClient,
    identities: Identities,
    catalog: Catalog,
    shared_apps: SharedAppCache,
    share_targets: ShareTargetCache,
}

impl Context {
    /// The process's one pooled hub client, the identity cache and the catalog.
    pub(crate) fn new(settings: Settings) -> Result<Self, japps_hub::HubError> {
        let mut hub_config =
            HubClientConfig::new(settings.api_url.clone(), settings.api_token.clone());
        hub_config.timeout = settings.hub_timeout;
        let hub = HubClient::new(hub_config)?;
        let identities =
            Identities::new(Duration::from_secs(settings.config.identity_cache_max_age));
        let catalog = Catalog::new(&settings);
        let shared_apps = SharedAppCache::new(Duration::from_secs(
            settings.config.shared_app_cache_seconds,
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                hub,
                identities,
                catalog,
                shared_apps,
                share_targets: ShareTargetCache::new(Duration::from_secs(SHARE_TARGETS_SECONDS)),
            }),
        })
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn hub(&self) -> &HubClient {
        &self.inner.hub
    }

    pub(crate) fn identities(&self) -> &Identities {
        &self.inner.identities
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    pub(crate) fn shared_apps(&self) -> &SharedAppCache {
        &self.inner.shared_apps
    }

    pub(crate) fn share_targets(&self) -> &ShareTargetCache {
        &self.inner.share_targets
    }
}
