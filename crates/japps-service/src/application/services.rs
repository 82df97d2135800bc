//! Hub services for the launcher: what the UI renders, never how they run.

use std::collections::BTreeMap;

use japps_hub::{HubClient, Service};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::application::ApplicationError;

/// A hub service projected to what the launcher shows. `command`, `pid`, `prefix` and
/// `roles` stay out: they describe the deployment, not the service.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ServiceView {
    #[schema(example = "japps")]
    pub(crate) name: String,
    /// `service`.
    #[schema(example = "service")]
    pub(crate) kind: String,
    pub(crate) admin: bool,
    /// Whether the hub lists the service on its home page.
    pub(crate) display: bool,
    /// The service's `info` (`name`, `url`, `description`, `external`, `pinned`,
    /// `thumbnail`, ... as the operator configured it).
    #[schema(value_type = Object)]
    pub(crate) info: Map<String, Value>,
    /// Where the service is, when it has a URL.
    #[schema(example = "/services/japps/")]
    pub(crate) url: Option<String>,
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
pub(crate) async fn list(
    hub: &HubClient,
) -> Result<BTreeMap<String, ServiceView>, ApplicationError> {
    let services = hub.as_service().services().await?;
    Ok(services
        .into_iter()
        .map(|(name, service)| (name, ServiceView::from(service)))
        .collect())
}
