//! `GET {prefix}openapi.json`: the machine-readable description of this service, an
//! OpenAPI 3.1 document.
//!
//! It is generated from the handlers' `#[utoipa::path]` attributes and the view types'
//! `ToSchema` derives, so it changes with the code; the tests compare it with the router.
//! The attributes give paths relative to the service (`/server/{name}`); [`document`]
//! puts the real prefix in front of them, once, at startup, and the JSON is served from
//! memory.
//!
//! This module only assembles the document: the schema-only types of bodies built as
//! untyped JSON are in `crate::schema`, the shared answer lists in `routes::responses`.

use axum::Extension;
use axum::body::Bytes;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{OperationBuilder, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AdditionalProperties, Schema};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{HttpMethod, RefOr};

use crate::error::ServiceError;
use crate::routes::{catalog, docs, git_config, lifecycle, login, metrics, servers, services};
use crate::routes::{static_files, status, theme, user};

/// The security schemes, by the names the `security(...)` attributes use.
pub(crate) const HUB_TOKEN: &str = "hub_token";
pub(crate) const SESSION_COOKIE: &str = "session_cookie";
pub(crate) const JHUB_APPS_COOKIE: &str = "jhub_apps_cookie";

/// Schemas of objects that may have keys besides the ones they list.
const OPEN_SCHEMAS: [&str; 2] = ["UserOptions", "SpawnerProfile"];

/// Operations served at a second path: (alias, original, method, operation id suffix).
const ALIASES: [(&str, &str, HttpMethod, &str); 2] = [
    ("/", "/status", HttpMethod::Get, "_root"),
    ("/server", "/server/", HttpMethod::Get, "_no_slash"),
];

const DESCRIPTION: &str = "\
The JSON API of japps, a JupyterHub service for launching apps (jhub-apps compatible paths \
and shapes).

**Authentication.** Operations marked with a security requirement need one of: the caller's \
hub API token in `Authorization: token <t>` or `Authorization: Bearer <t>`; japps' session \
cookie (set by the browser login at `jhub-login`); or jhub-apps' `jhub_apps_access_token` \
cookie. The caller must hold one of the service's access scopes (default \
`access:services`). Without credentials the answer is 401, except that a browser \
navigating to a GET operation (`Accept: text/html`) is sent to log in (302). \
Cookie-authenticated POST, PUT and DELETE requests must come from this site.

**Errors** have the body `{\"detail\": \"...\"}`. 502 and 504 mean the hub failed or was \
too slow; other hub refusals keep their status.";

#[derive(OpenApi)]
#[openapi(
    info(title = "japps", description = DESCRIPTION),
    paths(
        status::get,
        login::start,
        login::callback,
        login::logout_page,
        login::logout,
        user::get,
        servers::list,
        servers::get,
        lifecycle::create,
        lifecycle::start,
        lifecycle::start_default,
        lifecycle::edit,
        lifecycle::stop,
        lifecycle::stop_default,
        git_config::from_git,
        services::list,
        services::share_permissions,
        catalog::frameworks,
        catalog::conda_environments,
        catalog::spawner_profiles,
        theme::config_json,
        theme::theme,
        theme::theme_css,
        static_files::logo,
        crate::web::assets::css,
        crate::web::assets::js,
        crate::web::assets::form_js,
        crate::web::form::create_page,
        crate::web::form::edit_page,
        crate::web::form::success_page,
        crate::web::home::thumbnail,
        crate::web::assets::app_page_js,
        crate::web::assets::theme_init_js,
        crate::web::app_page::page,
        crate::web::app_page::app_state,
        metrics::get,
        openapi_json,
        docs::page,
    ),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "status", description = "Liveness and metrics."),
        (name = "login", description = "Browser login through the hub's OAuth, and logout."),
        (name = "user", description = "Who is calling."),
        (name = "apps", description = "Apps: the caller's servers and the ones shared with them."),
        (name = "services", description = "Hub services, and whom apps can be shared with."),
        (name = "catalog", description = "What a new app can be made of."),
        (name = "theme", description = "The launcher's look."),
        (name = "static", description = "Embedded artwork."),
        (name = "docs", description = "This description."),
    ),
)]
struct ApiDoc;

/// The document for a service at `prefix` (`/services/japps/`) whose session cookie is
/// called `session_cookie`.
pub(crate) fn document(prefix: &str, session_cookie: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = crate::VERSION.to_owned();

    for (alias, original, method, suffix) in ALIASES {
        if let Some(operation) = doc.paths.get_path_operation(original, method.clone()) {
            let mut operation = operation.clone();
            if let Some(id) = &mut operation.operation_id {
                id.push_str(suffix);
            }
            doc.paths.add_path_operation(alias, vec![method], operation);
        }
    }

    // The attributes' paths are relative to the service; the document has the real ones.
    let relative = std::mem::take(&mut doc.paths.paths);
    if prefix != "/" {
        doc.paths.paths.insert(
            prefix.trim_end_matches('/').to_owned(),
            redirect_to_prefix(prefix),
        );
    }
    for (path, item) in relative {
        let path = format!("{prefix}{}", path.trim_start_matches('/'));
        doc.paths.paths.insert(path, item);
    }

    let components = doc.components.get_or_insert_with(Default::default);
    for name in OPEN_SCHEMAS {
        if let Some(RefOr::T(Schema::Object(schema))) = components.schemas.get_mut(name) {
            schema.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(true)));
        }
    }
    let schemes = [
        (
            HUB_TOKEN,
            ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "The caller's hub API token: `token <t>` or `Bearer <t>`.",
            )),
        ),
        (
            SESSION_COOKIE,
            ApiKey::Cookie(ApiKeyValue::with_description(
                session_cookie,
                "japps' encrypted session cookie, set by the browser login (`jhub-login`).",
            )),
        ),
        (
            JHUB_APPS_COOKIE,
            ApiKey::Cookie(ApiKeyValue::with_description(
                "jhub_apps_access_token",
                "jhub-apps' login cookie, accepted so that users of an upgraded deployment \
                 stay logged in (when the service has `JHUB_APP_JWT_SECRET_KEY`).",
            )),
        ),
    ];
    for (name, scheme) in schemes {
        components
            .security_schemes
            .insert(name.to_owned(), SecurityScheme::ApiKey(scheme));
    }
    doc
}

/// The document as served: JSON, built once.
pub(crate) fn document_json(prefix: &str, session_cookie: &str) -> Result<Bytes, ServiceError> {
    serde_json::to_vec(&document(prefix, session_cookie))
        .map(Bytes::from)
        .map_err(|err| ServiceError::Config(format!("cannot write the OpenAPI document: {err}")))
}

/// `GET {prefix without its slash}`: the hub links there; the router sends it on.
fn redirect_to_prefix(prefix: &str) -> PathItem {
    let moved = ResponseBuilder::new()
        .description("To the service root.")
        .header(
            "location",
            HeaderBuilder::new()
                .description(Some(format!("`{prefix}`")))
                .build(),
        )
        .build();
    let operation = OperationBuilder::new()
        .operation_id(Some("service_root_redirect"))
        .tag("status")
        .summary(Some("The service root without its slash"))
        .description(Some(format!(
            "A permanent redirect to `{prefix}`. Public; no hub call."
        )))
        .response("308", moved)
        .build();
    PathItem::new(HttpMethod::Get, operation)
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "docs",
    summary = "This API description",
    description = "The OpenAPI 3.1 description of every operation of this service. Public; \
        no hub call.",
    responses(
        (status = 200, description = "An OpenAPI 3.1 document.", body = Object,
            content_type = "application/json"),
    ),
)]
pub(crate) async fn openapi_json(Extension(document): Extension<OpenApiJson>) -> Response {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        document.0,
    )
        .into_response()
}

/// The document as served, built once when the router is.
#[derive(Debug, Clone)]
pub(crate) struct OpenApiJson(pub(crate) Bytes);

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use japps_hub::{Server, Service, User, UserToken};
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;
    use crate::application::apps::{AppsView, ServerView};
    use crate::application::git_config::{GitRepository, JHubAppConfig};
    use crate::application::services::ServiceView;
    use crate::application::sharing::ShareTargets;
    use crate::auth::Caller;
    use crate::settings::Settings;
    use crate::state::AppState;

    const PREFIX: &str = "/services/japps/";
    /// The methods checked on every path: documented ones must be served, others refused.
    const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

    fn state(prefix: &str, config: Value) -> AppState {
        let settings = Settings::from_vars(vec![
            ("JUPYTERHUB_API_TOKEN".to_owned(), "unit-test".to_owned()),
            ("JUPYTERHUB_SERVICE_PREFIX".to_owned(), prefix.to_owned()),
            // Nothing listens there: a request that reached the hub would fail loudly.
            (
                "JUPYTERHUB_API_URL".to_owned(),
                "http://127.0.0.1:9/hub/api".to_owned(),
            ),
            ("JAPPS_CONFIG".to_owned(), config.to_string()),
        ])
        .unwrap();
        AppState::new(settings).unwrap()
    }

    fn doc(state: &AppState) -> Value {
        serde_json::from_slice(&served(state)).unwrap()
    }

    /// The document the router of `state` serves.
    fn served(state: &AppState) -> Bytes {
        document_json(&state.settings().prefix, state.login().session_cookie()).unwrap()
    }

    /// (path, method, operation) for every operation of the document.
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut all = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                all.push((path.clone(), method.to_uppercase(), operation.clone()));
            }
        }
        all
    }

    /// Every path the router registers, read from its source: each `.route(&at("…"), …)`,
    /// and the root without its slash.
    fn router_paths(prefix: &str) -> BTreeSet<String> {
        let source = include_str!("../router.rs");
        let mut paths = BTreeSet::new();
        let mut rest = source;
        while let Some(start) = rest.find("&at(\"") {
            rest = &rest[start + 5..];
            let end = rest.find('"').unwrap();
            paths.insert(format!("{prefix}{}", &rest[..end]));
        }
        // No route escapes that reading: one `.route(` per `at(`, plus the redirect.
        assert_eq!(source.matches(".route(").count(), paths.len() + 1);
        assert!(!source.contains(".nest(") && !source.contains(".merge("));
        if prefix != "/" {
            paths.insert(prefix.trim_end_matches('/').to_owned());
        }
        paths
    }

    /// A concrete URL for a templated path.
    fn concrete(path: &str) -> String {
        let mut out = String::new();
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').unwrap() + open;
            out.push_str(&rest[..open]);
            out.push_str(match &rest[open + 1..close] {
                "file" => "japps.svg",
                _ => "sales",
            });
            rest = &rest[close + 1..];
        }
        out + rest
    }

    /// Sends a request without credentials: status and body.
    async fn call(router: &Router, method: &str, path: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(concrete(path))
            .body(Body::empty())
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_document_lists_exactly_the_routes_the_router_serves() {
        for prefix in [PREFIX, "/"] {
            let state = state(prefix, json!({}));
            let doc = doc(&state);
            let documented: BTreeSet<String> =
                doc["paths"].as_object().unwrap().keys().cloned().collect();
            assert_eq!(documented, router_paths(prefix), "prefix {prefix}");

            let router = crate::router(state.clone()).unwrap();
            for path in &documented {
                for method in METHODS {
                    let (status, body) = call(&router, method, path).await;
                    let operation = &doc["paths"][path][method.to_lowercase()];
                    if operation.is_null() {
                        assert_eq!(
                            status,
                            StatusCode::METHOD_NOT_ALLOWED,
                            "{method} {path} is served but not documented"
                        );
                    } else {
                        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                        assert!(
                            !(status == StatusCode::NOT_FOUND && body.contains("no route")),
                            "{method} {path} is documented but not served"
                        );
                    }
                }
            }
            assert_eq!(state.hub().recorder().total(), 0, "no hub call");
        }
    }

    #[tokio::test]
    async fn operations_that_need_a_login_say_so() {
        let state = state(PREFIX, json!({}));
        let doc = doc(&state);
        let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
        let router = crate::router(state.clone()).unwrap();
        for (path, method, operation) in operations(&doc) {
            let (status, _) = call(&router, &method, &path).await;
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.contains_key(status.as_str()),
                "{method} {path} answered {status} without credentials, which it does not document"
            );
            let security = operation["security"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if status == StatusCode::UNAUTHORIZED {
                assert!(!security.is_empty(), "{method} {path} needs a login");
                for requirement in &security {
                    let requirement = requirement.as_object().unwrap();
                    assert_eq!(requirement.len(), 1, "{method} {path}: {requirement:?}");
                    for name in requirement.keys() {
                        assert!(schemes.contains_key(name), "{method} {path}: {name}");
                    }
                }
                let names: BTreeSet<&str> = security
                    .iter()
                    .flat_map(|requirement| requirement.as_object().unwrap().keys())
                    .map(String::as_str)
                    .collect();
                assert_eq!(
                    names,
                    BTreeSet::from([HUB_TOKEN, SESSION_COOKIE, JHUB_APPS_COOKIE]),
                    "{method} {path}: every credential the service accepts"
                );
                for code in ["401", "403"] {
                    assert!(responses.contains_key(code), "{method} {path} {code}");
                }
            } else {
                assert!(
                    security.is_empty(),
                    "{method} {path} answers {status} without credentials but declares a login"
                );
            }
        }
    }

    #[tokio::test]
    async fn the_document_and_the_docs_page_are_public_and_cost_no_hub_call() {
        let state = state(PREFIX, json!({}));
        let router = crate::router(state.clone()).unwrap();
        let get = |path: &str| {
            let request = Request::get(path)
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap();
            router.clone().oneshot(request)
        };

        let response = get("/services/japps/openapi.json").await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        assert_eq!(body, served(&state), "served as built at startup");

        let response = get("/services/japps/docs").await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none';"), "{csp}");
        let body = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("fetch('openapi.json'"));

        assert_eq!(state.hub().recorder().total(), 0);
    }

    #[test]
    fn the_session_cookie_scheme_has_the_real_cookie_name() {
        let doc: Value =
            serde_json::from_slice(&document_json(PREFIX, "__Host-japps-session").unwrap())
                .unwrap();
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes[SESSION_COOKIE]["in"], "cookie");
        assert_eq!(schemes[SESSION_COOKIE]["name"], "__Host-japps-session");
        assert_eq!(schemes[JHUB_APPS_COOKIE]["name"], "jhub_apps_access_token");
        assert_eq!(schemes[HUB_TOKEN]["in"], "header");
        assert_eq!(schemes[HUB_TOKEN]["name"], "Authorization");
    }

    #[test]
    fn errors_ids_tags_and_references_are_consistent() {
        let doc = doc(&state(PREFIX, json!({})));
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["version"], crate::VERSION);
        let tags: BTreeSet<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tag| tag["name"].as_str().unwrap())
            .collect();
        let mut ids = BTreeSet::new();
        for (path, method, operation) in operations(&doc) {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "operation id {id} twice");
            assert!(operation["summary"].is_string(), "{method} {path}: summary");
            for tag in operation["tags"].as_array().unwrap() {
                assert!(
                    tags.contains(tag.as_str().unwrap()),
                    "{method} {path}: {tag}"
                );
            }
            for (code, response) in operation["responses"].as_object().unwrap() {
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {code}"
                );
                if code.starts_with('4') || code.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {code}"
                    );
                }
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "path" {
                    let name = parameter["name"].as_str().unwrap();
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: {name}"
                    );
                }
            }
            let templated = path.matches('{').count();
            let in_path = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "path")
                .count();
            assert_eq!(templated, in_path, "{method} {path}: path parameters");
        }
        // Every reference resolves.
        fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(reference)) = map.get("$ref") {
                        out.push(reference);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for reference in all {
            let name = reference.strip_prefix("#/components/schemas/").unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{reference}"
            );
        }
    }

    /// Checks `value` against `schema` (the subset of JSON Schema utoipa writes). Objects
    /// with listed properties are closed unless `additionalProperties` says otherwise; with
    /// `exact`, a closed object must also have every property it lists.
    fn check(
        doc: &Value,
        schema: &Value,
        value: &Value,
        exact: bool,
        at: &str,
    ) -> Result<(), String> {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.trim_start_matches("#/components/schemas/");
            return check(doc, &doc["components"]["schemas"][name], value, exact, at);
        }
        if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
            return match options
                .iter()
                .any(|option| check(doc, option, value, exact, at).is_ok())
            {
                true => Ok(()),
                false => Err(format!("{at}: {value} fits none of {options:?}")),
            };
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            check(doc, part, value, exact, at)?;
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(kind) => vec![kind.as_str()],
            Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_f64() => "number",
            Value::Number(_) => "integer",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !types.is_empty()
            && !types
                .iter()
                .any(|kind| *kind == actual || (*kind == "number" && actual == "integer"))
        {
            return Err(format!("{at}: {actual} where the schema says {types:?}"));
        }
        match value {
            Value::Object(map) => {
                let properties = schema["properties"].as_object();
                let extra = &schema["additionalProperties"];
                let required = schema["required"].as_array().into_iter().flatten();
                for name in required.filter_map(Value::as_str) {
                    if !map.contains_key(name) {
                        return Err(format!("{at}: `{name}` is required but missing"));
                    }
                }
                if let Some(properties) = properties
                    && exact
                    && extra.is_null()
                {
                    for name in properties.keys() {
                        if !map.contains_key(name) {
                            return Err(format!("{at}: `{name}` is documented but never sent"));
                        }
                    }
                }
                for (key, item) in map {
                    let here = format!("{at}.{key}");
                    match properties.and_then(|listed| listed.get(key)) {
                        Some(property) => check(doc, property, item, exact, &here)?,
                        None if extra.is_object() => check(doc, extra, item, exact, &here)?,
                        None if *extra == Value::Bool(true) || properties.is_none() => {}
                        None => return Err(format!("{here}: not in the schema")),
                    }
                }
            }
            Value::Array(items) => {
                let prefix = schema["prefixItems"]
                    .as_array()
                    .map_or(&[][..], Vec::as_slice);
                for (i, item) in items.iter().enumerate() {
                    let here = format!("{at}[{i}]");
                    match (prefix.get(i), &schema["items"]) {
                        (Some(first), _) => check(doc, first, item, exact, &here)?,
                        (None, Value::Bool(false)) => {
                            return Err(format!("{here}: too many items"));
                        }
                        (None, Value::Object(_)) => {
                            check(doc, &schema["items"], item, exact, &here)?
                        }
                        (None, _) => {}
                    }
                }
                let length = |key: &str| schema[key].as_u64().and_then(|n| usize::try_from(n).ok());
                if length("minItems").is_some_and(|min| items.len() < min)
                    || length("maxItems").is_some_and(|max| items.len() > max)
                {
                    return Err(format!("{at}: {} items", items.len()));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn hub_server(name: &str, display_name: Option<&str>) -> Server {
        serde_json::from_value(json!({
            "name": name,
            "display_name": display_name,
            "full_name": format!("alice/{name}"),
            "url": format!("/user/alice/{name}/"),
            "progress_url": format!("/hub/api/users/alice/servers/{name}/progress"),
            "ready": false,
            "stopped": true,
            "pending": null,
            "started": null,
            "last_activity": "2026-01-02T03:04:05.000000Z",
            "full_url": null,
            "full_progress_url": null,
            "state": null,
            "user_options": {
                "name": name, "jhub_app": true, "display_name": "Sales", "description": "",
                "thumbnail": "data:image/png;base64,AAAA", "filepath": "/home/alice/app.py",
                "framework": "panel", "custom_command": "", "public": false, "keep_alive": false,
                "env": {"K": "V"}, "conda_env": "", "profile": "small", "profile_image": "",
                "repository": {"url": "https://example.org/r.git", "config_directory": ".", "ref": "main"},
                "share_with": {"users": ["bob"], "groups": []},
                "a_key_from_elsewhere": [1, 2]
            }
        }))
        .unwrap()
    }

    fn alice() -> User {
        serde_json::from_value(json!({
            "kind": "user", "name": "alice", "admin": false, "groups": ["staff"],
            "roles": ["user"], "created": "2026-01-01T00:00:00Z", "server": null, "pending": null,
            "last_activity": "2026-01-02T03:04:05Z", "scopes": ["access:services", "self"],
            "auth_state": {"access_token": "x"},
            "servers": {"": hub_server("", None), "sales": hub_server("sales", Some("Sales"))}
        }))
        .unwrap()
    }

    fn to_value(value: &impl serde::Serialize) -> Value {
        serde_json::to_value(value).unwrap()
    }

    /// What each JSON operation really sends, from the real code paths (no hub involved).
    async fn samples(state: &AppState) -> BTreeMap<&'static str, Vec<Value>> {
        let caller = Caller {
            user: Arc::new(alice()),
            token: UserToken::new("t".into()),
        };
        let catalog = state.catalog();
        let service: Service = serde_json::from_value(json!({
            "name": "japps", "kind": "service", "admin": true, "url": "http://127.0.0.1:10202",
            "prefix": "/services/japps/", "command": ["japps"], "pid": 7, "roles": ["r"],
            "display": true, "info": {"name": "japps", "pinned": true}
        }))
        .unwrap();
        let services = BTreeMap::from([("japps".to_owned(), ServiceView::from(service))]);
        let apps = AppsView {
            user_apps: vec![ServerView::from(hub_server("sales", Some("Sales")))],
            shared_apps: vec![ServerView::from(hub_server("shared", Some("Shared")))],
        };
        let from_git = JHubAppConfig {
            display_name: "Dashboard".into(),
            description: "A dashboard".into(),
            thumbnail: String::new(),
            filepath: "app.py".into(),
            framework: "panel".into(),
            custom_command: String::new(),
            public: false,
            keep_alive: true,
            env: BTreeMap::from([("K".to_owned(), "V".to_owned())]),
            repository: GitRepository {
                url: "https://example.org/r.git".into(),
                config_directory: ".".into(),
                git_ref: "main".into(),
            },
        };
        let targets = ShareTargets {
            users: vec!["bob".into()],
            groups: vec!["staff".into()],
        };
        let conda = catalog.conda_environments(state.hub(), &caller.user).await;
        let profiles = catalog.spawner_profiles(state.hub(), &caller.user).await;
        let server = ServerView::from(hub_server("x", Some("X")));
        BTreeMap::from([
            ("status", vec![to_value(&status::get().await.0)]),
            ("get_user", vec![user::get(caller.clone()).await.0]),
            ("list_servers", vec![to_value(&apps)]),
            ("get_server", vec![to_value(&server)]),
            (
                "app_state",
                vec![to_value(&crate::web::app_page::AppStatus::from(&server))],
            ),
            ("list_services", vec![to_value(&services)]),
            ("share_permissions", vec![to_value(&targets)]),
            ("frameworks", vec![to_value(&catalog.frameworks().to_vec())]),
            ("conda_environments", vec![to_value(&conda)]),
            ("spawner_profiles", vec![to_value(&profiles)]),
            ("config_json", vec![catalog.config_json().clone()]),
            ("theme", vec![catalog.theme_json().clone()]),
            ("app_config_from_git", vec![to_value(&from_git)]),
            // routes::lifecycle writes these answers inline (`answer`, `Json(status)`).
            (
                "create_app",
                vec![
                    json!([201, "sales"]),
                    json!([202, "sales-1", {"warnings": ["sharing with bob failed"]}]),
                ],
            ),
            ("edit_app", vec![json!([200, "sales"])]),
            ("start_app", vec![json!(202)]),
            ("start_default_server", vec![json!(201)]),
            ("stop_app", vec![json!(204)]),
            ("stop_default_server", vec![json!(202)]),
        ])
    }

    #[tokio::test]
    async fn every_json_body_matches_its_schema() {
        let configs = [
            json!({}),
            json!({
                "conda_envs": ["env-1", "env-2"],
                "profile_list": [
                    {"display_name": "Small Instance", "description": "2 CPU", "default": true,
                     "kubespawner_override": {"cpu_limit": 2}, "profile_options": {}},
                    {"display_name": "GPU", "slug": "gpu"}
                ],
                "template_vars": {
                    "primary_color": "#123456", "navbar_color": "#eeeeee",
                    "font_family": "Inter, sans-serif", "font_url": "/static/fonts/inter.css",
                    "logo": "/static/logo.svg"
                },
                "banners": {"top": {"text": "Maintenance", "background": "#b00"}}
            }),
        ];
        for config in configs {
            let state = state(PREFIX, config.clone());
            let doc = doc(&state);
            let samples = samples(&state).await;
            let mut covered = BTreeSet::new();
            for (path, method, operation) in operations(&doc) {
                let id = operation["operationId"].as_str().unwrap();
                // An alias sends what its original sends.
                let id = ALIASES
                    .iter()
                    .find_map(|(_, _, _, suffix)| id.strip_suffix(suffix))
                    .unwrap_or(id)
                    .to_owned();
                let schema =
                    &operation["responses"]["200"]["content"]["application/json"]["schema"];
                if schema.is_null() || id == "openapi" {
                    continue;
                }
                let bodies = samples
                    .get(id.as_str())
                    .unwrap_or_else(|| panic!("{method} {path}: add a sample body for {id}"));
                for body in bodies {
                    check(&doc, schema, body, true, &id)
                        .unwrap_or_else(|err| panic!("{err}\nconfig {config}\nbody {body:#}"));
                }
                covered.insert(id);
            }
            assert_eq!(
                covered.len(),
                samples.len(),
                "every sample belongs to an operation"
            );

            // JupyterHub 5 servers have no display name: the field is left out, not null.
            let schema = json!({"$ref": "#/components/schemas/ServerView"});
            let server = to_value(&ServerView::from(hub_server("x", None)));
            assert!(server.get("display_name").is_none());
            check(&doc, &schema, &server, false, "jupyterhub 5 server").unwrap();
        }
    }
}
