//! `GET frameworks/`, `GET conda-environments/`, `GET spawner-profiles/`: what a new app
//! can be made of. Login required.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};

use crate::application::catalog::FrameworkView;
use crate::auth::Caller;
use crate::state::AppState;

pub(crate) async fn frameworks(
    State(state): State<AppState>,
    _caller: Caller,
) -> Json<Vec<FrameworkView>> {
    Json(state.catalog().frameworks().to_vec())
}

pub(crate) async fn conda_environments(
    State(state): State<AppState>,
    caller: Caller,
) -> Json<Vec<String>> {
    Json(
        state
            .catalog()
            .conda_environments(state.hub(), &caller.user)
            .await,
    )
}

pub(crate) async fn spawner_profiles(
    State(state): State<AppState>,
    caller: Caller,
) -> Json<Vec<Map<String, Value>>> {
    Json(
        state
            .catalog()
            .spawner_profiles(state.hub(), &caller.user)
            .await,
    )
}
