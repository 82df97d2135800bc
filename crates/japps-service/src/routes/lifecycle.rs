//! Create, start, edit, stop and delete: `POST server`, `POST server/{name}`,
//! `PUT server/{name}`, `DELETE server/{name}` (and the default server at `server/`).
//! Answers keep jhub-apps' odd shapes: `[status, servername]` for create and edit (plus a
//! third element listing what went wrong when the app is saved but not everything worked),
//! a bare status code for start and stop.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum_extra::extract::WithRejection;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::application::lifecycle::{self, AppRequest, Outcome, ThumbnailInput};
use crate::auth::Caller;
use crate::error::{ErrorBody, ServiceError};
use crate::routes::responses::{LoginErrors, StartAnswers};
use crate::schema::{AppAnswer, AppFormBody};
use crate::state::AppState;

/// The body of a create or edit: multipart `data` (JSON) + optional `thumbnail` file or
/// `thumbnail_data_url`, or the same fields URL-encoded (jhub-apps' clients send both).
#[derive(Debug)]
pub(crate) struct AppForm {
    request: AppRequest,
    thumbnail: ThumbnailInput,
}

impl FromRequest<AppState> for AppForm {
    type Rejection = ServiceError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut data = None;
        let mut thumbnail = ThumbnailInput::default();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|err| {
                    ServiceError::BadRequest(format!("malformed multipart body: {err}"))
                })?;
            while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
                match field.name().unwrap_or_default() {
                    "data" => data = Some(field.text().await.map_err(multipart_error)?),
                    "thumbnail" => {
                        let bytes = field.bytes().await.map_err(multipart_error)?;
                        // Browsers send an empty part when no file was chosen.
                        if !bytes.is_empty() {
                            thumbnail.upload = Some(bytes.to_vec());
                        }
                    }
                    "thumbnail_data_url" => {
                        thumbnail.data_url = Some(field.text().await.map_err(multipart_error)?)
                    }
                    _ => {}
                }
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            let bytes = axum::body::Bytes::from_request(request, state)
                .await
                .map_err(|err| ServiceError::BadRequest(format!("unreadable body: {err}")))?;
            for (key, value) in url::form_urlencoded::parse(&bytes) {
                match key.as_ref() {
                    "data" => data = Some(value.into_owned()),
                    "thumbnail_data_url" => thumbnail.data_url = Some(value.into_owned()),
                    _ => {}
                }
            }
        } else {
            return Err(ServiceError::UnsupportedMediaType(
                "send multipart/form-data (or a URL-encoded form) with a `data` field".into(),
            ));
        }
        let data =
            data.ok_or_else(|| ServiceError::BadRequest("the `data` field is missing".into()))?;
        let request: AppRequest = serde_json::from_str(&data).map_err(|err| {
            ServiceError::BadRequest(format!(
                "`data` is not valid JSON of {{servername, user_options}}: {err}"
            ))
        })?;
        Ok(AppForm { request, thumbnail })
    }
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ServiceError {
    let status = err.status();
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ServiceError::PayloadTooLarge(format!("the request is too large: {}", err.body_text()))
    } else {
        ServiceError::BadRequest(format!("malformed multipart body: {}", err.body_text()))
    }
}

fn answer(outcome: Outcome) -> Json<Value> {
    if outcome.warnings.is_empty() {
        Json(json!([outcome.status, outcome.name]))
    } else {
        Json(json!([outcome.status, outcome.name, {"warnings": outcome.warnings}]))
    }
}

#[utoipa::path(
    post,
    path = "/server",
    operation_id = "create_app",
    tag = "apps",
    summary = "Create an app",
    description = "Stores a new app of the caller under a server name made from its title \
        (unique among the caller's servers), shares it as `user_options.share_with` says and \
        starts it. The framework must be allowed. When sharing or starting fails the app stays \
        saved and the answer says what went wrong.",
    request_body(
        description = "The app's definition and optional thumbnail.",
        content(
            (AppFormBody = "multipart/form-data"),
            (AppFormBody = "application/x-www-form-urlencoded"),
        ),
    ),
    responses(
        (status = 200, description = "Saved: `[status, servername]` (and `{warnings}`).",
            body = AppAnswer),
        (status = 400, description = "A malformed form, `data`, option or thumbnail.",
            body = ErrorBody),
        (status = 413, description = "The request is larger than the upload limit.",
            body = ErrorBody),
        (status = 415, description = "Neither a multipart nor a URL-encoded form.",
            body = ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    form: AppForm,
) -> Result<Json<Value>, ServiceError> {
    Ok(answer(
        lifecycle::create(state.app(), &caller, form.request, form.thumbnail).await?,
    ))
}

#[utoipa::path(
    put,
    path = "/server/{name}",
    operation_id = "edit_app",
    tag = "apps",
    summary = "Edit one of my apps",
    description = "New options, thumbnail and shares for an existing app of the caller; a \
        running app is stopped, changed and started again. The app is never lost when a step \
        fails.",
    params(("name" = String, Path, description = "The app's server name.", example = "sales")),
    request_body(
        description = "The app's new definition and optional thumbnail.",
        content(
            (AppFormBody = "multipart/form-data"),
            (AppFormBody = "application/x-www-form-urlencoded"),
        ),
    ),
    responses(
        (status = 200, description = "Saved: `[status, servername]` (and `{warnings}`).",
            body = AppAnswer),
        (status = 400, description = "A malformed form, `data`, option or thumbnail.",
            body = ErrorBody),
        (status = 404, description = "The caller has no server of that name.", body = ErrorBody),
        (status = 409, description = "The app did not stop in time to be changed.",
            body = ErrorBody),
        (status = 413, description = "The request is larger than the upload limit.",
            body = ErrorBody),
        (status = 415, description = "Neither a multipart nor a URL-encoded form.",
            body = ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    WithRejection(Path(name), _): WithRejection<Path<String>, ServiceError>,
    form: AppForm,
) -> Result<Json<Value>, ServiceError> {
    Ok(answer(
        lifecycle::edit(state.app(), &caller, &name, form.request, form.thumbnail).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StartQuery {
    owner: Option<String>,
}

#[utoipa::path(
    post,
    path = "/server/{name}",
    operation_id = "start_app",
    tag = "apps",
    summary = "Start an app",
    description = "Starts one of the caller's servers, or with `owner` one shared with the \
        caller (whether that is allowed is the hub's decision), with its stored options.",
    params(
        ("name" = String, Path, description = "The server name.", example = "sales"),
        ("owner" = Option<String>, Query, description = "The app's owner; default: the caller."),
    ),
    responses(StartAnswers),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    caller: Caller,
    WithRejection(Path(name), _): WithRejection<Path<String>, ServiceError>,
    WithRejection(Query(query), _): WithRejection<Query<StartQuery>, ServiceError>,
) -> Result<Json<u16>, ServiceError> {
    let owner = query.owner.as_deref().filter(|owner| !owner.is_empty());
    Ok(Json(
        lifecycle::start(state.app(), &caller, owner, &name).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/server/",
    operation_id = "start_default_server",
    tag = "apps",
    summary = "Start my default server",
    responses(StartAnswers),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn start_default(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<u16>, ServiceError> {
    Ok(Json(
        lifecycle::start(state.app(), &caller, None, "").await?,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StopQuery {
    #[serde(default)]
    remove: Option<String>,
}

#[utoipa::path(
    delete,
    path = "/server/{name}",
    operation_id = "stop_app",
    tag = "apps",
    summary = "Stop or delete one of my apps",
    params(
        ("name" = String, Path, description = "The server name.", example = "sales"),
        ("remove" = Option<bool>, Query,
            description = "`true` deletes the server (the app) after stopping it."),
    ),
    responses(
        (status = 200, description = "The hub's status: 204 done, 202 stopping.", body = u16,
            content_type = "application/json",
            example = 204),
        (status = 400, description = "`remove` is neither true nor false.", body = ErrorBody),
        (status = 404, description = "The caller has no server of that name.", body = ErrorBody),
        (status = 409, description = "The hub refused the change now.", body = ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    WithRejection(Path(name), _): WithRejection<Path<String>, ServiceError>,
    WithRejection(Query(query), _): WithRejection<Query<StopQuery>, ServiceError>,
) -> Result<Json<u16>, ServiceError> {
    let remove = match query
        .remove
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("" | "false" | "0" | "no") => false,
        Some("true" | "1" | "yes") => true,
        Some(other) => {
            return Err(ServiceError::BadRequest(format!(
                "remove must be true or false, not {other:?}"
            )));
        }
    };
    Ok(Json(
        lifecycle::stop(state.app(), &caller, &name, remove).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/server/",
    operation_id = "stop_default_server",
    tag = "apps",
    summary = "Stop my default server",
    responses(
        (status = 200, description = "The hub's status: 204 stopped, 202 stopping.", body = u16,
            content_type = "application/json",
            example = 204),
        (status = 404, description = "No such server.", body = ErrorBody),
        (status = 409, description = "The hub refused the change now.", body = ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn stop_default(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<u16>, ServiceError> {
    Ok(Json(
        lifecycle::stop(state.app(), &caller, "", false).await?,
    ))
}
