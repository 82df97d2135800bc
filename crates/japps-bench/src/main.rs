//! `japps-bench`: the read-path benchmark of BENCHMARKS.md.
//!
//! Boots a real JupyterHub with the real plugin and the `japps` binary (like the integration
//! tests), then measures, for one user, hub calls and latency of the launcher's read
//! endpoints, and how `server/` behaves as the hub grows. Prints Markdown tables.
//! Numbers are wall-clock on whatever machine runs it: compare ratios within one run.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use japps_hub::ShareTarget;
use japps_testkit::{HubOptions, HubRelease, TestHub, calls_between};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "japps read-path benchmark against a real JupyterHub")]
struct Args {
    /// JupyterHub release: 5.5 or 6.1.
    #[arg(long, default_value = "6.1")]
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
}

const READ_ENDPOINTS: [&str; 6] = [
    "user",
    "server/",
    "services/",
    "frameworks/",
    "conda-environments/",
    "spawner-profiles/",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let release = match args.hub.as_str() {
        "5.5" => HubRelease::V5_5,
        "6.1" => HubRelease::V6_1,
        other => anyhow::bail!("--hub must be 5.5 or 6.1, not {other}"),
    };
    let japps = std::fs::canonicalize(&args.japps).map_err(|err| {
        anyhow::anyhow!(
            "{}: {err} (run cargo build --release first)",
            args.japps.display()
        )
    })?;
    let hub = TestHub::start(release, HubOptions::new(japps)).await;
    println!("# japps read-path benchmark\n");
    println!(
        "JupyterHub {}, japps {}, {} requests per endpoint, one user, sequential.\n",
        release.pip_version(),
        env!("CARGO_PKG_VERSION"),
        args.repeat
    );

    // Two users: `solo` has apps but nothing shared (the pull request's mix), `alice` has
    // 5 apps shared with her by 3 owners.
    hub.create_users(&["solo", "alice", "owner-1", "owner-2", "owner-3"])
        .await;
    for (user, server) in [("solo", "one"), ("solo", "two"), ("alice", "mine")] {
        hub.create_stopped_app(user, server, server, app(server))
            .await;
    }
    for (owner, server) in [
        ("owner-1", "a"),
        ("owner-1", "b"),
        ("owner-2", "c"),
        ("owner-2", "d"),
        ("owner-3", "e"),
    ] {
        hub.create_stopped_app(owner, server, server, app(server))
            .await;
        hub.share(owner, server, ShareTarget::User("alice".into()))
            .await;
    }
    hub.service_hub_calls().await;

    for (user, title) in [
        (
            "solo",
            "nothing shared with the user (the pull request's mix)",
        ),
        ("alice", "5 apps shared with the user by 3 owners"),
    ] {
        let token = hub.user_token(user).await;
        println!("## Read endpoints: {title}\n");
        read_endpoints_table(&hub, &token, args.repeat).await;
    }

    println!("## `server/` as the hub grows (user `alice`, 5 apps shared by 3 owners)\n");
    println!("| users on the hub | hub calls / request | mean ms | median ms | p95 ms |");
    println!("|---:|---:|---:|---:|---:|");
    let token = hub.user_token("alice").await;
    let mut created = 5;
    for &target in &args.users {
        grow_hub(&hub, &mut created, target).await;
        let (times, calls) = measure(&hub, "server/", &token, args.repeat).await;
        let total: u64 = calls.values().sum();
        let stats = Stats::of(&times);
        println!(
            "| {created} | {:.2} | {:.1} | {:.1} | {:.1} |",
            total as f64 / args.repeat as f64,
            stats.mean,
            stats.median,
            stats.p95
        );
    }
    println!();
    Ok(())
}

fn app(title: &str) -> serde_json::Value {
    json!({"jhub_app": true, "display_name": title, "description": "benchmark app",
           "framework": "panel", "filepath": "", "public": false, "keep_alive": false})
}

async fn read_endpoints_table(hub: &TestHub, token: &str, repeat: usize) {
    println!(
        "| endpoint | hub calls | calls / request | mean ms | median ms | p95 ms | calls by pattern |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    let mut all_calls = 0u64;
    for endpoint in READ_ENDPOINTS {
        let (times, calls) = measure(hub, endpoint, token, repeat).await;
        let total: u64 = calls.values().sum();
        all_calls += total;
        let stats = Stats::of(&times);
        let patterns: Vec<String> = calls
            .iter()
            .map(|(call, n)| format!("`{call}` {n}"))
            .collect();
        println!(
            "| `{endpoint}` | {total} | {:.2} | {:.1} | {:.1} | {:.1} | {} |",
            total as f64 / repeat as f64,
            stats.mean,
            stats.median,
            stats.p95,
            if patterns.is_empty() {
                "–".to_owned()
            } else {
                patterns.join(", ")
            }
        );
    }
    let requests = READ_ENDPOINTS.len() * repeat;
    println!(
        "\n**{all_calls} hub calls for {requests} service requests: {:.2} per request.**\n",
        all_calls as f64 / requests as f64
    );
}

/// Sequential requests to one endpoint: each latency, and the hub calls they made.
async fn measure(
    hub: &TestHub,
    endpoint: &str,
    token: &str,
    repeat: usize,
) -> (Vec<Duration>, BTreeMap<String, u64>) {
    let client = reqwest::Client::new();
    let url = hub.service_url(endpoint);
    let before = hub.service_hub_calls().await;
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let started = Instant::now();
        let response = client
            .get(&url)
            .header("Authorization", format!("token {token}"))
            .send()
            .await
            .expect("request");
        let status = response.status();
        let _ = response.bytes().await;
        times.push(started.elapsed());
        assert!(status.is_success(), "GET {endpoint}: {status}");
    }
    let after = hub.service_hub_calls().await;
    (times, calls_between(&before, &after))
}

/// Adds users (in bulk requests of 500) until the hub has `target`.
async fn grow_hub(hub: &TestHub, created: &mut usize, target: usize) {
    while *created < target {
        let batch = (target - *created).min(500);
        let names: Vec<String> = (*created..*created + batch)
            .map(|i| format!("filler-{i:05}"))
            .collect();
        hub.create_users(&names.iter().map(String::as_str).collect::<Vec<_>>())
            .await;
        *created += batch;
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
