//! `conda-project.yml`: found inside the clone, read within a size limit, and its
//! `variables:` turned into the app's fields (`JHUB_APP_CONFIG_<field>`) and `env`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use japps_domain::git::shorten;
use serde_norway::Value as Yaml;

use super::human_bytes;
use crate::application::ApplicationError;

/// The largest `conda-project.yml` read.
const MAX_PROJECT_FILE_BYTES: u64 = 1024 * 1024;
/// The variables that name app fields start with this.
const FIELD_PREFIX: &str = "JHUB_APP_CONFIG_";

pub(super) fn invalid_project(reason: String) -> ApplicationError {
    tracing::info!(reason = %reason, "invalid conda-project");
    ApplicationError::Invalid(format!("Invalid conda-project: {reason}"))
}

/// `conda-project.yml` (or `.yaml`) in `directory`, inside the clone, at most
/// [`MAX_PROJECT_FILE_BYTES`].
pub(super) fn read_project_file(
    root: &Path,
    directory: &Path,
    shown_dir: &str,
) -> Result<Vec<u8>, ApplicationError> {
    for name in ["conda-project.yml", "conda-project.yaml"] {
        let candidate = directory.join(name);
        if candidate.symlink_metadata().is_err() {
            continue;
        }
        let path = candidate
            .canonicalize()
            .ok()
            .filter(|path| path.starts_with(root) && path.is_file())
            .ok_or_else(|| invalid_project(format!("{name} is not a file in the repository")))?;
        let file = std::fs::File::open(&path)
            .map_err(|err| invalid_project(format!("{name} cannot be read: {err}")))?;
        let mut bytes = Vec::new();
        file.take(MAX_PROJECT_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|err| invalid_project(format!("{name} cannot be read: {err}")))?;
        if bytes.len() as u64 > MAX_PROJECT_FILE_BYTES {
            return Err(invalid_project(format!(
                "{name} is larger than {}",
                human_bytes(MAX_PROJECT_FILE_BYTES)
            )));
        }
        return Ok(bytes);
    }
    Err(invalid_project(format!(
        "no conda-project.yml in '{}'",
        shorten(shown_dir)
    )))
}

/// The `variables:` of a `conda-project.yml`, in file order; a variable without a value is
/// `None`. The reason for a refusal never quotes the file (it could be anything).
pub(crate) fn parse_conda_project(bytes: &[u8]) -> Result<Vec<(String, Option<String>)>, String> {
    let document: Yaml = serde_norway::from_slice(bytes).map_err(|err| match err.location() {
        Some(at) => format!(
            "conda-project.yml is not valid YAML (line {}, column {})",
            at.line(),
            at.column()
        ),
        None => "conda-project.yml is not valid YAML".to_owned(),
    })?;
    let Yaml::Mapping(project) = untag(document) else {
        return Err("conda-project.yml must be a mapping".to_owned());
    };
    let variables = match project.get("variables").cloned().map(untag) {
        None | Some(Yaml::Null) => return Ok(Vec::new()),
        Some(Yaml::Mapping(variables)) => variables,
        Some(_) => return Err("`variables` must be a mapping of names to values".to_owned()),
    };
    variables
        .into_iter()
        .map(|(name, value)| {
            let name = scalar(untag(name))
                .flatten()
                .ok_or_else(|| "variable names must be strings".to_owned())?;
            let value = scalar(untag(value))
                .ok_or_else(|| format!("variable {} must be a single value", shorten(&name)))?;
            Ok((name, value))
        })
        .collect()
}

fn untag(value: Yaml) -> Yaml {
    match value {
        Yaml::Tagged(tagged) => untag(tagged.value),
        other => other,
    }
}

/// A scalar as text: `Some(None)` for null, `None` for a sequence or mapping.
fn scalar(value: Yaml) -> Option<Option<String>> {
    match value {
        Yaml::Null => Some(None),
        Yaml::Bool(b) => Some(Some(b.to_string())),
        Yaml::Number(n) => Some(Some(n.to_string())),
        Yaml::String(s) => Some(Some(s)),
        Yaml::Sequence(_) | Yaml::Mapping(_) | Yaml::Tagged(_) => None,
    }
}

/// The app's fields, from the variables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppFields {
    pub(crate) display_name: String,
    pub(crate) description: String,
    pub(crate) framework: String,
    pub(crate) filepath: String,
    pub(crate) custom_command: String,
    pub(crate) public: bool,
    pub(crate) keep_alive: bool,
    pub(crate) thumbnail_path: Option<String>,
    pub(crate) env: BTreeMap<String, String>,
}

/// `JHUB_APP_CONFIG_<field>` variables → fields, every other variable → `env` (a variable
/// without a value becomes `""`). Field variables jhub-apps does not read
/// (`JHUB_APP_CONFIG_env`, unknown names) are ignored, as jhub-apps ignores them. Every
/// problem is reported, not only the first.
pub(crate) fn app_fields(
    variables: Vec<(String, Option<String>)>,
) -> Result<AppFields, Vec<String>> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut env = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, value) in variables {
        if let Some(field) = name.strip_prefix(FIELD_PREFIX) {
            if let Some(value) = value {
                fields.insert(field.to_owned(), value);
            }
            continue;
        }
        if name.is_empty() || name.contains(['=', '\0']) {
            errors.push(format!("env: {:?} is not a variable name", shorten(&name)));
            continue;
        }
        let value = value.unwrap_or_default();
        if value.contains('\0') {
            errors.push(format!(
                "env: the value of {} contains a NUL character",
                shorten(&name)
            ));
            continue;
        }
        env.insert(name, value);
    }
    let mut take = |field: &str| fields.remove(field).unwrap_or_default();
    let display_name = take("display_name");
    if display_name.trim().is_empty() {
        errors.push(format!(
            "display_name: field required (set {FIELD_PREFIX}display_name)"
        ));
    }
    let description = take("description");
    let mut framework = take("framework");
    if framework.is_empty() {
        // jhub-apps' default.
        "panel".clone_into(&mut framework);
    }
    if japps_domain::frameworks::framework(&framework).is_none() {
        let known: Vec<&str> = japps_domain::frameworks::FRAMEWORKS
            .iter()
            .map(|framework| framework.name())
            .collect();
        errors.push(format!(
            "framework: {:?} is not a framework japps knows ({})",
            shorten(&framework),
            known.join(", ")
        ));
    }
    let filepath = take("filepath");
    let custom_command = take("custom_command");
    let mut flag = |field: &str, errors: &mut Vec<String>| {
        let value = fields.remove(field).unwrap_or_default();
        parse_bool(&value).unwrap_or_else(|| {
            errors.push(format!(
                "{field}: {:?} is not true or false",
                shorten(&value)
            ));
            false
        })
    };
    let public = flag("public", &mut errors);
    let keep_alive = flag("keep_alive", &mut errors);
    let thumbnail_path = fields
        .remove("thumbnail_path")
        .filter(|path| !path.is_empty());
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(AppFields {
        display_name,
        description,
        framework,
        filepath,
        custom_command,
        public,
        keep_alive,
        thumbnail_path,
        env,
    })
}

/// A boolean as pydantic reads one from text (jhub-apps' coercion); empty means false.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
        "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn variables_map_to_fields_and_env() {
        let fields = app_fields(vars(&[
            ("JHUB_APP_CONFIG_display_name", Some("Sales dashboard")),
            ("JHUB_APP_CONFIG_description", Some("Numbers")),
            ("JHUB_APP_CONFIG_framework", Some("streamlit")),
            ("JHUB_APP_CONFIG_filepath", Some("app/main.py")),
            ("JHUB_APP_CONFIG_custom_command", Some("")),
            ("JHUB_APP_CONFIG_keep_alive", Some("false")),
            ("JHUB_APP_CONFIG_public", Some("True")),
            ("JHUB_APP_CONFIG_thumbnail_path", Some("img/logo.png")),
            ("JHUB_APP_CONFIG_env", Some("ignored")),
            ("JHUB_APP_CONFIG_something_new", Some("ignored")),
            ("API_URL", Some("https://example.org")),
            ("conda_env", Some("analytics")),
            ("EMPTY", None),
        ]))
        .unwrap();
        assert_eq!(
            fields,
            AppFields {
                display_name: "Sales dashboard".into(),
                description: "Numbers".into(),
                framework: "streamlit".into(),
                filepath: "app/main.py".into(),
                custom_command: String::new(),
                public: true,
                keep_alive: false,
                thumbnail_path: Some("img/logo.png".into()),
                env: BTreeMap::from([
                    ("API_URL".into(), "https://example.org".into()),
                    ("EMPTY".into(), String::new()),
                    ("conda_env".into(), "analytics".into()),
                ]),
            }
        );
    }

    #[test]
    fn fields_have_jhub_apps_defaults() {
        let fields = app_fields(vars(&[("JHUB_APP_CONFIG_display_name", Some("X"))])).unwrap();
        assert_eq!(fields.framework, "panel");
        assert_eq!(fields.description, "");
        assert!(!fields.public && !fields.keep_alive);
        assert_eq!(fields.thumbnail_path, None);
        assert!(fields.env.is_empty());
    }

    #[test]
    fn bad_fields_are_all_reported() {
        let errors = app_fields(vars(&[
            ("JHUB_APP_CONFIG_framework", Some("fortran")),
            ("JHUB_APP_CONFIG_public", Some("maybe")),
            ("JHUB_APP_CONFIG_keep_alive", Some("2")),
            ("A=B", Some("x")),
        ]))
        .unwrap_err();
        let text = errors.join("; ");
        assert_eq!(errors.len(), 5, "{text}");
        for part in [
            "display_name: field required",
            "framework: \"fortran\"",
            "public: \"maybe\"",
            "keep_alive: \"2\"",
            "env: \"A=B\"",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
    }

    #[test]
    fn booleans_are_coerced_like_pydantic() {
        for (text, value) in [
            ("false", false),
            ("False", false),
            ("0", false),
            ("no", false),
            ("", false),
            ("true", true),
            ("TRUE", true),
            ("1", true),
            ("yes", true),
            ("on", true),
        ] {
            assert_eq!(parse_bool(text), Some(value), "{text}");
        }
        assert_eq!(parse_bool("2"), None);
    }

    #[test]
    fn conda_project_variables_are_read() {
        let yaml = br#"
name: sales
environments:
  default: [environment.yml]
variables:
  JHUB_APP_CONFIG_display_name: Sales
  JHUB_APP_CONFIG_keep_alive: false
  PORT: 8080
  RATIO: 0.5
  UNSET:
  QUOTED: !!str 12
commands: {}
"#;
        assert_eq!(
            parse_conda_project(yaml).unwrap(),
            vars(&[
                ("JHUB_APP_CONFIG_display_name", Some("Sales")),
                ("JHUB_APP_CONFIG_keep_alive", Some("false")),
                ("PORT", Some("8080")),
                ("RATIO", Some("0.5")),
                ("UNSET", None),
                ("QUOTED", Some("12")),
            ])
        );
        assert_eq!(parse_conda_project(b"name: x\n").unwrap(), vec![]);
        assert_eq!(parse_conda_project(b"variables:\n").unwrap(), vec![]);
    }

    #[test]
    fn bad_conda_projects_are_refused_without_quoting_them() {
        for (yaml, reason) in [
            (&b""[..], "must be a mapping"),
            (b"- a\n- b\n", "must be a mapping"),
            (b"just text", "must be a mapping"),
            (b"variables: [A, B]\n", "`variables` must be a mapping"),
            (
                b"variables:\n  A: [1, 2]\n",
                "variable A must be a single value",
            ),
            (
                b"variables:\n  A: {b: c}\n",
                "variable A must be a single value",
            ),
            (b"variables:\n  [x]: 1\n", "variable names must be strings"),
            (b"variables:\n  A: 1\n  A: 2\n", "not valid YAML"),
            (
                b"variables: {SECRET: \"unterminated\n",
                "not valid YAML (line",
            ),
            (b"a: 1\n---\nb: 2\n", "not valid YAML"),
            (b"\xff\xfe\x00", "not valid YAML"),
        ] {
            let err = parse_conda_project(yaml).unwrap_err();
            assert!(
                err.contains(reason),
                "{:?}: {err}",
                String::from_utf8_lossy(yaml)
            );
            assert!(
                !err.contains("SECRET") && !err.contains("unterminated"),
                "{err}"
            );
        }
    }

    #[test]
    fn yaml_bombs_are_refused_quickly() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..12 {
            let prev = level - 1;
            bomb.push_str(&format!(
                "a{level}: &a{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        bomb.push_str("variables:\n  BOOM: *a11\n");
        let started = std::time::Instant::now();
        // 10^12 strings if expanded; refused after a bounded number of alias expansions
        // (well under a second in a release build).
        assert!(parse_conda_project(bomb.as_bytes()).is_err());
        assert!(started.elapsed() < Duration::from_secs(10));
        let deep = format!("variables: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_conda_project(deep.as_bytes()).is_err());
    }
}
