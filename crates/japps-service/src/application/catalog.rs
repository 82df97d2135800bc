//! What the launcher offers, from the operator's configuration: frameworks (with japps' own
//! logos), conda environments, spawner profiles, and the theme.
//!
//! Everything static is prepared once at startup and costs no hub call. A setting that is
//! a Python callable (`conda_envs`, `KubeSpawner.profile_list`) is evaluated per request
//! through [`PythonEvaluator`], with the caller's user model from one `GET /users/{name}`
//! (service token, so it carries `auth_state`); any failure gives an empty list and one
//! warning, as in jhub-apps.

use std::path::PathBuf;
use std::time::Duration;

use japps_domain::frameworks::FrameworkPolicy;
use japps_domain::profiles;
use japps_domain::theme::Theme;
use japps_hub::{HubClient, User};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::application::python::{Callable, EvalError, PythonEvaluator};
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

/// A list setting: known at startup, or a callable evaluated per request.
#[derive(Debug)]
enum Source<T> {
    Static(T),
    Callable,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    policy: FrameworkPolicy,
    frameworks: Vec<FrameworkView>,
    conda_envs: Source<Vec<String>>,
    profiles: Source<Vec<Map<String, Value>>>,
    evaluator: PythonEvaluator,
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
            policy,
            frameworks,
            conda_envs,
            profiles,
            evaluator: PythonEvaluator::new(
                settings.python.clone(),
                PathBuf::from(&config.jupyterhub_config_path),
                CALLABLE_TIMEOUT,
            ),
            config_json: theme.config_json(crate::VERSION),
            theme_json: theme.theme_json(),
            theme_css: theme.css(),
        }
    }

    /// Which frameworks apps may use (the same rule for listing, creating and editing).
    #[allow(dead_code, reason = "creating and editing apps check it")]
    pub(crate) fn framework_policy(&self) -> &FrameworkPolicy {
        &self.policy
    }

    /// `GET frameworks/`: no hub call.
    pub(crate) fn frameworks(&self) -> &[FrameworkView] {
        &self.frameworks
    }

    /// `GET conda-environments/`: no hub call for a list; one for a callable.
    pub(crate) async fn conda_environments(&self, hub: &HubClient, caller: &User) -> Vec<String> {
        match &self.conda_envs {
            Source::Static(envs) => envs.clone(),
            Source::Callable => self
                .evaluate(hub, caller, Callable::CondaEnvs, string_list)
                .await
                .unwrap_or_default(),
        }
    }

    /// `GET spawner-profiles/`: no hub call for a list; one for a callable.
    pub(crate) async fn spawner_profiles(
        &self,
        hub: &HubClient,
        caller: &User,
    ) -> Vec<Map<String, Value>> {
        match &self.profiles {
            Source::Static(profiles) => profiles.clone(),
            Source::Callable => self
                .evaluate(hub, caller, Callable::ProfileList, |value| {
                    profiles::profile_list(value).map_err(|err| err.to_string())
                })
                .await
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

    /// Evaluates a callable for the caller and checks the answer's shape; `None` (after
    /// one warning) on any failure.
    async fn evaluate<T>(
        &self,
        hub: &HubClient,
        caller: &User,
        setting: Callable,
        shape: impl FnOnce(Value) -> Result<T, String>,
    ) -> Option<T> {
        let failure = match self.try_evaluate(hub, caller, setting).await {
            Ok(value) => match shape(value) {
                Ok(checked) => return Some(checked),
                Err(reason) => format!("unusable answer: {reason}"),
            },
            Err(reason) => reason,
        };
        tracing::warn!(
            setting = setting.name(),
            user = %caller.name,
            error = %failure,
            "a callable setting failed; answering with an empty list"
        );
        None
    }

    async fn try_evaluate(
        &self,
        hub: &HubClient,
        caller: &User,
        setting: Callable,
    ) -> Result<Value, String> {
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
        self.evaluator
            .evaluate(setting, &model)
            .await
            .map_err(|err: EvalError| err.to_string())
    }
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
        assert!(catalog.framework_policy().allows("panel"));
        assert!(!catalog.framework_policy().allows("jupyterlab"));
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
        catalog.evaluator =
            PythonEvaluator::new(python, PathBuf::from("/hub/jupyterhub_config.py"), timeout);

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

    #[test]
    fn answers_must_have_the_right_shape() {
        assert_eq!(string_list(json!(["a", "b"])).unwrap(), ["a", "b"]);
        assert!(string_list(json!("a")).is_err());
        assert!(string_list(json!(["a", 1])).is_err());
        assert!(string_list(json!({"a": 1})).is_err());
    }
}
