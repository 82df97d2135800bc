//! The hub plugin (Python) and the service (Rust) each write down the `c.JAppsConfig`
//! settings and their defaults: `python/japps/config.py` and
//! `crates/japps-domain/src/config.rs`. The plugin hands the service only the values, so
//! a default changed on one side alone would mean different things to the two. Needs the
//! virtualenvs from `scripts/setup-python`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;

use japps_domain::JAppsConfig;
use japps_testkit::{HubRelease, workspace_root};
use serde_json::{Map, Value};

/// Traits only the plugin reads: they shape the hub's spawner and the service's start,
/// and never reach the service's configuration.
const PYTHON_ONLY: [&str; 5] = [
    // Where `japps launch` comes from, set by the spawner.
    "launcher_bin",
    "launcher_image",
    // The plugin reads the file and hands the service the key itself.
    "cookie_secret_file",
    // For the hub only (an external service's address and token): a replica gets them as
    // JUPYTERHUB_SERVICE_URL and JUPYTERHUB_API_TOKEN, never in JAPPS_CONFIG.
    "service_url",
    "service_api_token",
];

/// Fields the plugin fills from other hub settings, not from `c.JAppsConfig` traits.
const RUST_ONLY: [&str; 3] = [
    // Names of the traits set to Python callables.
    "callables",
    // `c.JupyterHub.template_vars`.
    "template_vars",
    // `c.KubeSpawner.profile_list`.
    "profile_list",
];

/// Every trait's default, as the plugin in this checkout has it.
fn python_defaults() -> Map<String, Value> {
    let python = HubRelease::V5_5.venv().join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-python",
        python.display()
    );
    let script = "import json\n\
                  from japps.config import JAppsConfig\n\
                  c = JAppsConfig()\n\
                  print(json.dumps({n: getattr(c, n) for n in c.trait_names(config=True)}))\n";
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        // The venv's editable install may point at another checkout.
        .env("PYTHONPATH", workspace_root().join("python"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn config_defaults_are_the_same_in_python_and_rust() {
    let python = python_defaults();
    let Value::Object(rust) = serde_json::to_value(JAppsConfig::default()).unwrap() else {
        panic!("JAppsConfig serialises to an object");
    };

    let python_names: BTreeSet<&str> = python.keys().map(String::as_str).collect();
    let rust_names: BTreeSet<&str> = rust.keys().map(String::as_str).collect();
    let only_python: BTreeSet<&str> = python_names.difference(&rust_names).copied().collect();
    let only_rust: BTreeSet<&str> = rust_names.difference(&python_names).copied().collect();
    assert_eq!(
        only_python,
        BTreeSet::from(PYTHON_ONLY),
        "traits in config.py without a field in config.rs"
    );
    assert_eq!(
        only_rust,
        BTreeSet::from(RUST_ONLY),
        "fields in config.rs without a trait in config.py"
    );

    let differing: Vec<String> = python_names
        .intersection(&rust_names)
        .filter(|name| python[**name] != rust[**name])
        .map(|name| {
            format!(
                "{name}: config.py {} / config.rs {}",
                python[*name], rust[*name]
            )
        })
        .collect();
    assert!(
        differing.is_empty(),
        "defaults differ:\n{}",
        differing.join("\n")
    );
}
