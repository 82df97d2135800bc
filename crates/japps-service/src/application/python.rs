//! Settings that are Python callables in the hub configuration (`c.JAppsConfig.conda_envs`,
//! `c.KubeSpawner.profile_list`), evaluated by the plugin's helper in the hub's Python:
//! `<python> -m japps.evaluate <setting> --config <jupyterhub_config.py>`, with the user
//! model as JSON on stdin and the value as JSON on stdout.
//!
//! The helper runs with a timeout, a bounded output, and at most a few at a time. Its
//! output and its stderr are never logged whole: they may hold the user model (and with it
//! `auth_state`); only the helper's one-line summary of a failure is kept.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::Semaphore;

/// Largest answer accepted from the helper.
pub(crate) const MAX_OUTPUT_BYTES: u64 = 1 << 20;
/// stderr kept to explain a failure.
const MAX_STDERR_BYTES: u64 = 64 << 10;
/// Evaluations running at once; more wait (within their timeout).
const MAX_CONCURRENT: usize = 8;
/// Variables of the service that the helper must not see.
const HIDDEN_ENV: [&str; 1] = ["JHUB_APP_JWT_SECRET_KEY"];
/// How the helper's summary line of a failure starts.
const SUMMARY_PREFIX: &str = "japps.evaluate:";

/// A callable setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Callable {
    CondaEnvs,
    ProfileList,
}

impl Callable {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::CondaEnvs => "conda_envs",
            Self::ProfileList => "profile_list",
        }
    }
}

/// Why an evaluation gave no value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EvalError {
    #[error("cannot run {python}: {source}")]
    Spawn {
        python: String,
        source: std::io::Error,
    },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the helper failed ({status}): {summary}")]
    Failed { status: String, summary: String },
    #[error("the answer is larger than {MAX_OUTPUT_BYTES} bytes")]
    TooLarge,
    #[error("the answer is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("reading the helper's output failed: {0}")]
    Io(std::io::Error),
}

/// Runs the helper.
#[derive(Debug)]
pub(crate) struct PythonEvaluator {
    python: String,
    config_path: PathBuf,
    timeout: Duration,
    slots: Semaphore,
}

impl PythonEvaluator {
    pub(crate) fn new(python: String, config_path: PathBuf, timeout: Duration) -> Self {
        Self {
            python,
            config_path,
            timeout,
            slots: Semaphore::new(MAX_CONCURRENT),
        }
    }

    /// The value of `setting` for the user whose model is `user`, as JSON.
    pub(crate) async fn evaluate(
        &self,
        setting: Callable,
        user: &Value,
    ) -> Result<Value, EvalError> {
        let input = serde_json::to_vec(user).map_err(EvalError::NotJson)?;
        match tokio::time::timeout(self.timeout, self.run(setting, &input)).await {
            Ok(result) => result,
            // Dropping `run` drops the child, which kills it (`kill_on_drop`).
            Err(_) => Err(EvalError::Timeout(self.timeout)),
        }
    }

    /// The helper's command line and environment.
    fn command(&self, setting: Callable) -> Command {
        let mut command = Command::new(&self.python);
        command
            .args(["-m", "japps.evaluate", setting.name(), "--config"])
            .arg(&self.config_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for name in HIDDEN_ENV {
            command.env_remove(name);
        }
        command
    }

    async fn run(&self, setting: Callable, input: &[u8]) -> Result<Value, EvalError> {
        let _slot = self.slots.acquire().await.ok();
        let mut child = self
            .command(setting)
            .spawn()
            .map_err(|source| EvalError::Spawn {
                python: self.python.clone(),
                source,
            })?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(EvalError::Io(std::io::Error::other(
                "no pipes to the helper",
            )));
        };
        let write = async move {
            // A helper that exits without reading its input is not an error here; its exit
            // status tells what went wrong.
            let _ = stdin.write_all(input).await;
            drop(stdin);
        };
        let collect = async move {
            let output = read_capped(stdout, MAX_OUTPUT_BYTES).await;
            if output
                .as_ref()
                .is_ok_and(|bytes| bytes.len() as u64 > MAX_OUTPUT_BYTES)
            {
                // Stop it now: it may be blocked writing the rest.
                let _ = child.kill().await;
                return (output, None);
            }
            let status = child.wait().await;
            (output, Some(status))
        };
        let (_, (stdout, status), stderr) =
            tokio::join!(write, collect, read_capped(stderr, MAX_STDERR_BYTES));
        let stdout = stdout.map_err(EvalError::Io)?;
        let Some(status) = status else {
            return Err(EvalError::TooLarge);
        };
        let status = status.map_err(EvalError::Io)?;
        if !status.success() {
            return Err(EvalError::Failed {
                status: status.to_string(),
                summary: summary(&stderr.unwrap_or_default()),
            });
        }
        serde_json::from_slice(&stdout).map_err(EvalError::NotJson)
    }
}

/// Reads up to `cap + 1` bytes, so that a longer stream can be told apart.
async fn read_capped(reader: impl AsyncRead + Unpin, cap: u64) -> std::io::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    reader.take(cap + 1).read_to_end(&mut buffer).await?;
    Ok(buffer)
}

/// The helper's own summary line of a failure (it leaves out secrets from `auth_state`),
/// else the last line of stderr, e.g. Python's "No module named japps".
fn summary(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let line = lines
        .clone()
        .rev()
        .find(|line| line.starts_with(SUMMARY_PREFIX))
        .or_else(|| lines.next_back())
        .unwrap_or("no message");
    let line = line.strip_prefix(SUMMARY_PREFIX).unwrap_or(line).trim();
    line.chars().filter(|c| !c.is_control()).take(300).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::os::unix::fs::PermissionsExt;

    use serde_json::json;

    use super::*;

    /// A fake `python`: a shell script that ignores its arguments.
    pub(crate) fn fake_python(dir: &tempfile::TempDir, script: &str) -> String {
        let path = dir.path().join("python");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn evaluator(python: String, timeout: Duration) -> PythonEvaluator {
        PythonEvaluator::new(
            python,
            PathBuf::from("/nonexistent/jupyterhub_config.py"),
            timeout,
        )
    }

    async fn run(script: &str, timeout: Duration) -> Result<Value, EvalError> {
        let dir = tempfile::tempdir().unwrap();
        let evaluator = evaluator(fake_python(&dir, script), timeout);
        evaluate_retrying(&evaluator, Callable::CondaEnvs, &json!({"name": "alice"})).await
    }

    /// Evaluates, retrying while a just-written fake interpreter is "text file busy" (a
    /// child forked by a concurrent test may briefly hold it open for writing).
    pub(crate) async fn evaluate_retrying(
        evaluator: &PythonEvaluator,
        setting: Callable,
        user: &Value,
    ) -> Result<Value, EvalError> {
        for _ in 0..20 {
            match evaluator.evaluate(setting, user).await {
                Err(EvalError::Spawn { source, .. }) if source.raw_os_error() == Some(26) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => return other,
            }
        }
        evaluator.evaluate(setting, user).await
    }

    #[tokio::test]
    async fn answers_and_arguments() {
        let value = run(
            r#"printf '["%s", "%s", "%s", "%s", "%s"]' "$1" "$2" "$3" "$4" "$5""#,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(
            value,
            json!([
                "-m",
                "japps.evaluate",
                "conda_envs",
                "--config",
                "/nonexistent/jupyterhub_config.py"
            ])
        );
    }

    #[tokio::test]
    async fn the_user_model_arrives_on_stdin() {
        let value = run("cat", Duration::from_secs(5)).await.unwrap();
        assert_eq!(value, json!({"name": "alice"}));
    }

    #[test]
    fn the_session_key_is_not_passed_on() {
        let command =
            evaluator("python3".into(), Duration::from_secs(1)).command(Callable::ProfileList);
        let removed: Vec<_> = command
            .as_std()
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_owned())
            .collect();
        assert_eq!(removed, ["JHUB_APP_JWT_SECRET_KEY"]);
    }

    #[tokio::test]
    async fn a_slow_callable_times_out() {
        let started = std::time::Instant::now();
        let err = run("sleep 30", Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(matches!(err, EvalError::Timeout(_)), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn failures_keep_the_summary_only() {
        let err = run(
            "cat >/dev/null; echo 'Traceback: secret-auth-state' >&2; \
             echo 'japps.evaluate: conda_envs raised KeyError: groups' >&2; \
             echo 'trailing noise' >&2; exit 1",
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("conda_envs raised KeyError: groups"),
            "{message}"
        );
        assert!(!message.contains("secret-auth-state"), "{message}");
        assert!(!message.contains("noise"), "{message}");

        let err = run(
            "echo 'No module named japps' >&2; exit 1",
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("No module named japps"), "{err}");
    }

    #[tokio::test]
    async fn bad_output_is_refused() {
        let err = run("echo 'not json'", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, EvalError::NotJson(_)), "{err}");

        let err = run(
            "head -c 2000000 /dev/zero | tr '\\0' ' '",
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, EvalError::TooLarge), "{err}");
    }

    #[tokio::test]
    async fn a_missing_interpreter_is_explained() {
        let err = evaluator("/nonexistent/python3".into(), Duration::from_secs(5))
            .evaluate(Callable::ProfileList, &json!({}))
            .await
            .unwrap_err();
        assert!(matches!(err, EvalError::Spawn { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/python3"));
    }
}
