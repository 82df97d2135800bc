//! `GET apps/{owner}/{server}`: one app's own page. The owner and hub admins see its whole
//! definition, its status with live progress and its output (the page script follows the
//! launcher's event stream); a user it is shared with sees what describes it and how to
//! open it, nothing of its configuration. `GET apps/{owner}/{server}/state`: the small JSON
//! the page polls while the hub starts or stops the server.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use japps_domain::AppOptions;
use minijinja::context;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::application::apps::{self, AppDetail, AppRole, ServerView};
use crate::application::{ApplicationError, Caller, catalog, thumbnails};
use crate::error::{ErrorBody, ServiceError};
use crate::routes::responses::LoginErrors;
use crate::state::AppState;
use crate::web::home::{activity_fallback, framework_label, may_start, status_of};
use crate::web::layout;
use crate::web::path_segment;

/// `GET apps/{owner}/{server}`: the app's page, or a 404 page that reads the same whether
/// the app does not exist or the caller may not see it.
#[utoipa::path(
    get,
    path = "/apps/{owner}/{server}",
    operation_id = "app_page",
    tag = "apps",
    summary = "An app's page (HTML)",
    description = "For a browser. The owner and hub admins: the app's definition, status \
        with live progress, URL, shares and output. A user it is shared with: its title, \
        description, framework, owner, status and link only. One hub call (a sharee: the \
        share list, plus the owner when not cached).",
    params(
        ("owner" = String, Path, description = "The app's owner.", example = "alice"),
        ("server" = String, Path, description = "The app's server name.", example = "sales"),
    ),
    responses(
        (status = 200, description = "The page.", body = String,
            content_type = "text/html; charset=utf-8"),
        (status = 404, description = "No such app for the caller, the same answer whether \
            it exists or not: an HTML page for a browser, JSON otherwise.", body = ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((owner, server)): Path<(String, String)>,
    caller: Result<Caller, ServiceError>,
) -> Result<Response, ServiceError> {
    let caller = caller?;
    let wants_html = headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let no_store = [(CACHE_CONTROL, "no-store")];
    match apps::app_detail(state.app(), &caller, &owner, &server).await {
        Ok(detail) => {
            let page = AppPage::new(&state, &caller, detail);
            let html = state
                .templates()
                .render("app_page.html", page.context(&state));
            Ok((no_store, Html(html)).into_response())
        }
        Err(ApplicationError::NotFound(message)) if wants_html => {
            tracing::debug!("{message}");
            let base =
                layout::page_context(&state, &caller.user.name, caller.user.admin, false, &[]);
            let html = state.templates().render(
                "app_page.html",
                context! { missing => true, owner => owner, server => server, ..base },
            );
            Ok((StatusCode::NOT_FOUND, no_store, Html(html)).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// What the app page polls while the hub starts or stops the server.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AppStatus {
    /// `running`, `ready` (stopped, can start), `pending` or `unknown`.
    #[schema(example = "pending")]
    pub(crate) status: &'static str,
    #[schema(example = "Pending")]
    pub(crate) status_label: &'static str,
    /// `spawn`, `stop`, `check` (JupyterHub 6 also `rename`), or null.
    pub(crate) pending: Option<String>,
    pub(crate) ready: bool,
    pub(crate) stopped: bool,
    pub(crate) last_activity: Option<String>,
    /// The server's path on the hub's proxy.
    #[schema(example = "/user/alice/sales/")]
    pub(crate) url: String,
}

impl From<&ServerView> for AppStatus {
    fn from(view: &ServerView) -> Self {
        let (status, status_label) = status_of(view);
        Self {
            status,
            status_label,
            pending: view.pending.clone(),
            ready: view.ready,
            stopped: view.stopped,
            last_activity: view.last_activity.clone(),
            url: view.url.clone(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/apps/{owner}/{server}/state",
    operation_id = "app_state",
    tag = "apps",
    summary = "An app's status, for its page",
    description = "What the hub says of the app's server now: the app page polls it every \
        2 s while the server starts or stops. One hub call for the owner or an admin; a \
        user it is shared with: the share list, plus the owner while it is pending.",
    params(
        ("owner" = String, Path, description = "The app's owner.", example = "alice"),
        ("server" = String, Path, description = "The app's server name.", example = "sales"),
    ),
    responses(
        (status = 200, description = "The status.", body = AppStatus),
        (status = 404, description = "No such app for the caller.", body = ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn app_state(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, server)): Path<(String, String)>,
) -> Result<Response, ServiceError> {
    let detail = apps::app_detail(state.app(), &caller, &owner, &server).await?;
    Ok((
        [(CACHE_CONTROL, "no-store")],
        Json(AppStatus::from(&detail.view)),
    )
        .into_response())
}

/// One environment variable; the value only for the owner.
#[derive(Debug, Serialize)]
pub(crate) struct EnvVar {
    name: String,
    value: Option<String>,
}

/// What only the owner and admins see: the app's configuration.
#[derive(Debug, Serialize)]
pub(crate) struct Details {
    shared_users: Vec<String>,
    shared_groups: Vec<String>,
    keep_alive: bool,
    conda_env: Option<String>,
    filepath: Option<String>,
    custom_command: Option<String>,
    profile: Option<String>,
    profile_image: Option<String>,
    /// Without credentials, query or fragment.
    repository: Option<String>,
    repository_ref: Option<String>,
    repository_dir: Option<String>,
    env: Vec<EnvVar>,
    /// Whether the values are shown (the owner) or only the names (an admin).
    env_values: bool,
}

/// Everything the app page shows, as plain values for the template.
#[derive(Debug, Serialize)]
pub(crate) struct AppPage {
    #[serde(skip)]
    user: String,
    #[serde(skip)]
    admin: bool,
    role: &'static str,
    owner: String,
    server: String,
    title: String,
    description: String,
    framework: String,
    framework_label: String,
    logo: String,
    thumbnail: Option<String>,
    status: &'static str,
    status_label: &'static str,
    /// What the hub is doing: `spawn`, `stop`…
    pending: Option<String>,
    public: bool,
    /// `{hub}/hub/user/<owner>/<server>/`: the running app, or the hub's page that offers
    /// to start it.
    open_url: String,
    /// The link to give others: `open_url`, except for a public app, whose visitors may
    /// have no access the hub knows of (the hub answers 404 to them on its `/hub/user/`
    /// form, and asks anonymous ones to log in): `{hub}/user/<owner>/<server>/`.
    share_url: String,
    /// The server's path on the proxy, where the launcher's `_japps/` pages live.
    app_path: String,
    activity: Option<String>,
    activity_text: String,
    may_start: bool,
    start_reason: String,
    own: bool,
    edit_url: Option<String>,
    state_url: String,
    details: Option<Details>,
}

impl AppPage {
    pub(crate) fn new(state: &AppState, caller: &Caller, detail: AppDetail) -> Self {
        let settings = state.settings();
        Self::build(
            &settings.prefix,
            &|path: &str| settings.hub_env.proxied_url(path),
            caller,
            detail,
        )
    }

    /// `proxied` makes a path under the hub's base URL (`hub/home`, `user/a/b/`) absolute.
    fn build(
        prefix: &str,
        proxied: &dyn Fn(&str) -> String,
        caller: &Caller,
        detail: AppDetail,
    ) -> Self {
        let AppDetail { owner, role, view } = detail;
        // A sharee's view is already cut; cut again so that no change elsewhere can leak.
        let full = role != AppRole::Sharee;
        let mut options = AppOptions::from_stored(view.user_options.clone());
        if !full {
            options = options.for_sharee();
        }
        let server = view.name.clone();
        let framework = options
            .framework
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        let framework_label = framework_label(&framework);
        let title = [
            options.title().unwrap_or_default().to_owned(),
            view.display_name.clone().unwrap_or_default(),
            server.clone(),
        ]
        .into_iter()
        .find(|title| !title.trim().is_empty())
        .unwrap_or_default();
        let (status, status_label) = status_of(&view);
        let segments = format!("{}/{}", path_segment(&owner), path_segment(&server));
        let thumbnail = options
            .thumbnail()
            .filter(|url| !thumbnails::is_default_thumbnail(url))
            .map(|url| {
                let digest = Sha256::digest(url.as_bytes());
                let version: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("{prefix}thumbnail/{segments}?v={version}")
            });
        let logo_name = if catalog::logo(&framework).is_some() {
            framework.as_str()
        } else {
            "custom"
        };
        let (may_start, start_reason) = may_start(caller, &owner, &server);
        let activity = view.last_activity.clone().filter(|at| !at.is_empty());
        let activity_text = activity
            .as_deref()
            .map_or_else(|| "No activity yet".to_owned(), activity_fallback);
        let own = role == AppRole::Owner;
        let details = full.then(|| details(&options, own));
        Self {
            user: caller.user.name.clone(),
            admin: caller.user.admin,
            role: match role {
                AppRole::Owner => "owner",
                AppRole::Admin => "admin",
                AppRole::Sharee => "sharee",
            },
            open_url: proxied(&format!("hub/user/{segments}/")),
            share_url: if options.is_public() {
                proxied(&format!("user/{segments}/"))
            } else {
                proxied(&format!("hub/user/{segments}/"))
            },
            app_path: view.url.clone(),
            edit_url: own.then(|| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("id", &server);
                format!("{prefix}edit-app?{}", query.finish())
            }),
            state_url: format!("{prefix}apps/{segments}/state"),
            logo: format!("{prefix}static/logos/{logo_name}.svg"),
            description: options
                .description
                .as_deref()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            framework: if framework.is_empty() {
                "custom".into()
            } else {
                framework
            },
            framework_label,
            public: options.is_public(),
            owner,
            server,
            title,
            thumbnail,
            status,
            status_label,
            pending: view.pending.clone(),
            activity,
            activity_text,
            may_start,
            start_reason,
            own,
            details,
        }
    }

    pub(crate) fn context(&self, state: &AppState) -> minijinja::Value {
        let base = layout::page_context(state, &self.user, self.admin, false, &[]);
        context! { app => self, missing => false, ..base }
    }
}

fn details(options: &AppOptions, own: bool) -> Details {
    let text = |value: Option<&str>| value.map(str::to_owned);
    let repository = options.repository();
    Details {
        shared_users: options
            .share_users()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        shared_groups: options
            .share_groups()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        keep_alive: options.keeps_alive(),
        conda_env: text(options.conda_env()),
        filepath: text(options.filepath()),
        custom_command: text(options.custom_command()),
        profile: options
            .profile
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(str::to_owned),
        profile_image: text(options.profile_image()),
        repository: repository
            .and_then(|r| r.url())
            .map(japps_domain::git::redact_url),
        repository_ref: repository.and_then(|r| r.git_ref()).map(str::to_owned),
        repository_dir: repository
            .and_then(|r| r.config_directory.as_deref())
            .filter(|d| !d.trim().is_empty())
            .map(str::to_owned),
        env: options
            .env
            .iter()
            .flatten()
            .map(|(name, value)| EnvVar {
                name: name.clone(),
                value: own.then(|| value.clone()),
            })
            .collect(),
        env_values: own,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use japps_hub::{Server, User, UserToken};
    use serde_json::{Value, json};

    use super::*;
    use crate::settings::Settings;

    fn caller(name: &str, admin: bool) -> Caller {
        let user: User = serde_json::from_value(json!({
            "kind": "user", "name": name, "admin": admin, "scopes": [],
        }))
        .unwrap();
        Caller {
            user: Arc::new(user),
            token: UserToken::new("t".into()),
        }
    }

    fn options() -> Value {
        json!({
            "jhub_app": true, "display_name": "Sales <b>", "description": "Numbers",
            "framework": "panel", "thumbnail": "data:image/png;base64,iVBORw0KGgo=",
            "filepath": "/home/alice/secret-path.py", "conda_env": "secret-env",
            "custom_command": "run --token SECRET-CMD", "public": false, "keep_alive": true,
            "env": {"API_KEY": "SECRET-ENV-VALUE"},
            "share_with": {"users": ["bob"], "groups": ["team"]},
            "repository": {"url": "https://user:SECRET-PW@example.org/repo.git?t=SECRET-Q",
                           "ref": "main"},
        })
    }

    fn detail(role: AppRole) -> AppDetail {
        let server: Server = serde_json::from_value(json!({
            "name": "sales", "full_name": "alice/sales", "url": "/user/alice/sales/",
            "ready": false, "stopped": false, "pending": "spawn",
            "last_activity": "2026-01-02T03:04:05.000000Z", "user_options": options(),
        }))
        .unwrap();
        AppDetail {
            owner: "alice".into(),
            role,
            view: ServerView::from(server),
        }
    }

    fn build(caller: &Caller, role: AppRole) -> AppPage {
        let proxied = |path: &str| format!("/{path}");
        AppPage::build("/services/japps/", &proxied, caller, detail(role))
    }

    fn state() -> AppState {
        let settings = Settings::from_vars(vec![(
            "JUPYTERHUB_API_TOKEN".to_owned(),
            "unit-test-token".to_owned(),
        )])
        .unwrap();
        AppState::new(settings).unwrap()
    }

    #[test]
    fn a_public_app_is_shared_by_its_plain_link() {
        let private = build(&caller("alice", false), AppRole::Owner);
        assert_eq!(private.share_url, "/hub/user/alice/sales/");
        let mut public = detail(AppRole::Sharee);
        public
            .view
            .user_options
            .insert("public".into(), Value::Bool(true));
        let proxied = |path: &str| format!("/{path}");
        let page = AppPage::build("/services/japps/", &proxied, &caller("bob", false), public);
        // Its visitors need not be users the hub lets into `/hub/user/…`.
        assert_eq!(page.share_url, "/user/alice/sales/");
        assert_eq!(page.open_url, "/hub/user/alice/sales/");
    }

    #[test]
    fn the_owner_sees_everything_with_the_repository_redacted() {
        let page = build(&caller("alice", false), AppRole::Owner);
        assert_eq!(page.role, "owner");
        assert_eq!(page.status, "pending");
        assert_eq!(page.open_url, "/hub/user/alice/sales/");
        assert_eq!(page.app_path, "/user/alice/sales/");
        assert_eq!(page.state_url, "/services/japps/apps/alice/sales/state");
        assert_eq!(
            page.edit_url.as_deref(),
            Some("/services/japps/edit-app?id=sales")
        );
        let details = page.details.as_ref().unwrap();
        assert_eq!(details.shared_users, ["bob"]);
        assert_eq!(details.shared_groups, ["team"]);
        assert_eq!(
            details.repository.as_deref(),
            Some("https://example.org/repo.git")
        );
        assert_eq!(details.env[0].value.as_deref(), Some("SECRET-ENV-VALUE"));
        assert!(details.keep_alive);
        let json = serde_json::to_string(&page).unwrap();
        assert!(
            !json.contains("SECRET-PW") && !json.contains("SECRET-Q"),
            "{json}"
        );
    }

    #[test]
    fn an_admin_sees_the_definition_but_not_the_values() {
        let page = build(&caller("root", true), AppRole::Admin);
        assert_eq!(page.role, "admin");
        assert!(page.edit_url.is_none() && !page.own);
        assert!(page.may_start);
        let details = page.details.as_ref().unwrap();
        assert_eq!(details.env[0].name, "API_KEY");
        assert!(details.env[0].value.is_none());
        assert!(details.custom_command.is_some());
        let json = serde_json::to_string(&page).unwrap();
        assert!(!json.contains("SECRET-ENV-VALUE"), "{json}");
    }

    #[test]
    fn a_sharee_sees_only_what_describes_the_app() {
        let page = build(&caller("bob", false), AppRole::Sharee);
        assert_eq!(page.role, "sharee");
        assert!(page.details.is_none() && page.edit_url.is_none());
        assert!(!page.may_start, "a share grants no start");
        assert_eq!(page.title, "Sales <b>");
        let json = serde_json::to_string(&page).unwrap();
        for secret in [
            "SECRET",
            "secret-path",
            "secret-env",
            "API_KEY",
            "team",
            "example.org",
        ] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        let state = state();
        let html = state
            .templates()
            .render("app_page.html", page.context(&state));
        for secret in [
            "SECRET",
            "secret-path",
            "secret-env",
            "API_KEY",
            "example.org",
        ] {
            assert!(!html.contains(secret), "{secret} in the page");
        }
        assert!(!html.contains(r#"id="logs""#), "no logs for a sharee");
        assert!(html.contains("Sales &lt;b&gt;"));
    }

    #[test]
    fn the_owner_page_renders_escaped_with_logs() {
        let state = state();
        let page = build(&caller("alice", false), AppRole::Owner);
        let html = state
            .templates()
            .render("app_page.html", page.context(&state));
        std::fs::write(std::env::temp_dir().join("japps-app-page.html"), &html).ok();
        assert!(html.contains(r#"id="logs""#));
        assert!(html.contains("Sales &lt;b&gt;") && !html.contains("Sales <b>"));
        assert!(
            html.contains("SECRET-ENV-VALUE"),
            "the owner may reveal values"
        );
        assert!(!html.contains("SECRET-PW"));
        assert!(html.contains(r#"data-app="alice/sales""#));
        assert!(html.contains("static/web/app-page.js"));
    }

    #[test]
    fn the_not_found_page_names_nothing_but_the_request() {
        let state = state();
        let base = layout::page_context(&state, "carol", false, false, &[]);
        let html = state.templates().render(
            "app_page.html",
            context! { missing => true, owner => "alice", server => "<x>", ..base },
        );
        assert!(html.contains("App not found"));
        assert!(html.contains("alice/&lt;x&gt;"));
        assert!(!html.contains("app-page.js") && !html.contains(r#"id="app-page""#));
    }

    #[test]
    fn the_status_json_follows_the_hub() {
        let status = AppStatus::from(&detail(AppRole::Owner).view);
        assert_eq!(status.status, "pending");
        assert_eq!(status.pending.as_deref(), Some("spawn"));
    }
}
