//! `POST app-config-from-git/` against a real hub: a local repository made in the test is
//! cloned through the hub's proxy with a user's token; host files stay out of reach; local
//! repositories are refused unless the operator allows them; credentials never show.

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use japps_testkit::{HubOptions, HubRelease, TestHub, real_hub_tests};
use serde_json::{Value, json};

real_hub_tests!(
    a_local_repository_gives_the_app_config,
    local_repositories_are_refused_by_default,
);

/// A PNG `width`×`height`, half transparent, made here.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbaImage::from_fn(width, height, |x, _| {
        image::Rgba([20, 120, 200, if x < width / 2 { 255 } else { 0 }])
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn project(variables: &[(&str, &str)]) -> String {
    let mut yaml =
        String::from("name: demo\nenvironments:\n  default: [environment.yml]\nvariables:\n");
    for (name, value) in variables {
        yaml.push_str(&format!(
            "  {name}: {}\n",
            serde_json::to_string(value).unwrap()
        ));
    }
    yaml
}

/// A repository on `main`: a good app in `deploy/`, and one directory per way of reaching
/// a host file through `thumbnail_path`.
fn make_repository() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("japps-test-repo-")
        .tempdir()
        .unwrap();
    let root = dir.path();
    let write = |path: &str, content: &[u8]| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    write("app.py", b"import streamlit as st\nst.write('hello')\n");
    write("img/logo.png", &png(1200, 600));
    write(
        "deploy/conda-project.yml",
        project(&[
            ("JHUB_APP_CONFIG_display_name", "Sales dashboard"),
            ("JHUB_APP_CONFIG_description", "Numbers, daily"),
            ("JHUB_APP_CONFIG_framework", "streamlit"),
            ("JHUB_APP_CONFIG_filepath", "app.py"),
            ("JHUB_APP_CONFIG_keep_alive", "false"),
            ("JHUB_APP_CONFIG_public", "true"),
            ("JHUB_APP_CONFIG_thumbnail_path", "img/logo.png"),
            ("API_URL", "https://example.org/api"),
            ("conda_env", "analytics"),
        ])
        .as_bytes(),
    );
    for (dir, path) in [
        ("relative", "../../etc/passwd"),
        ("absolute", "/etc/passwd"),
        ("symlink", "escape.png"),
    ] {
        write(
            &format!("{dir}/conda-project.yml"),
            project(&[
                ("JHUB_APP_CONFIG_display_name", "Sneaky"),
                ("JHUB_APP_CONFIG_thumbnail_path", path),
            ])
            .as_bytes(),
        );
    }
    std::os::unix::fs::symlink("/etc/passwd", root.join("escape.png")).unwrap();
    write(
        "badframework/conda-project.yml",
        project(&[
            ("JHUB_APP_CONFIG_display_name", "Odd"),
            ("JHUB_APP_CONFIG_framework", "cobol"),
        ])
        .as_bytes(),
    );
    write("notyaml/conda-project.yml", b"variables: [unclosed\n");
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    git(root, &["add", "--all"]);
    git(root, &["commit", "--quiet", "--message", "the app"]);
    dir
}

async fn post(hub: &TestHub, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(hub.service_url("app-config-from-git/"))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.header("Authorization", format!("token {token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| json!({"raw": text}));
    (status, json)
}

async fn fetch(hub: &TestHub, token: &str, request: Value) -> (u16, Value) {
    post(hub, Some(token), &request.to_string()).await
}

fn detail(answer: &(u16, Value)) -> &str {
    answer.1["detail"].as_str().unwrap_or_default()
}

async fn a_local_repository_gives_the_app_config(release: HubRelease) {
    let repo = make_repository();
    let url = format!("file://{}", repo.path().display());
    let options = HubOptions::new(env!("CARGO_BIN_EXE_japps")).japps_config(
        "c.JAppsConfig.allow_local_git_repositories = True\n\
             c.JAppsConfig.git_allow_private_addresses = True\n\
             c.JAppsConfig.git_allowed_hosts = ['127.0.0.1', '*.example.org']\n\
             c.JAppsConfig.git_clone_timeout = 10",
    );
    let hub = TestHub::start(release, options).await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;

    // Login required.
    let answer = post(&hub, None, &json!({"url": url}).to_string()).await;
    assert_eq!(answer.0, 401, "{answer:?}");

    let (status, config) = fetch(
        &hub,
        &token,
        json!({"url": url, "config_directory": "deploy", "ref": "main"}),
    )
    .await;
    assert_eq!(status, 200, "{config}");
    let thumbnail = config["thumbnail"].as_str().unwrap().to_owned();
    let mut shown = config.clone();
    shown["thumbnail"] = json!("<data url>");
    assert_eq!(
        shown,
        json!({
            "display_name": "Sales dashboard",
            "description": "Numbers, daily",
            "thumbnail": "<data url>",
            "filepath": "app.py",
            "framework": "streamlit",
            "custom_command": "",
            "public": true,
            "keep_alive": false,
            "env": {"API_URL": "https://example.org/api", "conda_env": "analytics"},
            "repository": {"url": url, "config_directory": "deploy", "ref": "main"}
        })
    );
    // The repository's image, checked and scaled down like an upload.
    let (header, payload) = thumbnail.split_once(',').unwrap();
    assert_eq!(
        header, "data:image/png;base64",
        "transparent images stay PNG"
    );
    let image = image::load_from_memory(&STANDARD.decode(payload).unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (400, 200));

    // Defaults: config_directory "." and ref "main"; the root has no conda-project.yml.
    let answer = fetch(&hub, &token, json!({"url": url})).await;
    assert_eq!(answer.0, 400, "{answer:?}");
    assert!(
        detail(&answer).starts_with("Invalid conda-project"),
        "{answer:?}"
    );

    // Host files stay out of reach, whichever way thumbnail_path points at them.
    for dir in ["relative", "absolute", "symlink"] {
        let answer = fetch(&hub, &token, json!({"url": url, "config_directory": dir})).await;
        assert_eq!(answer.0, 400, "{dir}: {answer:?}");
        assert!(
            detail(&answer).starts_with("Validation error: thumbnail_path: '")
                && detail(&answer).ends_with("is not a file in the repository"),
            "{dir}: {answer:?}"
        );
        assert!(!answer.1.to_string().contains("root:"), "{answer:?}");
    }

    // jhub-apps' words for a directory that is not there, or not in the repository.
    for dir in ["nope", "../..", "/etc"] {
        let answer = fetch(&hub, &token, json!({"url": url, "config_directory": dir})).await;
        assert_eq!(answer.0, 400, "{dir}: {answer:?}");
        assert_eq!(
            detail(&answer),
            format!("Path '{dir}' doesn't exists in the repository."),
        );
    }

    // A branch that does not exist: the clone fails.
    let answer = fetch(&hub, &token, json!({"url": url, "ref": "no-such-branch"})).await;
    assert_eq!(answer.0, 400, "{answer:?}");
    assert_eq!(detail(&answer), format!("Repository clone failed: {url}"));

    // Invalid definitions.
    let answer = fetch(
        &hub,
        &token,
        json!({"url": url, "config_directory": "badframework"}),
    )
    .await;
    assert_eq!(answer.0, 400, "{answer:?}");
    assert!(
        detail(&answer).starts_with("Validation error: framework: \"cobol\""),
        "{answer:?}"
    );
    let answer = fetch(
        &hub,
        &token,
        json!({"url": url, "config_directory": "notyaml"}),
    )
    .await;
    assert_eq!(answer.0, 400, "{answer:?}");
    assert!(
        detail(&answer).starts_with("Invalid conda-project: conda-project.yml is not valid YAML"),
        "{answer:?}"
    );

    assert!(
        !hub.logs().contains("root:x:0:0"),
        "no host file content in the logs"
    );

    // An allowed URL that cannot be cloned: jhub-apps' words, without the credentials.
    let port = japps_testkit::free_port();
    let answer = fetch(
        &hub,
        &token,
        json!({"url": format!("https://alice:s3cret-pass@127.0.0.1:{port}/repo.git")}),
    )
    .await;
    assert_eq!(answer.0, 400, "{answer:?}");
    assert_eq!(
        detail(&answer),
        format!("Repository clone failed: https://127.0.0.1:{port}/repo.git")
    );
    assert!(
        !hub.logs().contains("s3cret-pass"),
        "credentials in the logs"
    );

    // Only the operator's hosts.
    let answer = fetch(
        &hub,
        &token,
        json!({"url": "https://github.com/org/repo.git"}),
    )
    .await;
    assert_eq!(answer.0, 400, "{answer:?}");
    assert_eq!(
        detail(&answer),
        "Repository URL not allowed: https://github.com/org/repo.git \
         (github.com is not one of the git hosts this service may clone from)"
    );

    // Two clones at once per user: a third waits its turn with 429.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_url = format!(
        "http://127.0.0.1:{}/slow.git",
        silent.local_addr().unwrap().port()
    );
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let slow = || {
        let (url, token) = (hub.service_url("app-config-from-git/"), token.clone());
        let body = json!({"url": slow_url}).to_string();
        async move {
            reqwest::Client::new()
                .post(url)
                .header("Authorization", format!("token {token}"))
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (first, second) = (tokio::spawn(slow()), tokio::spawn(slow()));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let response = reqwest::Client::new()
        .post(hub.service_url("app-config-from-git/"))
        .header("Authorization", format!("token {token}"))
        .header("Content-Type", "application/json")
        .body(json!({"url": slow_url}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("already have 2 repositories being read"),
        "{body}"
    );
    assert_eq!((first.await.unwrap(), second.await.unwrap()), (400, 400));
    hold.abort();
}

async fn local_repositories_are_refused_by_default(release: HubRelease) {
    let repo = make_repository();
    let hub = TestHub::start(release, HubOptions::new(env!("CARGO_BIN_EXE_japps"))).await;
    hub.create_users(&["bob"]).await;
    let token = hub.user_token("bob").await;

    let path = repo.path().display().to_string();
    for url in [
        format!("file://{path}"),
        path.clone(),
        "ssh://git@127.0.0.1/repo.git".to_owned(),
        "git@127.0.0.1:repo.git".to_owned(),
        "ext::sh -c touch% /tmp/japps-pwned".to_owned(),
    ] {
        let answer = fetch(
            &hub,
            &token,
            json!({"url": url, "config_directory": "deploy"}),
        )
        .await;
        assert_eq!(answer.0, 400, "{url}: {answer:?}");
        assert!(
            detail(&answer).starts_with("Repository URL not allowed: "),
            "{url}: {answer:?}"
        );
    }

    // The service's own networks are out of reach, whatever the spelling; credentials
    // are never shown.
    for (url, why) in [
        (
            "https://alice:s3cret-pass@127.0.0.1:9/repo.git",
            "127.0.0.1 is a loopback address",
        ),
        (
            "http://localhost:8081/hub/api",
            "localhost is a loopback address",
        ),
        (
            "http://0x7f000001/repo.git",
            "127.0.0.1 is a loopback address",
        ),
        (
            "http://[::ffff:127.0.0.1]/repo.git",
            "::ffff:127.0.0.1 is a loopback address",
        ),
        ("http://10.0.0.1/repo.git", "10.0.0.1 is a private address"),
        (
            "http://169.254.169.254/latest/meta-data",
            "169.254.169.254 is a link-local address",
        ),
        (
            "http://100.64.0.1/repo.git",
            "100.64.0.1 is a shared (CGNAT) address",
        ),
        (
            "http://[fd00::1]/repo.git",
            "fd00::1 is a unique-local address",
        ),
    ] {
        let answer = fetch(&hub, &token, json!({"url": url})).await;
        assert_eq!(answer.0, 400, "{url}: {answer:?}");
        let text = detail(&answer);
        assert!(
            text.starts_with("Repository URL not allowed: ") && text.ends_with(&format!("({why})")),
            "{url}: {answer:?}"
        );
        assert!(!text.contains("s3cret-pass"), "{answer:?}");
    }
    // git:// cannot be pinned: refused unless the operator opens the private networks.
    let answer = fetch(&hub, &token, json!({"url": "git://example.org/repo.git"})).await;
    assert_eq!(answer.0, 400, "{answer:?}");
    assert!(
        detail(&answer).starts_with("Repository URL not allowed: git://example.org/repo.git"),
        "{answer:?}"
    );

    // Malformed requests.
    for body in ["not json", "{}", r#"{"url": ""}"#, r#"{"url": 5}"#] {
        let answer = post(&hub, Some(&token), body).await;
        assert_eq!(answer.0, 400, "{body}: {answer:?}");
        assert!(!detail(&answer).is_empty(), "{body}: {answer:?}");
    }
}
