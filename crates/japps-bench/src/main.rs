//! `japps-bench`: the benchmarks of BENCHMARKS.md.
//!
//! Without a subcommand, the read-path benchmark (below). `japps-bench proxy` is the launcher
//! proxy benchmark ([`proxy_bench`]); `japps-bench upstream` is the app it proxies to
//! ([`upstream`], hidden); `japps-bench home` is the home-page browser benchmark
//! ([`home_bench`]).
//!
//! Boots a real JupyterHub with the real plugin and the `japps` binary (like the integration
//! tests) and, unless `--no-jhub-apps`, a second real JupyterHub running the original
//! jhub-apps (PyPI), both in this one process on this one machine. Both hubs get the same
//! users, apps and shares. Then, alternating between the two launchers, it measures hub calls
//! and latency of the launcher's read endpoints for one user, and how `server/` behaves as the
//! hub grows. Prints Markdown tables.
//!
//! Hub calls are counted by each hub itself (its Prometheus page `/hub/metrics`), the same
//! way for both launchers; japps' own count (its `/metrics`) is cross-checked against it.
//! Latency is wall-clock through the hub's proxy: compare ratios within one run.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use futures::future::join_all;
use japps_hub::ShareTarget;
use japps_testkit::{
    HubOptions, HubRelease, JHUB_APPS_COOKIE, JHUB_APPS_VERSION, JhubAppsOptions, TestHub,
    calls_between,
};
use serde_json::{Value, json};

mod home_bench;
mod proxy_bench;
mod upstream;

#[derive(Debug, Parser)]
#[command(
    about = "japps benchmarks: without a subcommand, the read-path benchmark against a real \
             JupyterHub, side by side with jhub-apps",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    read_path: Args,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The launcher proxy benchmark: one app directly, through `japps launch` and through
    /// jhsingle-native-proxy, side by side (BENCHMARKS.md, "Launcher proxy").
    Proxy(proxy_bench::ProxyArgs),
    /// The home-page browser benchmark: time until all app cards are visible in a real
    /// headless Chromium, japps' home against jhub-apps' `/hub/home` (BENCHMARKS.md, "Home
    /// page in a browser").
    Home(home_bench::HomeArgs),
    /// The app the proxy benchmark measures (started by it).
    #[command(hide = true)]
    Upstream {
        #[arg(long)]
        port: u16,
        /// Size of `/large`, MiB.
        #[arg(long, default_value_t = 10)]
        large_mib: usize,
        /// Exit after this many seconds.
        #[arg(long, default_value_t = 1200)]
        exit_after: u64,
    },
}

/// The read-path benchmark's options.
#[derive(Debug, clap::Args)]
struct Args {
    /// JupyterHub release for japps: 5.5 or 6.1. jhub-apps always runs on the JupyterHub of
    /// its virtualenv (5.5.4: it shares apps only on 5.x).
    #[arg(long, default_value = "5.5")]
    hub: String,
    /// The japps binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/japps")]
    japps: PathBuf,
    /// Requests per endpoint.
    #[arg(long, default_value_t = 21)]
    repeat: usize,
    /// Hub sizes (users) for the `server/` scaling table.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000,5000")]
    users: Vec<usize>,
    /// Measure japps alone, without booting a jhub-apps hub.
    #[arg(long)]
    no_jhub_apps: bool,
    /// The jhub-apps virtualenv (default: the one `scripts/setup-jhub-apps` creates).
    #[arg(long)]
    jhub_apps_venv: Option<PathBuf>,
}

const READ_ENDPOINTS: [&str; 6] = [
    "user",
    "server/",
    "services/",
    "frameworks/",
    "conda-environments/",
    "spawner-profiles/",
];

/// A user whose tokens may read japps' `/metrics` (the `read:metrics` scope). Each batch
/// reads japps' counters with a fresh token of this user, so the identity japps caches for
/// it cannot expire between the two reads around a batch.
const METRICS_USER: &str = "bench-metrics";

/// The users both hubs start with (besides the fillers of the scaling table): `solo` has
/// apps but nothing shared (the pull request's mix); `alice` has 5 apps shared with her by
/// 3 owners.
const USERS: [&str; 6] = [
    "solo",
    "alice",
    "owner-1",
    "owner-2",
    "owner-3",
    METRICS_USER,
];
const OWN_APPS: [(&str, &str); 3] = [("solo", "one"), ("solo", "two"), ("alice", "mine")];
const SHARED_APPS: [(&str, &str); 5] = [
    ("owner-1", "a"),
    ("owner-1", "b"),
    ("owner-2", "c"),
    ("owner-2", "d"),
    ("owner-3", "e"),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => read_path(cli.read_path).await,
        Some(Command::Proxy(args)) => proxy_bench::run(args).await,
        Some(Command::Home(args)) => home_bench::run(args).await,
        Some(Command::Upstream {
            port,
            large_mib,
            exit_after,
        }) => upstream::serve(port, large_mib, Duration::from_secs(exit_after)).await,
    }
}

async fn read_path(args: Args) -> anyhow::Result<()> {
    let release = match args.hub.as_str() {
        "5.5" => HubRelease::V5_5,
        "6.1" => HubRelease::V6_1,
        other => anyhow::bail!("--hub must be 5.5 or 6.1, not {other}"),
    };
    anyhow::ensure!(args.repeat > 0, "--repeat must be at least 1");
    let japps = std::fs::canonicalize(&args.japps).map_err(|err| {
        anyhow::anyhow!(
            "{}: {err} (run cargo build --release first)",
            args.japps.display()
        )
    })?;

    let japps_options = HubOptions::new(japps).extra_config(&format!(
        "c.JupyterHub.load_roles.append({{'name': 'bench-metrics', 'users': ['{METRICS_USER}'], \
         'scopes': ['read:metrics']}})"
    ));
    let sides = if args.no_jhub_apps {
        vec![Side::japps(TestHub::start(release, japps_options).await)]
    } else {
        let mut options = JhubAppsOptions::new();
        if let Some(venv) = &args.jhub_apps_venv {
            options = options.venv(venv);
        }
        // One after the other: on 2 cores, jhub-apps' service may otherwise miss the
        // 10 seconds JupyterHub gives it to come up.
        let japps_hub = TestHub::start(release, japps_options).await;
        let jhub_apps_hub = TestHub::start_jhub_apps(options).await;
        vec![Side::japps(japps_hub), Side::jhub_apps(jhub_apps_hub)]
    };
    join_all(sides.iter().map(|side| set_up(&side.hub))).await;

    println!("# Read-path benchmark\n");
    for side in &sides {
        println!(
            "- **{}** {}, on JupyterHub {}{}",
            side.name,
            side.version,
            side.hub.hub_version().await,
            if side.hub.is_jhub_apps() {
                " (its own hub, same users, apps and shares)"
            } else {
                ""
            }
        );
    }
    println!(
        "- {} sequential requests per endpoint and launcher, through the hub's proxy; the \
         launchers take turns endpoint by endpoint. Hub calls are counted by each hub \
         (`jupyterhub_request_duration_seconds_count` on `/hub/metrics`, REST API handlers \
         only).",
        args.repeat
    );
    let versions: BTreeSet<String> = join_all(sides.iter().map(|side| side.hub.hub_version()))
        .await
        .into_iter()
        .collect();
    if versions.len() > 1 {
        println!(
            "- The hubs run different JupyterHub releases: latency and calls are not strictly \
             comparable (jhub-apps shares apps only on JupyterHub 5)."
        );
    }
    println!("- Machine: {}.\n", machine());

    let mut warnings = Vec::new();
    for (user, title) in [
        (
            "solo",
            "nothing shared with the user (the pull request's mix)",
        ),
        ("alice", "5 apps shared with the user by 3 owners"),
    ] {
        println!("## Read endpoints: {title}\n");
        let mut results: Vec<Vec<Batch>> = sides.iter().map(|_| Vec::new()).collect();
        // A fresh login per table: the first request resolves the identity.
        let logins = join_all(sides.iter().map(|side| side.login(user))).await;
        for endpoint in READ_ENDPOINTS {
            for (i, side) in sides.iter().enumerate() {
                let batch = side.measure(endpoint, &logins[i], args.repeat).await;
                warnings.extend(batch.warnings.iter().cloned());
                results[i].push(batch);
            }
        }
        check_same_servers(&sides, &results, &mut warnings);
        print_read_tables(&sides, &results, args.repeat);
        flush_warnings(&mut warnings);
    }

    println!(
        "## `server/` as the hub grows (user `alice`, 5 apps shared by 3 owners, steady state)\n"
    );
    print_scaling_header(&sides);
    let mut created = USERS.len();
    for &target in &args.users {
        join_all(
            sides
                .iter()
                .map(|side| grow_hub(&side.hub, created, target)),
        )
        .await;
        created = created.max(target);
        let mut row = Vec::new();
        for side in &sides {
            let login = side.login("alice").await;
            // One request first, so the identity is cached: the table shows the steady state.
            side.get("server/", &login).await;
            let batch = side.measure("server/", &login, args.repeat).await;
            warnings.extend(batch.warnings.iter().cloned());
            row.push(batch);
        }
        print_scaling_row(created, &row, args.repeat);
    }
    println!();
    flush_warnings(&mut warnings);
    println!("Machine at the end: {}.", machine());
    Ok(())
}

/// CPU count and load average: other work on the machine shows in the latencies.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| {
            let fields: Vec<&str> = text.split_whitespace().take(3).collect();
            (fields.len() == 3).then(|| fields.join(" / "))
        })
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{cpus} CPUs, load average {load} (1 / 5 / 15 min)")
}

/// One launcher under test: its hub, and how to act as a user on it.
struct Side {
    name: &'static str,
    version: String,
    hub: TestHub,
    client: reqwest::Client,
}

/// How a user's requests authenticate: japps takes the hub token itself; jhub-apps takes
/// the `jhub_apps_access_token` cookie its OAuth callback sets (a JWT around the token).
enum Login {
    Token(String),
    Cookie(String),
}

/// What a batch of requests to one endpoint cost.
struct Batch {
    times: Vec<Duration>,
    /// Hub calls as the hub counted them, by call.
    calls: BTreeMap<String, u64>,
    /// The last response body.
    body: Value,
    warnings: Vec<String>,
}

impl Batch {
    fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }
}

impl Side {
    fn japps(hub: TestHub) -> Self {
        Self {
            name: "japps",
            version: env!("CARGO_PKG_VERSION").to_owned(),
            hub,
            client: reqwest::Client::new(),
        }
    }

    fn jhub_apps(hub: TestHub) -> Self {
        Self {
            name: "jhub-apps",
            version: JHUB_APPS_VERSION.to_owned(),
            hub,
            client: reqwest::Client::new(),
        }
    }

    /// A new hub token for the user (minted with the harness's admin token, outside any
    /// measurement), in the form this launcher's browser flow ends with.
    async fn login(&self, user: &str) -> Login {
        let token = self.hub.user_token(user).await;
        if self.hub.is_jhub_apps() {
            Login::Cookie(self.hub.jhub_apps_access_token(&token))
        } else {
            Login::Token(token)
        }
    }

    /// One request; panics unless it succeeds. Returns the body.
    async fn get(&self, endpoint: &str, login: &Login) -> Value {
        let request = self.client.get(self.hub.service_url(endpoint));
        let request = match login {
            Login::Token(token) => request.header("Authorization", format!("token {token}")),
            Login::Cookie(jwt) => request.header("Cookie", format!("{JHUB_APPS_COOKIE}={jwt}")),
        };
        let response = request.send().await.expect("request");
        let status = response.status();
        let body = response.bytes().await.expect("response body");
        assert!(
            status.is_success(),
            "{} GET {endpoint}: {status} {}",
            self.name,
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    }

    /// `repeat` sequential requests to one endpoint: each latency, and the hub calls they
    /// made, counted by the hub. For japps, the service's own count must agree.
    async fn measure(&self, endpoint: &str, login: &Login, repeat: usize) -> Batch {
        // japps' counters are read with a fresh token: its first read costs the service one
        // `GET /user`, counted in that read and before the hub's first snapshot.
        let metrics_token = if self.hub.is_jhub_apps() {
            None
        } else {
            Some(self.hub.user_token(METRICS_USER).await)
        };
        let service_before = match &metrics_token {
            Some(token) => Some(self.hub.service_hub_calls_with(token).await),
            None => None,
        };
        let hub_before = self.hub.hub_api_calls().await;
        let mut times = Vec::with_capacity(repeat);
        let mut body = Value::Null;
        for _ in 0..repeat {
            let started = Instant::now();
            body = self.get(endpoint, login).await;
            times.push(started.elapsed());
        }
        let hub_after = self.hub.hub_api_calls().await;
        let calls = calls_between(&hub_before, &hub_after);
        let mut warnings = Vec::new();
        if let (Some(token), Some(before)) = (&metrics_token, &service_before) {
            let service = calls_between(before, &self.hub.service_hub_calls_with(token).await);
            if service != calls {
                warnings.push(format!(
                    "{} `{endpoint}`: japps counted {} but the hub answered {}",
                    self.name,
                    describe(&service),
                    describe(&calls)
                ));
            }
        }
        let errors: Vec<&String> = calls
            .keys()
            .filter(|call| {
                call.rsplit_once(' ')
                    .is_some_and(|(_, code)| code.parse::<u16>().is_ok())
            })
            .collect();
        if !errors.is_empty() {
            warnings.push(format!(
                "{} `{endpoint}`: hub answered with errors: {errors:?}",
                self.name
            ));
        }
        Batch {
            times,
            calls,
            body,
            warnings,
        }
    }
}

fn describe(calls: &BTreeMap<String, u64>) -> String {
    if calls.is_empty() {
        return "no calls".to_owned();
    }
    calls
        .iter()
        .map(|(call, n)| format!("`{call}` {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The same users, apps (stopped named servers with jhub-apps-style user_options) and
/// shares on a hub.
async fn set_up(hub: &TestHub) {
    let existing: BTreeSet<String> = hub
        .admin_client()
        .as_service()
        .list_users()
        .await
        .expect("list users")
        .into_iter()
        .map(|user| user.name)
        .collect();
    let missing: Vec<&str> = USERS
        .into_iter()
        .filter(|user| !existing.contains(*user))
        .collect();
    if !missing.is_empty() {
        hub.create_users(&missing).await;
    }
    for (user, server) in OWN_APPS {
        hub.create_stopped_app(user, server, server, app(server))
            .await;
    }
    for (owner, server) in SHARED_APPS {
        hub.create_stopped_app(owner, server, server, app(server))
            .await;
        hub.share(owner, server, ShareTarget::User("alice".into()))
            .await;
    }
}

/// The user_options jhub-apps' create-app form stores (`UserOptions`), for an app without
/// thumbnail, environment or repository.
fn app(name: &str) -> Value {
    json!({
        "name": name,
        "jhub_app": true,
        "display_name": name,
        "description": "benchmark app",
        "thumbnail": "",
        "filepath": "",
        "framework": "panel",
        "custom_command": "",
        "public": false,
        "keep_alive": false,
        "env": {},
        "repository": null,
        "conda_env": "",
        "profile": "",
        "profile_image": "",
        "share_with": null,
    })
}

/// Adds users (in bulk requests of 500) until the hub has `target`.
async fn grow_hub(hub: &TestHub, created: usize, target: usize) {
    let mut created = created;
    while created < target {
        let batch = (target - created).min(500);
        let names: Vec<String> = (created..created + batch)
            .map(|i| format!("filler-{i:05}"))
            .collect();
        hub.create_users(&names.iter().map(String::as_str).collect::<Vec<_>>())
            .await;
        created += batch;
    }
}

/// The apps a `server/` answer lists: (own app names, shared `owner/name`s).
fn listed_apps(body: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let names = |key: &str, full: bool| -> BTreeSet<String> {
        body[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|server| {
                let field = if full { "full_name" } else { "name" };
                server[field].as_str().map(str::to_owned)
            })
            .collect()
    };
    (names("user_apps", false), names("shared_apps", true))
}

/// Both launchers must list the same apps, or their numbers are not comparable.
fn check_same_servers(sides: &[Side], results: &[Vec<Batch>], warnings: &mut Vec<String>) {
    let Some(index) = READ_ENDPOINTS.iter().position(|e| *e == "server/") else {
        return;
    };
    let listed: Vec<_> = results
        .iter()
        .map(|r| listed_apps(&r[index].body))
        .collect();
    for (side, apps) in sides.iter().zip(&listed).skip(1) {
        if *apps != listed[0] {
            warnings.push(format!(
                "`server/` lists different apps: {} {:?}, {} {:?}",
                sides[0].name, listed[0], side.name, apps
            ));
        }
    }
}

fn flush_warnings(warnings: &mut Vec<String>) {
    for warning in warnings.drain(..) {
        println!("> **warning:** {warning}\n");
    }
}

fn print_read_tables(sides: &[Side], results: &[Vec<Batch>], repeat: usize) {
    let requests = READ_ENDPOINTS.len() * repeat;
    let two = sides.len() == 2;

    // Hub calls per endpoint.
    let mut header = String::from("| endpoint |");
    let mut align = String::from("|---|");
    for side in sides {
        header.push_str(&format!(
            " {0} hub calls | {0} calls / request |",
            side.name
        ));
        align.push_str("---:|---:|");
    }
    println!("Hub calls, counted by the hub:\n\n{header}\n{align}");
    for (e, endpoint) in READ_ENDPOINTS.iter().enumerate() {
        let mut row = format!("| `{endpoint}` |");
        for side_results in results {
            let total = side_results[e].total_calls();
            row.push_str(&format!(" {total} | {:.2} |", per(total, repeat)));
        }
        println!("{row}");
    }
    let totals: Vec<u64> = results
        .iter()
        .map(|r| r.iter().map(Batch::total_calls).sum())
        .collect();
    let mut row = format!("| **all {requests} requests** |");
    for total in &totals {
        row.push_str(&format!(
            " **{total}** | **{:.2}** |",
            per(*total, requests)
        ));
    }
    println!("{row}\n");
    let summary: Vec<String> = sides
        .iter()
        .zip(&totals)
        .map(|(side, total)| {
            format!(
                "{} {total} hub calls for {requests} requests ({:.2} per request)",
                side.name,
                per(*total, requests)
            )
        })
        .collect();
    print!("**{}", summary.join("; "));
    if two {
        print!(
            ": jhub-apps makes {} as many",
            ratio(totals[1] as f64, totals[0] as f64)
        );
    }
    println!(".**\n");

    // Hub calls by call, for the whole mix and per endpoint.
    let mut by_call: Vec<BTreeMap<String, u64>> = Vec::new();
    for side_results in results {
        let mut sum = BTreeMap::new();
        for batch in side_results {
            for (call, n) in &batch.calls {
                *sum.entry(call.clone()).or_insert(0) += n;
            }
        }
        by_call.push(sum);
    }
    let calls: BTreeSet<&String> = by_call.iter().flat_map(BTreeMap::keys).collect();
    let mut header = String::from("| hub call |");
    let mut align = String::from("|---|");
    for side in sides {
        header.push_str(&format!(" {} |", side.name));
        align.push_str("---:|");
    }
    println!("The same calls by kind, all {requests} requests:\n\n{header}\n{align}");
    for call in calls {
        let mut row = format!("| `{call}` |");
        for sum in &by_call {
            row.push_str(&format!(" {} |", sum.get(call).copied().unwrap_or(0)));
        }
        println!("{row}");
    }
    println!();
    let mut header = String::from("| endpoint |");
    let mut align = String::from("|---|");
    for side in sides {
        header.push_str(&format!(" {} calls by kind |", side.name));
        align.push_str("---|");
    }
    println!("And per endpoint:\n\n{header}\n{align}");
    for (e, endpoint) in READ_ENDPOINTS.iter().enumerate() {
        let mut row = format!("| `{endpoint}` |");
        for side_results in results {
            let calls = &side_results[e].calls;
            let text = if calls.is_empty() {
                "–".to_owned()
            } else {
                describe(calls)
            };
            row.push_str(&format!(" {text} |"));
        }
        println!("{row}");
    }
    println!();

    // Latency.
    let mut header = String::from("| endpoint |");
    let mut align = String::from("|---|");
    for stat in ["mean", "median", "p95"] {
        for side in sides {
            header.push_str(&format!(" {} {stat} ms |", side.name));
            align.push_str("---:|");
        }
    }
    if two {
        header.push_str(" median ratio |");
        align.push_str("---:|");
    }
    println!("Latency:\n\n{header}\n{align}");
    let all: Vec<Vec<Duration>> = results
        .iter()
        .map(|r| r.iter().flat_map(|b| b.times.iter().copied()).collect())
        .collect();
    let rows = READ_ENDPOINTS
        .iter()
        .enumerate()
        .map(|(e, endpoint)| {
            (
                format!("`{endpoint}`"),
                results
                    .iter()
                    .map(|r| Stats::of(&r[e].times))
                    .collect::<Vec<_>>(),
            )
        })
        .chain(std::iter::once((
            format!("**all {requests} requests**"),
            all.iter().map(|t| Stats::of(t)).collect(),
        )));
    for (label, stats) in rows {
        let mut row = format!("| {label} |");
        for pick in [|s: &Stats| s.mean, |s: &Stats| s.median, |s: &Stats| s.p95] {
            for s in &stats {
                row.push_str(&format!(" {:.1} |", pick(s)));
            }
        }
        if two {
            row.push_str(&format!(" {} |", ratio(stats[1].median, stats[0].median)));
        }
        println!("{row}");
    }
    println!();
}

fn print_scaling_header(sides: &[Side]) {
    let mut header = String::from("| users on the hub |");
    let mut align = String::from("|---:|");
    for stat in ["hub calls / request", "mean ms", "median ms", "p95 ms"] {
        for side in sides {
            header.push_str(&format!(" {} {stat} |", side.name));
            align.push_str("---:|");
        }
    }
    if sides.len() == 2 {
        header.push_str(" median ratio |");
        align.push_str("---:|");
    }
    header.push_str(" shared apps listed |");
    align.push_str("---:|");
    println!("{header}\n{align}");
}

fn print_scaling_row(users: usize, row: &[Batch], repeat: usize) {
    let stats: Vec<Stats> = row.iter().map(|b| Stats::of(&b.times)).collect();
    let mut line = format!("| {users} |");
    for batch in row {
        line.push_str(&format!(" {:.2} |", per(batch.total_calls(), repeat)));
    }
    for pick in [|s: &Stats| s.mean, |s: &Stats| s.median, |s: &Stats| s.p95] {
        for s in &stats {
            line.push_str(&format!(" {:.1} |", pick(s)));
        }
    }
    if row.len() == 2 {
        line.push_str(&format!(" {} |", ratio(stats[1].median, stats[0].median)));
    }
    let shared: Vec<String> = row
        .iter()
        .map(|b| listed_apps(&b.body).1.len().to_string())
        .collect();
    line.push_str(&format!(" {} |", shared.join(" / ")));
    println!("{line}");
}

fn per(total: u64, requests: usize) -> f64 {
    total as f64 / requests as f64
}

/// `a / b` as "12.3×".
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.1}×", a / b)
    } else {
        "–".to_owned()
    }
}

struct Stats {
    mean: f64,
    median: f64,
    p95: f64,
}

impl Stats {
    fn of(times: &[Duration]) -> Self {
        let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        Stats {
            mean: ms.iter().sum::<f64>() / ms.len() as f64,
            median: at(0.5),
            p95: at(0.95),
        }
    }
}
