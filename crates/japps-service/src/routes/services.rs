//! `GET services/` and `GET share-permissions/`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;

use crate::application::services::{self, ServiceView};
use crate::application::sharing::ShareTargets;
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::routes::responses::LoginErrors;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/services/",
    operation_id = "list_services",
    tag = "services",
    summary = "Hub services",
    description = "The hub's services by name, projected to what the launcher shows (never \
        `command`, `pid`, `prefix` or `roles`). One hub call.",
    responses(
        (status = 200, description = "Services by name.", body = BTreeMap<String, ServiceView>),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<BTreeMap<String, ServiceView>>, ServiceError> {
    Ok(Json(services::list(state.hub()).await?))
}

#[utoipa::path(
    get,
    path = "/share-permissions/",
    operation_id = "share_permissions",
    tag = "services",
    summary = "Whom I may share with",
    description = "The users and groups the caller may share apps with, from the caller's \
        scopes: explicitly named users and groups cost no hub call, `!group=` filters one call \
        per group, broad `read:users:name` / `read:groups:name` scopes a paginated listing. \
        Never contains the caller. Kept for 30 seconds per user and set of scopes.",
    responses(
        (status = 200, description = "Share targets.", body = ShareTargets),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn share_permissions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ShareTargets>, ServiceError> {
    let user = &caller.user;
    let targets = state
        .app()
        .share_targets()
        .get(state.hub(), &user.name, &user.scopes)
        .await?;
    Ok(Json(ShareTargets::clone(&targets)))
}
