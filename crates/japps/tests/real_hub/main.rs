//! Integration tests against a real JupyterHub (5.5 and 6.1) running the real japps plugin
//! and binary. Each test function runs once per release (see `real_hub_tests!`).
//! Needs the virtualenvs from `scripts/setup-python`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app_page;
mod browser;
mod catalog;
mod doctor;
mod faults;
mod form;
mod fuzz;
mod git_config;
mod hub_client;
mod hub_pages;
mod launcher;
mod lifecycle;
mod login;
mod newcomer;
mod openapi;
mod page_headers;
mod policy;
mod read_path;
mod replicas;
mod service;
mod strangers;
mod subdomains;
mod versions;

use japps_testkit::{HubOptions, HubRelease, TestHub};

/// A hub with japps installed the way an operator would, plus `extra` config.
async fn start_hub(release: HubRelease, extra_config: &str) -> TestHub {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps")).extra_config(extra_config);
    TestHub::start(release, options).await
}
