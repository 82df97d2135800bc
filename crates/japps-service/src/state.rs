//! State shared by every request handler.

use std::sync::Arc;

use axum_extra::extract::cookie::Key;
use japps_auth::legacy::LegacyCookies;
use japps_auth::login::derived_key;
use japps_auth::{BrowserLogin, CookiePolicy, LoginConfig};
use japps_hub::HubClient;

use crate::application::Context;
use crate::application::catalog::Catalog;
use crate::application::identity::Identities;
use crate::error::ServiceError;
use crate::settings::Settings;
use crate::web::templates::Templates;

/// The base names of the service's cookies (`__Host-` is added when the hub asks).
const SESSION_COOKIE: &str = "japps-session";
const STATE_COOKIE: &str = "japps-oauth-state";
/// Separates the session key from any other use of `JHUB_APP_JWT_SECRET_KEY`.
const SESSION_KEY_PURPOSE: &str = "japps session cookie key v1";

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// The application layer's context, and what only the HTTP face needs: the browser
/// login and jhub-apps' cookies.
#[derive(Debug)]
struct Inner {
    app: Context,
    login: BrowserLogin,
    legacy_cookies: Option<LegacyCookies>,
    templates: Templates,
}

impl AppState {
    /// Builds the state, including the process's one pooled hub client.
    pub fn new(settings: Settings) -> Result<Self, ServiceError> {
        settings.check_session_key()?;
        let login = BrowserLogin::new(login_config(&settings));
        let legacy_cookies = settings.session_secret.as_ref().map(LegacyCookies::new);
        let dir = &settings.config.templates_dir;
        let templates = Templates::new((!dir.is_empty()).then(|| std::path::Path::new(dir)));
        let app = Context::new(settings)?;
        Ok(Self {
            inner: Arc::new(Inner {
                app,
                login,
                legacy_cookies,
                templates,
            }),
        })
    }

    /// What the application layer works with.
    pub(crate) fn app(&self) -> &Context {
        &self.inner.app
    }

    pub fn settings(&self) -> &Settings {
        self.inner.app.settings()
    }

    pub fn hub(&self) -> &HubClient {
        self.inner.app.hub()
    }

    pub(crate) fn identities(&self) -> &Identities {
        self.inner.app.identities()
    }

    /// The browser login and its session cookie.
    pub(crate) fn login(&self) -> &BrowserLogin {
        &self.inner.login
    }

    /// jhub-apps' login cookies, readable when the service has their signing secret.
    pub(crate) fn legacy_cookies(&self) -> Option<&LegacyCookies> {
        self.inner.legacy_cookies.as_ref()
    }

    pub(crate) fn templates(&self) -> &Templates {
        &self.inner.templates
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        self.inner.app.catalog()
    }
}

/// The service's login: its cookies live under its prefix and are keyed from
/// `JHUB_APP_JWT_SECRET_KEY`, so every replica with the same secret reads them and a
/// restart keeps users logged in.
fn login_config(settings: &Settings) -> LoginConfig {
    let env = &settings.hub_env;
    let key = match &settings.session_secret {
        Some(secret) => derived_key(secret, SESSION_KEY_PURPOSE),
        None => {
            tracing::warn!(
                "JHUB_APP_JWT_SECRET_KEY is not set: login sessions end when the service \
                 restarts and are not shared between replicas"
            );
            Key::generate()
        }
    };
    LoginConfig {
        client_id: settings.client_id.clone(),
        redirect_uri: settings.oauth_callback_url.clone(),
        authorize_url: env.authorize_url(),
        cookies: CookiePolicy::new(env.cookie_host_prefix, &settings.prefix, env.public_https()),
        session_cookie: SESSION_COOKIE.to_owned(),
        state_cookie: STATE_COOKIE.to_owned(),
        key,
        next_within: "/".to_owned(),
        default_next: env.hub_url("home"),
    }
}
