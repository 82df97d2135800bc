//! `japps-bench proxy`: the launcher proxy benchmark of BENCHMARKS.md ("Launcher proxy").
//!
//! One upstream app (this binary's hidden `upstream` subcommand) is measured three ways in
//! the same run, on the same machine: directly, through `japps launch` (a public custom
//! app: no login) and through jhsingle-native-proxy (`--authtype=none`, the proxy jhub-apps
//! used before jhub-app-proxy). Each proxy starts its own copy of the upstream as its app,
//! the way it does on a hub, and serves it under the same prefix, stripped before the app
//! sees the path; the direct path gets a copy started by the benchmark.
//!
//! Measured per path, taking turns path by path within each phase, for `--rounds` rounds:
//! sequential small-response latency, small-response throughput at `--concurrency`, large
//! response throughput (one connection, sequential downloads), and WebSocket round trips
//! (small and 64 KiB messages, one connection). The HTTP client keeps connections alive,
//! like a browser. Also the proxy process's own CPU time per request and per MiB
//! (`/proc/{pid}/stat`) and its resident memory at the end. Prints Markdown: absolute
//! numbers and ratios to the direct path; on a shared machine only the ratios travel.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::json;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::machine;
use crate::upstream::SMALL_BODY;

/// The server's public prefix on both proxies (a named server `app` of user `bench`).
const PREFIX: &str = "/user/bench/app/";
/// Each request's limit: a wedged proxy fails the run instead of hanging it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a proxy and its app get to come up.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Upstreams exit by themselves after this, whatever happens to the benchmark.
const UPSTREAM_LIFETIME: Duration = Duration::from_secs(1200);
/// The big WebSocket message.
const WS_BIG: usize = 64 * 1024;
/// Sequential requests (and WebSocket messages) before each measured batch.
const WARM_UP: usize = 50;
/// Linux reports process CPU times in USER_HZ ticks, 100 per second.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, clap::Args)]
pub(crate) struct ProxyArgs {
    /// The japps binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/japps")]
    japps: PathBuf,
    /// The jhsingle-native-proxy virtualenv (default: the one `scripts/bench-proxy`
    /// creates, `.cache/venvs/jhsingle-native-proxy`).
    #[arg(long)]
    jhsingle_venv: Option<PathBuf>,
    /// Measure direct and japps only.
    #[arg(long)]
    no_jhsingle: bool,
    /// Rounds; in each, every phase measures every path in turn.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Sequential small requests per path and round (latency).
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// Concurrent clients for the small-response throughput.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of small-response throughput per path and round.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Size of the large response, MiB.
    #[arg(long, default_value_t = 10)]
    large_mib: usize,
    /// Seconds of large downloads per path and round (at least 3 downloads).
    #[arg(long, default_value_t = 2.0)]
    large_seconds: f64,
    /// Small WebSocket round trips per path and round (a tenth as many of 64 KiB).
    #[arg(long, default_value_t = 1000)]
    ws_messages: usize,
    /// Also write the Markdown to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

/// A process group the benchmark started (a proxy and its app, or the direct upstream);
/// killed when dropped, whatever happened.
struct Spawned {
    child: Child,
    pid: u32,
    log: PathBuf,
    stopped: bool,
}

impl Spawned {
    fn start(mut command: Command, log: PathBuf) -> anyhow::Result<Self> {
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0)
            .kill_on_drop(true);
        let child = command.spawn()?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow::anyhow!("the process exited at once"))?;
        Ok(Self {
            child,
            pid,
            log,
            stopped: false,
        })
    }

    /// SIGTERM to the leader (a launcher stops its app itself), then to the whole group,
    /// then SIGKILL.
    async fn stop(&mut self) {
        let group = Pid::from_raw(i32::try_from(self.pid).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(group, Signal::SIGTERM);
        if tokio::time::timeout(Duration::from_secs(12), self.child.wait())
            .await
            .is_err()
        {
            let _ = killpg(group, Signal::SIGTERM);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait().await;
        self.stopped = true;
    }

    /// How the process ended, if it has.
    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(err) => Some(format!("unknown ({err})")),
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if !self.stopped {
            let group = Pid::from_raw(i32::try_from(self.pid).unwrap_or(i32::MAX));
            let _ = killpg(group, Signal::SIGKILL);
        }
    }
}

/// One way to reach the upstream app.
struct Route {
    name: &'static str,
    /// What it is, for the report.
    version: String,
    /// `http://127.0.0.1:{port}{prefix}`: `small`, `large`, `ws` are appended.
    base: String,
    ws_base: String,
    /// The process whose CPU time and memory are reported: the proxy (not its app), or
    /// for the direct path the app.
    cpu_pid: u32,
    process: Spawned,
    results: Results,
    /// How its process ended during the measurements, with the end of its output.
    exit: Option<String>,
}

#[derive(Default)]
struct Results {
    small: Vec<Duration>,
    throughput_ok: u64,
    throughput_time: Duration,
    throughput_cpu_ticks: u64,
    large: Vec<Duration>,
    large_bytes: u64,
    large_cpu_ticks: u64,
    ws_small: Vec<Duration>,
    ws_big: Vec<Duration>,
    rss_kib: Option<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Results {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }
}

pub(crate) async fn run(args: ProxyArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.rounds > 0 && args.requests > 0 && args.concurrency > 0 && args.ws_messages > 0,
        "--rounds, --requests, --concurrency and --ws-messages must be at least 1"
    );
    let japps = std::fs::canonicalize(&args.japps).map_err(|err| {
        anyhow::anyhow!(
            "{}: {err} (run cargo build --release first)",
            args.japps.display()
        )
    })?;
    let me = std::env::current_exe()?;
    let scratch = tempdir()?;
    let large_len = (args.large_mib * 1024 * 1024) as u64;
    let upstream_args = |port: &str| -> Vec<String> {
        vec![
            me.display().to_string(),
            "upstream".into(),
            "--port".into(),
            port.into(),
            "--large-mib".into(),
            args.large_mib.to_string(),
            "--exit-after".into(),
            UPSTREAM_LIFETIME.as_secs().to_string(),
        ]
    };

    let machine_before = machine();
    let mut paths = Vec::new();

    // Direct.
    let port = free_port()?;
    let words = upstream_args(&port.to_string());
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]);
    let process = Spawned::start(command, scratch.join("direct.log"))?;
    let base = format!("http://127.0.0.1:{port}/");
    wait_ready(&format!("{base}small"), &process).await?;
    paths.push(Route {
        name: "direct",
        version: "the app itself (`japps-bench upstream`, a hyper server)".into(),
        ws_base: base.replacen("http:", "ws:", 1),
        base,
        cpu_pid: process.pid,
        process,
        results: Results::default(),
        exit: None,
    });

    // japps launch.
    let port = free_port()?;
    let custom_command = shlex::try_join(upstream_args("{port}").iter().map(String::as_str))?;
    let app = json!({
        "framework": "custom",
        "public": true,
        "custom_command": custom_command,
        "display_name": "bench",
    });
    let mut command = Command::new(&japps);
    command
        .args(["launch", "--activity-interval=0"])
        .envs(hub_env(port))
        .env("JAPPS_APP", app.to_string())
        .env("RUST_LOG", "info");
    let process = Spawned::start(command, scratch.join("japps.log"))?;
    let base = format!("http://127.0.0.1:{port}{PREFIX}");
    wait_japps_ready(&base, &process).await?;
    let version = version_of(&japps, &["--version"]).await;
    paths.push(Route {
        name: "japps launch",
        version,
        ws_base: base.replacen("http:", "ws:", 1),
        base,
        cpu_pid: process.pid,
        process,
        results: Results::default(),
        exit: None,
    });

    // jhsingle-native-proxy.
    let mut notes = Vec::new();
    if args.no_jhsingle {
        notes.push("jhsingle-native-proxy was not measured (`--no-jhsingle`).".to_owned());
    } else {
        let venv = args
            .jhsingle_venv
            .clone()
            .unwrap_or_else(|| PathBuf::from(".cache/venvs/jhsingle-native-proxy"));
        match start_jhsingle(&venv, &upstream_args("{port}"), &scratch).await {
            Ok(path) => paths.push(path),
            Err(err) => {
                eprintln!("jhsingle-native-proxy could not be measured: {err:#}");
                notes.push(format!(
                    "jhsingle-native-proxy could not be measured: {}",
                    format!("{err:#}").replace('\n', " ")
                ));
            }
        }
    }

    let client_for = |pool: usize| -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(pool)
            .timeout(REQUEST_TIMEOUT)
            .build()?)
    };
    // One client per path and phase: each its own keep-alive connections.
    let latency_clients: Vec<reqwest::Client> = (0..paths.len())
        .map(|_| client_for(1))
        .collect::<Result<_, _>>()?;
    let throughput_clients: Vec<reqwest::Client> = (0..paths.len())
        .map(|_| client_for(args.concurrency))
        .collect::<Result<_, _>>()?;
    let large_clients: Vec<reqwest::Client> = (0..paths.len())
        .map(|_| client_for(1))
        .collect::<Result<_, _>>()?;
    let seconds = Duration::from_secs_f64(args.seconds);
    let large_seconds = Duration::from_secs_f64(args.large_seconds);
    let started = Instant::now();

    for round in 0..args.rounds {
        // Paths take turns; who goes first moves every round.
        let order: Vec<usize> = (0..paths.len())
            .map(|i| (i + round) % paths.len())
            .collect();
        eprintln!("round {} of {}", round + 1, args.rounds);
        for &i in &order {
            let path = &mut paths[i];
            let url = format!("{}small", path.base);
            let client = &latency_clients[i];
            for _ in 0..WARM_UP {
                small_request(client, &url, &mut path.results).await;
            }
            for _ in 0..args.requests {
                let started = Instant::now();
                if small_request(client, &url, &mut path.results).await {
                    path.results.small.push(started.elapsed());
                }
            }
        }
        check_alive(&mut paths, "sequential small requests", round);
        for &i in &order {
            let path = &mut paths[i];
            let url = format!("{}small", path.base);
            let client = &throughput_clients[i];
            // Warm-up: opens the connections.
            throughput(
                client,
                &url,
                args.concurrency,
                Duration::from_millis(500),
                &mut Results::default(),
            )
            .await;
            let cpu = cpu_ticks(path.cpu_pid);
            let (ok, elapsed) =
                throughput(client, &url, args.concurrency, seconds, &mut path.results).await;
            path.results.throughput_ok += ok;
            path.results.throughput_time += elapsed;
            if let (Some(before), Some(after)) = (cpu, cpu_ticks(path.cpu_pid)) {
                path.results.throughput_cpu_ticks += after.saturating_sub(before);
            }
        }
        check_alive(&mut paths, "throughput", round);
        for &i in &order {
            let path = &mut paths[i];
            let url = format!("{}large", path.base);
            let client = &large_clients[i];
            download(client, &url, large_len, &mut path.results).await;
            let cpu = cpu_ticks(path.cpu_pid);
            let started = Instant::now();
            let mut downloads = 0;
            while downloads < 3 || started.elapsed() < large_seconds {
                let one = Instant::now();
                if download(client, &url, large_len, &mut path.results).await {
                    path.results.large.push(one.elapsed());
                    path.results.large_bytes += large_len;
                }
                downloads += 1;
            }
            if let (Some(before), Some(after)) = (cpu, cpu_ticks(path.cpu_pid)) {
                path.results.large_cpu_ticks += after.saturating_sub(before);
            }
        }
        check_alive(&mut paths, "large response", round);
        for &i in &order {
            let path = &mut paths[i];
            let url = format!("{}ws", path.ws_base);
            if let Err(err) = websocket(&url, args.ws_messages, &mut path.results).await {
                path.results
                    .error(format!("WebSocket {url}: {}", format!("{err:#}").trim()));
            }
        }
        check_alive(&mut paths, "WebSocket", round);
    }
    let measured = started.elapsed();
    for path in &mut paths {
        path.results.rss_kib = rss_kib(path.cpu_pid);
    }

    let markdown = report(&paths, &args, &machine_before, &notes, measured);
    println!("{markdown}");
    if let Some(file) = &args.markdown {
        std::fs::write(file, &markdown)?;
    }
    for path in &mut paths {
        path.process.stop().await;
    }
    if paths
        .iter()
        .any(|path| path.exit.is_some() || path.results.errors > 0)
    {
        eprintln!("the processes' output is kept in {}", scratch.display());
    } else {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    Ok(())
}

/// Notes a proxy (or the direct app) that has exited, once, with the end of its output.
fn check_alive(paths: &mut [Route], phase: &str, round: usize) {
    for path in paths {
        if path.exit.is_none()
            && let Some(status) = path.process.exited()
        {
            let exit = format!(
                "exited ({status}) during the {phase} phase of round {}; its output ended \
                 with:\n\n```\n{}\n```",
                round + 1,
                path.process.log_tail()
            );
            eprintln!("{}: {exit}", path.name);
            path.exit = Some(exit);
        }
    }
}

/// The environment JupyterHub gives a named server `app` of user `bench` listening on
/// `port`, with a hub that is never called (activity reports are off, the app is public).
fn hub_env(port: u16) -> Vec<(&'static str, String)> {
    vec![
        (
            "JUPYTERHUB_SERVICE_URL",
            format!("http://127.0.0.1:{port}{PREFIX}"),
        ),
        ("JUPYTERHUB_SERVICE_PREFIX", PREFIX.into()),
        ("JUPYTERHUB_API_URL", "http://127.0.0.1:9/hub/api".into()),
        ("JUPYTERHUB_API_TOKEN", "x".into()),
        ("JUPYTERHUB_CLIENT_ID", "jupyterhub-user-bench-app".into()),
        ("JUPYTERHUB_USER", "bench".into()),
        ("JUPYTERHUB_SERVER_NAME", "app".into()),
        ("JUPYTERHUB_BASE_URL", "/".into()),
        (
            "JUPYTERHUB_OAUTH_CALLBACK_URL",
            format!("{PREFIX}oauth_callback"),
        ),
    ]
}

/// jhsingle-native-proxy as jhub-apps ran it (`--destport=0`, default logging, its own
/// readiness check), without login (`--authtype=none`) and without activity reports.
async fn start_jhsingle(venv: &Path, upstream: &[String], scratch: &Path) -> anyhow::Result<Route> {
    let program = venv.join("bin/jhsingle-native-proxy");
    anyhow::ensure!(
        program.exists(),
        "{} does not exist: run scripts/bench-proxy (it creates the virtualenv) or pass --no-jhsingle",
        program.display()
    );
    let python = venv.join("bin/python");
    let version = version_of(
        &python,
        &[
            "-c",
            "import importlib.metadata as m, sys; print('jhsingle-native-proxy', \
             m.version('jhsingle-native-proxy') + ', tornado', m.version('tornado') + ', aiohttp', \
             m.version('aiohttp') + ', Python', sys.version.split()[0])",
        ],
    )
    .await;
    let port = free_port()?;
    let mut command = Command::new(&program);
    command
        .args([
            "--authtype=none".to_owned(),
            format!("--port={port}"),
            "--ip=127.0.0.1".to_owned(),
            "--destport=0".to_owned(),
            "--ready-check-path=/".to_owned(),
            "--last-activity-interval=0".to_owned(),
            "--".to_owned(),
        ])
        .args(upstream)
        .envs(hub_env(port))
        // Its output is a pipe in a spawner too; Python buffers it either way.
        .env("PYTHONUNBUFFERED", "1");
    let process = Spawned::start(command, scratch.join("jhsingle.log"))?;
    let base = format!("http://127.0.0.1:{port}{PREFIX}");
    // It starts the app at the first request and answers that request once it is ready.
    wait_ready(&format!("{base}small"), &process).await?;
    Ok(Route {
        name: "jhsingle-native-proxy",
        version,
        ws_base: base.replacen("http:", "ws:", 1),
        base,
        cpu_pid: process.pid,
        process,
        results: Results::default(),
        exit: None,
    })
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("japps-bench-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn version_of(program: &Path, args: &[&str]) -> String {
    match Command::new(program).args(args).output().await {
        Ok(output) => String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        Err(err) => format!("unknown ({err})"),
    }
}

/// Polls `url` until it answers 200 with the small body.
async fn wait_ready(url: &str, process: &Spawned) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(READY_TIMEOUT)
        .build()?;
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
            && response
                .bytes()
                .await
                .is_ok_and(|b| b[..] == SMALL_BODY[..])
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "{url} did not answer within {} s; its output:\n{}",
        READY_TIMEOUT.as_secs(),
        process.log_tail()
    )
}

/// Polls `{prefix}_japps/api/status` until the launcher says the app is ready.
async fn wait_japps_ready(base: &str, process: &Spawned) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let url = format!("{base}_japps/api/status");
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(response) = client.get(&url).send().await
            && let Ok(status) = response.json::<serde_json::Value>().await
        {
            match status["phase"].as_str() {
                Some("ready") => return Ok(()),
                Some("failed") => anyhow::bail!(
                    "japps launch failed: {status}; its output:\n{}",
                    process.log_tail()
                ),
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "japps launch was not ready within {} s; its output:\n{}",
        READY_TIMEOUT.as_secs(),
        process.log_tail()
    )
}

/// One `GET …/small`; true when it answered 200 with the whole body.
async fn small_request(client: &reqwest::Client, url: &str, results: &mut Results) -> bool {
    match client.get(url).send().await {
        Ok(response) => {
            let status = response.status();
            match response.bytes().await {
                Ok(body) if status.is_success() && body[..] == SMALL_BODY[..] => true,
                Ok(body) => {
                    results.error(format!("GET {url}: {status}, {} bytes", body.len()));
                    false
                }
                Err(err) => {
                    results.error(format!("GET {url}: {}", chain(&err)));
                    false
                }
            }
        }
        Err(err) => {
            results.error(format!("GET {url}: {}", chain(&err)));
            false
        }
    }
}

/// `concurrency` clients requesting `url` back to back for `duration`: the successful
/// requests and the time until the last one finished.
async fn throughput(
    client: &reqwest::Client,
    url: &str,
    concurrency: usize,
    duration: Duration,
    results: &mut Results,
) -> (u64, Duration) {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let url = url.to_owned();
            tokio::spawn(async move {
                let mut mine = Results::default();
                let mut ok = 0u64;
                while Instant::now() < deadline {
                    if small_request(&client, &url, &mut mine).await {
                        ok += 1;
                    }
                }
                (ok, mine)
            })
        })
        .collect();
    let mut ok = 0;
    for task in futures::future::join_all(tasks).await {
        match task {
            Ok((n, mine)) => {
                ok += n;
                results.errors += mine.errors;
                if results.first_error.is_none() {
                    results.first_error = mine.first_error;
                }
            }
            Err(err) => results.error(format!("throughput task: {err}")),
        }
    }
    (ok, started.elapsed())
}

/// One `GET …/large`, read as it streams in without keeping it; true when all of it came.
async fn download(
    client: &reqwest::Client,
    url: &str,
    expected: u64,
    results: &mut Results,
) -> bool {
    let mut response = match client.get(url).send().await {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => {
            results.error(format!("GET {url}: {}", response.status()));
            return false;
        }
        Err(err) => {
            results.error(format!("GET {url}: {}", chain(&err)));
            return false;
        }
    };
    let mut received = 0u64;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len() as u64,
            Ok(None) => break,
            Err(err) => {
                results.error(format!("GET {url}: {}", chain(&err)));
                return false;
            }
        }
    }
    if received != expected {
        results.error(format!("GET {url}: {received} bytes of {expected}"));
        return false;
    }
    true
}

/// One connection: warm-up, `messages` small round trips, a tenth as many 64 KiB ones.
async fn websocket(url: &str, messages: usize, results: &mut Results) -> anyhow::Result<()> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true).await?;
    let small = "websocket round trip, 32 bytes!!";
    let big: Vec<u8> = (0..WS_BIG).map(|i| (i % 251) as u8).collect();
    for i in 0..WARM_UP + messages {
        let started = Instant::now();
        ws.send(Message::text(small)).await?;
        match ws.next().await {
            Some(Ok(Message::Text(text))) if text.as_str() == small => {}
            other => anyhow::bail!("unexpected answer to a text message: {other:?}"),
        }
        if i >= WARM_UP {
            results.ws_small.push(started.elapsed());
        }
    }
    for _ in 0..messages.div_ceil(10) {
        let started = Instant::now();
        ws.send(Message::binary(big.clone())).await?;
        match ws.next().await {
            Some(Ok(Message::Binary(data))) if data[..] == big[..] => {}
            Some(Ok(other)) => anyhow::bail!(
                "unexpected answer to a 64 KiB message: {} bytes",
                other.len()
            ),
            other => anyhow::bail!("unexpected answer to a 64 KiB message: {other:?}"),
        }
        results.ws_big.push(started.elapsed());
    }
    let _ = ws.close(None).await;
    Ok(())
}

/// An error and its causes on one line (reqwest's own message does not say what failed).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

/// User + system CPU ticks of a process (all its threads), from `/proc/{pid}/stat`.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) in parentheses:
    // state is field 3; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Sorted microseconds of a sample.
struct Dist {
    us: Vec<f64>,
}

impl Dist {
    fn of(times: &[Duration]) -> Self {
        let mut us: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        Self { us }
    }

    fn at(&self, q: f64) -> Option<f64> {
        if self.us.is_empty() {
            return None;
        }
        Some(self.us[((self.us.len() - 1) as f64 * q).round() as usize])
    }

    fn mean(&self) -> Option<f64> {
        (!self.us.is_empty()).then(|| self.us.iter().sum::<f64>() / self.us.len() as f64)
    }
}

/// Whether a bigger number is better, for the reader.
#[derive(Clone, Copy)]
enum Better {
    Lower,
    Higher,
}

struct Row {
    label: String,
    better: Better,
    /// Decimals shown.
    digits: usize,
    values: Vec<Option<f64>>,
}

fn report(
    paths: &[Route],
    args: &ProxyArgs,
    machine_before: &str,
    notes: &[String],
    measured: Duration,
) -> String {
    let mut rows = Vec::new();
    let mut push = |label: String, better, digits, f: &dyn Fn(&Results) -> Option<f64>| {
        rows.push(Row {
            label,
            better,
            digits,
            values: paths.iter().map(|p| f(&p.results)).collect(),
        });
    };
    let n_small = args.rounds * args.requests;
    push(
        format!("small response (100 B), sequential: median µs ({n_small} requests)"),
        Better::Lower,
        0,
        &|r| Dist::of(&r.small).at(0.5),
    );
    push("small response: mean µs".into(), Better::Lower, 0, &|r| {
        Dist::of(&r.small).mean()
    });
    push("small response: p95 µs".into(), Better::Lower, 0, &|r| {
        Dist::of(&r.small).at(0.95)
    });
    push("small response: p99 µs".into(), Better::Lower, 0, &|r| {
        Dist::of(&r.small).at(0.99)
    });
    push(
        format!(
            "small responses per second, {} concurrent clients",
            args.concurrency
        ),
        Better::Higher,
        0,
        &|r| {
            (r.throughput_time > Duration::ZERO)
                .then(|| r.throughput_ok as f64 / r.throughput_time.as_secs_f64())
        },
    );
    push(
        format!(
            "large response ({} MiB), one connection: MiB/s",
            args.large_mib
        ),
        Better::Higher,
        0,
        &|r| {
            let time: Duration = r.large.iter().sum();
            (time > Duration::ZERO)
                .then(|| r.large_bytes as f64 / (1024.0 * 1024.0) / time.as_secs_f64())
        },
    );
    push(
        format!("large response: median ms per {} MiB", args.large_mib),
        Better::Lower,
        1,
        &|r| Dist::of(&r.large).at(0.5).map(|us| us / 1000.0),
    );
    let n_ws = args.rounds * args.ws_messages;
    push(
        format!("WebSocket round trip, 32 B text: median µs ({n_ws} round trips)"),
        Better::Lower,
        0,
        &|r| Dist::of(&r.ws_small).at(0.5),
    );
    push(
        "WebSocket round trip, 32 B: p95 µs".into(),
        Better::Lower,
        0,
        &|r| Dist::of(&r.ws_small).at(0.95),
    );
    let n_big = args.rounds * args.ws_messages.div_ceil(10);
    push(
        format!("WebSocket round trip, 64 KiB binary: median µs ({n_big} round trips)"),
        Better::Lower,
        0,
        &|r| Dist::of(&r.ws_big).at(0.5),
    );
    push(
        "WebSocket round trip, 64 KiB: p95 µs".into(),
        Better::Lower,
        0,
        &|r| Dist::of(&r.ws_big).at(0.95),
    );

    let mut out = String::new();
    let _ = writeln!(out, "# Launcher proxy benchmark\n");
    for path in paths {
        let _ = writeln!(out, "- **{}**: {}", path.name, path.version);
    }
    let _ = writeln!(
        out,
        "- Rounds: {}; in each, every phase measures every path in turn (who goes first \
         changes each round): {} sequential small requests after {WARM_UP} unmeasured, \
         {} s of small requests from {} concurrent clients after 0.5 s unmeasured, {} MiB \
         downloads for {} s (at least 3) after one unmeasured, then one WebSocket: \
         {WARM_UP} unmeasured and {} measured 32-byte round trips, {} of 64 KiB. \
         Keep-alive connections throughout. Measuring took {:.0} s.",
        args.rounds,
        args.requests,
        args.seconds,
        args.concurrency,
        args.large_mib,
        args.large_seconds,
        args.ws_messages,
        args.ws_messages.div_ceil(10),
        measured.as_secs_f64()
    );
    let _ = writeln!(out, "- Machine at the start: {machine_before}.");
    let _ = writeln!(out, "- Machine at the end: {}.", machine());
    for note in notes {
        let _ = writeln!(out, "- {note}");
    }
    out.push('\n');

    // The main table: absolute numbers and ratios to the direct path.
    let mut header = String::from("| measure |");
    let mut align = String::from("|---|");
    for path in paths {
        let _ = write!(header, " {} |", path.name);
        align.push_str("---:|");
    }
    for path in &paths[1..] {
        let _ = write!(header, " {} ÷ direct |", path.name);
        align.push_str("---:|");
    }
    // jhsingle-native-proxy against japps, when both ran.
    for path in paths.iter().skip(2) {
        let _ = write!(header, " {} ÷ {} |", path.name, paths[1].name);
        align.push_str("---:|");
    }
    let _ = writeln!(
        out,
        "Each path, absolute and as ratios:\n\n{header}\n{align}"
    );
    for row in &rows {
        let arrow = match row.better {
            Better::Lower => "↓",
            Better::Higher => "↑",
        };
        let _ = write!(out, "| {} {arrow} |", row.label);
        for value in &row.values {
            let _ = write!(out, " {} |", number(*value, row.digits));
        }
        for value in &row.values[1..] {
            let _ = write!(out, " {} |", ratio(*value, row.values[0]));
        }
        for value in row.values.iter().skip(2) {
            let _ = write!(out, " {} |", ratio(*value, row.values[1]));
        }
        out.push('\n');
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "↓: lower is better, ↑: higher is better. A ratio above 1 means more time (↓ rows) \
         or more throughput (↑ rows) than the path it is divided by.\n"
    );

    // Added latency, and what the proxies themselves cost.
    let direct_median = Dist::of(&paths[0].results.small).at(0.5);
    let direct_ws = Dist::of(&paths[0].results.ws_small).at(0.5);
    let mut header = String::from("| path |");
    let mut align = String::from("|---|");
    for column in [
        "added latency, small response (median) µs",
        "added latency, WebSocket 32 B round trip (median) µs",
        "CPU ms per 1000 small responses",
        "CPU ms per 100 MiB of large responses",
        "resident memory MiB (at the end)",
    ] {
        let _ = write!(header, " {column} |");
        align.push_str("---:|");
    }
    let _ = writeln!(
        out,
        "What each proxy adds, and what it costs:\n\n{header}\n{align}"
    );
    for (i, path) in paths.iter().enumerate() {
        let r = &path.results;
        let added = |own: &[Duration], direct: Option<f64>| {
            (i > 0)
                .then(|| Dist::of(own).at(0.5).zip(direct).map(|(p, d)| p - d))
                .flatten()
        };
        let cpu_small = (r.throughput_ok > 0).then(|| {
            r.throughput_cpu_ticks as f64 / TICKS_PER_SECOND * 1000.0 * 1000.0
                / r.throughput_ok as f64
        });
        let cpu_large = (r.large_bytes > 0).then(|| {
            r.large_cpu_ticks as f64 / TICKS_PER_SECOND * 1000.0 * 100.0
                / (r.large_bytes as f64 / (1024.0 * 1024.0))
        });
        let rss = r.rss_kib.map(|kib| kib as f64 / 1024.0);
        let name = if i == 0 {
            format!("{} (the app itself)", path.name)
        } else {
            format!("{} (the proxy alone)", path.name)
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} |",
            number(added(&r.small, direct_median), 0),
            number(added(&r.ws_small, direct_ws), 0),
            number(cpu_small, 0),
            number(cpu_large, 0),
            number(rss, 1)
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "CPU is user + system time of one process, all its threads (`/proc/{{pid}}/stat`, \
         10 ms ticks) during the measured small-response throughput and large-response \
         phases: for a proxy its own process (its app runs in another), for the direct path \
         the app. Memory is that process's resident set after the run.\n"
    );

    for path in paths {
        if let Some(exit) = &path.exit {
            let _ = writeln!(out, "> **warning:** {} {exit}\n", path.name);
        }
        if path.results.errors > 0 {
            let _ = writeln!(
                out,
                "> **warning:** {}: {} failed requests or messages (not counted in the \
                 numbers); the first: {}\n",
                path.name,
                path.results.errors,
                path.results.first_error.as_deref().unwrap_or("?")
            );
        }
    }
    out
}

fn number(value: Option<f64>, digits: usize) -> String {
    match value {
        Some(value) => format!("{value:.digits$}"),
        None => "–".into(),
    }
}

/// `a / b` as "1.23×" (two significant digits at least: "0.014×", "278×").
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => {
            let r = a / b;
            let digits = match r {
                r if r >= 100.0 => 0,
                r if r >= 0.1 => 2,
                r if r >= 0.01 => 3,
                _ => 4,
            };
            format!("{r:.digits$}×")
        }
        _ => "–".into(),
    }
}
