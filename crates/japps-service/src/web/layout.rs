//! What every page shares: the hub's title, logo, theme and banners, the top bar's user,
//! account links and services menu. Pages add their own values on top.

use minijinja::context;
use serde::Serialize;
use serde_json::Value;

use crate::state::AppState;

/// One entry of the top bar's services menu.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MenuLink {
    pub(crate) name: String,
    pub(crate) url: String,
}

/// The values `base.html` reads, for `user`; merge a page's own with `context! { .., ..base }`.
pub(crate) fn page_context(
    state: &AppState,
    user: &str,
    admin: bool,
    headless: bool,
    services: &[MenuLink],
) -> minijinja::Value {
    let settings = state.settings();
    let config = state.catalog().config_json();
    let theme = &config["theme"];
    let hub_title = settings
        .config
        .template_vars
        .get("hub_title")
        .and_then(Value::as_str)
        .filter(|title| !title.trim().is_empty())
        .unwrap_or("JupyterHub");
    let hub = |path: &str| settings.hub_env.hub_url(path);
    context! {
        prefix => settings.prefix,
        version => crate::VERSION,
        hub_title => hub_title,
        logo => theme["logo"],
        // An operator's logo is usually dark on light: dark mode shows it inverted. The
        // default one is drawn for both.
        logo_custom => settings.config.template_vars.get("logo").is_some_and(|logo| logo.as_str().is_some_and(|l| !l.trim().is_empty())),
        favicon => theme["favicon"],
        logo_url => hub("home"),
        theme_css => state.catalog().theme_css(),
        banners => config["banners"],
        user => user,
        admin => admin,
        headless => headless,
        token_url => hub("token"),
        admin_url => hub("admin"),
        logout_url => hub("logout"),
        services => services,
    }
}
