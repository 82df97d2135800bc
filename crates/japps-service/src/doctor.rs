//! `japps doctor` with the japps service's environment (the variables the hub gives it):
//! whether the hub answers and is a supported version, whether the service's token has
//! the scopes japps needs, the OAuth client, the session key and the public URL; then the
//! checks of the hub's configuration file, which the plugin runs
//! (`python -m japps doctor -f <jupyterhub_config_path>`). One line per check — `ok`,
//! `warn` or `FAIL` with what to do — and a failure makes the exit status non-zero.

use std::fmt;
use std::path::Path;
use std::process::Command;

use japps_hub::{HubClient, HubClientConfig, HubError, HubVersion};
use secrecy::ExposeSecret;

use crate::settings::Settings;

/// The oldest JupyterHub japps supports (sharing needs 5.5.1) and the first it does not.
const OLDEST: HubVersion = HubVersion::new(5, 5, 1);
const TOO_NEW: HubVersion = HubVersion::new(7, 0, 0);
/// What the plugin's service role grants, and japps uses.
const SERVICE_SCOPES: [&str; 5] = [
    "list:users",
    "read:users",
    "list:groups",
    "admin:servers",
    "shares",
];
/// The shortest session key accepted (as the plugin requires).
const MIN_KEY_CHARS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub check: &'static str,
    pub message: String,
    pub fix: String,
}

impl Finding {
    fn new(level: Level, check: &'static str, message: impl Into<String>) -> Self {
        Self {
            level,
            check,
            message: message.into(),
            fix: String::new(),
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        write!(f, "{level:<4} {}: {}", self.check, self.message)?;
        if !self.fix.is_empty() {
            write!(f, "\n     → {}", self.fix)?;
        }
        Ok(())
    }
}

/// What the checks found: the report to print, one line per check, and whether any failed.
#[derive(Debug, Default)]
pub struct Report {
    pub text: String,
    pub failed: bool,
}

impl Report {
    fn add(&mut self, finding: Finding) {
        self.failed |= finding.level == Level::Fail;
        self.text.push_str(&format!("{finding}\n"));
    }
}

/// Every check, in order.
pub async fn run(vars: impl IntoIterator<Item = (String, String)>) -> Report {
    let mut report = Report::default();
    let settings = match Settings::from_vars(vars) {
        Ok(settings) => settings,
        Err(err) => {
            report.add(
                Finding::new(Level::Fail, "environment", err.to_string())
                    .fix("run it with the japps service's environment (JUPYTERHUB_API_TOKEN, …)"),
            );
            return report;
        }
    };
    report.add(Finding::new(
        Level::Ok,
        "environment",
        format!("the service's variables, hub API at {}", settings.api_url),
    ));
    for finding in hub_checks(&settings).await {
        report.add(finding);
    }
    report.add(oauth(&settings));
    report.add(session_key(&settings));
    report.add(public_url(&settings));
    let (config_ok, output) = config_checks(&settings);
    report.text.push_str(&output);
    if let Some(finding) = config_ok {
        report.add(finding);
    }
    report
}

async fn hub_checks(settings: &Settings) -> Vec<Finding> {
    let mut config = HubClientConfig::new(settings.api_url.clone(), settings.api_token.clone());
    config.timeout = settings.hub_timeout;
    let hub = match HubClient::new(config) {
        Ok(hub) => hub,
        Err(err) => return vec![Finding::new(Level::Fail, "hub", err.to_string())],
    };
    let mut findings = Vec::new();
    match hub.version().await {
        Ok(version) if version >= OLDEST && version < TOO_NEW => findings.push(Finding::new(
            Level::Ok,
            "hub",
            format!("JupyterHub {version} at {}", settings.api_url),
        )),
        Ok(version) => findings.push(
            Finding::new(
                Level::Fail,
                "hub",
                format!("JupyterHub {version} is not supported"),
            )
            .fix("run JupyterHub 5.5.1 or a newer 5.x, or 6.x"),
        ),
        Err(err) => {
            return vec![
                Finding::new(
                    Level::Fail,
                    "hub",
                    format!("{} does not answer: {err}", settings.api_url),
                )
                .fix("check JUPYTERHUB_API_URL and that the hub runs"),
            ];
        }
    }
    findings.push(match hub.as_service().whoami().await {
        Ok(me) => {
            let missing: Vec<&str> = SERVICE_SCOPES
                .into_iter()
                .filter(|scope| !me.scopes.iter().any(|held| held == scope))
                .collect();
            if missing.is_empty() {
                Finding::new(
                    Level::Ok,
                    "token",
                    format!("{} {} has the scopes japps needs", me.kind, me.name),
                )
            } else {
                Finding::new(
                    Level::Fail,
                    "token",
                    format!("{} {} lacks {}", me.kind, me.name, missing.join(", ")),
                )
                .fix("keep the role install_jhub_apps gives the japps service")
            }
        }
        Err(err) => token_refused(&err),
    });
    findings
}

fn token_refused(err: &HubError) -> Finding {
    let message = match err {
        HubError::Status { status, .. } => {
            format!("the hub refuses JUPYTERHUB_API_TOKEN ({status})")
        }
        other => other.to_string(),
    };
    Finding::new(Level::Fail, "token", message)
        .fix("give the japps service's own token (the hub sets it in the service's environment)")
}

fn oauth(settings: &Settings) -> Finding {
    if settings.client_id.is_empty() || settings.oauth_callback_url.is_empty() {
        return Finding::new(
            Level::Fail,
            "oauth",
            "JUPYTERHUB_CLIENT_ID or JUPYTERHUB_OAUTH_CALLBACK_URL is missing: nobody can log in",
        )
        .fix("run japps as a hub service with oauth (install_jhub_apps sets it up)");
    }
    Finding::new(
        Level::Ok,
        "oauth",
        format!(
            "client {} (callback {}), access with {}",
            settings.client_id,
            settings.oauth_callback_url,
            settings.access_scopes.join(" or ")
        ),
    )
}

fn session_key(settings: &Settings) -> Finding {
    match &settings.session_secret {
        None => Finding::new(
            Level::Warn,
            "session key",
            "JHUB_APP_JWT_SECRET_KEY is not set: sessions end when the service restarts, and \
             replicas cannot read each other's",
        )
        .fix("install_jhub_apps passes a persistent key; an external service needs it set"),
        Some(key) if key.expose_secret().chars().count() < MIN_KEY_CHARS => Finding::new(
            Level::Fail,
            "session key",
            format!("JHUB_APP_JWT_SECRET_KEY is shorter than {MIN_KEY_CHARS} characters"),
        )
        .fix("use a random value, e.g. `openssl rand -hex 32`"),
        Some(_) => Finding::new(
            Level::Ok,
            "session key",
            "set (every replica must get the same value)",
        ),
    }
}

fn public_url(settings: &Settings) -> Finding {
    if settings.hub_env.public_https() {
        Finding::new(
            Level::Ok,
            "public URL",
            "browsers use HTTPS: cookies are Secure",
        )
    } else {
        Finding::new(
            Level::Warn,
            "public URL",
            "the hub does not say browsers use HTTPS (JupyterHub.public_url), so cookies are \
             not marked Secure",
        )
        .fix("set c.JupyterHub.public_url = 'https://…' on the hub")
    }
}

/// The plugin's checks of the hub's configuration file, through the hub's Python:
/// its report, and a finding when they failed or could not run.
fn config_checks(settings: &Settings) -> (Option<Finding>, String) {
    let path = &settings.config.jupyterhub_config_path;
    if !Path::new(path).is_file() {
        return (
            Some(
                Finding::new(
                    Level::Warn,
                    "config",
                    format!(
                        "the hub's configuration file {path} is not here; its checks are skipped"
                    ),
                )
                .fix("on the hub's host: python -m japps doctor -f jupyterhub_config.py"),
            ),
            String::new(),
        );
    }
    let output = Command::new(&settings.python)
        .args(["-m", "japps", "doctor", "-f", path])
        .output();
    match output {
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            let finding = (!output.status.success()).then(|| {
                Finding::new(
                    Level::Fail,
                    "config",
                    format!("the checks of {path} failed (above)"),
                )
            });
            (finding, text)
        }
        Err(err) => (
            Some(
                Finding::new(
                    Level::Warn,
                    "config",
                    format!("{} cannot run the plugin's checks: {err}", settings.python),
                )
                .fix("set JAPPS_PYTHON to the hub's Python"),
            ),
            String::new(),
        ),
    }
}
