//! What the launcher offers, from the operator's configuration: frameworks (with japps' own
//! logos), conda environments, spawner profiles, and the theme.
//!
//! Everything static is prepared once at startup and costs no hub call. A setting that is
//! a Python callable (`conda_envs`, `KubeSpawner.profile_list`) is evaluated through
//! [`PythonEvaluator`], with the caller's user model from one `GET /users/{name}` (service
//! token, so it carries `auth_state`), at most once per user per
//! `callable_cache_seconds` ([`CallableCache`]); a failure gives the last good value, else
//! an empty list as in jhub-apps, and a warning.
//!
//! Callables are evaluated only where they can be: the plugin listed them in `callables`,
//! and at startup the hub's config file (`jupyterhub_config_path`) is readable and the
//! interpreter exists. Otherwise (typically an external service with only `JAPPS_CONFIG`
//! copied from the hub) one startup warning names what is missing and they answer `[]`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use japps_domain::frameworks::FrameworkPolicy;
use japps_domain::profiles;
use japps_domain::theme::Theme;
use japps_hub::{HubClient, User};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::application::python::{Callable, CallableCache, EvalError, PythonEvaluator};
use crate::settings::Settings;

/// How long a callable may take, Python's start-up and the config file included.
const CALLABLE_TIMEOUT: Duration = Duration::from_secs(10);

/// japps' own artwork, embedded in the binary: one logo per framework and the launcher's.
const LOGOS: [(&str, &[u8]); 9] = [
    ("panel", include_bytes!("../../assets/logos/panel.svg")),
    ("bokeh", include_bytes!("../../assets/logos/bokeh.svg")),
    (
        "streamlit",
        include_bytes!("../../assets/logos/streamlit.svg"),
    ),
    ("voila", include_bytes!("../../assets/logos/voila.svg")),
    (
        "plotlydash",
        include_bytes!("../../assets/logos/plotlydash.svg"),
    ),
    ("gradio", include_bytes!("../../assets/logos/gradio.svg")),
    ("custom", include_bytes!("../../assets/logos/custom.svg")),
    (
        "jupyterlab",
        include_bytes!("../../assets/logos/jupyterlab.svg"),
    ),
    ("japps", include_bytes!("../../assets/logos/japps.svg")),
];

/// The SVG logo called `name` (a framework name, or `japps`).
pub(crate) fn logo(name: &str) -> Option<&'static [u8]> {
    LOGOS
        .iter()
        .find(|(logo, _)| *logo == name)
        .map(|(_, svg)| *svg)
}

/// One entry of `GET frameworks/`. jhub-apps also sends `logo_path`, a path on its server;
/// japps does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct FrameworkView {
    /// The framework's name in an app's `user_options.framework`.
    #[schema(example = "panel")]
    pub(crate) name: &'static str,
    #[schema(example = "Panel")]
    pub(crate) display_name: &'static str,
    /// The logo's URL on this service.
    #[schema(example = "/services/japps/static/logos/panel.svg")]
    pub(crate) logo: String,
}

/// A list setting: known at startup, or a callable evaluated for each user.
#[derive(Debug)]
enum Source<T> {
    Static(T),
    Callable,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    frameworks: Vec<FrameworkView>,
    conda_envs: Source<Vec<String>>,
    profiles: Source<Vec<Map<String, Value>>>,
    /// `None` when callables cannot be evaluated here (see the module's documentation).
    evaluator: Option<PythonEvaluator>,
    conda_cache: CallableCache<String>,
    profile_cache: CallableCache<Map<String, Value>>,
    config_json: Value,
    theme_json: Value,
    theme_css: String,
}

impl Catalog {
    /// Prepares everything static; logs one warning per kind of configuration mistake.
    pub(crate) fn new(settings: &Settings) -> Self {
        let config = &settings.config;
        let logo_url = |name: &str| format!("{}static/logos/{name}.svg", settings.prefix);

        let policy = FrameworkPolicy::new(
            config.allowed_frameworks.as_deref(),
            config.blocked_frameworks.as_deref(),
        );
        let unknown = policy.unknown_names();
        if !unknown.is_empty() {
            tracing::warn!(
                names = ?unknown,
                "allowed_frameworks/blocked_frameworks name frameworks japps does not know; they are ignored"
            );
        }
        let frameworks = policy
            .available()
            .into_iter()
            .map(|framework| FrameworkView {
                name: framework.name(),
                display_name: framework.display_name(),
                logo: logo_url(framework.name()),
            })
            .collect();

        let conda_envs = if config.is_callable("conda_envs") {
            Source::Callable
        } else {
            Source::Static(config.conda_envs.clone())
        };
        let profiles = if config.is_callable("profile_list") {
            Source::Callable
        } else {
            Source::Static(static_profiles(&config.profile_list))
        };

        let cache_interval = Duration::from_secs(config.callable_cache_seconds);

        let (theme, rejected) = Theme::new(
            &config.template_vars,
            &config.banners,
            &logo_url("japps"),
            &logo_url("japps"),
        );
        if !rejected.is_empty() {
            let rejected: Vec<String> = rejected
                .iter()
                .map(|r| format!("{} ({})", r.key, r.reason))
                .collect();
            tracing::warn!(
                ?rejected,
                "theme values that cannot be used safely are ignored"
            );
        }

        Self {
            frameworks,
            conda_envs,
            profiles,
            evaluator: callable_evaluator(settings),
            conda_cache: CallableCache::new(Callable::CondaEnvs, cache_interval),
            profile_cache: CallableCache::new(Callable::ProfileList, cache_interval),
            config_json: theme.config_json(crate::VERSION),
            theme_json: theme.theme_json(),
            theme_css: theme.css(),
        }
    }

    /// `GET frameworks/`: no hub call.
    pub(crate) fn frameworks(&self) -> &[FrameworkView] {
        &self.frameworks
    }

    /// `GET conda-environments/`: no hub call for a list; for a callable, one per user
    /// per interval.
    pub(crate) async fn conda_environments(&self, hub: &HubClient, caller: &User) -> Vec<String> {
        match &self.conda_envs {
            Source::Static(envs) => envs.clone(),
            // The startup warning said why; no warning per request.
            Source::Callable if self.evaluator.is_none() => Vec::new(),
            Source::Callable => self
                .conda_cache
                .get(
                    &cache_key(caller),
                    self.evaluate(hub, caller, Callable::CondaEnvs, string_list),
                )
                .await
                .map(|envs| envs.as_ref().clone())
                .unwrap_or_default(),
        }
    }

    /// `GET spawner-profiles/`: no hub call for a list; for a callable, one per user per
    /// interval.
    pub(crate) async fn spawner_profiles(
        &self,
        hub: &HubClient,
        caller: &User,
    ) -> Vec<Map<String, Value>> {
        match &self.profiles {
            Source::Static(profiles) => profiles.clone(),
            Source::Callable if self.evaluator.is_none() => Vec::new(),
            Source::Callable => self
                .profile_cache
                .get(
                    &cache_key(caller),
                    self.evaluate(hub, caller, Callable::ProfileList, |value| {
                        profiles::profile_list(value).map_err(|err| err.to_string())
                    }),
                )
                .await
                .map(|profiles| profiles.as_ref().clone())
                .unwrap_or_default(),
        }
    }

    /// `GET config.json`.
    pub(crate) fn config_json(&self) -> &Value {
        &self.config_json
    }

    /// `GET theme`.
    pub(crate) fn theme_json(&self) -> &Value {
        &self.theme_json
    }

    /// `GET theme.css`.
    pub(crate) fn theme_css(&self) -> &str {
        &self.theme_css
    }

    /// Evaluates a callable for the caller and checks the answer's shape.
    async fn evaluate<T>(
        &self,
        hub: &HubClient,
        caller: &User,
        setting: Callable,
        shape: impl FnOnce(Value) -> Result<Vec<T>, String>,
    ) -> Result<Vec<T>, String> {
        let value = self.try_evaluate(hub, caller, setting).await?;
        shape(value).map_err(|reason| format!("unusable answer: {reason}"))
    }

    async fn try_evaluate(
        &self,
        hub: &HubClient,
        caller: &User,
        setting: Callable,
    ) -> Result<Value, String> {
        let Some(evaluator) = &self.evaluator else {
            return Err(
                "callables cannot be evaluated by this service (see the startup warning)".into(),
            );
        };
        let model = if caller.kind == "service" {
            // Services have no user model (nor auth state) to fetch.
            serde_json::to_value(caller)
        } else {
            let user = hub
                .as_service()
                .user(&caller.name, false)
                .await
                .map_err(|err| format!("cannot read the user model: {err}"))?;
            serde_json::to_value(user)
        }
        .map_err(|err| err.to_string())?;
        evaluator
            .evaluate(setting, &model)
            .await
            .map_err(|err: EvalError| err.to_string())
    }
}

/// Who a cached value belongs to: users and services are told apart.
fn cache_key(caller: &User) -> String {
    format!("{}:{}", caller.kind, caller.name)
}

/// The evaluator of callable settings, when the plugin listed some and they can be
/// evaluated here; otherwise `None`, with one warning that says what is missing.
fn callable_evaluator(settings: &Settings) -> Option<PythonEvaluator> {
    let config = &settings.config;
    if config.callables.is_empty() {
        return None;
    }
    let names = config
        .callables
        .iter()
        .map(|name| match name.as_str() {
            "profile_list" => "c.KubeSpawner.profile_list".to_owned(),
            other => format!("c.JAppsConfig.{other}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let config_path = PathBuf::from(&config.jupyterhub_config_path);
    let mut missing = Vec::new();
    if let Err(err) = std::fs::File::open(&config_path) {
        missing.push(format!(
            "the hub's config file {} cannot be read ({err}; set c.JAppsConfig.jupyterhub_config_path, \
             or jupyterhub_config_path in JAPPS_CONFIG, to where it is on this host)",
            config_path.display()
        ));
    }
    if find_program(&settings.python).is_none() {
        missing.push(format!(
            "the Python interpreter {:?} is not found (set JAPPS_PYTHON, or c.JAppsConfig.python_exec, \
             to a Python with japps and the config's imports installed)",
            settings.python
        ));
    }
    if !missing.is_empty() {
        tracing::warn!(
            settings = %names,
            "callable settings cannot be evaluated by this service and answer []: {}",
            missing.join("; ")
        );
        return None;
    }
    tracing::info!(
        settings = %names,
        python = %settings.python,
        config = %config_path.display(),
        cache_seconds = config.callable_cache_seconds,
        "callable settings are evaluated in the hub's config"
    );
    Some(PythonEvaluator::new(
        settings.python.clone(),
        config_path,
        CALLABLE_TIMEOUT,
    ))
}

/// `program` as the helper would be started: a path, or a name looked up on `PATH`.
fn find_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |path: &Path| {
        std::fs::metadata(path)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return runnable(&path).then_some(path);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| runnable(path))
    })
}

/// `c.KubeSpawner.profile_list` as configured, with slugs; entries that are not objects
/// are dropped (with a warning) rather than breaking the whole list.
fn static_profiles(configured: &[Value]) -> Vec<Map<String, Value>> {
    let mut dropped = 0;
    let profiles = configured
        .iter()
        .filter_map(|item| match item {
            Value::Object(profile) => Some(profiles::with_slug(profile.clone())),
            _ => {
                dropped += 1;
                None
            }
        })
        .collect();
    if dropped > 0 {
        tracing::warn!(
            dropped,
            "KubeSpawner.profile_list entries that are not objects are ignored"
        );
    }
    profiles
}

fn string_list(value: Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err("not a list".into());
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(name) => Ok(name),
            _ => Err("not a list of strings".into()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(config: Value) -> Settings {
        Settings::from_vars(vec![
            (
                "JUPYTERHUB_API_TOKEN".to_owned(),
                "unit-test-token".to_owned(),
            ),
            (
                "JUPYTERHUB_SERVICE_PREFIX".to_owned(),
                "/base/services/japps/".to_owned(),
            ),
            ("JAPPS_CONFIG".to_owned(), config.to_string()),
        ])
        .unwrap()
    }

    #[test]
    fn every_logo_is_embedded_svg() {
        for framework in japps_domain::frameworks::FRAMEWORKS {
            let svg = logo(framework.name()).unwrap_or_else(|| panic!("{framework}"));
            let text = std::str::from_utf8(svg).unwrap();
            assert!(
                text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
                "{}",
                framework.name()
            );
            assert!(!text.contains("<script"), "{}", framework.name());
        }
        assert!(logo("japps").is_some());
        assert!(logo("../secret").is_none());
    }

    #[test]
    fn frameworks_are_filtered_with_our_logo_urls() {
        let catalog = Catalog::new(&settings(json!({
            "allowed_frameworks": ["streamlit", "panel", "jupyterlab", "nonsense"],
            "blocked_frameworks": ["jupyterlab"],
        })));
        assert_eq!(
            serde_json::to_value(catalog.frameworks()).unwrap(),
            json!([
                {"name": "panel", "display_name": "Panel",
                 "logo": "/base/services/japps/static/logos/panel.svg"},
                {"name": "streamlit", "display_name": "Streamlit",
                 "logo": "/base/services/japps/static/logos/streamlit.svg"},
            ])
        );
    }

    #[test]
    fn static_lists_and_theme_are_prepared() {
        let catalog = Catalog::new(&settings(json!({
            "conda_envs": ["base", "gpu"],
            "profile_list": [{"display_name": "Small Instance"}, "junk", {"display_name": "GPU", "slug": "g"}],
            "template_vars": {"primary_color": "red;} body{display:none"},
        })));
        assert!(matches!(&catalog.conda_envs, Source::Static(envs) if envs == &["base", "gpu"]));
        let Source::Static(profiles) = &catalog.profiles else {
            panic!("static profiles")
        };
        assert_eq!(profiles.len(), 2);
        assert_eq!(profiles[0]["slug"], "small-instance");
        assert_eq!(profiles[1]["slug"], "g");
        assert_eq!(
            catalog.config_json()["theme"]["logo"],
            "/base/services/japps/static/logos/japps.svg"
        );
        assert_eq!(catalog.config_json()["version"], crate::VERSION);
        assert_eq!(catalog.theme_json(), &catalog.config_json()["theme"]);
        assert!(!catalog.theme_css().contains("display"));
    }

    #[test]
    fn callables_are_recognised() {
        let catalog = Catalog::new(&settings(json!({
            "conda_envs": [],
            "callables": ["conda_envs", "profile_list"],
            "jupyterhub_config_path": "/etc/jupyterhub/jupyterhub_config.py",
        })));
        assert!(matches!(catalog.conda_envs, Source::Callable));
        assert!(matches!(catalog.profiles, Source::Callable));
    }

    /// A catalog whose callables run `script` as their "python", against a mock hub.
    async fn callable_catalog(
        dir: &tempfile::TempDir,
        script: &str,
        timeout: Duration,
    ) -> (Catalog, HubClient, wiremock::MockServer) {
        use crate::application::python::tests::{evaluate_retrying, fake_python};

        let mut catalog = Catalog::new(&settings(json!({
            "callables": ["conda_envs", "profile_list"],
        })));
        let python = fake_python(dir, script);
        // Spawn once so that the fresh script is no longer "text file busy".
        let warm = PythonEvaluator::new(python.clone(), PathBuf::from("x"), Duration::from_secs(5));
        let _ = evaluate_retrying(&warm, Callable::CondaEnvs, &json!({})).await;
        catalog.evaluator = Some(PythonEvaluator::new(
            python,
            PathBuf::from("/hub/jupyterhub_config.py"),
            timeout,
        ));

        let server = wiremock::MockServer::start().await;
        let url = url::Url::parse(&format!("{}/hub/api", server.uri())).unwrap();
        let hub = HubClient::new(japps_hub::HubClientConfig::new(
            url,
            japps_hub::ServiceToken::new("service-token".into()),
        ))
        .unwrap();
        (catalog, hub, server)
    }

    fn alice() -> User {
        serde_json::from_value(json!({"kind": "user", "name": "alice"})).unwrap()
    }

    async fn mock_user(server: &wiremock::MockServer, status: u16) {
        use wiremock::matchers::{method, path};
        wiremock::Mock::given(method("GET"))
            .and(path("/hub/api/users/alice"))
            .respond_with(
                wiremock::ResponseTemplate::new(status).set_body_json(json!({
                    "kind": "user", "name": "alice", "groups": ["staff"],
                    "auth_state": {"access_token": "secret-from-auth-state"}
                })),
            )
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn a_callable_costs_one_hub_call_and_sees_the_user_model() {
        let dir = tempfile::tempdir().unwrap();
        // Answers the user model's auth_state token and group as "environments".
        let script = r#"model=$(cat)
token=$(echo "$model" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
group=$(echo "$model" | sed -n 's/.*"groups":\["\([^"]*\)"\].*/\1/p')
printf '["%s","%s"]' "$token" "$group""#;
        let (catalog, hub, server) = callable_catalog(&dir, script, Duration::from_secs(5)).await;
        mock_user(&server, 200).await;
        let before = hub.recorder().total();
        let envs = catalog.conda_environments(&hub, &alice()).await;
        assert_eq!(envs, ["secret-from-auth-state", "staff"]);
        assert_eq!(hub.recorder().total() - before, 1);
        assert_eq!(hub.recorder().count("GET /users/{name}"), 1);
    }

    #[tokio::test]
    async fn a_slow_callable_gives_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let script =
            r#"if [ "$4" = "--config" ] && [ "$5" = "x" ]; then echo '[]'; exit; fi; sleep 30"#;
        let (catalog, hub, server) =
            callable_catalog(&dir, script, Duration::from_millis(300)).await;
        mock_user(&server, 200).await;
        let started = std::time::Instant::now();
        assert!(catalog.conda_environments(&hub, &alice()).await.is_empty());
        assert!(catalog.spawner_profiles(&hub, &alice()).await.is_empty());
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn wrong_shapes_and_hub_failures_give_empty_lists() {
        let dir = tempfile::tempdir().unwrap();
        let (catalog, hub, server) = callable_catalog(
            &dir,
            r#"cat >/dev/null; echo '{"not": "a list"}'"#,
            Duration::from_secs(5),
        )
        .await;
        mock_user(&server, 200).await;
        assert!(catalog.conda_environments(&hub, &alice()).await.is_empty());
        assert!(catalog.spawner_profiles(&hub, &alice()).await.is_empty());

        let dir = tempfile::tempdir().unwrap();
        let (catalog, hub, server) = callable_catalog(
            &dir,
            r#"cat >/dev/null; echo '[{"display_name": "Big One"}]'"#,
            Duration::from_secs(5),
        )
        .await;
        mock_user(&server, 500).await;
        assert!(
            catalog.spawner_profiles(&hub, &alice()).await.is_empty(),
            "hub down"
        );
    }

    #[tokio::test]
    async fn callable_profiles_get_slugs() {
        let dir = tempfile::tempdir().unwrap();
        let (catalog, hub, server) = callable_catalog(
            &dir,
            r#"cat >/dev/null; echo '[{"display_name": "Big One"}, {"display_name": "GPU", "slug": "gpu-x"}]'"#,
            Duration::from_secs(5),
        )
        .await;
        mock_user(&server, 200).await;
        let profiles = catalog.spawner_profiles(&hub, &alice()).await;
        assert_eq!(profiles.len(), 2);
        assert_eq!(profiles[0]["slug"], "big-one");
        assert_eq!(profiles[1]["slug"], "gpu-x");
    }

    #[tokio::test]
    async fn a_callable_is_evaluated_once_per_user_per_interval() {
        use wiremock::matchers::{method, path};
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        // Answers the user's name, and counts its runs.
        let script = format!(
            r#"echo run >> {}; name=$(cat | sed -n 's/.*"name":"\([^"]*\)".*/\1/p'); printf '["env-%s"]' "$name""#,
            count.display()
        );
        let (catalog, hub, server) = callable_catalog(&dir, &script, Duration::from_secs(5)).await;
        for user in ["alice", "bob"] {
            wiremock::Mock::given(method("GET"))
                .and(path(format!("/hub/api/users/{user}")))
                .respond_with(
                    wiremock::ResponseTemplate::new(200)
                        .set_body_json(json!({"kind": "user", "name": user})),
                )
                .mount(&server)
                .await;
        }
        let runs = || {
            std::fs::read_to_string(&count)
                .unwrap_or_default()
                .lines()
                .count()
        };
        let before = runs();
        let calls = hub.recorder().total();
        for _ in 0..5 {
            assert_eq!(
                catalog.conda_environments(&hub, &alice()).await,
                ["env-alice"]
            );
        }
        assert_eq!(runs() - before, 1, "one evaluation for five requests");
        assert_eq!(hub.recorder().total() - calls, 1, "and one hub call");
        let bob: User = serde_json::from_value(json!({"kind": "user", "name": "bob"})).unwrap();
        assert_eq!(catalog.conda_environments(&hub, &bob).await, ["env-bob"]);
        assert_eq!(
            catalog.conda_environments(&hub, &alice()).await,
            ["env-alice"]
        );
        assert_eq!(runs() - before, 2, "bob's own evaluation");
        // The other setting is cached on its own.
        assert_eq!(catalog.spawner_profiles(&hub, &alice()).await.len(), 0);
        assert_eq!(runs() - before, 3);
    }

    #[tokio::test]
    async fn callables_are_evaluated_only_where_the_hub_config_is() {
        let dir = tempfile::tempdir().unwrap();
        let hub_config = dir.path().join("jupyterhub_config.py");
        std::fs::write(&hub_config, "c = get_config()\n").unwrap();
        let with = |config: Value, python: Option<&str>| {
            let mut settings = settings(config);
            if let Some(python) = python {
                settings.python = python.to_owned();
            }
            Catalog::new(&settings)
        };
        let here = with(
            json!({"callables": ["conda_envs"], "jupyterhub_config_path": hub_config}),
            Some("sh"),
        );
        assert!(here.evaluator.is_some());
        // An external service with JAPPS_CONFIG copied from the hub, but not its file.
        let elsewhere = with(
            json!({"callables": ["conda_envs"], "jupyterhub_config_path": "/nonexistent/jupyterhub_config.py"}),
            Some("sh"),
        );
        assert!(elsewhere.evaluator.is_none());
        assert!(matches!(elsewhere.conda_envs, Source::Callable));
        let no_python = with(
            json!({"callables": ["conda_envs"], "jupyterhub_config_path": hub_config}),
            Some("/nonexistent/python3"),
        );
        assert!(no_python.evaluator.is_none());
        let none = with(json!({"jupyterhub_config_path": hub_config}), Some("sh"));
        assert!(none.evaluator.is_none(), "nothing to evaluate");

        // Unavailable callables answer [] at once, without a hub call.
        let server = wiremock::MockServer::start().await;
        let url = url::Url::parse(&format!("{}/hub/api", server.uri())).unwrap();
        let hub = HubClient::new(japps_hub::HubClientConfig::new(
            url,
            japps_hub::ServiceToken::new("service-token".into()),
        ))
        .unwrap();
        assert!(
            elsewhere
                .conda_environments(&hub, &alice())
                .await
                .is_empty()
        );
        assert_eq!(hub.recorder().total(), 0);
    }

    #[test]
    fn programs_are_found_on_the_path() {
        assert!(find_program("sh").is_some());
        assert!(find_program("/bin/sh").is_some());
        assert!(find_program("no-such-program-japps").is_none());
        assert!(find_program("/etc/passwd").is_none(), "not executable");
    }

    #[test]
    fn answers_must_have_the_right_shape() {
        assert_eq!(string_list(json!(["a", "b"])).unwrap(), ["a", "b"]);
        assert!(string_list(json!("a")).is_err());
        assert!(string_list(json!(["a", 1])).is_err());
        assert!(string_list(json!({"a": 1})).is_err());
    }
}
