//! Settings that are Python callables in the hub configuration (`c.JAppsConfig.conda_envs`,
//! `c.KubeSpawner.profile_list`), evaluated by the plugin's helper in the hub's Python:
//! `<python> -m japps.evaluate <setting> --config <jupyterhub_config.py>`, with the user
//! model as JSON on stdin and the value as JSON on stdout.
//!
//! The helper runs with a timeout, a bounded output, and at most a few at a time. Its
//! output and its stderr are never logged whole: they may hold the user model (and with it
//! `auth_state`); only the helper's one-line summary of a failure is kept.
//!
//! Starting Python and loading the hub's config takes far longer than a request should, so
//! values are kept per user in a [`CallableCache`] for `c.JAppsConfig.callable_cache_seconds`.

use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
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

/// The values of one callable setting, per user: evaluated at most once per user per
/// interval (callers arriving while an evaluation runs wait for it rather than start
/// another), and when an evaluation fails, the last good value for that user is served
/// until the next interval, else nothing. A failure is kept for the interval too, so a
/// broken callable costs one evaluation (and one warning) per user per interval.
pub(crate) struct CallableCache<T> {
    setting: Callable,
    /// `None` when the interval is 0: every request evaluates.
    fresh: Option<moka::future::Cache<String, Option<Arc<Vec<T>>>>>,
    /// Apart from `fresh`, so that it outlives the interval.
    last_good: moka::future::Cache<String, Arc<Vec<T>>>,
}

impl<T> std::fmt::Debug for CallableCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallableCache")
            .field("setting", &self.setting)
            .finish_non_exhaustive()
    }
}

/// Users whose values are kept; beyond that the least recently used go first.
const CACHED_USERS: u64 = 10_000;

impl<T: Send + Sync + 'static> CallableCache<T> {
    pub(crate) fn new(setting: Callable, interval: Duration) -> Self {
        let fresh = (!interval.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(CACHED_USERS)
                .time_to_live(interval)
                .build()
        });
        Self {
            setting,
            fresh,
            last_good: moka::future::Cache::builder()
                .max_capacity(CACHED_USERS)
                .build(),
        }
    }

    /// The value for `user` (a cache key naming the caller), from `evaluate` when there is
    /// no value from this interval; `None` when the evaluation fails and no earlier one
    /// succeeded.
    pub(crate) async fn get(
        &self,
        user: &str,
        evaluate: impl Future<Output = Result<Vec<T>, String>>,
    ) -> Option<Arc<Vec<T>>> {
        let outcome = self.refresh(user, evaluate);
        match &self.fresh {
            Some(fresh) => fresh.get_with(user.to_owned(), outcome).await,
            None => outcome.await,
        }
    }

    async fn refresh(
        &self,
        user: &str,
        evaluate: impl Future<Output = Result<Vec<T>, String>>,
    ) -> Option<Arc<Vec<T>>> {
        match evaluate.await {
            Ok(value) => {
                tracing::info!(
                    setting = self.setting.name(),
                    user,
                    items = value.len(),
                    "a callable setting was evaluated"
                );
                let value = Arc::new(value);
                self.last_good
                    .insert(user.to_owned(), Arc::clone(&value))
                    .await;
                Some(value)
            }
            Err(reason) => {
                let last_good = self.last_good.get(user).await;
                tracing::warn!(
                    setting = self.setting.name(),
                    user,
                    error = %reason,
                    "a callable setting failed; answering with {}",
                    if last_good.is_some() {
                        "the last good value"
                    } else {
                        "an empty list"
                    }
                );
                last_good
            }
        }
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

    /// Log lines written while the returned guard lives (on this thread).
    fn capture_logs() -> (
        Arc<std::sync::Mutex<Vec<u8>>>,
        tracing::subscriber::DefaultGuard,
    ) {
        #[derive(Clone)]
        struct Writer(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Writer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = Writer(Arc::clone(&buffer));
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        (buffer, tracing::subscriber::set_default(subscriber))
    }

    fn text(buffer: &std::sync::Mutex<Vec<u8>>) -> String {
        String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
    }

    /// An evaluation that counts itself and answers `answer`.
    async fn counted(
        calls: &std::sync::atomic::AtomicUsize,
        answer: Result<Vec<u32>, &str>,
    ) -> Result<Vec<u32>, String> {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // Long enough for concurrent callers to find the evaluation running.
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer.map_err(str::to_owned)
    }

    #[tokio::test]
    async fn one_evaluation_per_user_per_interval() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (logs, _guard) = capture_logs();
        let cache = CallableCache::new(Callable::CondaEnvs, Duration::from_millis(300));
        let calls = AtomicUsize::new(0);
        // Concurrent and later requests within the interval share one evaluation.
        let (a, b, c) = tokio::join!(
            cache.get("user:alice", counted(&calls, Ok(vec![1, 2]))),
            cache.get("user:alice", counted(&calls, Ok(vec![7]))),
            cache.get("user:alice", counted(&calls, Ok(vec![8]))),
        );
        for answer in [a, b, c] {
            assert_eq!(answer.as_deref(), Some(&vec![1, 2]));
        }
        for _ in 0..5 {
            let later = cache.get("user:alice", counted(&calls, Ok(vec![9]))).await;
            assert_eq!(later.as_deref(), Some(&vec![1, 2]));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another user is evaluated on their own.
        let bob = cache.get("user:bob", counted(&calls, Ok(vec![3]))).await;
        assert_eq!(bob.as_deref(), Some(&vec![3]));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // After the interval: evaluated again.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let again = cache.get("user:alice", counted(&calls, Ok(vec![4]))).await;
        assert_eq!(again.as_deref(), Some(&vec![4]));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let logs = text(&logs);
        assert_eq!(
            logs.matches("a callable setting was evaluated").count(),
            3,
            "{logs}"
        );
        assert!(logs.contains("items=2"), "{logs}");
    }

    #[tokio::test]
    async fn the_last_good_value_is_served_while_a_refresh_fails() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (logs, _guard) = capture_logs();
        let cache = CallableCache::new(Callable::ProfileList, Duration::from_millis(200));
        let calls = AtomicUsize::new(0);
        // A first failure: nothing to serve.
        assert_eq!(
            cache
                .get("user:alice", counted(&calls, Err("KeyError: groups")))
                .await,
            None
        );
        assert!(
            text(&logs).contains(
                "a callable setting failed; answering with an empty list setting=\"profile_list\" user=\"user:alice\" error=KeyError: groups"
            ),
            "{}",
            text(&logs)
        );
        // The failure is kept for the interval too: no evaluation per request.
        assert_eq!(
            cache.get("user:alice", counted(&calls, Ok(vec![1]))).await,
            None
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
        let good = cache.get("user:alice", counted(&calls, Ok(vec![1]))).await;
        assert_eq!(good.as_deref(), Some(&vec![1]));
        tokio::time::sleep(Duration::from_millis(250)).await;
        let served = cache
            .get("user:alice", counted(&calls, Err("hub config broken")))
            .await;
        assert_eq!(served.as_deref(), Some(&vec![1]), "the last good value");
        assert!(
            text(&logs).contains("answering with the last good value"),
            "{}",
            text(&logs)
        );
        assert!(text(&logs).contains("error=hub config broken"));
        // Another user's last good value is not served to bob.
        assert_eq!(
            cache.get("user:bob", counted(&calls, Err("no"))).await,
            None
        );
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn an_interval_of_zero_evaluates_every_time() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cache = CallableCache::new(Callable::CondaEnvs, Duration::ZERO);
        let calls = AtomicUsize::new(0);
        for _ in 0..3 {
            cache.get("user:alice", counted(&calls, Ok(vec![1]))).await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let served = cache.get("user:alice", counted(&calls, Err("down"))).await;
        assert_eq!(
            served.as_deref(),
            Some(&vec![1]),
            "still the last good value"
        );
    }
}
