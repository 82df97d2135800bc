//! `GET server/` and `GET server/{name}`.

use axum::Json;
use axum::extract::{Path, State};

use crate::application::apps::{self, AppsView, ServerView};
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::state::AppState;

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AppsView>, ServiceError> {
    Ok(Json(
        apps::visible_apps(state.hub(), &caller.user.name).await?,
    ))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<ServerView>, ServiceError> {
    // jhub-apps' UI asks for `lab` and `vscode` to mean the default server.
    let name = match name.as_str() {
        "lab" | "vscode" => "",
        other => other,
    };
    Ok(Json(
        apps::own_server(state.hub(), &caller.user.name, name).await?,
    ))
}
