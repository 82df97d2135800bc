//! State shared by every request handler.

use std::sync::Arc;

use japps_hub::{HubClient, HubClientConfig};

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
}

impl AppState {
    /// Builds the state, including the process's one pooled hub client.
    pub fn new(settings: Settings) -> Result<Self, ServiceError> {
        let mut hub_config =
            HubClientConfig::new(settings.api_url.clone(), settings.api_token.clone());
        hub_config.timeout = settings.hub_timeout;
        let hub = HubClient::new(hub_config)?;
        Ok(Self {
            inner: Arc::new(Inner { settings, hub }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn hub(&self) -> &HubClient {
        &self.inner.hub
    }
}
