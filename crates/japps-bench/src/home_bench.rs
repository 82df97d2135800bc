//! The home-page browser benchmark (BENCHMARKS.md, "Home page in a browser"): the time from
//! navigation start until every app card of the measured user is visible, in a real
//! headless Chromium (Debian's, `scripts/setup-browser`), for japps' home page
//! (`/services/japps/`) and jhub-apps' `/hub/home`, side by side in one run.
//!
//! Both hubs get the read-path benchmark's users, apps and shares ([`crate::set_up`]); the
//! measured user is `alice`: 1 own app and 5 apps shared with her by 3 owners. Each side has
//! its own browser, logged in through the hub's login form and the launcher's OAuth flow
//! once; then the two pages are loaded alternately, warm-up loads first.
//!
//! In each document, a script added before the page's own ones
//! (`Page.addScriptToEvaluateOnNewDocument`) watches the DOM: *cards in DOM* is the first
//! moment (`performance.now()`, navigation start = 0) every expected card is in the DOM with
//! a layout box and not hidden; *cards visible* is the start of the first animation frame
//! after that in which they still are, i.e. the frame that paints them (frames wait for
//! render-blocking styles). Bytes come from the Resource Timing API (navigation and resource
//! entries: `encodedBodySize` as served, `transferSize` for what crossed the network). Hub
//! calls are counted by each hub (`/hub/metrics`) around each side's measured loads.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use japps_testkit::{Chrome, HubOptions, HubRelease, JHUB_APPS_VERSION, JhubAppsOptions, TestHub};
use serde_json::Value;

use crate::{SHARED_APPS, USERS, grow_hub, machine, set_up};

/// The measured user and the apps her home must show (`owner/server`).
const USER: &str = "alice";
const OWN: [(&str, &str); 1] = [("alice", "mine")];

/// How long one load may take until the cards show before the benchmark gives up.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, clap::Args)]
pub(crate) struct HomeArgs {
    /// JupyterHub release for japps: 5.5 or 6.1 (jhub-apps runs on its venv's 5.5.4).
    #[arg(long, default_value = "5.5")]
    hub: String,
    /// The japps binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/japps")]
    japps: PathBuf,
    /// Measured loads per page and hub size (at least 20).
    #[arg(long, default_value_t = 21)]
    loads: usize,
    /// Unmeasured loads per page before each hub size's measured ones.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Hub sizes (users).
    #[arg(long, value_delimiter = ',', default_value = "10,100")]
    users: Vec<usize>,
    /// Measure japps alone.
    #[arg(long)]
    no_jhub_apps: bool,
    /// The jhub-apps virtualenv (default: the one `scripts/setup-jhub-apps` creates).
    #[arg(long)]
    jhub_apps_venv: Option<PathBuf>,
}

/// One launcher's home page in its own browser.
struct Page {
    name: &'static str,
    version: String,
    hub: TestHub,
    chrome: Chrome,
    url: String,
}

/// What one load measured.
struct Load {
    /// ms after navigation start.
    visible: f64,
    in_dom: f64,
    /// Requests (navigation included) started before the cards were visible.
    requests_before: usize,
    /// Bytes by kind (`html`, `css`, `js`, `api`, `image`, `other`): encoded body, transfer.
    bytes: BTreeMap<String, (u64, u64)>,
    /// Each request: kind, path, encoded body, decoded body, transfer, started before the
    /// cards were visible.
    requests: Vec<(&'static str, String, u64, u64, u64, bool)>,
}

/// One page's measured loads at one hub size.
struct Run {
    loads: Vec<Load>,
    hub_calls: BTreeMap<String, u64>,
}

/// The expected cards as CSS selectors, in each launcher's markup.
fn card_selectors(jhub_apps: bool) -> Vec<String> {
    OWN.iter()
        .chain(SHARED_APPS.iter())
        .map(|(owner, server)| {
            if jhub_apps {
                jhub_apps_card(server)
            } else {
                format!("#apps .app-card[data-app=\"{owner}/{server}\"]")
            }
        })
        .collect()
}

/// A rendered app card in jhub-apps' React home: its card component gives the card's body
/// `id="card-content-container-<id>"`, the id being the app's `user_options.name` alone (the
/// benchmark's app names are unique across owners). Service and default-server cards have
/// no such element.
fn jhub_apps_card(server: &str) -> String {
    format!("#card-content-container-{server}")
}

/// The script each document runs first: records `window.__bench.inDom` and
/// `window.__bench.visible` (see the module documentation).
fn watcher(selectors: &[String]) -> String {
    let selectors = serde_json::to_string(selectors).expect("selectors as JSON");
    format!(
        r#"(() => {{
    const want = {selectors};
    const bench = window.__bench = {{ inDom: null, visible: null }};
    const shown = (el) => {{
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && (!el.checkVisibility ||
            el.checkVisibility({{ opacityProperty: true, visibilityProperty: true }}));
    }};
    const all = () => want.every((css) => {{
        const el = document.querySelector(css);
        return el !== null && shown(el);
    }});
    let pending = false;
    const frame = () => {{
        if (bench.visible !== null) return;
        if (all()) {{
            bench.visible = performance.now();
            observer.disconnect();
        }} else {{
            requestAnimationFrame(frame);
        }}
    }};
    const check = () => {{
        if (bench.inDom === null && all()) bench.inDom = performance.now();
        if (bench.inDom !== null && !pending) {{
            pending = true;
            requestAnimationFrame(frame);
        }}
    }};
    const observer = new MutationObserver(check);
    observer.observe(document, {{ childList: true, subtree: true, attributes: true }});
}})();"#
    )
}

/// Reads the marks and the Resource Timing entries of the current document.
const COLLECT: &str = r"(() => {
    const entries = performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'));
    return {
        inDom: window.__bench.inDom,
        visible: window.__bench.visible,
        entries: entries.map((e) => ({
            name: e.name,
            type: e.entryType === 'navigation' ? 'navigation' : e.initiatorType,
            start: e.startTime,
            encoded: e.encodedBodySize || 0,
            decoded: e.decodedBodySize || 0,
            transfer: e.transferSize || 0,
        })),
    };
})()";

/// What a Resource Timing entry is, for the byte columns.
fn kind(entry: &Value) -> &'static str {
    let name = entry["name"].as_str().unwrap_or_default();
    let path = name.split(['?', '#']).next().unwrap_or_default();
    let ext = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match (entry["type"].as_str().unwrap_or_default(), ext) {
        ("navigation", _) => "html",
        (_, "js" | "mjs") => "js",
        (_, "css") => "css",
        ("img" | "image", _) | (_, "png" | "jpg" | "jpeg" | "svg" | "gif" | "webp" | "ico") => {
            "image"
        }
        _ if path.contains("thumbnail") || path.contains("/logo") => "image",
        ("script", _) => "js",
        ("link" | "css", _) => "css",
        ("fetch" | "xmlhttprequest", _) => "api",
        _ => "other",
    }
}

pub(crate) async fn run(args: HomeArgs) -> anyhow::Result<()> {
    let release = match args.hub.as_str() {
        "5.5" => HubRelease::V5_5,
        "6.1" => HubRelease::V6_1,
        other => anyhow::bail!("--hub must be 5.5 or 6.1, not {other}"),
    };
    anyhow::ensure!(
        args.loads >= 20,
        "--loads must be at least 20 (median and p95)"
    );
    let japps = std::fs::canonicalize(&args.japps).map_err(|err| {
        anyhow::anyhow!(
            "{}: {err} (run cargo build --release first)",
            args.japps.display()
        )
    })?;

    // One after the other: on 2 cores, jhub-apps' service may otherwise miss the 10 seconds
    // JupyterHub gives it to come up.
    let mut hubs = vec![(
        "japps",
        TestHub::start(release, HubOptions::new(japps)).await,
    )];
    if !args.no_jhub_apps {
        let mut options = JhubAppsOptions::new();
        if let Some(venv) = &args.jhub_apps_venv {
            options = options.venv(venv);
        }
        hubs.push(("jhub-apps", TestHub::start_jhub_apps(options).await));
    }
    futures::future::join_all(hubs.iter().map(|(_, hub)| set_up(hub))).await;

    let mut pages = Vec::new();
    for (name, hub) in hubs {
        pages.push(Page::open(name, hub).await);
    }

    println!("# Home page in a browser\n");
    for page in &pages {
        println!(
            "- **{}** {}, on JupyterHub {}: `{}`",
            page.name,
            page.version,
            page.hub.hub_version().await,
            page.url.trim_start_matches(&page.hub.public_origin())
        );
    }
    println!(
        "- User `{USER}`: 1 own app and 5 apps shared by 3 owners ({} cards awaited); \
         Chromium {}, headless, {}×{}, one browser per launcher, logged in once; warm cache.",
        OWN.len() + SHARED_APPS.len(),
        chromium_version(),
        japps_testkit::DESKTOP.0,
        japps_testkit::DESKTOP.1,
    );
    println!(
        "- {} warm-up and {} measured loads per page and hub size, the launchers taking \
         turns load by load. Times are `performance.now()` (navigation start = 0).",
        args.warmup, args.loads
    );
    println!("- Machine: {}.\n", machine());

    let mut created = USERS.len();
    let mut rows = Vec::new();
    for &target in &args.users {
        futures::future::join_all(
            pages
                .iter()
                .map(|page| grow_hub(&page.hub, created, target)),
        )
        .await;
        created = created.max(target);
        for _ in 0..args.warmup {
            for page in &pages {
                page.load().await;
            }
        }
        let before = futures::future::join_all(pages.iter().map(|p| p.hub.hub_api_calls())).await;
        let mut loads: Vec<Vec<Load>> = pages.iter().map(|_| Vec::new()).collect();
        for _ in 0..args.loads {
            for (i, page) in pages.iter().enumerate() {
                loads[i].push(page.load().await);
            }
        }
        let after = futures::future::join_all(pages.iter().map(|p| p.hub.hub_api_calls())).await;
        let runs: Vec<Run> = loads
            .into_iter()
            .enumerate()
            .map(|(i, loads)| Run {
                loads,
                hub_calls: japps_testkit::calls_between(&before[i], &after[i]),
            })
            .collect();
        rows.push((created, runs));
    }
    print_tables(&pages, &rows, args.loads);
    println!("Machine at the end: {}.", machine());
    Ok(())
}

impl Page {
    /// Starts a browser, logs `alice` into the hub and through the launcher's OAuth flow,
    /// and installs the watcher.
    async fn open(name: &'static str, hub: TestHub) -> Page {
        let jhub_apps = hub.is_jhub_apps();
        let chrome = Chrome::start().await;
        chrome.login_to_hub(&hub, USER).await;
        // The launcher's own login (its OAuth flow with the hub) happens once, here.
        chrome.goto(&hub.service_url("")).await;
        let url = if jhub_apps {
            hub.url("hub/home")
        } else {
            hub.service_url("")
        };
        chrome
            .add_init_script(&watcher(&card_selectors(jhub_apps)))
            .await;
        Page {
            name,
            version: if jhub_apps {
                JHUB_APPS_VERSION.to_owned()
            } else {
                env!("CARGO_PKG_VERSION").to_owned()
            },
            hub,
            chrome,
            url,
        }
    }

    /// One navigation to the home page, until every card is visible.
    async fn load(&self) -> Load {
        self.chrome.goto(&self.url).await;
        self.chrome
            .wait_until(
                &format!("every app card is visible on {}'s home", self.name),
                "window.__bench && window.__bench.visible !== null",
                LOAD_TIMEOUT,
            )
            .await;
        let marks = self.chrome.eval(COLLECT).await;
        let visible = marks["visible"].as_f64().expect("visible mark");
        let mut bytes: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut requests_before = 0;
        let mut requests = Vec::new();
        let origin = self.hub.public_origin();
        for entry in marks["entries"].as_array().expect("entries") {
            let before = entry["start"].as_f64().unwrap_or(f64::MAX) < visible;
            if before {
                requests_before += 1;
            }
            let name = entry["name"].as_str().unwrap_or_default();
            requests.push((
                kind(entry),
                name.trim_start_matches(&origin).to_owned(),
                entry["encoded"].as_u64().unwrap_or(0),
                entry["decoded"].as_u64().unwrap_or(0),
                entry["transfer"].as_u64().unwrap_or(0),
                before,
            ));
            let slot = bytes.entry(kind(entry).to_owned()).or_default();
            slot.0 += entry["encoded"].as_u64().unwrap_or(0);
            slot.1 += entry["transfer"].as_u64().unwrap_or(0);
        }
        Load {
            visible,
            in_dom: marks["inDom"].as_f64().expect("inDom mark"),
            requests_before,
            bytes,
            requests,
        }
    }
}

fn chromium_version() -> String {
    std::process::Command::new("/usr/bin/chromium")
        .arg("--version")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .and_then(|text| text.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

fn percentiles(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

fn kb_per_load(loads: &[Load], kinds: &[&str], transfer: bool) -> f64 {
    let total: u64 = loads
        .iter()
        .flat_map(|load| kinds.iter().filter_map(|k| load.bytes.get(*k)))
        .map(|(encoded, transferred)| if transfer { *transferred } else { *encoded })
        .sum();
    total as f64 / 1024.0 / loads.len() as f64
}

fn print_tables(pages: &[Page], rows: &[(usize, Vec<Run>)], loads: usize) {
    println!(
        "## Time until all app cards are visible ({loads} loads each; ms after navigation \
         start)\n"
    );
    println!(
        "| users | launcher | visible median | visible p95 | in DOM median | in DOM p95 | \
         requests before visible | hub calls / load | HTML+CSS+JS KB / load (as served) | \
         API KB / load | transferred KB / load (warm, no images) |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let code = ["html", "css", "js"];
    for (users, runs) in rows {
        for (page, run) in pages.iter().zip(runs) {
            let visible: Vec<f64> = run.loads.iter().map(|l| l.visible).collect();
            let in_dom: Vec<f64> = run.loads.iter().map(|l| l.in_dom).collect();
            let (v50, v95) = percentiles(&visible);
            let (d50, d95) = percentiles(&in_dom);
            let requests: Vec<f64> = run.loads.iter().map(|l| l.requests_before as f64).collect();
            let calls: u64 = run.hub_calls.values().sum();
            println!(
                "| {users} | {} | {v50:.1} | {v95:.1} | {d50:.1} | {d95:.1} | {:.0} | {:.2} | \
                 {:.1} | {:.1} | {:.1} |",
                page.name,
                percentiles(&requests).0,
                calls as f64 / run.loads.len() as f64,
                kb_per_load(&run.loads, &code, false),
                kb_per_load(&run.loads, &["api"], false),
                kb_per_load(&run.loads, &["html", "css", "js", "api", "other"], true),
            );
        }
    }
    println!();
    if pages.len() == 2 {
        println!("Ratio jhub-apps / japps (median time until all cards are visible):\n");
        for (users, runs) in rows {
            let median =
                |run: &Run| percentiles(&run.loads.iter().map(|l| l.visible).collect::<Vec<_>>()).0;
            println!(
                "- {users} users: {}",
                crate::ratio(median(&runs[1]), median(&runs[0]))
            );
        }
        println!();
    }
    println!("Hub calls per load, by call, as each hub counted them:\n");
    for (users, runs) in rows {
        for (page, run) in pages.iter().zip(runs) {
            let per: Vec<String> = run
                .hub_calls
                .iter()
                .map(|(call, n)| format!("`{call}` {:.2}", *n as f64 / run.loads.len() as f64))
                .collect();
            println!(
                "- {users} users, {}: {}",
                page.name,
                if per.is_empty() {
                    "none".to_owned()
                } else {
                    per.join(", ")
                }
            );
        }
    }
    println!();
    println!(
        "Requests of the last load at the largest hub size (body bytes as served / decoded; \
         transferred bytes, 0 = from the browser's cache):\n"
    );
    if let Some((_, runs)) = rows.last() {
        for (page, run) in pages.iter().zip(runs) {
            println!("- {}:", page.name);
            for (kind, path, encoded, decoded, transfer, before) in run
                .loads
                .last()
                .map(|l| l.requests.as_slice())
                .unwrap_or_default()
            {
                println!(
                    "  - {kind} `{path}`: {encoded} / {decoded} B, transferred {transfer} B{}",
                    if *before {
                        ""
                    } else {
                        " (after the cards were visible)"
                    }
                );
            }
        }
    }
    println!();
}
