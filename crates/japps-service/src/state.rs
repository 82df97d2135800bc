//! State shared by every request handler.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use japps_hub::{HubClient, HubClientConfig};

use crate::application::catalog::Catalog;
use crate::application::identity::Identities;
use crate::auth::session::Sessions;
use crate::error::ServiceError;
use crate::settings::Settings;

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    hub: HubClient,
    identities: Identities,
    sessions: Sessions,
    catalog: Catalog,
    /// `openapi.json`, built once.
    openapi_json: Bytes,
}

impl AppState {
    /// Builds the state, including the process's one pooled hub client.
    pub fn new(settings: Settings) -> Result<Self, ServiceError> {
        let mut hub_config =
            HubClientConfig::new(settings.api_url.clone(), settings.api_token.clone());
        hub_config.timeout = settings.hub_timeout;
        let hub = HubClient::new(hub_config)?;
        let identities =
            Identities::new(Duration::from_secs(settings.config.identity_cache_max_age));
        let sessions = Sessions::new(&settings);
        let catalog = Catalog::new(&settings);
        let openapi_json =
            crate::routes::openapi::document_json(&settings.prefix, sessions.session_cookie())?;
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                hub,
                identities,
                sessions,
                catalog,
                openapi_json,
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn hub(&self) -> &HubClient {
        &self.inner.hub
    }

    pub(crate) fn identities(&self) -> &Identities {
        &self.inner.identities
    }

    pub(crate) fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    pub(crate) fn openapi_json(&self) -> &Bytes {
        &self.inner.openapi_json
    }
}
