//! The route table: every path the service answers, under the service prefix.

use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::http::Uri;
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use tower_http::trace::TraceLayer;

use crate::auth;
use crate::error::ServiceError;
use crate::request_id;
use crate::routes::{
    catalog, docs, lifecycle, login, metrics, openapi, servers, services, static_files, status,
    theme, user,
};
use crate::security_headers;
use crate::state::AppState;
use crate::web;

pub fn router(state: AppState) -> Result<Router, ServiceError> {
    let prefix = state.settings().prefix.clone();
    let openapi = openapi::OpenApiJson(openapi::document_json(
        &prefix,
        state.login().session_cookie(),
    )?);
    let at = |path: &str| format!("{prefix}{path}");
    // A thumbnail upload plus the app definition; larger bodies are refused with 413.
    let upload_limit = usize::try_from(state.settings().config.thumbnail_max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20);

    let mut router = Router::new()
        .route(&at(""), get(web::home::root))
        .route(&at("static/web/app.css"), get(web::assets::css))
        .route(&at("static/web/app.js"), get(web::assets::js))
        .route(&at("static/web/form.js"), get(web::assets::form_js))
        .route(
            &at("static/web/theme-init.js"),
            get(web::assets::theme_init_js),
        )
        .route(&at("create-app"), get(web::form::create_page))
        .route(&at("edit-app"), get(web::form::edit_page))
        .route(&at("success"), get(web::form::success_page))
        .route(&at("thumbnail/{owner}/{server}"), get(web::home::thumbnail))
        .route(&at("static/web/app-page.js"), get(web::assets::app_page_js))
        .route(&at("apps/{owner}/{server}"), get(web::app_page::page))
        .route(
            &at("apps/{owner}/{server}/state"),
            get(web::app_page::app_state),
        )
        .route(&at("status"), get(status::get))
        .route(&at("jhub-login"), get(login::start))
        .route(&at("oauth_callback"), get(login::callback))
        .route(&at("logout"), get(login::logout_page).post(login::logout))
        .route(&at("user"), get(user::get))
        .route(&at("metrics"), get(metrics::get))
        .route(&at("frameworks/"), get(catalog::frameworks))
        .route(&at("conda-environments/"), get(catalog::conda_environments))
        .route(&at("spawner-profiles/"), get(catalog::spawner_profiles))
        .route(&at("config.json"), get(theme::config_json))
        .route(&at("theme"), get(theme::theme))
        .route(&at("theme.css"), get(theme::theme_css))
        .route(&at("static/logos/{file}"), get(static_files::logo))
        .route(
            &at("server/"),
            get(servers::list)
                .post(lifecycle::start_default)
                .delete(lifecycle::stop_default),
        )
        .route(
            &at("server"),
            get(servers::list)
                .post(lifecycle::create)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            &at("server/{name}"),
            get(servers::get)
                .post(lifecycle::start)
                .put(lifecycle::edit)
                .delete(lifecycle::stop)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(&at("services/"), get(services::list))
        .route(&at("share-permissions/"), get(services::share_permissions))
        .route(
            &at("app-config-from-git/"),
            axum::routing::post(crate::routes::git_config::from_git),
        )
        .route(&at("openapi.json"), get(openapi::openapi_json))
        .route(&at("docs"), get(docs::page));
    if prefix != "/" {
        // The hub links to `/services/japps`; send such visitors to the real root.
        let root = prefix.clone();
        router = router.route(
            prefix.trim_end_matches('/'),
            get(move || async move { Redirect::permanent(&root) }),
        );
    }

    let page_policy = std::sync::Arc::new(security_headers::PagePolicy::new(&state));
    Ok(router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            web::error_page::html_errors,
        ))
        .layer(Extension(openapi))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::replace_legacy_cookie,
        ))
        .layer(middleware::from_fn_with_state(
            page_policy,
            security_headers::apply,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state))
}

async fn not_found(uri: Uri) -> Response {
    ServiceError::NotFound(format!("no route for {}", uri.path())).into_response()
}

/// Spans carry the path without the query string: queries may hold OAuth codes.
fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get(request_id::HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;
    use crate::settings::Settings;

    fn app(prefix: &str) -> Router {
        let settings = Settings::from_vars(vec![
            (
                "JUPYTERHUB_API_TOKEN".to_owned(),
                "unit-test-token".to_owned(),
            ),
            ("JUPYTERHUB_SERVICE_PREFIX".to_owned(), prefix.to_owned()),
        ])
        .unwrap();
        router(AppState::new(settings).unwrap()).unwrap()
    }

    async fn get_path(app: Router, path: &str, request_id: Option<&str>) -> Response {
        let mut request = Request::get(path);
        if let Some(id) = request_id {
            request = request.header("x-request-id", id);
        }
        app.oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    async fn collect_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn status_at_prefix_and_status_path() {
        for path in ["/services/japps/", "/services/japps/status"] {
            let response = get_path(app("/services/japps/"), path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let body = collect_json(response).await;
            assert_eq!(body["status"], "ok");
            assert_eq!(body["version"], crate::VERSION);
        }
    }

    #[tokio::test]
    async fn prefix_without_slash_redirects() {
        let response = get_path(app("/services/japps/"), "/services/japps", None).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(response.headers()["location"], "/services/japps/");
    }

    #[tokio::test]
    async fn a_browser_navigating_to_an_error_gets_a_page_scripts_get_json() {
        let navigate = Request::get("/services/japps/nope?x=%3Cb%3E")
            .header("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
            .body(Body::empty())
            .unwrap();
        let response = app("/services/japps/").oneshot(navigate).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(
            html.contains("<h1 id=\"error-title\">Not found</h1>"),
            "{html}"
        );
        assert!(html.contains("no route for /services/japps/nope"), "{html}");
        // The way back is the same address, escaped.
        assert!(
            html.contains("href=\"/services/japps/nope?x=%3Cb%3E\""),
            "{html}"
        );

        // Never a link to another host.
        let navigate = Request::get("//evil.example/x")
            .header("accept", "text/html")
            .body(Body::empty())
            .unwrap();
        let response = app("/services/japps/").oneshot(navigate).await.unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(!html.contains("href=\"//evil.example"), "{html}");
        assert!(html.contains("href=\"/services/japps/\""), "{html}");

        // A script's request (and a POST from a page) keeps the API's JSON.
        for (method, accept) in [
            ("GET", "application/json"),
            ("GET", "*/*"),
            ("POST", "text/html"),
        ] {
            let request = Request::builder()
                .method(method)
                .uri("/services/japps/nope")
                .header("accept", accept)
                .body(Body::empty())
                .unwrap();
            let response = app("/services/japps/").oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
            let body = collect_json(response).await;
            assert!(
                body["detail"].as_str().unwrap().contains("no route"),
                "{method} {accept}"
            );
        }
    }

    #[tokio::test]
    async fn unknown_paths_are_json_404() {
        for path in ["/services/japps/nope", "/elsewhere/status", "/"] {
            let response = get_path(app("/services/japps/"), path, None).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            let body = collect_json(response).await;
            assert!(body["detail"].as_str().unwrap().contains("no route"));
        }
    }

    #[tokio::test]
    async fn request_ids_are_echoed_or_made() {
        let kept = get_path(
            app("/services/japps/"),
            "/services/japps/status",
            Some("abc-123"),
        )
        .await;
        assert_eq!(kept.headers()["x-request-id"], "abc-123");

        let replaced = get_path(
            app("/services/japps/"),
            "/services/japps/status",
            Some("bad id\t"),
        )
        .await;
        let id = replaced.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 32, "a fresh uuid replaces an unusable id: {id}");
    }

    #[tokio::test]
    async fn root_prefix_serves_status_at_root() {
        let response = get_path(app("/"), "/status", None).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn browsers_get_the_page_other_clients_the_status() {
        let html = app("/services/japps/")
            .oneshot(
                Request::get("/services/japps/")
                    .header("accept", "text/html,application/xhtml+xml")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            html.status(),
            StatusCode::FOUND,
            "not logged in: to the login"
        );
        assert!(
            html.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/services/japps/jhub-login?next=")
        );
        let json = get_path(app("/services/japps/"), "/services/japps/", None).await;
        assert_eq!(json.status(), StatusCode::OK);
        assert_eq!(json.headers()["vary"], "accept");
        assert_eq!(collect_json(json).await["status"], "ok");
    }

    #[tokio::test]
    async fn assets_are_cached_and_typed() {
        for (path, kind) in [("app.css", "text/css"), ("app.js", "text/javascript")] {
            let response = get_path(
                app("/services/japps/"),
                &format!("/services/japps/static/web/{path}"),
                None,
            )
            .await;
            assert_eq!(response.status(), StatusCode::OK);
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(kind)
            );
            assert_eq!(response.headers()["cache-control"], "public, max-age=86400");
            assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        }
        let thumbnail = get_path(
            app("/services/japps/"),
            "/services/japps/thumbnail/alice/app",
            None,
        )
        .await;
        assert_eq!(thumbnail.status(), StatusCode::UNAUTHORIZED);
    }
}
