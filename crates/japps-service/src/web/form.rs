//! `GET create-app`, `GET edit-app?id=` and `GET success?id=`: the app form (create and
//! edit, with the server-types step when spawner profiles exist) and the headless success
//! page. The pages are rendered complete on the server; `form.js` validates, builds the
//! multipart body and sends it to the JSON API (`POST server`, `PUT server/{name}`), so
//! there is one create path.
//!
//! Hub calls per page load: the share targets (none for explicitly named users and groups,
//! a listing each for broad `read:users:name` / `read:groups:name` scopes), plus one for
//! the edited app; the catalog lists are static or cached per user.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{Html, IntoResponse, Response};
use japps_domain::app::{APP_ENV, REFUSED_ENV_PREFIXES};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::application::apps::{self, ServerView};
use crate::application::catalog::FrameworkView;
use crate::application::{ApplicationError, Caller, sharing, thumbnails};
use crate::error::ServiceError;
use crate::routes::responses::LoginErrors;
use crate::state::AppState;
use crate::web::{layout, path_segment};

/// jhub-apps' limits: the description counter and the name's `maxLength`.
const MAX_DESCRIPTION: usize = 200;
const MAX_NAME: usize = 255;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FormQuery {
    #[serde(default)]
    headless: Option<String>,
    #[serde(default)]
    filepath: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

impl FormQuery {
    fn headless(&self) -> bool {
        matches!(self.headless.as_deref(), Some("true" | "1" | ""))
    }
}

/// One server type (spawner profile) card.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct ProfileCard {
    slug: String,
    display_name: String,
    description: String,
    /// `kubespawner_override.image`, the image field's default.
    image: String,
    checked: bool,
}

/// One environment variable row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct EnvRow {
    key: String,
    value: String,
}

/// The form's values: empty for a new app, the app's own for an edit.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub(crate) struct FormValues {
    display_name: String,
    description: String,
    framework: String,
    custom_command: String,
    conda_env: String,
    filepath: String,
    keep_alive: bool,
    public: bool,
    env: Vec<EnvRow>,
    share_users: Vec<String>,
    share_groups: Vec<String>,
    thumbnail: String,
    profile: String,
    profile_image: String,
    repository_url: String,
    repository_ref: String,
    repository_dir: String,
}

impl FormValues {
    fn from_options(options: &Map<String, Value>, title: Option<&str>) -> Self {
        let text = |key: &str| {
            options
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let flag = |key: &str| options.get(key).and_then(Value::as_bool) == Some(true);
        let names = |key: &str| -> Vec<String> {
            options
                .get("share_with")
                .and_then(|share| share.get(key))
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let env = options
            .get("env")
            .and_then(Value::as_object)
            .map(|env| {
                env.iter()
                    .map(|(key, value)| EnvRow {
                        key: key.clone(),
                        value: value.as_str().unwrap_or_default().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let repository = options.get("repository").and_then(Value::as_object);
        let repo = |key: &str| {
            repository
                .and_then(|r| r.get(key))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let display_name = Some(text("display_name"))
            .filter(|t| !t.trim().is_empty())
            .or_else(|| title.map(str::to_owned))
            .unwrap_or_default();
        Self {
            display_name,
            description: text("description"),
            framework: text("framework").to_lowercase(),
            custom_command: text("custom_command"),
            conda_env: text("conda_env"),
            filepath: text("filepath"),
            keep_alive: flag("keep_alive"),
            public: flag("public"),
            env,
            share_users: names("users"),
            share_groups: names("groups"),
            // japps' default logo is not shown as a chosen picture: without one, the server
            // picks the logo of the (possibly changed) framework again.
            thumbnail: Some(text("thumbnail"))
                .filter(|url| !thumbnails::is_default_thumbnail(url))
                .unwrap_or_default(),
            profile: text("profile"),
            profile_image: text("profile_image"),
            repository_url: repo("url"),
            repository_ref: repo("ref"),
            repository_dir: repo("config_directory"),
        }
    }
}

/// Why the edit page shows no form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unavailable {
    NotFound,
    DefaultServer,
    NotAnApp,
}

impl Unavailable {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::DefaultServer | Self::NotAnApp => StatusCode::BAD_REQUEST,
        }
    }

    fn message(&self) -> (&'static str, &'static str) {
        match self {
            Self::NotFound => (
                "No app found",
                "You have no app of that name. You can only edit your own apps: an app \
                 shared with you can be changed by its owner only.",
            ),
            Self::DefaultServer => (
                "The default server cannot be edited",
                "JupyterLab (your default server) is not an app: change its settings from \
                 the hub's home page.",
            ),
            Self::NotAnApp => (
                "This server is not an app",
                "It was made outside the launcher (a plain named server), so there is no \
                 app definition to edit.",
            ),
        }
    }
}

/// Everything the form page shows.
#[derive(Debug)]
pub(crate) struct FormPage {
    user: String,
    admin: bool,
    headless: bool,
    /// The edited server; `None` on create.
    server: Option<String>,
    values: FormValues,
    frameworks: Vec<FrameworkView>,
    conda_envs: Vec<String>,
    profiles: Vec<ProfileCard>,
    allow_profile_image: bool,
    share_users: Vec<String>,
    share_groups: Vec<String>,
    may_share: bool,
    sharing_link: String,
    thumbnail_max_bytes: u64,
}

/// The lists the form offers, as the catalog and the hub give them.
pub(crate) struct Choices {
    pub(crate) frameworks: Vec<FrameworkView>,
    pub(crate) conda_envs: Vec<String>,
    pub(crate) profiles: Vec<Map<String, Value>>,
    pub(crate) share_targets: Option<sharing::ShareTargets>,
    pub(crate) allow_profile_image: bool,
    pub(crate) thumbnail_max_bytes: u64,
}

impl FormPage {
    pub(crate) fn build(
        caller: &Caller,
        headless: bool,
        choices: Choices,
        edit: Option<(&ServerView, String)>,
        filepath: Option<String>,
    ) -> Self {
        let (server, mut values, sharing_link) = match edit {
            Some((view, link)) => (
                Some(view.name.clone()),
                FormValues::from_options(&view.user_options, view.display_name.as_deref()),
                link,
            ),
            None => (None, FormValues::default(), String::new()),
        };
        if server.is_none() {
            values.filepath = filepath.unwrap_or_default();
        }
        if values.framework.is_empty() {
            values.framework = choices
                .frameworks
                .first()
                .map(|f| f.name.to_owned())
                .unwrap_or_default();
        }
        let profiles = profile_cards(&choices.profiles, &values.profile);
        let (share_users, share_groups) = choices
            .share_targets
            .map(|targets| (targets.users, targets.groups))
            .unwrap_or_default();
        // The current shares stay offered even when the caller can no longer list them.
        let mut offered_users = share_users;
        for user in &values.share_users {
            if !offered_users.contains(user) {
                offered_users.push(user.clone());
            }
        }
        let mut offered_groups = share_groups;
        for group in &values.share_groups {
            if !offered_groups.contains(group) {
                offered_groups.push(group.clone());
            }
        }
        offered_users.sort();
        offered_groups.sort();
        // Sharing needs the `shares` scope on the app; without it the picker is not shown
        // and the current shares are sent back unchanged.
        let me = caller.user.name.as_str();
        let mut wanted = vec![format!("shares!user={me}")];
        if let Some(name) = &server {
            wanted.push(format!("shares!server={me}/{name}"));
        }
        let may_share = japps_domain::scopes::grants_any(&caller.user.scopes, &wanted)
            && (!offered_users.is_empty() || !offered_groups.is_empty());
        Self {
            user: caller.user.name.clone(),
            admin: caller.user.admin,
            headless,
            server,
            may_share,
            share_users: offered_users,
            share_groups: offered_groups,
            values,
            frameworks: choices.frameworks,
            conda_envs: choices.conda_envs,
            profiles,
            allow_profile_image: choices.allow_profile_image,
            sharing_link,
            thumbnail_max_bytes: choices.thumbnail_max_bytes,
        }
    }

    pub(crate) fn context(&self, state: &AppState) -> minijinja::Value {
        let base = layout::page_context(state, &self.user, self.admin, self.headless, &[]);
        let shared_users: Vec<&String> = self.values.share_users.iter().collect();
        let shared_groups: Vec<&String> = self.values.share_groups.iter().collect();
        context! {
            mode => if self.server.is_some() { "edit" } else { "create" },
            server => self.server,
            values => self.values,
            frameworks => self.frameworks,
            conda_envs => self.conda_envs,
            profiles => self.profiles,
            allow_profile_image => self.allow_profile_image,
            share_users => self.share_users,
            share_groups => self.share_groups,
            shared_users => shared_users,
            shared_groups => shared_groups,
            may_share => self.may_share,
            sharing_link => self.sharing_link,
            thumbnail_max_bytes => self.thumbnail_max_bytes,
            thumbnail_max_text => human_size(self.thumbnail_max_bytes),
            // An app's framework the operator no longer offers: shown, not silently replaced
            // (saving it as it is gets the server's refusal at the field).
            unoffered_framework => (!self.values.framework.is_empty()
                && !self.frameworks.iter().any(|f| f.name == self.values.framework))
                .then_some(&self.values.framework),
            max_description => MAX_DESCRIPTION,
            max_name => MAX_NAME,
            refused_env => refused_env(),
            ..base
        }
    }
}

/// The variable names the API refuses, for the page script: `JUPYTERHUB_,JPY_` prefixes
/// and the exact name `JAPPS_APP`.
fn refused_env() -> String {
    let mut list: Vec<String> = REFUSED_ENV_PREFIXES
        .iter()
        .map(|p| format!("{p}*"))
        .collect();
    list.push(APP_ENV.to_owned());
    list.join(",")
}

fn profile_cards(profiles: &[Map<String, Value>], chosen: &str) -> Vec<ProfileCard> {
    let text = |profile: &Map<String, Value>, key: &str| {
        profile
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut cards: Vec<ProfileCard> = profiles
        .iter()
        .filter_map(|profile| {
            let slug = text(profile, "slug");
            if slug.is_empty() {
                return None;
            }
            let display_name = Some(text(profile, "display_name"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| slug.clone());
            Some(ProfileCard {
                display_name,
                description: text(profile, "description"),
                image: profile
                    .get("kubespawner_override")
                    .and_then(|o| o.get("image"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                checked: !chosen.is_empty() && slug == chosen,
                slug,
            })
        })
        .collect();
    if !cards.iter().any(|card| card.checked) {
        let default = profiles
            .iter()
            .filter(|p| p.get("slug").and_then(Value::as_str).is_some())
            .position(|p| p.get("default").and_then(Value::as_bool) == Some(true))
            .unwrap_or(0);
        if let Some(card) = cards.get_mut(default) {
            card.checked = true;
        }
    }
    cards
}

fn human_size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

async fn choices(state: &AppState, caller: &Caller) -> Choices {
    let catalog = state.catalog();
    let config = &state.settings().config;
    let user = &caller.user;
    let (conda_envs, profiles, targets) = tokio::join!(
        catalog.conda_environments(state.hub(), user),
        catalog.spawner_profiles(state.hub(), user),
        state
            .app()
            .share_targets()
            .get(state.hub(), &user.name, &user.scopes),
    );
    let share_targets = match targets {
        Ok(targets) => Some(sharing::ShareTargets::clone(&targets)),
        Err(err) => {
            // The page still works; the current shares are kept as they are.
            tracing::warn!(error = %err, "cannot list the share targets for the form");
            None
        }
    };
    Choices {
        frameworks: catalog.frameworks().to_vec(),
        conda_envs,
        profiles,
        share_targets,
        allow_profile_image: config.allow_profile_image,
        thumbnail_max_bytes: config.thumbnail_max_bytes,
    }
}

fn page(state: &AppState, status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    let html = state.templates().render(name, ctx);
    (status, [(CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// `GET create-app[?headless=true&filepath=…]`: the form for a new app.
#[utoipa::path(
    get,
    path = "/create-app",
    operation_id = "create_app_page",
    tag = "apps",
    summary = "The create-app form (HTML)",
    description = "For browsers: the form that deploys a new app from a file or a git repository, then \
        (when spawner profiles exist) the server-types step. The page script sends it to \
        `POST server`. Hub calls: the share targets (none for named users and groups).",
    params(
        ("headless" = Option<bool>, Query, description = "`true`: no top bar, no git choice; ends on `success`."),
        ("filepath" = Option<String>, Query, description = "Pre-fills the file path."),
    ),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html; charset=utf-8",
            headers(("cache-control" = String, description = "`no-store`"))),
        LoginErrors,
    ),
    security(("session_cookie" = []), ("hub_token" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn create_page(
    State(state): State<AppState>,
    Query(query): Query<FormQuery>,
    caller: Caller,
) -> Response {
    let choices = Box::pin(choices(&state, &caller)).await;
    let form = FormPage::build(
        &caller,
        query.headless(),
        choices,
        None,
        query.filepath.clone(),
    );
    page(
        &state,
        StatusCode::OK,
        "app_form.html",
        form.context(&state),
    )
}

/// Whether `id` may be edited on this page, from what the hub has: one of the caller's
/// apps. `lab` and `vscode` are the home page's names for the default server, unless the
/// caller has an app of that name.
fn editable(id: Option<&str>, view: Option<&ServerView>) -> Result<(), Unavailable> {
    let Some(id) = id else {
        return Err(Unavailable::NotFound);
    };
    match view {
        Some(view) if is_app(view) => Ok(()),
        Some(view) if view.name.is_empty() => Err(Unavailable::DefaultServer),
        Some(_) => Err(Unavailable::NotAnApp),
        None if id.is_empty() || id == "lab" || id == "vscode" => Err(Unavailable::DefaultServer),
        None => Err(Unavailable::NotFound),
    }
}

fn is_app(view: &ServerView) -> bool {
    view.user_options.get("jhub_app").and_then(Value::as_bool) == Some(true)
        || view.user_options.contains_key("framework")
}

/// `GET edit-app?id=<server>`: the form, filled with one of the caller's apps.
#[utoipa::path(
    get,
    path = "/edit-app",
    operation_id = "edit_app_page",
    tag = "apps",
    summary = "The edit-app form (HTML)",
    description = "For browsers: the form filled with one of the caller's apps; the page script sends it to \
        `PUT server/{name}`. 404 with a page saying why when the caller has no such app; 400 for \
        the default server or a server that is not an app. Hub calls: one, plus the share targets.",
    params(
        ("id" = String, Query, description = "The app's server name."),
        ("headless" = Option<bool>, Query, description = "`true`: no top bar."),
    ),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html; charset=utf-8",
            headers(("cache-control" = String, description = "`no-store`"))),
        LoginErrors,
    ),
    security(("session_cookie" = []), ("hub_token" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn edit_page(
    State(state): State<AppState>,
    Query(query): Query<FormQuery>,
    caller: Caller,
) -> Result<Response, ServiceError> {
    let id = query.id.clone();
    let view = match &id {
        None => None,
        Some(id) => match apps::own_server(state.hub(), &caller.user.name, id).await {
            Ok(view) => Some(view),
            Err(ApplicationError::NotFound(_)) => None,
            Err(err) => return Err(err.into()),
        },
    };
    if let Err(why) = editable(id.as_deref(), view.as_ref()) {
        let (title, text) = why.message();
        let base = layout::page_context(
            &state,
            &caller.user.name,
            caller.user.admin,
            query.headless(),
            &[],
        );
        let ctx = context! { unavailable => title, unavailable_text => text, ..base };
        return Ok(page(&state, why.status(), "app_form.html", ctx));
    }
    let view = view.ok_or_else(|| ServiceError::NotFound("no app".into()))?;
    // The hub's `/hub/user/…` form reaches a stopped app's start page, but answers 404 to
    // anyone it is not shared with: a public app is shared by its plain path.
    let path = format!(
        "user/{}/{}/",
        path_segment(&caller.user.name),
        path_segment(&view.name)
    );
    let public = view.user_options.get("public").and_then(Value::as_bool) == Some(true);
    let hub_env = &state.settings().hub_env;
    let link = if public {
        hub_env.proxied_url(&path)
    } else {
        hub_env.hub_url(&path)
    };
    let choices = Box::pin(choices(&state, &caller)).await;
    let form = FormPage::build(
        &caller,
        query.headless(),
        choices,
        Some((&view, link)),
        None,
    );
    Ok(page(
        &state,
        StatusCode::OK,
        "app_form.html",
        form.context(&state),
    ))
}

/// `GET success?id=<server>`: "App submitted", with a link that opens the app in a new tab
/// (the headless form ends here, inside the JupyterLab extension's frame).
#[utoipa::path(
    get,
    path = "/success",
    operation_id = "success_page",
    tag = "apps",
    summary = "App submitted (HTML)",
    description = "For browsers: where the headless create form ends, with a link that opens the app in a \
        new tab. No hub call.",
    params(
        ("id" = String, Query, description = "The app's server name."),
        ("headless" = Option<bool>, Query, description = "`true`: no top bar."),
    ),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html; charset=utf-8",
            headers(("cache-control" = String, description = "`no-store`"))),
        LoginErrors,
    ),
    security(("session_cookie" = []), ("hub_token" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn success_page(
    State(state): State<AppState>,
    Query(query): Query<FormQuery>,
    caller: Caller,
) -> Response {
    let id = query.id.clone().unwrap_or_default();
    let base = layout::page_context(
        &state,
        &caller.user.name,
        caller.user.admin,
        query.headless(),
        &[],
    );
    let app_url = (!id.is_empty()).then(|| {
        state.settings().hub_env.hub_url(&format!(
            "user/{}/{}/",
            path_segment(&caller.user.name),
            path_segment(&id)
        ))
    });
    let ctx = context! { server => id, app_url => app_url, ..base };
    page(&state, StatusCode::OK, "success.html", ctx)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use japps_hub::{Server, User, UserToken};
    use serde_json::json;

    use super::*;
    use crate::settings::Settings;

    fn state(config: Value) -> AppState {
        let settings = Settings::from_vars(vec![
            (
                "JUPYTERHUB_API_TOKEN".to_owned(),
                "unit-test-token".to_owned(),
            ),
            ("JAPPS_CONFIG".to_owned(), config.to_string()),
        ])
        .unwrap();
        AppState::new(settings).unwrap()
    }

    fn caller(name: &str) -> Caller {
        let user: User = serde_json::from_value(json!({
            "kind": "user", "name": name, "admin": false, "scopes": ["shares!user=alice"],
        }))
        .unwrap();
        Caller {
            user: Arc::new(user),
            token: UserToken::new("t".into()),
        }
    }

    fn view(name: &str, options: Value) -> ServerView {
        let server: Server = serde_json::from_value(json!({
            "name": name, "full_name": format!("alice/{name}"), "url": format!("/user/alice/{name}/"),
            "ready": false, "stopped": true, "pending": null, "user_options": options,
        }))
        .unwrap();
        ServerView::from(server)
    }

    fn choices(state: &AppState, profiles: Value, allow_image: bool) -> Choices {
        Choices {
            frameworks: state.catalog().frameworks().to_vec(),
            conda_envs: vec![],
            profiles: serde_json::from_value(profiles).unwrap(),
            share_targets: Some(sharing::ShareTargets {
                users: vec!["bob".into(), "carol".into()],
                groups: vec!["team".into()],
            }),
            allow_profile_image: allow_image,
            thumbnail_max_bytes: 5 * 1024 * 1024,
        }
    }

    fn render(state: &AppState, form: &FormPage) -> String {
        state
            .templates()
            .render("app_form.html", form.context(state))
    }

    #[test]
    fn create_form_defaults_and_filepath() {
        let state = state(json!({}));
        let form = FormPage::build(
            &caller("alice"),
            true,
            choices(&state, json!([]), false),
            None,
            Some("/home/alice/<x>.py".into()),
        );
        assert_eq!(form.values.filepath, "/home/alice/<x>.py");
        assert_eq!(form.values.framework, "panel", "the first framework");
        assert!(form.may_share);
        let html = render(&state, &form);
        assert!(
            html.contains(r#"value="/home/alice/&lt;x&gt;.py""#),
            "{html}"
        );
        assert!(!html.contains(r#"id="topbar""#), "headless");
        assert!(
            !html.contains(r#"name="source""#),
            "no git choice when headless"
        );
        assert!(
            !html.contains(r#"id="step-profiles""#),
            "no profiles, no step 2"
        );
        assert!(html.contains(">Deploy app<"));
        assert!(html.contains(r#"data-refused-env="JUPYTERHUB_*,JPY_*,JAPPS_APP""#));
        assert!(html.contains(r#"value="bob""#) && html.contains(r#"value="team""#));
    }

    #[test]
    fn edit_form_is_filled_and_escaped() {
        let state = state(json!({}));
        let app = view(
            "sales",
            json!({"jhub_app": true, "display_name": "Sales \"<b>\"", "description": "Q</textarea>",
                "framework": "custom", "custom_command": "python -m http.server {port}",
                "env": {"MODE": "demo"}, "public": true, "keep_alive": true,
                "share_with": {"users": ["bob", "zed"], "groups": ["team"]},
                "thumbnail": "data:image/png;base64,iVBORw0KGgo=",
                "repository": {"url": "https://example.org/r.git", "ref": "dev", "config_directory": "app"}}),
        );
        let form = FormPage::build(
            &caller("alice"),
            false,
            choices(&state, json!([]), false),
            Some((&app, "/hub/user/alice/sales/".into())),
            Some("ignored".into()),
        );
        assert_eq!(form.values.filepath, "");
        assert_eq!(
            form.values.env,
            [EnvRow {
                key: "MODE".into(),
                value: "demo".into()
            }]
        );
        assert!(
            form.share_users.contains(&"zed".to_owned()),
            "a current sharee stays offered"
        );
        let html = render(&state, &form);
        assert!(html.contains("Sales &quot;&lt;b&gt;&quot;"));
        assert!(html.contains("Q&lt;/textarea&gt;"));
        assert!(!html.contains("Q</textarea>"));
        assert!(
            html.contains(r#"id="sharing-link" readonly value="/hub/user/alice/sales/""#),
            "{html}"
        );
        assert!(html.contains(r#"name="share-user" value="zed" checked"#));
        assert!(html.contains(r#"name="public" role="switch" type="checkbox" checked"#));
        assert!(html.contains(">Save<"));
        assert!(html.contains(r#"id="repository_url" value="https://example.org/r.git""#));
        let gone = view("old", json!({"jhub_app": true, "framework": "cobol"}));
        let form = FormPage::build(
            &caller("alice"),
            false,
            choices(&state, json!([]), false),
            Some((&gone, String::new())),
            None,
        );
        let html = render(&state, &form);
        assert!(
            html.contains(r#"<option value="cobol" selected>cobol (no longer offered)</option>"#),
            "{html}"
        );
    }

    #[test]
    fn sharing_needs_the_shares_scope() {
        let state = state(json!({}));
        let mut who = caller("alice");
        let mut user = (*who.user).clone();
        user.scopes = vec!["read:users:name".into()];
        who.user = Arc::new(user);
        let app = view(
            "sales",
            json!({"jhub_app": true, "framework": "panel", "share_with": {"users": ["bob"], "groups": []}}),
        );
        let form = FormPage::build(
            &who,
            false,
            choices(&state, json!([]), false),
            Some((&app, String::new())),
            None,
        );
        assert!(!form.may_share);
        let html = render(&state, &form);
        assert!(!html.contains(r#"id="share-search""#));
        assert!(
            html.contains(
                r#"<input type="checkbox" hidden checked name="share-user" value="bob">"#
            ),
            "the current shares are kept: {html}"
        );
    }

    #[test]
    fn profiles_default_and_image_switch() {
        let state = state(json!({}));
        let profiles = json!([
            {"slug": "small", "display_name": "Small", "description": "2 CPU"},
            {"slug": "gpu", "display_name": "GPU", "default": true, "kubespawner_override": {"image": "img:1"}},
        ]);
        let form = FormPage::build(
            &caller("alice"),
            false,
            choices(&state, profiles.clone(), true),
            None,
            None,
        );
        let checked: Vec<&str> = form
            .profiles
            .iter()
            .filter(|p| p.checked)
            .map(|p| p.slug.as_str())
            .collect();
        assert_eq!(checked, ["gpu"], "the default one");
        let html = render(&state, &form);
        assert!(html.contains(r#"id="step-profiles""#));
        assert!(html.contains(r#"id="profile_image""#), "image allowed");
        assert!(html.contains(">Next<"), "step 1 says Next");
        assert!(html.contains(r#"data-image="img:1""#));

        let denied = FormPage::build(
            &caller("alice"),
            false,
            choices(&state, profiles.clone(), false),
            None,
            None,
        );
        assert!(!render(&state, &denied).contains(r#"id="profile_image""#));

        let no_default = json!([{"slug": "a"}, {"slug": "b"}]);
        let form = FormPage::build(
            &caller("alice"),
            false,
            choices(&state, no_default, false),
            None,
            None,
        );
        assert!(
            form.profiles[0].checked && !form.profiles[1].checked,
            "else the first"
        );

        let stored = view(
            "x",
            json!({"jhub_app": true, "framework": "panel", "profile": "small"}),
        );
        let form = FormPage::build(
            &caller("alice"),
            false,
            choices(&state, profiles, false),
            Some((&stored, String::new())),
            None,
        );
        assert!(
            form.profiles[0].checked && !form.profiles[1].checked,
            "the stored one"
        );
    }

    #[test]
    fn what_cannot_be_edited() {
        let app = view("sales", json!({"jhub_app": true, "framework": "panel"}));
        let plain = view("plain", json!({}));
        let default = view("", json!({}));
        let lab_app = view("lab", json!({"jhub_app": true, "framework": "panel"}));
        assert_eq!(editable(Some("sales"), Some(&app)), Ok(()));
        assert_eq!(editable(None, None), Err(Unavailable::NotFound));
        assert_eq!(editable(Some("nope"), None), Err(Unavailable::NotFound));
        assert_eq!(
            editable(Some(""), Some(&default)),
            Err(Unavailable::DefaultServer)
        );
        assert_eq!(editable(Some(""), None), Err(Unavailable::DefaultServer));
        assert_eq!(editable(Some("lab"), None), Err(Unavailable::DefaultServer));
        assert_eq!(
            editable(Some("lab"), Some(&lab_app)),
            Ok(()),
            "an app named lab"
        );
        assert_eq!(
            editable(Some("plain"), Some(&plain)),
            Err(Unavailable::NotAnApp)
        );
        let state = state(json!({}));
        let base = layout::page_context(&state, "alice", false, false, &[]);
        let (title, text) = Unavailable::NotFound.message();
        let html = state.templates().render(
            "app_form.html",
            context! { unavailable => title, unavailable_text => text, ..base },
        );
        assert!(html.contains("No app found") && html.contains("You can only edit your own apps"));
        assert!(!html.contains("<form"));
    }

    #[test]
    fn success_page_links_the_app_in_a_new_tab() {
        let state = state(json!({}));
        let base = layout::page_context(&state, "alice", false, true, &[]);
        let html = state.templates().render(
            "success.html",
            context! { server => "sales", app_url => "/hub/user/alice/sales/", ..base },
        );
        assert!(html.contains("App submitted"));
        assert!(
            html.contains(r#"href="/hub/user/alice/sales/" target="_blank" rel="noopener""#),
            "{html}"
        );
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(5 * 1024 * 1024), "5 MB");
        assert_eq!(human_size(1536 * 1024), "1.5 MB");
        assert_eq!(human_size(1000), "1 KB");
    }
}
