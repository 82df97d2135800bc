//! A real hub that stops, or freezes, under a running japps service: every answer comes
//! within the hub timeout as a clear 502/504 (JSON for scripts, a page for a browser), no
//! app is half-written, and the service recovers by itself when the hub is back. japps runs
//! as an external service here, so it outlives the hub like a service in its own pod.

use std::time::{Duration, Instant};

use japps_testkit::{HubOptions, HubRelease, RoundRobin, TestHub, real_hub_tests};
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::replicas::{Replica, service_env};

real_hub_tests!(hub_down_or_frozen_answers_clearly_and_japps_recovers);

/// The service's hub timeout in this test, in seconds.
const HUB_TIMEOUT: u64 = 3;

struct Answer {
    status: u16,
    content_type: String,
    body: String,
    took: Duration,
}

async fn call(request: reqwest::RequestBuilder) -> Answer {
    let started = Instant::now();
    let response = request
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.text().await.unwrap();
    Answer {
        status,
        content_type,
        body,
        took: started.elapsed(),
    }
}

/// What every call must look like while the hub cannot answer.
fn assert_gateway_error(what: &str, answer: &Answer, token: &str, statuses: &[u16]) {
    assert!(
        statuses.contains(&answer.status),
        "{what}: {} {}",
        answer.status,
        answer.body
    );
    assert!(
        answer.took < Duration::from_secs(HUB_TIMEOUT * 2 + 2),
        "{what} took {:?}",
        answer.took
    );
    assert!(!answer.body.contains(token), "{what} shows the token");
}

fn assert_json_detail(what: &str, answer: &Answer) {
    assert!(
        answer.content_type.starts_with("application/json"),
        "{what}: {}",
        answer.content_type
    );
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}: {}",
        answer.body
    );
}

async fn hub_down_or_frozen_answers_clearly_and_japps_recovers(release: HubRelease) {
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps"))
        .external_service()
        .extra_config("c.JupyterHub.cleanup_servers = False\n");
    let mut hub = TestHub::start(release, options).await;
    hub.create_users(&["alice"]).await;
    hub.create_stopped_app(
        "alice",
        "sales",
        "Sales",
        json!({"framework": "panel", "display_name": "Sales", "jhub_app": true}),
    )
    .await;
    let alice = hub.user_token("alice").await;
    let mut env = service_env(&hub).await;
    env.push(("JAPPS_HUB_TIMEOUT_SECONDS".into(), HUB_TIMEOUT.to_string()));
    let mut replica = Replica::start(&env);
    let base = replica.url("");
    let _front = RoundRobin::start(hub.service_port(), vec![replica.address()]).await;
    replica.wait_until_up().await;
    let client = reqwest::Client::new();
    let list = || {
        client
            .get(format!("{base}server/"))
            .header("Authorization", format!("token {alice}"))
    };
    let home_page = || {
        client
            .get(&base)
            .header("Accept", "text/html")
            .header("Authorization", format!("token {alice}"))
    };
    let create = |title: &str| {
        let data = json!({"servername": "", "user_options": {
            "display_name": title, "description": "", "framework": "panel"}});
        client
            .post(format!("{base}server"))
            .header("Authorization", format!("token {alice}"))
            .multipart(Form::new().text("data", data.to_string()))
    };
    let up = call(list()).await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert!(up.body.contains("\"sales\""));

    for (fault, statuses) in [("stopped", [502_u16, 503]), ("frozen", [504, 504])] {
        if fault == "stopped" {
            hub.stop();
        } else {
            hub.pause();
        }
        // alice's token is known to the service (cached), a new one is not: both must get
        // the gateway's answer, never a 401 that would log a browser out.
        let listed = call(list()).await;
        assert_gateway_error(&format!("{fault}: server/"), &listed, &alice, &statuses);
        assert_json_detail(&format!("{fault}: server/"), &listed);
        let stranger = call(
            client
                .get(format!("{base}server/"))
                .header("Authorization", "token 0123456789abcdef0123456789abcdef"),
        )
        .await;
        assert_gateway_error(
            &format!("{fault}: unknown token"),
            &stranger,
            &alice,
            &statuses,
        );
        let page = call(home_page()).await;
        assert_gateway_error(&format!("{fault}: home page"), &page, &alice, &statuses);
        assert!(
            page.content_type.starts_with("text/html"),
            "{}",
            page.content_type
        );
        assert!(
            page.body.contains("JupyterHub is not answering"),
            "{}",
            page.body
        );
        let created = call(create(&format!("While {fault}"))).await;
        assert_gateway_error(&format!("{fault}: create"), &created, &alice, &statuses);
        assert_json_detail(&format!("{fault}: create"), &created);
        assert!(
            replica.child.try_wait().unwrap().is_none(),
            "japps exited while the hub was {fault}:\n{}",
            replica.log_text()
        );

        if fault == "stopped" {
            hub.restart().await;
        } else {
            hub.resume();
        }
        // Back without restarting japps, and nothing half-written while it was away.
        let mut back = call(list()).await;
        for _ in 0..50 {
            if back.status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            back = call(list()).await;
        }
        assert_eq!(back.status, 200, "after the hub was {fault}: {}", back.body);
        let apps: Value = serde_json::from_str(&back.body).unwrap();
        let names: Vec<&str> = apps["user_apps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|app| app["name"].as_str())
            // The default server's record, which the hub may add on its own.
            .filter(|name| !name.is_empty())
            .collect();
        assert_eq!(names, ["sales"], "after the hub was {fault}");
        let page = call(home_page()).await;
        assert_eq!(page.status, 200, "home page after the hub was {fault}");
    }
}
