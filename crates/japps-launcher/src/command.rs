//! The command line that runs an app, per framework, and the built-in example apps.
//!
//! Every framework is made to serve under the app's public prefix (`/user/alice/app/`) on
//! 127.0.0.1 only, with no browser and no usage statistics. Bokeh, Panel, Streamlit, Voila
//! and JupyterLab route under the prefix themselves and get the full path; Dash, Gradio and
//! custom commands route at `/`, put the prefix only in the URLs they hand the browser, and
//! get the path with the prefix stripped.

use std::path::{Path, PathBuf};

use crate::LaunchError;
use crate::spec::{AppSpec, Framework};

/// The environment variable that picks the tool activating `conda_env` (`pixi` or conda).
pub const ENV_MANAGER_VAR: &str = "JHUB_APP_ENV_MANAGER";

/// Where the app runs and what it may use; filled in by `japps launch`.
#[derive(Debug, Clone, Copy)]
pub struct CommandContext<'a> {
    /// The port on 127.0.0.1 the app must listen on.
    pub port: u16,
    /// The server's public prefix, e.g. `/user/alice/app/`.
    pub prefix: &'a str,
    /// The app's working directory (the clone, or the server's directory); a relative
    /// `filepath` is relative to it.
    pub workdir: &'a Path,
    /// A private directory the built-in example apps and helper scripts are written to.
    pub examples_dir: &'a Path,
    /// How `conda_env` is activated.
    pub env_manager: EnvManager,
    /// The environment to run the app in, if any (a name, or a path for conda).
    pub conda_env: Option<&'a str>,
}

/// The tool that runs the app inside its environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvManager {
    /// `conda run`.
    #[default]
    Conda,
    /// `pixi run`.
    Pixi,
}

impl EnvManager {
    /// The manager named by a `JHUB_APP_ENV_MANAGER` value: `pixi` (any case) selects
    /// pixi; anything else, or nothing, conda.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some(value) if value.trim().eq_ignore_ascii_case("pixi") => Self::Pixi,
            _ => Self::Conda,
        }
    }

    /// The manager named by `JHUB_APP_ENV_MANAGER` in this process's environment.
    pub fn from_env() -> Self {
        Self::parse(std::env::var(ENV_MANAGER_VAR).ok().as_deref())
    }
}

/// The process to start and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCommand {
    pub program: String,
    pub args: Vec<String>,
    /// Added to the server's environment for the app (overriding it).
    pub env: Vec<(String, String)>,
    /// Requested on `127.0.0.1:{port}` (so already without the prefix when
    /// `strip_prefix`): it answers 200 once the app is up, and nothing listens before.
    pub ready_path: String,
    /// Forward `/user/alice/app/x` to the app as `/x` rather than unchanged.
    pub strip_prefix: bool,
}

/// Builds the command that runs `spec`, writing the built-in example (and, for Dash, the
/// runner script) into `ctx.examples_dir` when needed.
///
/// Fails with [`LaunchError::Config`] when the app file does not exist or the custom
/// command cannot be split.
/// Whether the app of `framework` is served without the server's prefix (known before the
/// app's files exist: the proxy is set up while a repository is still being cloned).
pub fn strips_prefix(framework: Framework) -> bool {
    matches!(
        framework,
        Framework::PlotlyDash | Framework::Gradio | Framework::Custom
    )
}

pub fn build(spec: &AppSpec, ctx: &CommandContext<'_>) -> Result<AppCommand, LaunchError> {
    let prefix = Prefix::new(ctx.prefix);
    let python = spec.python_exec.clone();
    let port = ctx.port.to_string();
    let mut command = match spec.framework {
        Framework::Panel => bokeh_server(spec, ctx, &prefix, true)?,
        Framework::Bokeh => bokeh_server(spec, ctx, &prefix, false)?,
        Framework::Streamlit => {
            let file = app_file(spec, ctx, &STREAMLIT_EXAMPLE)?;
            // Headless: no browser and no first-run e-mail prompt. A fixed address also
            // spares Streamlit's start-up banner a request to the outside for the
            // machine's public IP. Options go before the file: after it, they are the
            // script's own arguments.
            let mut args = strings([
                "-m",
                "streamlit",
                "run",
                &format!("--server.port={port}"),
                "--server.address=127.0.0.1",
                "--server.headless=true",
                "--browser.gatherUsageStats=false",
            ]);
            if !prefix.root.is_empty() {
                args.push(format!("--server.baseUrlPath={}", prefix.root));
            }
            args.push(path_arg(&file));
            AppCommand {
                program: python,
                args,
                env: Vec::new(),
                ready_path: format!("{}_stcore/health", prefix.slash),
                strip_prefix: false,
            }
        }
        Framework::PlotlyDash => {
            let file = app_file(spec, ctx, &DASH_EXAMPLE)?;
            let runner = write_embedded(ctx.examples_dir, &DASH_RUNNER)?;
            // Dash serves its routes at / and prefixes the URLs it hands the browser,
            // as under jhub-apps (apps written for it keep working).
            AppCommand {
                program: python,
                args: vec![path_arg(&runner), path_arg(&file)],
                env: vec![
                    pair("DASH_REQUESTS_PATHNAME_PREFIX", &prefix.slash),
                    pair("HOST", "127.0.0.1"),
                    pair("PORT", &port),
                    // In debug mode Dash's dev tools would ask the outside for newer
                    // versions from every visitor's browser.
                    pair("DASH_DISABLE_VERSION_CHECK", "true"),
                ],
                ready_path: "/_dash-layout".into(),
                strip_prefix: true,
            }
        }
        Framework::Voila => {
            let file = app_file(spec, ctx, &VOILA_EXAMPLE)?;
            AppCommand {
                program: python,
                args: vec![
                    "-m".into(),
                    "voila".into(),
                    path_arg(&file),
                    format!("--port={port}"),
                    "--no-browser".into(),
                    "--Voila.ip=127.0.0.1".into(),
                    format!("--Voila.base_url={}", prefix.slash),
                ],
                env: Vec::new(),
                // Voila's own script (20 KB): it needs the server up but runs no notebook
                // (the page itself would start a kernel per probe).
                ready_path: format!("{}voila/static/voila.js", prefix.slash),
                strip_prefix: false,
            }
        }
        Framework::Gradio => {
            let file = app_file(spec, ctx, &GRADIO_EXAMPLE)?;
            // The arguments are jhub-apps' (apps written for it parse them); the GRADIO_*
            // variables make a plain `launch()` do the right thing without any parsing.
            AppCommand {
                program: python,
                args: vec![
                    path_arg(&file),
                    format!("--server-port={port}"),
                    format!("--root-path={}", prefix.slash),
                ],
                env: vec![
                    pair("GRADIO_SERVER_PORT", &port),
                    pair("GRADIO_SERVER_NAME", "127.0.0.1"),
                    pair("GRADIO_ROOT_PATH", &prefix.root),
                    pair("GRADIO_ANALYTICS_ENABLED", "False"),
                ],
                ready_path: "/config".into(),
                strip_prefix: true,
            }
        }
        Framework::JupyterLab => {
            // The hub's own single-user server, so JupyterLab does its own hub login and
            // keeps the prefix, as under jhub-apps; the launcher points its
            // JUPYTERHUB_SERVICE_URL at this port.
            let mut args = vec![
                "-m".into(),
                "jupyterhub.singleuser".into(),
                "--ServerApp.ip=127.0.0.1".into(),
                format!("--ServerApp.port={port}"),
                format!("--ServerApp.base_url={}", prefix.slash),
                "--ServerApp.open_browser=False".into(),
            ];
            // Jupyter refuses to start as root unless told to. The spawner chose root for
            // this server, and the launcher in front of it already runs as root: refusing
            // would only break the app (the hub's `--allow-root` in Spawner.args never
            // reaches a launched app).
            if running_as_root() {
                args.push("--ServerApp.allow_root=True".into());
            }
            AppCommand {
                program: python,
                args,
                env: Vec::new(),
                // The API's version answers without a login, unlike the pages.
                ready_path: format!("{}api", prefix.slash),
                strip_prefix: false,
            }
        }
        Framework::Custom => custom(spec, ctx, &prefix)?,
    };
    // Python buffers a pipe's output: without this, the app's prints reach the startup
    // page and the logs only in 4 KiB bursts, or never if it crashes.
    command.env.push(pair("PYTHONUNBUFFERED", "1"));
    if let Some(env) = ctx.conda_env {
        command = in_environment(command, ctx.env_manager, env);
    }
    Ok(command)
}

/// The public prefix with (`slash`) and without (`root`) its trailing slash; `root` is
/// empty when the app is at the site's root.
struct Prefix {
    slash: String,
    root: String,
}

impl Prefix {
    fn new(prefix: &str) -> Self {
        let trimmed = prefix.trim_matches('/');
        if trimmed.is_empty() {
            return Self {
                slash: "/".into(),
                root: String::new(),
            };
        }
        Self {
            slash: format!("/{trimmed}/"),
            root: format!("/{trimmed}"),
        }
    }
}

/// Panel and Bokeh share Bokeh's server: apps are served at `{prefix}{file stem}`, and its
/// root redirects there (Panel also serves the app at the root itself, with `--index`).
fn bokeh_server(
    spec: &AppSpec,
    ctx: &CommandContext<'_>,
    prefix: &Prefix,
    panel: bool,
) -> Result<AppCommand, LaunchError> {
    let example = if panel {
        &PANEL_EXAMPLE
    } else {
        &BOKEH_EXAMPLE
    };
    let file = app_file(spec, ctx, example)?;
    let mut args = strings(["-m", if panel { "panel" } else { "bokeh" }, "serve"]);
    args.push(path_arg(&file));
    args.push("--address=127.0.0.1".into());
    args.push(format!("--port={}", ctx.port));
    if !prefix.root.is_empty() {
        args.push(format!("--prefix={}", prefix.root));
    }
    // Protocol (ws or wss) and client address come from the launcher's X-Forwarded-*.
    args.push("--use-xheaders".into());
    let file_name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    if panel {
        args.push(format!("--index={file_name}"));
    }
    // Bokeh names the app after the file without its extension (a directory app keeps
    // its whole name).
    let app_name = if file.is_dir() {
        file_name
    } else {
        file.file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    // Per-app metadata is cheap and served once the app is loaded. Tornado matches routes
    // on the raw path, so a name that would need percent-encoding is never matched (nor
    // opened by a browser); Bokeh's main script is the check then.
    let url_safe = !app_name.is_empty()
        && app_name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
    let ready_path = if url_safe {
        format!("{}{app_name}/metadata", prefix.slash)
    } else {
        format!("{}static/js/bokeh.min.js", prefix.slash)
    };
    Ok(AppCommand {
        program: spec.python_exec.clone(),
        args,
        // Bokeh only accepts WebSocket origins it was told about, and the public host is
        // not known here; the launcher checks the origin itself. An environment variable
        // rather than a `*` argument, which `pixi run`'s shell could expand.
        env: vec![pair("BOKEH_ALLOW_WS_ORIGIN", "*")],
        ready_path,
        strip_prefix: false,
    })
}

/// The user's command, split shell-style, with `{port}` and `{root_path}` (the public
/// prefix without its trailing slash) filled in; it is served the stripped path.
fn custom(
    spec: &AppSpec,
    ctx: &CommandContext<'_>,
    prefix: &Prefix,
) -> Result<AppCommand, LaunchError> {
    let line = spec.custom_command.as_deref().unwrap_or_default();
    let words = shlex::split(line).ok_or_else(|| {
        LaunchError::Config(format!(
            "the custom command has unbalanced quotes or a trailing backslash: {line}"
        ))
    })?;
    let port = ctx.port.to_string();
    let mut words = words.into_iter().map(|word| {
        word.replace("{port}", &port)
            .replace("{root_path}", &prefix.root)
    });
    let program = words
        .next()
        .filter(|program| !program.is_empty())
        .ok_or_else(|| LaunchError::Config("the custom command is empty".into()))?;
    Ok(AppCommand {
        program,
        args: words.collect(),
        env: Vec::new(),
        ready_path: "/".into(),
        strip_prefix: true,
    })
}

/// Runs `command` inside the environment `env` with `manager`.
fn in_environment(command: AppCommand, manager: EnvManager, env: &str) -> AppCommand {
    let mut args = match manager {
        // Conda environment names cannot contain a slash, so one means a prefix path.
        // Without --no-capture-output, conda holds the app's output until it exits.
        EnvManager::Conda => strings([
            "run",
            "--no-capture-output",
            if env.contains('/') { "-p" } else { "-n" },
            env,
        ]),
        // pixi finds the workspace (pixi.toml or pyproject.toml) from the working directory.
        EnvManager::Pixi => strings(["run", "--environment", env]),
    };
    args.push(command.program);
    args.extend(command.args);
    AppCommand {
        program: match manager {
            EnvManager::Conda => "conda",
            EnvManager::Pixi => "pixi",
        }
        .into(),
        args,
        ..command
    }
}

/// A file embedded in the binary and written out before use.
struct Embedded {
    file_name: &'static str,
    contents: &'static str,
}

const PANEL_EXAMPLE: Embedded = Embedded {
    file_name: "panel_app.py",
    contents: include_str!("../examples-apps/panel_app.py"),
};
const BOKEH_EXAMPLE: Embedded = Embedded {
    file_name: "bokeh_app.py",
    contents: include_str!("../examples-apps/bokeh_app.py"),
};
const STREAMLIT_EXAMPLE: Embedded = Embedded {
    file_name: "streamlit_app.py",
    contents: include_str!("../examples-apps/streamlit_app.py"),
};
const DASH_EXAMPLE: Embedded = Embedded {
    file_name: "dash_app.py",
    contents: include_str!("../examples-apps/dash_app.py"),
};
const VOILA_EXAMPLE: Embedded = Embedded {
    file_name: "voila_app.ipynb",
    contents: include_str!("../examples-apps/voila_app.ipynb"),
};
const GRADIO_EXAMPLE: Embedded = Embedded {
    file_name: "gradio_app.py",
    contents: include_str!("../examples-apps/gradio_app.py"),
};
/// Serves a Dash file whether or not it starts the server itself (jhub-apps' convention
/// is a module-level `app`), on the launcher's port.
const DASH_RUNNER: Embedded = Embedded {
    file_name: "japps_dash_runner.py",
    contents: include_str!("../examples-apps/japps_dash_runner.py"),
};

/// The app's file: `filepath` (relative to the working directory), or the built-in
/// example written out.
fn app_file(
    spec: &AppSpec,
    ctx: &CommandContext<'_>,
    example: &Embedded,
) -> Result<PathBuf, LaunchError> {
    let Some(filepath) = spec.filepath.as_deref() else {
        return write_embedded(ctx.examples_dir, example);
    };
    // Absolute, because the launcher may start the app from another directory than its
    // own, and normalised, because Panel matches `--index` against the file's last part.
    let path: PathBuf = std::path::absolute(ctx.workdir.join(filepath))?
        .components()
        .collect();
    if !path.exists() {
        return Err(LaunchError::Config(format!(
            "the app's file {filepath} does not exist (looked for {})",
            path.display()
        )));
    }
    Ok(path)
}

fn write_embedded(dir: &Path, file: &Embedded) -> Result<PathBuf, LaunchError> {
    let path = std::path::absolute(dir.join(file.file_name))?;
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, file.contents))
        .map_err(|err| LaunchError::Start(format!("cannot write {}: {err}", path.display())))?;
    Ok(path)
}

/// Linux makes a process's effective user the owner of its /proc entry.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

fn strings<const N: usize>(words: [&str; N]) -> Vec<String> {
    words.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        workdir: tempfile::TempDir,
        examples: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                workdir: tempfile::tempdir().unwrap(),
                examples: tempfile::tempdir().unwrap(),
            }
        }

        fn ctx(&self) -> CommandContext<'_> {
            CommandContext {
                port: 43210,
                prefix: "/user/alice/app/",
                workdir: self.workdir.path(),
                examples_dir: self.examples.path(),
                env_manager: EnvManager::Conda,
                conda_env: None,
            }
        }

        fn file(&self, name: &str) -> String {
            let path = self.workdir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "").unwrap();
            path.to_string_lossy().into_owned()
        }

        fn example(&self, name: &str) -> String {
            self.examples
                .path()
                .join(name)
                .to_string_lossy()
                .into_owned()
        }
    }

    /// Root as `id -u` sees it, to check `running_as_root` against another source.
    fn is_root_per_id() -> bool {
        let out = std::process::Command::new("id").arg("-u").output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "0"
    }

    fn spec(framework: &str, filepath: Option<&str>) -> AppSpec {
        let mut json = serde_json::json!({"framework": framework, "python_exec": "py"});
        if let Some(filepath) = filepath {
            json["filepath"] = filepath.into();
        }
        AppSpec::from_json(&json.to_string()).unwrap()
    }

    #[test]
    fn the_proxy_strips_exactly_where_the_command_expects_it() {
        let fixture = Fixture::new();
        for name in [
            "panel",
            "bokeh",
            "streamlit",
            "voila",
            "plotlydash",
            "gradio",
            "jupyterlab",
        ] {
            let spec = spec(name, None);
            let command = build(&spec, &fixture.ctx()).unwrap();
            assert_eq!(
                command.strip_prefix,
                strips_prefix(spec.framework),
                "{name}"
            );
        }
        let command = build(&custom_spec("serve --port {port}"), &fixture.ctx()).unwrap();
        assert_eq!(command.strip_prefix, strips_prefix(Framework::Custom));
    }

    fn custom_spec(command: &str) -> AppSpec {
        let json = serde_json::json!({"framework": "custom", "custom_command": command});
        AppSpec::from_json(&json.to_string()).unwrap()
    }

    fn env(command: &AppCommand, name: &str) -> Option<String> {
        command
            .env
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    #[test]
    fn panel() {
        let fx = Fixture::new();
        let file = fx.file("dash/board.py");
        let command = build(&spec("panel", Some("dash/board.py")), &fx.ctx()).unwrap();
        assert_eq!(command.program, "py");
        assert_eq!(
            command.args,
            [
                "-m",
                "panel",
                "serve",
                &file,
                "--address=127.0.0.1",
                "--port=43210",
                "--prefix=/user/alice/app",
                "--use-xheaders",
                "--index=board.py",
            ]
        );
        assert_eq!(env(&command, "BOKEH_ALLOW_WS_ORIGIN").as_deref(), Some("*"));
        assert_eq!(env(&command, "PYTHONUNBUFFERED").as_deref(), Some("1"));
        assert_eq!(command.ready_path, "/user/alice/app/board/metadata");
        assert!(!command.strip_prefix);
    }

    #[test]
    fn bokeh() {
        let fx = Fixture::new();
        let command = build(&spec("bokeh", None), &fx.ctx()).unwrap();
        assert_eq!(
            command.args,
            [
                "-m",
                "bokeh",
                "serve",
                &fx.example("bokeh_app.py"),
                "--address=127.0.0.1",
                "--port=43210",
                "--prefix=/user/alice/app",
                "--use-xheaders",
            ]
        );
        assert_eq!(env(&command, "BOKEH_ALLOW_WS_ORIGIN").as_deref(), Some("*"));
        assert_eq!(command.ready_path, "/user/alice/app/bokeh_app/metadata");
        assert!(!command.strip_prefix);
    }

    #[test]
    fn bokeh_directory_app_and_odd_names() {
        let fx = Fixture::new();
        std::fs::create_dir_all(fx.workdir.path().join("my app.v2")).unwrap();
        let command = build(&spec("bokeh", Some("my app.v2/")), &fx.ctx()).unwrap();
        assert_eq!(
            command.args[3],
            fx.workdir.path().join("my app.v2").to_string_lossy()
        );
        assert_eq!(command.ready_path, "/user/alice/app/static/js/bokeh.min.js");
    }

    #[test]
    fn streamlit() {
        let fx = Fixture::new();
        let file = fx.file("app.py");
        let command = build(&spec("streamlit", Some("app.py")), &fx.ctx()).unwrap();
        assert_eq!(command.program, "py");
        assert_eq!(
            command.args,
            [
                "-m",
                "streamlit",
                "run",
                "--server.port=43210",
                "--server.address=127.0.0.1",
                "--server.headless=true",
                "--browser.gatherUsageStats=false",
                "--server.baseUrlPath=/user/alice/app",
                &file,
            ]
        );
        assert_eq!(command.ready_path, "/user/alice/app/_stcore/health");
        assert!(!command.strip_prefix);
    }

    #[test]
    fn plotlydash() {
        let fx = Fixture::new();
        let file = fx.file("app.py");
        let command = build(&spec("plotlydash", Some("app.py")), &fx.ctx()).unwrap();
        let runner = fx.example("japps_dash_runner.py");
        assert_eq!(command.program, "py");
        assert_eq!(command.args, [runner.as_str(), &file]);
        assert!(
            std::fs::read_to_string(&runner)
                .unwrap()
                .contains("run_path")
        );
        assert_eq!(
            env(&command, "DASH_REQUESTS_PATHNAME_PREFIX").as_deref(),
            Some("/user/alice/app/")
        );
        assert_eq!(env(&command, "HOST").as_deref(), Some("127.0.0.1"));
        assert_eq!(env(&command, "PORT").as_deref(), Some("43210"));
        assert_eq!(
            env(&command, "DASH_DISABLE_VERSION_CHECK").as_deref(),
            Some("true")
        );
        assert_eq!(command.ready_path, "/_dash-layout");
        assert!(command.strip_prefix);
    }

    #[test]
    fn voila() {
        let fx = Fixture::new();
        let file = fx.file("nb.ipynb");
        let command = build(&spec("voila", Some("nb.ipynb")), &fx.ctx()).unwrap();
        assert_eq!(
            command.args,
            [
                "-m",
                "voila",
                &file,
                "--port=43210",
                "--no-browser",
                "--Voila.ip=127.0.0.1",
                "--Voila.base_url=/user/alice/app/",
            ]
        );
        assert_eq!(command.ready_path, "/user/alice/app/voila/static/voila.js");
        assert!(!command.strip_prefix);
    }

    #[test]
    fn gradio() {
        let fx = Fixture::new();
        let file = fx.file("app.py");
        let command = build(&spec("gradio", Some("app.py")), &fx.ctx()).unwrap();
        assert_eq!(command.program, "py");
        assert_eq!(
            command.args,
            [
                file.as_str(),
                "--server-port=43210",
                "--root-path=/user/alice/app/"
            ]
        );
        for (name, value) in [
            ("GRADIO_SERVER_PORT", "43210"),
            ("GRADIO_SERVER_NAME", "127.0.0.1"),
            ("GRADIO_ROOT_PATH", "/user/alice/app"),
            ("GRADIO_ANALYTICS_ENABLED", "False"),
        ] {
            assert_eq!(env(&command, name).as_deref(), Some(value), "{name}");
        }
        assert_eq!(command.ready_path, "/config");
        assert!(command.strip_prefix);
    }

    #[test]
    fn jupyterlab_needs_no_file() {
        let fx = Fixture::new();
        let command = build(&spec("jupyterlab", None), &fx.ctx()).unwrap();
        assert_eq!(
            command.args[..6],
            [
                "-m",
                "jupyterhub.singleuser",
                "--ServerApp.ip=127.0.0.1",
                "--ServerApp.port=43210",
                "--ServerApp.base_url=/user/alice/app/",
                "--ServerApp.open_browser=False",
            ]
        );
        let root = is_root_per_id();
        assert_eq!(
            command.args.get(6).map(String::as_str),
            root.then_some("--ServerApp.allow_root=True")
        );
        assert_eq!(command.args.len(), if root { 7 } else { 6 });
        assert_eq!(command.ready_path, "/user/alice/app/api");
        assert!(!command.strip_prefix);
        assert_eq!(std::fs::read_dir(fx.examples.path()).unwrap().count(), 0);
    }

    #[test]
    fn custom_placeholders_and_quoting() {
        let fx = Fixture::new();
        let command = build(
            &custom_spec(
                r#"{root_path}/bin/serve --listen=127.0.0.1:{port} --base '{root_path}' "a b" c\ d"#,
            ),
            &fx.ctx(),
        )
        .unwrap();
        assert_eq!(command.program, "/user/alice/app/bin/serve");
        assert_eq!(
            command.args,
            [
                "--listen=127.0.0.1:43210",
                "--base",
                "/user/alice/app",
                "a b",
                "c d"
            ]
        );
        assert_eq!(command.ready_path, "/");
        assert!(command.strip_prefix);
        assert_eq!(std::fs::read_dir(fx.examples.path()).unwrap().count(), 0);
    }

    #[test]
    fn custom_refusals() {
        let fx = Fixture::new();
        for bad in ["serve 'open", "serve \"open", "serve \\", "''"] {
            // Refused with the app definition already (as when the app was saved)...
            let json = serde_json::json!({"framework": "custom", "custom_command": bad});
            assert!(AppSpec::from_json(&json.to_string()).is_err(), "{bad}");
            // ...and by the command builder for a spec made any other way.
            let spec = AppSpec {
                custom_command: Some(bad.into()),
                ..custom_spec("ok")
            };
            let err = build(&spec, &fx.ctx()).unwrap_err();
            assert!(matches!(err, LaunchError::Config(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn conda_by_name_and_by_path() {
        let fx = Fixture::new();
        let mut ctx = fx.ctx();
        ctx.conda_env = Some("analytics");
        let command = build(&custom_spec("serve --port {port}"), &ctx).unwrap();
        assert_eq!(command.program, "conda");
        assert_eq!(
            command.args,
            [
                "run",
                "--no-capture-output",
                "-n",
                "analytics",
                "serve",
                "--port",
                "43210"
            ]
        );
        assert!(command.strip_prefix);

        ctx.conda_env = Some("/opt/envs/analytics");
        let command = build(&spec("streamlit", None), &ctx).unwrap();
        assert_eq!(command.program, "conda");
        assert_eq!(
            command.args[..6],
            [
                "run",
                "--no-capture-output",
                "-p",
                "/opt/envs/analytics",
                "py",
                "-m"
            ]
        );
        assert_eq!(command.ready_path, "/user/alice/app/_stcore/health");
    }

    #[test]
    fn pixi() {
        let fx = Fixture::new();
        let mut ctx = fx.ctx();
        ctx.env_manager = EnvManager::Pixi;
        ctx.conda_env = Some("prod");
        let command = build(&spec("gradio", None), &ctx).unwrap();
        assert_eq!(command.program, "pixi");
        assert_eq!(
            command.args,
            [
                "run",
                "--environment",
                "prod",
                "py",
                &fx.example("gradio_app.py"),
                "--server-port=43210",
                "--root-path=/user/alice/app/",
            ]
        );
        assert_eq!(
            env(&command, "GRADIO_ROOT_PATH").as_deref(),
            Some("/user/alice/app")
        );
    }

    #[test]
    fn env_manager_parse() {
        assert_eq!(EnvManager::parse(Some("pixi")), EnvManager::Pixi);
        assert_eq!(EnvManager::parse(Some(" Pixi ")), EnvManager::Pixi);
        assert_eq!(EnvManager::parse(Some("conda")), EnvManager::Conda);
        assert_eq!(EnvManager::parse(Some("")), EnvManager::Conda);
        assert_eq!(EnvManager::parse(None), EnvManager::Conda);
    }

    #[test]
    fn examples_are_written_for_every_framework() {
        let fx = Fixture::new();
        for (framework, file) in [
            ("panel", "panel_app.py"),
            ("bokeh", "bokeh_app.py"),
            ("streamlit", "streamlit_app.py"),
            ("plotlydash", "dash_app.py"),
            ("voila", "voila_app.ipynb"),
            ("gradio", "gradio_app.py"),
        ] {
            let command = build(&spec(framework, None), &fx.ctx()).unwrap();
            let path = fx.example(file);
            assert!(command.args.contains(&path), "{framework}: {command:?}");
            let written = std::fs::read_to_string(&path).unwrap();
            assert!(written.contains("japps"), "{framework}");
        }
        let notebook = std::fs::read_to_string(fx.example("voila_app.ipynb")).unwrap();
        let notebook: serde_json::Value = serde_json::from_str(&notebook).unwrap();
        assert_eq!(notebook["nbformat"], 4);
    }

    #[test]
    fn examples_dir_is_created() {
        let fx = Fixture::new();
        let nested = fx.examples.path().join("a/b");
        let ctx = CommandContext {
            examples_dir: &nested,
            ..fx.ctx()
        };
        let command = build(&spec("panel", None), &ctx).unwrap();
        assert!(nested.join("panel_app.py").is_file());
        assert_eq!(command.ready_path, "/user/alice/app/panel_app/metadata");
        assert!(command.args.contains(&"--index=panel_app.py".to_owned()));
    }

    #[test]
    fn relative_and_absolute_filepaths() {
        let fx = Fixture::new();
        let elsewhere = tempfile::tempdir().unwrap();
        let absolute = elsewhere.path().join("abs.py");
        std::fs::write(&absolute, "").unwrap();
        let absolute = absolute.to_string_lossy().into_owned();
        let command = build(&spec("gradio", Some(&absolute)), &fx.ctx()).unwrap();
        assert_eq!(command.args[0], absolute);

        let relative = fx.file("sub/rel.py");
        let command = build(&spec("gradio", Some("./sub/../sub/rel.py")), &fx.ctx()).unwrap();
        assert_eq!(
            std::fs::canonicalize(&command.args[0]).unwrap(),
            std::fs::canonicalize(relative).unwrap()
        );
        assert!(Path::new(&command.args[0]).is_absolute());
    }

    #[test]
    fn missing_file_is_a_config_error() {
        let fx = Fixture::new();
        for framework in [
            "panel",
            "bokeh",
            "streamlit",
            "plotlydash",
            "voila",
            "gradio",
        ] {
            let err = build(&spec(framework, Some("nope.py")), &fx.ctx()).unwrap_err();
            assert!(
                matches!(&err, LaunchError::Config(message) if message.contains("nope.py")),
                "{framework}: {err}"
            );
        }
    }

    #[test]
    fn site_root_prefix() {
        let fx = Fixture::new();
        let ctx = CommandContext {
            prefix: "/",
            ..fx.ctx()
        };
        let command = build(&spec("bokeh", None), &ctx).unwrap();
        assert!(!command.args.iter().any(|arg| arg.starts_with("--prefix")));
        assert_eq!(command.ready_path, "/bokeh_app/metadata");
        let command = build(&custom_spec("serve {root_path}/x"), &ctx).unwrap();
        assert_eq!(command.args, ["/x"]);
        let command = build(&spec("gradio", None), &ctx).unwrap();
        assert_eq!(env(&command, "GRADIO_ROOT_PATH").as_deref(), Some(""));
    }

    /// Prints the commands for the cases in `JAPPS_COMMAND_CASES` (a JSON list of
    /// `{"spec", "port", "prefix", "workdir", "examples_dir"}`) as JSON to
    /// `JAPPS_COMMAND_OUT`, for the by-hand framework checks (/tmp/japps-fw-check).
    #[test]
    #[ignore = "helper for running the frameworks by hand"]
    fn dump_commands() {
        let cases = std::env::var("JAPPS_COMMAND_CASES").unwrap();
        let cases: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(cases).unwrap()).unwrap();
        let mut out = Vec::new();
        for case in cases {
            let spec = AppSpec::from_json(&case["spec"].to_string()).unwrap();
            let ctx = CommandContext {
                port: u16::try_from(case["port"].as_u64().unwrap()).unwrap(),
                prefix: case["prefix"].as_str().unwrap(),
                workdir: Path::new(case["workdir"].as_str().unwrap()),
                examples_dir: Path::new(case["examples_dir"].as_str().unwrap()),
                env_manager: EnvManager::parse(case["env_manager"].as_str()),
                conda_env: case["conda_env"].as_str(),
            };
            let command = build(&spec, &ctx).unwrap();
            out.push(serde_json::json!({
                "program": command.program,
                "args": command.args,
                "env": command.env,
                "ready_path": command.ready_path,
                "strip_prefix": command.strip_prefix,
            }));
        }
        std::fs::write(
            std::env::var("JAPPS_COMMAND_OUT").unwrap(),
            serde_json::to_string_pretty(&out).unwrap(),
        )
        .unwrap();
    }
}
