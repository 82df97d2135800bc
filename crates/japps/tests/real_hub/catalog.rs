//! What a new app can be made of, and the theme, against a real hub: `frameworks/` with
//! allowed/blocked lists and japps' own logos, `conda-environments/` and
//! `spawner-profiles/` from static config (no hub call) and from Python callables in the
//! hub's config file (exactly one hub call for a user's first request, none while the value
//! is cached, `auth_state` included; a failing callable gives `[]` and a log line), and the
//! public `config.json`, `theme`, `theme.css`.

use std::collections::BTreeMap;

use japps_testkit::{HubOptions, HubRelease, TestHub, calls_between, real_hub_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

real_hub_tests!(
    frameworks_follow_allowed_and_blocked_with_our_logos,
    static_catalog_and_theme_cost_no_hub_call,
    callables_are_evaluated_with_one_hub_call,
);

const ALL_FRAMEWORKS: [&str; 8] = [
    "panel",
    "bokeh",
    "streamlit",
    "voila",
    "plotlydash",
    "gradio",
    "custom",
    "jupyterlab",
];

/// A hub whose `c.JAppsConfig` (and other settings the plugin reads at install time) is
/// `japps_config`, placed before `install_jhub_apps` as in an operator's config.
async fn hub_with(release: HubRelease, japps_config: &str, env: &[(&str, &str)]) -> TestHub {
    let mut options = HubOptions::new(env!("CARGO_BIN_EXE_japps")).japps_config(japps_config);
    for (name, value) in env {
        options = options.env(name, value);
    }
    TestHub::start(release, options).await
}

async fn get(hub: &TestHub, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(hub.service_url(path));
    if let Some(token) = token {
        request = request.header("Authorization", format!("token {token}"));
    }
    request.send().await.unwrap()
}

async fn get_json(hub: &TestHub, path: &str, token: Option<&str>) -> Value {
    let response = get(hub, path, token).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("GET {path}: {err}: {text}"))
}

/// The answer to `GET path` and the hub calls it cost.
async fn with_calls(
    hub: &TestHub,
    path: &str,
    token: Option<&str>,
) -> (Value, BTreeMap<String, u64>) {
    let before = hub.service_hub_calls().await;
    let body = get_json(hub, path, token).await;
    let after = hub.service_hub_calls().await;
    (body, calls_between(&before, &after))
}

/// A token for `user` whose identity japps has cached, and the metrics caller's too.
async fn warm_token(hub: &TestHub, user: &str) -> String {
    let token = hub.user_token(user).await;
    hub.service_hub_calls().await;
    get_json(hub, "user", Some(&token)).await;
    token
}

fn one_user_read() -> BTreeMap<String, u64> {
    BTreeMap::from([("GET /users/{name}".to_owned(), 1)])
}

async fn wait_for_log(hub: &TestHub, needle: &str) -> String {
    for _ in 0..100 {
        let logs = hub.logs();
        if logs.contains(needle) {
            return logs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{needle:?} never logged:\n{}", hub.logs());
}

async fn frameworks_follow_allowed_and_blocked_with_our_logos(release: HubRelease) {
    let hub = hub_with(
        release,
        "c.JAppsConfig.allowed_frameworks = ['jupyterlab', 'streamlit', 'panel', 'shiny']\n\
         c.JAppsConfig.blocked_frameworks = ['jupyterlab', 'dash']\n",
        &[],
    )
    .await;
    hub.create_users(&["alice"]).await;

    let anonymous = get(&hub, "frameworks/", None).await;
    assert_eq!(
        anonymous.status(),
        StatusCode::UNAUTHORIZED,
        "login required"
    );

    let token = warm_token(&hub, "alice").await;
    let (frameworks, calls) = with_calls(&hub, "frameworks/", Some(&token)).await;
    assert_eq!(
        frameworks,
        json!([
            {"name": "panel", "display_name": "Panel",
             "logo": "/services/japps/static/logos/panel.svg"},
            {"name": "streamlit", "display_name": "Streamlit",
             "logo": "/services/japps/static/logos/streamlit.svg"},
        ]),
        "allowed ∩ known − blocked, in jhub-apps' order, no logo_path"
    );
    assert!(calls.is_empty(), "frameworks/ costs no hub call: {calls:?}");

    // Unknown names are reported once at startup.
    let logs = wait_for_log(&hub, "frameworks japps does not know").await;
    let warning = logs
        .lines()
        .find(|line| line.contains("frameworks japps does not know"))
        .unwrap();
    assert!(
        warning.contains("shiny") && warning.contains("dash"),
        "{warning}"
    );
    assert_eq!(logs.matches("frameworks japps does not know").count(), 1);

    // Every framework's logo is served, without login, as a long-cached SVG.
    let client = reqwest::Client::new();
    for name in ALL_FRAMEWORKS.iter().chain(&["japps"]) {
        let response = client
            .get(hub.url(&format!("services/japps/static/logos/{name}.svg")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        assert_eq!(
            response.headers()["content-type"],
            "image/svg+xml",
            "{name}"
        );
        let cache = response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cache.contains("max-age=604800"), "{name}: {cache}");
        let body = response.text().await.unwrap();
        assert!(
            body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{name}"
        );
    }
    for missing in [
        "static/logos/shiny.svg",
        "static/logos/panel.png",
        "static/logos/..%2Fsecret.svg",
    ] {
        let response = get(&hub, missing, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

async fn static_catalog_and_theme_cost_no_hub_call(release: HubRelease) {
    let hub = hub_with(
        release,
        "c.JAppsConfig.conda_envs = ['base', 'gpu']\n\
         c.KubeSpawner.profile_list = [\n\
         \x20   {'display_name': 'Small Instance', 'description': '2 CPU', 'default': True},\n\
         \x20   {'display_name': 'GPU', 'slug': 'gpu-a100', 'kubespawner_override': {'image': 'img:1'}},\n\
         ]\n\
         c.JupyterHub.template_vars = {\n\
         \x20   'hub_title': 'Test hub',\n\
         \x20   'primary_color': '#123456',\n\
         \x20   'navbar_color': 'red;} body{display:none',\n\
         \x20   'font_family': \"'Inter', sans-serif\",\n\
         \x20   'font_url': 'https://fonts.example.org/css2?family=Inter:wght@400;700',\n\
         }\n\
         c.JAppsConfig.banners = {'top': {'text': 'Maintenance tonight', 'background': '#b00020'}}\n",
        &[],
    )
    .await;
    hub.create_users(&["alice"]).await;
    let token = warm_token(&hub, "alice").await;
    let before = hub.service_hub_calls().await;

    let frameworks = get_json(&hub, "frameworks/", Some(&token)).await;
    let names: Vec<&str> = frameworks
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ALL_FRAMEWORKS, "no lists: every framework");

    let envs = get_json(&hub, "conda-environments/", Some(&token)).await;
    assert_eq!(envs, json!(["base", "gpu"]));

    let profiles = get_json(&hub, "spawner-profiles/", Some(&token)).await;
    assert_eq!(
        profiles,
        json!([
            {"display_name": "Small Instance", "description": "2 CPU", "default": true,
             "slug": "small-instance"},
            {"display_name": "GPU", "slug": "gpu-a100", "kubespawner_override": {"image": "img:1"}},
        ]),
        "a static list gets slugs too"
    );

    // Theme endpoints are public.
    let config = get_json(&hub, "config.json", None).await;
    let mut keys: Vec<&String> = config.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["banners", "theme", "version"]);
    assert_eq!(config["version"], env!("CARGO_PKG_VERSION"));
    let theme = &config["theme"];
    let mut theme_keys: Vec<&String> = theme.as_object().unwrap().keys().collect();
    theme_keys.sort();
    assert_eq!(
        theme_keys,
        ["colors", "cssVariables", "favicon", "font", "logo"]
    );
    assert_eq!(theme["logo"], "/services/japps/static/logos/japps.svg");
    assert_eq!(
        theme["font"],
        json!({"family": "'Inter', sans-serif",
               "url": "https://fonts.example.org/css2?family=Inter:wght@400;700"})
    );
    assert_eq!(theme["colors"]["primary"], "#123456");
    assert_eq!(
        theme["colors"]["navbar"],
        Value::Null,
        "the unsafe value is dropped"
    );
    assert_eq!(
        theme["colors"]["secondary"],
        Value::Null,
        "only operator colours"
    );
    assert_eq!(theme["cssVariables"]["--primary-color"], "#123456");
    assert!(
        theme["cssVariables"]
            .get("--navbar-background-color")
            .is_none()
    );
    assert_eq!(
        config["banners"],
        json!({"top": {"text": "Maintenance tonight", "background": "#b00020", "foreground": null},
               "bottom": {"text": "", "background": null, "foreground": null}})
    );
    assert_eq!(&get_json(&hub, "theme", None).await, theme);

    let css = get(&hub, "theme.css", None).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.unwrap();
    assert!(
        css.starts_with(
            "@import url(\"https://fonts.example.org/css2?family=Inter:wght@400;700\");\n:root {\n"
        ),
        "{css}"
    );
    assert!(css.contains("  --primary-color: #123456;\n"), "{css}");
    assert!(
        css.contains("  --navbar-background-color: #f6f6f7;\n"),
        "japps' default under the dropped value: {css}"
    );
    assert!(!css.contains("display"), "{css}");
    // The banner's colours are a rule of the stylesheet (no inline style under the CSP).
    assert!(
        css.contains("\n.banner-top { background: #b00020; }"),
        "{css}"
    );
    assert_eq!(
        css.matches('{').count(),
        2,
        "the variables and the banner only: {css}"
    );

    let calls = calls_between(&before, &hub.service_hub_calls().await);
    assert!(
        calls.is_empty(),
        "static catalog and theme cost no hub call: {calls:?}"
    );
    let logs = wait_for_log(&hub, "theme values that cannot be used safely").await;
    assert!(logs.contains("navbar_color"), "the dropped key is named");
}

async fn callables_are_evaluated_with_one_hub_call(release: HubRelease) {
    let crypt_key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let hub = hub_with(
        release,
        "c.Authenticator.enable_auth_state = True\n\
         def _conda_envs(user):\n\
         \x20   if user['name'] == 'mallory':\n\
         \x20       raise RuntimeError('no environments for ' + user['name'])\n\
         \x20   return ['env-' + user['name']]\n\
         c.JAppsConfig.conda_envs = _conda_envs\n\
         async def _profiles(spawner):\n\
         \x20   state = await spawner.user.get_auth_state() or {}\n\
         \x20   return [\n\
         \x20       {'display_name': 'Team ' + state.get('team', 'none'), 'description': spawner.user.name},\n\
         \x20       {'display_name': 'Mine', 'slug': 'mine-' + spawner.user.name},\n\
         \x20   ]\n\
         c.KubeSpawner.profile_list = _profiles\n",
        &[("JUPYTERHUB_CRYPT_KEY", crypt_key)],
    )
    .await;
    hub.create_users(&["alice", "mallory"]).await;
    let secret = "upstream-secret-token-0123456789";
    let response = reqwest::Client::new()
        .patch(format!("{}/users/alice", hub.api_url()))
        .header("Authorization", format!("token {}", hub.admin_token()))
        .json(&json!({"auth_state": {"team": "blue", "access_token": secret}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "set alice's auth_state");

    let alice = warm_token(&hub, "alice").await;
    let (envs, calls) = with_calls(&hub, "conda-environments/", Some(&alice)).await;
    assert_eq!(
        envs,
        json!(["env-alice"]),
        "evaluated in the hub's config file"
    );
    assert_eq!(calls, one_user_read(), "one GET /users/{{name}}");
    // Within callable_cache_seconds: the kept value, no evaluation, no hub call.
    let (envs, calls) = with_calls(&hub, "conda-environments/", Some(&alice)).await;
    assert_eq!(envs, json!(["env-alice"]));
    assert!(calls.is_empty(), "cached: {calls:?}");
    assert_eq!(
        hub.logs()
            .matches("a callable setting was evaluated")
            .count(),
        1
    );

    let (profiles, calls) = with_calls(&hub, "spawner-profiles/", Some(&alice)).await;
    assert_eq!(
        profiles,
        json!([
            {"display_name": "Team blue", "description": "alice", "slug": "team-blue"},
            {"display_name": "Mine", "slug": "mine-alice"},
        ]),
        "an async callable, awaited, seeing auth_state; slugs added"
    );
    assert_eq!(calls, one_user_read());

    // A failing callable: an empty list, one warning, and still exactly one hub call.
    let mallory = warm_token(&hub, "mallory").await;
    let (envs, calls) = with_calls(&hub, "conda-environments/", Some(&mallory)).await;
    assert_eq!(envs, json!([]));
    assert_eq!(calls, one_user_read());
    let logs = wait_for_log(&hub, "a callable setting failed").await;
    let warning = logs
        .lines()
        .find(|line| line.contains("a callable setting failed"))
        .unwrap();
    assert!(
        warning.contains("conda_envs raised RuntimeError: no environments for mallory"),
        "{warning}"
    );
    let (profiles, _) = with_calls(&hub, "spawner-profiles/", Some(&mallory)).await;
    assert_eq!(profiles[0]["display_name"], "Team none");

    // Nothing secret reached the log.
    let logs = hub.logs();
    for leaked in [secret, alice.as_str(), mallory.as_str(), hub.japps_token()] {
        assert!(!logs.contains(leaked), "{leaked} in the log");
    }
}
