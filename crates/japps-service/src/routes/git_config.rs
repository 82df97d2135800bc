//! `POST app-config-from-git/`: an app's definition read from a git repository's
//! `conda-project.yml`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;

use crate::application::git_config::{self, GitPolicy, GitRepository, JHubAppConfig};
use crate::auth::Caller;
use crate::error::{ErrorBody, ServiceError};
use crate::routes::responses::LoginErrors;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/app-config-from-git/",
    operation_id = "app_config_from_git",
    tag = "apps",
    summary = "An app's definition from a git repository",
    description = "Clones the repository (shallow, the one branch or tag `ref`) and reads the \
        `variables:` of `conda-project.yml` in `config_directory`: \
        `JHUB_APP_CONFIG_<field>` variables give `display_name`, `description`, `framework`, \
        `filepath`, `custom_command`, `public`, `keep_alive` and `thumbnail_path` (a file in \
        the repository, returned as a data URL in `thumbnail`); every other variable goes to \
        `env`. Only `https://` and `http://` URLs of public addresses are cloned, without \
        redirects (`git://`, private addresses and local repositories only when the operator \
        allows them, and only from the operator's list of hosts when there is one), within \
        the operator's time and size limits and at most two at once per user. \
        Paths never leave the repository. No hub call.",
    request_body(content = GitRepository, content_type = "application/json"),
    responses(
        (status = 200, description = "The app's definition.", body = JHubAppConfig),
        (status = 400, description = "A URL that is not allowed (`Repository URL not allowed: …`), \
            a failed clone (`Repository clone failed: <url>`), a missing directory \
            (`Path '<dir>' doesn't exists in the repository.`), no or an invalid \
            `conda-project.yml` (`Invalid conda-project: …`), invalid fields or thumbnail \
            (`Validation error: …`), or a malformed body.", body = ErrorBody),
        (status = 429, description = "The caller already has two repositories being read; \
            `Retry-After` says when to try again.", body = ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn from_git(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<JHubAppConfig>, ServiceError> {
    let body = body.map_err(|err| match err.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            ServiceError::PayloadTooLarge(format!("the request is too large: {}", err.body_text()))
        }
        _ => ServiceError::BadRequest(format!("unreadable body: {}", err.body_text())),
    })?;
    let repository = GitRepository::from_json(&body)?;
    let policy = GitPolicy::from_config(&state.settings().config);
    tracing::info!(
        user = %caller.user.name,
        url = %japps_domain::git::redact_url(&repository.url),
        git_ref = %repository.git_ref,
        "reading an app's configuration from git"
    );
    // Spawned: a client that goes away does not leave a clone half-removed.
    let user = caller.user.name.clone();
    let fetch = async move { git_config::app_config_from_git(&user, repository, policy).await };
    match tokio::spawn(fetch).await {
        Ok(result) => result.map(Json).map_err(ServiceError::from),
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(_) => Err(ServiceError::BadGateway(
            "the service stopped before the repository was read".into(),
        )),
    }
}
