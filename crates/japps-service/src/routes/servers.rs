//! `GET server/` and `GET server/{name}`.

use axum::Json;
use axum::extract::{Path, State};
use axum_extra::extract::WithRejection;

use crate::application::apps::{self, AppsView, ServerView};
use crate::auth::Caller;
use crate::error::{ErrorBody, ServiceError};
use crate::routes::responses::LoginErrors;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/server/",
    operation_id = "list_servers",
    tag = "apps",
    summary = "My servers and the servers shared with me",
    description = "`user_apps`: every server of the caller, the default server (`\"\"`) and \
        stopped ones included. `shared_apps`: the servers other users share with the caller, \
        matched by owner and name; an owner that cannot be read is skipped. Two hub calls in \
        steady state; an owner is read again (one call each) when its shared apps' cached \
        definitions are missing, expired or contradicted by the share list.",
    responses(
        (status = 200, description = "The caller's apps.", body = AppsView),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AppsView>, ServiceError> {
    Ok(Json(
        apps::library(state.app(), &caller, false).await?.into(),
    ))
}

#[utoipa::path(
    get,
    path = "/server/{name}",
    operation_id = "get_server",
    tag = "apps",
    summary = "One of my servers",
    description = "One of the caller's own servers. One hub call.",
    params(("name" = String, Path,
        description = "The server name; `lab` and `vscode` mean the default server.",
        example = "sales")),
    responses(
        (status = 200, description = "The server.", body = ServerView),
        (status = 404, description = "The caller has no server of that name.", body = ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    WithRejection(Path(name), _): WithRejection<Path<String>, ServiceError>,
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
