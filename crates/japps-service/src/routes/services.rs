//! `GET services/` and `GET share-permissions/`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;

use crate::application::services::{self, ServiceView};
use crate::application::sharing::{self, ShareTargets};
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::state::AppState;

pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<BTreeMap<String, ServiceView>>, ServiceError> {
    Ok(Json(services::list(state.hub()).await?))
}

pub(crate) async fn share_permissions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ShareTargets>, ServiceError> {
    let user = &caller.user;
    Ok(Json(
        sharing::share_targets(state.hub(), &user.name, &user.scopes).await?,
    ))
}
