//! Hub services for the launcher: what the UI renders, never how they run.

use std::collections::BTreeMap;

use japps_hub::{HubClient, Service};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ServiceError;

/// A hub service projected to what the launcher shows. `command`, `pid`, `prefix` and
/// `roles` stay out: they describe the deployment, not the service.
#[derive(Debug, Serialize)]
pub(crate) struct ServiceView {
    name: String,
    kind: String,
    admin: bool,
    display: bool,
    info: Map<String, Value>,
    url: Option<String>,
}

impl From<Service> for ServiceView {
    fn from(service: Service) -> Self {
        Self {
            name: service.name,
            kind: if service.kind.is_empty() {
                "service".into()
            } else {
                service.kind
            },
            admin: service.admin,
            display: service.display,
            info: service.info,
            url: service.url,
        }
    }
}

/// `GET services/`: the hub's services keyed by name, as jhub-apps returns them. One hub call.
pub(crate) async fn list(hub: &HubClient) -> Result<BTreeMap<String, ServiceView>, ServiceError> {
    let services = hub.as_service().services().await?;
    Ok(services
        .into_iter()
        .map(|(name, service)| (name, ServiceView::from(service)))
        .collect())
}
