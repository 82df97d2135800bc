//! `GET frameworks/`, `GET conda-environments/`, `GET spawner-profiles/`: what a new app
//! can be made of. Login required.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};

use crate::application::catalog::FrameworkView;
use crate::auth::Caller;
use crate::routes::responses::LoginErrors;
use crate::schema::SpawnerProfile;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/frameworks/",
    operation_id = "frameworks",
    tag = "catalog",
    summary = "Frameworks apps can be made with",
    description = "After the operator's `allowed_frameworks` / `blocked_frameworks`, with \
        japps' own logo URLs. No hub call.",
    responses(
        (status = 200, description = "The frameworks.", body = Vec<FrameworkView>),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn frameworks(
    State(state): State<AppState>,
    _caller: Caller,
) -> Json<Vec<FrameworkView>> {
    Json(state.catalog().frameworks().to_vec())
}

#[utoipa::path(
    get,
    path = "/conda-environments/",
    operation_id = "conda_environments",
    tag = "catalog",
    summary = "Conda environments apps can run in",
    description = "The operator's `conda_envs`: a list (no hub call), or a Python callable \
        evaluated for the caller (one hub call); a failing callable gives `[]`.",
    responses(
        (status = 200, description = "Environment names.", body = Vec<String>,
            example = json!(["env-1", "env-2"])),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
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

#[utoipa::path(
    get,
    path = "/spawner-profiles/",
    operation_id = "spawner_profiles",
    tag = "catalog",
    summary = "Spawner profiles",
    description = "KubeSpawner's `profile_list` as configured, each with a `slug` (made from \
        `display_name` when it has none): a list (no hub call), or a Python callable \
        evaluated for the caller (one hub call); a failing callable gives `[]`.",
    responses(
        (status = 200, description = "The profiles.", body = Vec<SpawnerProfile>),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
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
