//! `GET static/logos/{name}.svg`: japps' own framework and launcher logos, embedded in the
//! binary. Public and long-cached.

use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};

use crate::application::catalog;
use crate::error::{ErrorBody, ServiceError};

/// A week: logos change only with a japps release.
const CACHE: &str = "public, max-age=604800";

#[utoipa::path(
    get,
    path = "/static/logos/{file}",
    operation_id = "logo",
    tag = "static",
    summary = "A framework's logo, or japps' own",
    description = "japps' own SVG artwork, embedded in the binary: `<framework>.svg` for each \
        framework `frameworks/` can list, and `japps.svg`. Public; cached for a week.",
    params(("file" = String, Path, description = "`<name>.svg`", example = "panel.svg")),
    responses(
        (status = 200, description = "The logo.", body = String, content_type = "image/svg+xml",
            headers(("cache-control" = String, description = "`public, max-age=604800`"))),
        (status = 404, description = "No such logo.", body = ErrorBody),
    ),
)]
pub(crate) async fn logo(Path(file): Path<String>) -> Result<Response, ServiceError> {
    let svg = file
        .strip_suffix(".svg")
        .and_then(catalog::logo)
        .ok_or_else(|| ServiceError::NotFound(format!("no logo {file}")))?;
    Ok((
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, CACHE),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Opened on its own, an SVG is a document: let it run nothing.
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use crate::settings::Settings;
    use crate::state::AppState;

    async fn get(path: &str) -> axum::response::Response {
        let settings = Settings::from_vars(vec![(
            "JUPYTERHUB_API_TOKEN".to_owned(),
            "unit-test-token".to_owned(),
        )])
        .unwrap();
        crate::router(AppState::new(settings).unwrap())
            .unwrap()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn logos_are_public_long_cached_svg() {
        let response = get("/services/japps/static/logos/gradio.svg").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=604800"
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        for missing in ["nope.svg", "gradio", "gradio.png", "..%2Fgradio.svg"] {
            let response = get(&format!("/services/japps/static/logos/{missing}")).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
        }
    }

    #[tokio::test]
    async fn theme_is_public_and_catalog_needs_login() {
        let css = get("/services/japps/theme.css").await;
        assert_eq!(css.status(), StatusCode::OK);
        assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
        for path in ["config.json", "theme"] {
            let response = get(&format!("/services/japps/{path}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.headers()["content-type"], "application/json");
        }
        for path in ["frameworks/", "conda-environments/", "spawner-profiles/"] {
            let response = get(&format!("/services/japps/{path}")).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        }
    }
}
