//! `GET {prefix}` for browsers: the home page (quick access and the app library), rendered
//! complete on the server so the cards show before any script runs; and
//! `GET thumbnail/{owner}/{server}`, each card's picture at a cacheable URL.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use japps_domain::frameworks::Framework;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::application::apps::{self, Library, ServerView};
use crate::application::services::ServiceView;
use crate::application::{Caller, catalog, thumbnails};
use crate::error::ServiceError;
use crate::routes::responses::LoginErrors;
use crate::routes::status;
use crate::state::AppState;
use crate::web::layout::{self, MenuLink};
use crate::web::path_segment;

/// A thumbnail URL carries its content's hash, so its answer never changes.
const THUMBNAIL_CACHE: &str = "private, max-age=31536000, immutable";

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    #[serde(default)]
    headless: Option<String>,
}

impl PageQuery {
    fn headless(&self) -> bool {
        matches!(self.headless.as_deref(), Some("true" | "1" | ""))
    }
}

/// `GET {prefix}`: the home page for a browser navigating here, the public status JSON
/// for every other client (JupyterHub's startup check and monitoring rely on it).
pub(crate) async fn root(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
    caller: Result<Caller, ServiceError>,
) -> Result<Response, ServiceError> {
    let wants_html = headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html {
        return Ok(([(VARY, "accept")], status::get().await).into_response());
    }
    let caller = caller?;
    let library = apps::library(state.app(), &caller, true).await?;
    let page = HomePage::new(&state, &caller, library, query.headless());
    let html = state.templates().render("home.html", page.context(&state));
    Ok(([(VARY, "accept"), (CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

/// `GET thumbnail/{owner}/{server}`: the stored picture of an app the caller sees.
#[utoipa::path(
    get,
    path = "/thumbnail/{owner}/{server}",
    operation_id = "thumbnail",
    tag = "apps",
    summary = "An app's thumbnail",
    description = "The picture stored with one of the caller's apps or an app shared with \
        them, as image bytes. The home page links it with `?v=<hash of the picture>`, so it \
        is cached as immutable. One hub call (an owner not cached: two).",
    params(
        ("owner" = String, Path, description = "The app's owner.", example = "alice"),
        ("server" = String, Path, description = "The app's server name.", example = "sales"),
    ),
    responses(
        (status = 200, description = "The picture, in the type it was stored with.",
            content(
                (String = "image/png"), (String = "image/jpeg"), (String = "image/gif"),
                (String = "image/webp"), (String = "image/svg+xml")
            ),
            headers(("cache-control" = String,
                description = "`private, max-age=31536000, immutable`"))),
        (status = 404, description = "No such app for the caller, or it has no picture.",
            body = crate::error::ErrorBody),
        LoginErrors,
    ),
    security(("hub_token" = []), ("session_cookie" = []), ("jhub_apps_cookie" = [])),
)]
pub(crate) async fn thumbnail(
    State(state): State<AppState>,
    caller: Caller,
    Path((owner, server)): Path<(String, String)>,
) -> Result<Response, ServiceError> {
    let url = apps::thumbnail(state.app(), &caller, &owner, &server).await?;
    let (mime, bytes) = url
        .as_deref()
        .and_then(decode_data_url)
        .ok_or_else(|| ServiceError::NotFound(format!("no thumbnail for {owner}/{server}")))?;
    Ok((
        [
            (CONTENT_TYPE, mime),
            (CACHE_CONTROL, THUMBNAIL_CACHE),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Opened on its own, an SVG is a document: let it run nothing.
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The image type and bytes of a base64 data URL, for image types browsers show safely.
fn decode_data_url(url: &str) -> Option<(&'static str, Vec<u8>)> {
    let (head, payload) = url.strip_prefix("data:")?.split_once(',')?;
    let (mime, encoding) = head.split_once(';')?;
    if !encoding.eq_ignore_ascii_case("base64") {
        return None;
    }
    let mime = match mime.to_ascii_lowercase().as_str() {
        "image/png" => "image/png",
        "image/jpeg" | "image/jpg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        "image/svg+xml" => "image/svg+xml",
        _ => return None,
    };
    Some((mime, STANDARD.decode(payload.trim()).ok()?))
}

/// One app card.
#[derive(Debug, Serialize)]
pub(crate) struct Card {
    key: String,
    owner: String,
    server: String,
    title: String,
    description: String,
    framework: String,
    framework_label: String,
    status: &'static str,
    status_label: &'static str,
    privacy: &'static str,
    privacy_label: &'static str,
    open_url: String,
    thumbnail: Option<String>,
    logo: String,
    activity: Option<String>,
    activity_text: String,
    own: bool,
    may_start: bool,
    start_reason: String,
    groups: String,
    edit_url: Option<String>,
    /// The app's own page (a sharee's is the reduced one).
    details_url: String,
}

/// A quick-access card: the default server, VS Code, or a pinned service.
#[derive(Debug, Serialize)]
pub(crate) struct QuickCard {
    /// `data-app` for the default server, empty otherwise.
    app: String,
    kind: &'static str,
    title: String,
    description: String,
    url: String,
    status: &'static str,
    status_label: &'static str,
    image: String,
}

/// Everything the home page shows, as plain values for the template.
#[derive(Debug)]
pub(crate) struct HomePage {
    user: String,
    admin: bool,
    headless: bool,
    quick: Vec<QuickCard>,
    cards: Vec<Card>,
    frameworks: Vec<(String, String)>,
    groups: Vec<String>,
    services: Vec<MenuLink>,
}

impl HomePage {
    pub(crate) fn new(state: &AppState, caller: &Caller, library: Library, headless: bool) -> Self {
        let settings = state.settings();
        let links = Links {
            prefix: &settings.prefix,
            hub: &|path: &str| settings.hub_env.hub_url(path),
            hub_path: format!("{}hub/", settings.hub_env.base_url),
        };
        Self::build(&links, caller, library, headless)
    }

    fn build(links: &Links<'_>, caller: &Caller, library: Library, headless: bool) -> Self {
        let me = caller.user.name.as_str();
        let mut cards = Vec::new();
        let mut groups = BTreeSet::new();
        let mut default_server = None;
        for view in library.user_apps {
            if view.name.is_empty() {
                default_server = Some(view);
                continue;
            }
            if !is_app(&view) {
                continue;
            }
            groups.extend(share_groups(&view));
            cards.push(Card::new(links, caller, me, view, false, BTreeSet::new()));
        }
        for shared in library.shared_apps {
            groups.extend(shared.groups.iter().cloned());
            let owner = shared.owner.clone();
            cards.push(Card::new(
                links,
                caller,
                &owner,
                shared.view,
                true,
                shared.groups,
            ));
        }
        // Most recently active first, as the page's default sort: no reordering on load.
        cards.sort_by(|a, b| b.activity.cmp(&a.activity).then(a.title.cmp(&b.title)));

        let mut frameworks: BTreeMap<String, String> = BTreeMap::new();
        for card in &cards {
            frameworks.insert(card.framework.clone(), card.framework_label.clone());
        }

        let services = displayed_services(&library.services, links, me);
        let quick = quick_access(links, me, default_server.as_ref(), &services);
        Self {
            user: me.to_owned(),
            admin: caller.user.admin,
            headless,
            quick,
            cards,
            frameworks: frameworks.into_iter().collect(),
            groups: groups.into_iter().collect(),
            services: services
                .into_iter()
                .map(|service| MenuLink {
                    name: service.name,
                    url: service.url,
                })
                .collect(),
        }
    }

    pub(crate) fn context(&self, state: &AppState) -> minijinja::Value {
        let base =
            layout::page_context(state, &self.user, self.admin, self.headless, &self.services);
        context! {
            quick => self.quick,
            cards => self.cards,
            frameworks => self.frameworks,
            groups => self.groups,
            ..base
        }
    }
}

/// URL builders, so the view model is testable without a whole service.
pub(crate) struct Links<'a> {
    prefix: &'a str,
    hub: &'a dyn Fn(&str) -> String,
    /// `{base_url}hub/`, for `next` parameters.
    hub_path: String,
}

impl Card {
    fn new(
        links: &Links<'_>,
        caller: &Caller,
        owner: &str,
        view: ServerView,
        shared: bool,
        groups: BTreeSet<String>,
    ) -> Self {
        let options = &view.user_options;
        let text = |key: &str| {
            options
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let framework = text("framework").to_lowercase();
        let framework_label = framework_label(&framework);
        let title = [
            text("display_name"),
            view.display_name.clone().unwrap_or_default(),
            view.name.clone(),
        ]
        .into_iter()
        .find(|title| !title.trim().is_empty())
        .unwrap_or_default();
        let (status, status_label) = status_of(&view);
        let public = options.get("public").and_then(Value::as_bool) == Some(true);
        let (privacy, privacy_label) = if public {
            ("public", "Public")
        } else if shared {
            ("shared", "Shared with me")
        } else {
            ("private", "Private")
        };
        let server = view.name.clone();
        let thumbnail = options
            .get("thumbnail")
            .and_then(Value::as_str)
            .filter(|url| !url.is_empty() && !thumbnails::is_default_thumbnail(url))
            .map(|url| {
                let digest = Sha256::digest(url.as_bytes());
                let version: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!(
                    "{}thumbnail/{}/{}?v={version}",
                    links.prefix,
                    path_segment(owner),
                    path_segment(&server)
                )
            });
        let logo_name = if catalog::logo(&framework).is_some() {
            framework.as_str()
        } else {
            "custom"
        };
        let (may_start, start_reason) = may_start(caller, owner, &server);
        let activity = view.last_activity.clone().filter(|at| !at.is_empty());
        let activity_text = activity
            .as_deref()
            .map_or_else(|| "No activity yet".to_owned(), activity_fallback);
        Self {
            key: format!("{owner}/{server}"),
            owner: owner.to_owned(),
            open_url: (links.hub)(&format!(
                "user/{}/{}/",
                path_segment(owner),
                path_segment(&server)
            )),
            edit_url: (!shared).then(|| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("id", &server);
                format!("{}edit-app?{}", links.prefix, query.finish())
            }),
            details_url: format!(
                "{}apps/{}/{}",
                links.prefix,
                path_segment(owner),
                path_segment(&server)
            ),
            server,
            title,
            description: text("description"),
            framework_label,
            logo: format!("{}static/logos/{logo_name}.svg", links.prefix),
            framework: if framework.is_empty() {
                "custom".into()
            } else {
                framework
            },
            status,
            status_label,
            privacy,
            privacy_label,
            thumbnail,
            activity,
            activity_text,
            own: !shared,
            may_start,
            start_reason,
            groups: serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into()),
        }
    }
}

/// Only servers made as apps are in the library; plain named servers are not (the default
/// server is in quick access).
fn is_app(view: &ServerView) -> bool {
    view.user_options.get("jhub_app").and_then(Value::as_bool) == Some(true)
        || view.user_options.contains_key("framework")
}

fn share_groups(view: &ServerView) -> Vec<String> {
    view.user_options
        .get("share_with")
        .and_then(|share| share.get("groups"))
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// jhub-apps' status: ready → Running, pending → Pending, stopped → Ready, else Unknown.
pub(crate) fn status_of(view: &ServerView) -> (&'static str, &'static str) {
    if view.pending.is_some() {
        ("pending", "Pending")
    } else if view.ready {
        ("running", "Running")
    } else if view.stopped {
        ("ready", "Ready")
    } else {
        ("unknown", "Unknown")
    }
}

/// Whether the caller may start `owner`'s server `server`: their own, or an admin, or a
/// holder of a `servers` scope that covers it (`servers`, `servers!user=<owner>`,
/// `servers!server=<owner>/<server>`, or the `admin:servers` forms). A share alone grants
/// only access, never starting. Group-filtered scopes (`servers!group=…`) are not
/// resolved here: the page would need the owner's groups; such users are told they may
/// not, and can still ask the owner.
pub(crate) fn may_start(caller: &Caller, owner: &str, server: &str) -> (bool, String) {
    if owner == caller.user.name || caller.user.admin {
        return (true, String::new());
    }
    let wanted = [
        format!("servers!server={owner}/{server}"),
        format!("servers!user={owner}"),
        format!("admin:servers!server={owner}/{server}"),
        format!("admin:servers!user={owner}"),
    ];
    if japps_domain::scopes::grants_any(&caller.user.scopes, &wanted) {
        (true, String::new())
    } else {
        (
            false,
            format!(
                "Only {owner} or an administrator can start this app. Ask {owner} to start it."
            ),
        )
    }
}

/// A displayed hub service with a name and URL, as jhub-apps' menu lists them.
struct DisplayedService {
    name: String,
    url: String,
    description: String,
    pinned: bool,
    thumbnail: String,
    vscode: bool,
}

fn displayed_services(
    services: &BTreeMap<String, ServiceView>,
    links: &Links<'_>,
    me: &str,
) -> Vec<DisplayedService> {
    let mut shown: Vec<DisplayedService> = services
        .values()
        .filter(|service| service.display)
        .filter_map(|service| {
            let info = &service.info;
            let name = info.get("name").and_then(Value::as_str)?.trim();
            let url = info.get("url").and_then(Value::as_str)?.trim();
            if name.is_empty() || url.is_empty() {
                return None;
            }
            let vscode = name.eq_ignore_ascii_case("vscode");
            let url = if vscode {
                (links.hub)(&format!("user/{}/vscode", path_segment(me)))
            } else if name.eq_ignore_ascii_case("jupyterlab") {
                (links.hub)(&format!("user/{}/lab", path_segment(me)))
            } else {
                url.to_owned()
            };
            Some(DisplayedService {
                name: name.to_owned(),
                url,
                description: info
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                pinned: info.get("pinned").and_then(Value::as_bool) == Some(true),
                thumbnail: info
                    .get("thumbnail")
                    .and_then(Value::as_str)
                    .filter(|url| safe_image_url(url))
                    .unwrap_or_default()
                    .to_owned(),
                vscode,
            })
        })
        .collect();
    shown.sort_by(|a, b| b.pinned.cmp(&a.pinned).then(a.name.cmp(&b.name)));
    shown
}

/// Image URLs the page may put in `src`: data images, http(s) and same-origin paths.
fn safe_image_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("data:image/")
        || lower.starts_with("https://")
        || lower.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("//"))
}

/// The default server as JupyterLab, VS Code when the operator offers it (a displayed
/// service named `VSCode`, which jhub-apps points at the user's default server), then the
/// pinned services.
fn quick_access(
    links: &Links<'_>,
    me: &str,
    default_server: Option<&ServerView>,
    services: &[DisplayedService],
) -> Vec<QuickCard> {
    let (status, status_label) = default_server.map_or(("ready", "Ready"), status_of);
    let running = status == "running";
    let default_url = |tool: &str| {
        let target = format!("{}user/{}/{tool}", links.hub_path, path_segment(me));
        if running {
            (links.hub)(&format!("user/{}/{tool}", path_segment(me)))
        } else {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("next", &target);
            (links.hub)(&format!("spawn/{}?{}", path_segment(me), query.finish()))
        }
    };
    let mut quick = vec![QuickCard {
        app: format!("{me}/"),
        kind: "default",
        title: "JupyterLab".into(),
        description: "Your default JupyterLab server.".into(),
        url: default_url("lab"),
        status,
        status_label,
        image: format!("{}static/logos/jupyterlab.svg", links.prefix),
    }];
    if services.iter().any(|service| service.vscode) {
        quick.push(QuickCard {
            app: String::new(),
            kind: "vscode",
            title: "VS Code".into(),
            description: "Your default server in VS Code.".into(),
            url: default_url("vscode"),
            status,
            status_label,
            image: String::new(),
        });
    }
    for service in services.iter().filter(|s| s.pinned && !s.vscode) {
        quick.push(QuickCard {
            app: String::new(),
            kind: "service",
            title: service.name.clone(),
            description: service.description.clone(),
            url: service.url.clone(),
            status: "ready",
            status_label: "Service",
            image: service.thumbnail.clone(),
        });
    }
    quick
}

/// How a card names a framework: its display name, else the stored name capitalised
/// (`custom` when there is none).
pub(crate) fn framework_label(framework: &str) -> String {
    Framework::from_name(framework).map_or_else(
        || {
            capitalised(if framework.is_empty() {
                "custom"
            } else {
                framework
            })
        },
        |known| known.display_name().to_owned(),
    )
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The server-rendered activity text; the script replaces it with "N min ago".
pub(crate) fn activity_fallback(iso: &str) -> String {
    let date = iso.get(..10).unwrap_or(iso);
    let time = iso.get(11..16).unwrap_or("");
    if time.is_empty() {
        format!("Active {date}")
    } else {
        format!("Active {date} {time} UTC")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use japps_hub::{Server, User, UserToken};
    use serde_json::json;

    use super::*;
    use crate::application::apps::SharedApp;
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

    fn caller(name: &str, admin: bool, scopes: &[&str]) -> Caller {
        let user: User = serde_json::from_value(json!({
            "kind": "user", "name": name, "admin": admin,
            "scopes": scopes,
        }))
        .unwrap();
        Caller {
            user: Arc::new(user),
            token: UserToken::new("t".into()),
        }
    }

    fn server(owner: &str, name: &str, options: Value, ready: bool) -> ServerView {
        let server: Server = serde_json::from_value(json!({
            "name": name, "full_name": format!("{owner}/{name}"), "url": format!("/user/{owner}/{name}/"),
            "ready": ready, "stopped": !ready, "pending": null,
            "last_activity": "2026-01-02T03:04:05.000000Z", "user_options": options,
        }))
        .unwrap();
        ServerView::from(server)
    }

    fn library() -> Library {
        let evil = json!({"jhub_app": true, "display_name": "<img src=x onerror=alert(1)>",
            "description": "</script><script>alert(2)</script>", "framework": "panel",
            "thumbnail": "data:image/png;base64,iVBORw0KGgo=",
            "share_with": {"users": [], "groups": ["team"]}});
        Library {
            user_apps: vec![
                server("alice", "", json!({}), true),
                server("alice", "evil", evil, false),
                server("alice", "plain", json!({}), false),
            ],
            shared_apps: vec![SharedApp {
                owner: "bob".into(),
                view: server(
                    "bob",
                    "dash",
                    json!({"jhub_app": true, "display_name": "Bob's Dash", "framework": "plotlydash"}),
                    true,
                ),
                groups: BTreeSet::from(["team".to_owned()]),
            }],
            services: BTreeMap::new(),
        }
    }

    fn render(state: &AppState, caller: &Caller, headless: bool) -> String {
        let page = HomePage::new(state, caller, library(), headless);
        state.templates().render("home.html", page.context(state))
    }

    #[test]
    fn cards_are_rendered_and_escaped() {
        let state = state(json!({"template_vars": {"hub_title": "Lab <hub>"}}));
        let html = render(&state, &caller("alice", false, &[]), false);
        std::fs::write(std::env::temp_dir().join("japps-home.html"), &html).ok();
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!html.contains("</script><script>alert(2)"));
        assert!(html.contains("Lab &lt;hub&gt;"));
        assert!(html.contains(r#"data-app="alice/evil" data-status="ready" data-owner="alice""#));
        assert!(html.contains(r#"data-app="bob/dash" data-status="running""#));
        assert!(html.contains(r#"data-privacy="shared""#));
        assert!(
            html.contains(r#"data-app="alice/" data-status="running""#),
            "default server card"
        );
        assert!(
            !html.contains("alice/plain"),
            "plain named servers are not apps"
        );
        assert!(html.contains("/services/japps/thumbnail/alice/evil?v="));
        assert!(
            !html.contains("data:image/png"),
            "thumbnails are not inlined"
        );
        assert!(html.contains(r#"id="topbar""#));
        assert!(!html.contains("admin-badge") && !html.contains("link-admin"));
        // bob's app: alice may not start it, and is told why; she may not edit or delete it.
        let bob = &html[html.find(r#"data-app="bob/dash""#).unwrap()..];
        let bob = &bob[..bob.find("</li>").unwrap()];
        assert!(bob.contains(r#"aria-disabled="true" title="Only bob or an administrator"#));
        assert!(!bob.contains(r#"data-action="edit""#) && !bob.contains(r#"data-action="delete""#));
        assert!(html.contains(r#"name="group" value="team""#));
    }

    #[test]
    fn headless_admin_and_theme() {
        let state = state(json!({
            "template_vars": {"logo": "/custom/logo.svg"},
            "banners": {"top": {"text": "Maintenance <tonight>", "background": "red"}},
        }));
        let admin = render(&state, &caller("alice", true, &[]), false);
        assert!(admin.contains(r#"id="admin-badge""#) && admin.contains(r#"id="link-admin""#));
        assert!(admin.contains(r#"src="/custom/logo.svg""#));
        assert!(admin.contains("Maintenance &lt;tonight&gt;"));
        assert!(admin.contains(".banner-top { background: red; }"));
        assert!(!admin.contains(" style="), "no inline style attribute");
        let headless = render(&state, &caller("alice", false, &[]), true);
        assert!(!headless.contains(r#"id="topbar""#));
        assert!(headless.contains(r#"class="app-card""#));
    }

    #[test]
    fn start_rule_follows_scopes() {
        assert!(may_start(&caller("alice", false, &[]), "alice", "x").0);
        assert!(may_start(&caller("alice", true, &[]), "bob", "x").0);
        assert!(
            !may_start(
                &caller("alice", false, &["access:servers!server=bob/x"]),
                "bob",
                "x"
            )
            .0
        );
        assert!(
            may_start(
                &caller("alice", false, &["servers!server=bob/x"]),
                "bob",
                "x"
            )
            .0
        );
        assert!(may_start(&caller("alice", false, &["servers!user=bob"]), "bob", "x").0);
        assert!(may_start(&caller("alice", false, &["servers"]), "bob", "x").0);
        assert!(!may_start(&caller("alice", false, &["servers!user=carol"]), "bob", "x").0);
    }

    #[test]
    fn overrides_replace_built_in_templates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("home.html"), "custom {{ user }}").unwrap();
        std::fs::write(dir.path().join("base.html"), "{% broken").unwrap();
        let templates = crate::web::templates::Templates::new(Some(dir.path()));
        assert_eq!(
            templates.render("home.html", minijinja::context! { user => "<a>" }),
            "custom &lt;a&gt;"
        );
        let state = state(json!({}));
        let html = render(&state, &caller("alice", false, &[]), false);
        assert!(
            html.contains("<!doctype html>"),
            "the broken override is not used"
        );
    }

    #[test]
    fn data_urls_decode_for_images_only() {
        assert_eq!(
            decode_data_url("data:image/png;base64,iVBORw0KGgo=")
                .unwrap()
                .0,
            "image/png"
        );
        assert!(decode_data_url("data:text/html;base64,PHA+").is_none());
        assert!(decode_data_url("https://example.org/x.png").is_none());
    }
}
