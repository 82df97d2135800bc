//! What an app is: the `user_options` of its server, in jhub-apps' field names and shapes.
//!
//! The service (create, edit, startup apps, what a sharee sees) and the launcher read and
//! check apps through this one type. There are two ways in:
//!
//! - [`AppOptions::from_stored`] reads options as the hub holds them and never fails: apps
//!   written by jhub-apps or an older japps (`share_with: {}`, `repository: null`, keys
//!   japps does not know) come back out of [`AppOptions::to_map`] exactly as they went in;
//!   whatever is null, of an unexpected type or unknown is kept aside in `extra`.
//! - [`AppOptions::parse`] reads a request: a known key with a wrong type is refused with
//!   a message naming it, and `share_with` is normalised (both lists, no duplicates).
//!
//! [`AppOptions::validate`] holds the rules every app obeys; [`AppPolicy::check`] adds the
//! operator's (`allowed_frameworks`, `allow_profile_image`, `max_share_targets`,
//! `allow_public_apps`, `allow_keep_alive`, `launcher_args_final`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::config::JAppsConfig;
use crate::frameworks::{FRAMEWORKS, Framework, FrameworkPolicy};
use crate::launcher_args::{self, KEEP_ALIVE_ENV, LauncherRules, OVERRIDES_ENV};

/// Every key an app definition has, in jhub-apps' order.
pub const KEYS: [&str; 16] = [
    "jhub_app",
    "name",
    "display_name",
    "description",
    "framework",
    "thumbnail",
    "filepath",
    "conda_env",
    "env",
    "custom_command",
    "profile",
    "profile_image",
    "public",
    "share_with",
    "keep_alive",
    "repository",
];

/// The keys `japps launch` reads. The hub plugin hands exactly these to the launcher
/// (`APP_KEYS` in `python/japps/spawner.py`, checked against this list by a test): the
/// environment variable carrying them is limited in size, so never the thumbnail.
pub const LAUNCHER_KEYS: [&str; 8] = [
    "framework",
    "display_name",
    "filepath",
    "custom_command",
    "conda_env",
    "keep_alive",
    "public",
    "repository",
];

/// The environment variable the plugin hands the app definition to the launcher in; an
/// app's own `env` cannot set it.
pub const APP_ENV: &str = "JAPPS_APP";

/// Prefixes of environment variables only the hub sets (its API URL and token, the OAuth
/// client, the server's URLs): an app redirecting them could send the server's token
/// elsewhere. Compared without regard to case, as the plugin does.
pub const REFUSED_ENV_PREFIXES: [&str; 2] = ["JUPYTERHUB_", "JPY_"];

/// Why an app definition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// Malformed or incomplete (HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// Well-formed, but the operator does not allow it (HTTP 403).
    #[error("{0}")]
    NotAllowed(String),
}

/// An app's definition. Every field is optional, as in stored options: the default server
/// has `{}`, and jhub-apps stores empty strings for fields left empty in its form (the
/// accessors treat those as absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppOptions {
    /// Set on servers that are apps.
    pub jhub_app: Option<bool>,
    /// The server name.
    pub name: Option<String>,
    /// The title, as typed (trimmed).
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// A [`Framework::name`]; kept as a string so that unknown names round-trip.
    pub framework: Option<String>,
    /// A `data:` URL.
    pub thumbnail: Option<String>,
    pub filepath: Option<String>,
    pub conda_env: Option<String>,
    pub env: Option<BTreeMap<String, String>>,
    pub custom_command: Option<String>,
    pub profile: Option<String>,
    pub profile_image: Option<String>,
    pub public: Option<bool>,
    pub share_with: Option<ShareWith>,
    pub keep_alive: Option<bool>,
    pub repository: Option<Repository>,
    /// Everything else, as it came: unknown keys, and known keys whose value is null or
    /// (in stored options) not of the known type.
    pub extra: Map<String, Value>,
}

/// `share_with`: whom the app is shared with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareWith {
    pub users: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
    pub extra: Map<String, Value>,
}

/// `repository`: the git repository the app's code is cloned from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Repository {
    pub url: Option<String>,
    /// `ref`: a branch or tag.
    pub git_ref: Option<String>,
    pub config_directory: Option<String>,
    pub extra: Map<String, Value>,
}

/// How a value is read: as stored (never fails; what does not fit stays raw) or from a
/// request (a wrong type is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Stored,
    Request,
}

/// A field type of the definition.
trait Field: Sized {
    /// What the field must hold, for messages.
    const EXPECTED: &'static str;
    /// The value, if it has this type, such that [`Field::to_value`] gives it back unchanged.
    fn from_value(value: &Value) -> Option<Self>;
    fn to_value(&self) -> Value;
    /// The value of a request, normalised; `None` when it does not have this type.
    fn from_request(value: &Value, _field: &str) -> Result<Option<Self>, AppError> {
        Ok(Self::from_value(value))
    }
}

impl Field for String {
    const EXPECTED: &'static str = "a string";
    fn from_value(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl Field for bool {
    const EXPECTED: &'static str = "true or false";
    fn from_value(value: &Value) -> Option<Self> {
        value.as_bool()
    }
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Field for Vec<String> {
    const EXPECTED: &'static str = "a list of names";
    fn from_value(value: &Value) -> Option<Self> {
        value
            .as_array()?
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect()
    }
    fn to_value(&self) -> Value {
        Value::Array(self.iter().cloned().map(Value::String).collect())
    }
    fn from_request(value: &Value, _field: &str) -> Result<Option<Self>, AppError> {
        // One request could list a name thousands of times, each a hub call.
        Ok(Self::from_value(value).map(|names| {
            let mut seen = BTreeSet::new();
            names
                .into_iter()
                .filter(|name| seen.insert(name.clone()))
                .collect()
        }))
    }
}

impl Field for BTreeMap<String, String> {
    const EXPECTED: &'static str = "an object of string values";
    fn from_value(value: &Value) -> Option<Self> {
        value
            .as_object()?
            .iter()
            .map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
            .collect()
    }
    fn to_value(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(key, value)| (key.clone(), Value::String(value.clone())))
                .collect(),
        )
    }
}

impl Field for ShareWith {
    const EXPECTED: &'static str = "{users: [...], groups: [...]}";
    fn from_value(value: &Value) -> Option<Self> {
        let mut map = value.as_object()?.clone();
        let mut share = Self {
            users: take(&mut map, "users", Mode::Stored).ok()?,
            groups: take(&mut map, "groups", Mode::Stored).ok()?,
            extra: Map::new(),
        };
        share.extra = map;
        Some(share)
    }
    fn to_value(&self) -> Value {
        let mut map = self.extra.clone();
        put(&mut map, "users", self.users.as_ref());
        put(&mut map, "groups", self.groups.as_ref());
        Value::Object(map)
    }
    fn from_request(value: &Value, field: &str) -> Result<Option<Self>, AppError> {
        let Some(map) = value.as_object() else {
            return Ok(None);
        };
        let mut map = map.clone();
        let mut users = take_nested(&mut map, field, "users")?;
        let mut groups = take_nested(&mut map, field, "groups")?;
        // jhub-apps' edit form sends `{}` for an app shared with nobody, and its edit
        // page cannot read `{}` back: both lists are always stored.
        map.retain(|key, value| !(value.is_null() && (key == "users" || key == "groups")));
        users.get_or_insert_with(Vec::new);
        groups.get_or_insert_with(Vec::new);
        Ok(Some(Self {
            users,
            groups,
            extra: map,
        }))
    }
}

impl Field for Repository {
    const EXPECTED: &'static str = "{url, ref?, config_directory?}";
    fn from_value(value: &Value) -> Option<Self> {
        let mut map = value.as_object()?.clone();
        let mut repository = Self {
            url: take(&mut map, "url", Mode::Stored).ok()?,
            git_ref: take(&mut map, "ref", Mode::Stored).ok()?,
            config_directory: take(&mut map, "config_directory", Mode::Stored).ok()?,
            extra: Map::new(),
        };
        repository.extra = map;
        Some(repository)
    }
    fn to_value(&self) -> Value {
        let mut map = self.extra.clone();
        put(&mut map, "url", self.url.as_ref());
        put(&mut map, "ref", self.git_ref.as_ref());
        put(&mut map, "config_directory", self.config_directory.as_ref());
        Value::Object(map)
    }
    fn from_request(value: &Value, field: &str) -> Result<Option<Self>, AppError> {
        let Some(map) = value.as_object() else {
            return Ok(None);
        };
        let mut map = map.clone();
        let mut repository = Self {
            url: take_nested(&mut map, field, "url")?,
            git_ref: take_nested(&mut map, field, "ref")?,
            config_directory: take_nested(&mut map, field, "config_directory")?,
            extra: Map::new(),
        };
        repository.extra = map;
        Ok(Some(repository))
    }
}

/// Takes `key` out of `map` when it has the type `T`. Nulls, and in stored options values
/// of another type, stay in `map`; in a request, another type is an error.
fn take<T: Field>(
    map: &mut Map<String, Value>,
    key: &str,
    mode: Mode,
) -> Result<Option<T>, AppError> {
    let Some(value) = map.get(key) else {
        return Ok(None);
    };
    if value.is_null() {
        return Ok(None);
    }
    let parsed = match mode {
        Mode::Stored => T::from_value(value).filter(|parsed| parsed.to_value() == *value),
        Mode::Request => Some(T::from_request(value, key)?.ok_or_else(|| {
            AppError::Invalid(format!("user_options.{key} must be {}", T::EXPECTED))
        })?),
    };
    if parsed.is_some() {
        map.remove(key);
    }
    Ok(parsed)
}

/// [`take`] in a request, for a key of the object `parent`.
fn take_nested<T: Field>(
    map: &mut Map<String, Value>,
    parent: &str,
    key: &str,
) -> Result<Option<T>, AppError> {
    take(map, key, Mode::Request).map_err(|_| {
        AppError::Invalid(format!(
            "user_options.{parent}.{key} must be {}",
            T::EXPECTED
        ))
    })
}

fn put<T: Field>(map: &mut Map<String, Value>, key: &str, value: Option<&T>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value.to_value());
    }
}

/// `Some(trimmed)` unless empty or blank: jhub-apps' form stores `""` for a field left empty.
fn filled(value: Option<&String>) -> Option<&str> {
    value
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
}

impl AppOptions {
    /// Options as the hub stores them; never fails, and `to_map` gives back exactly `map`.
    pub fn from_stored(map: Map<String, Value>) -> Self {
        match Self::read(map.clone(), Mode::Stored) {
            Ok(options) => options,
            // Stored reads refuse nothing; kept whole should that ever change.
            Err(_) => Self {
                extra: map,
                ..Self::default()
            },
        }
    }

    /// Options sent in a request: a known key of the wrong type is an error naming it.
    /// Unknown keys are kept, as before.
    pub fn parse(map: Map<String, Value>) -> Result<Self, AppError> {
        Self::read(map, Mode::Request)
    }

    fn read(mut map: Map<String, Value>, mode: Mode) -> Result<Self, AppError> {
        let map = &mut map;
        let mut options = Self {
            jhub_app: take(map, "jhub_app", mode)?,
            name: take(map, "name", mode)?,
            display_name: take(map, "display_name", mode)?,
            description: take(map, "description", mode)?,
            framework: take(map, "framework", mode)?,
            thumbnail: take(map, "thumbnail", mode)?,
            filepath: take(map, "filepath", mode)?,
            conda_env: take(map, "conda_env", mode)?,
            env: take(map, "env", mode)?,
            custom_command: take(map, "custom_command", mode)?,
            profile: take(map, "profile", mode)?,
            profile_image: take(map, "profile_image", mode)?,
            public: take(map, "public", mode)?,
            share_with: take(map, "share_with", mode)?,
            keep_alive: take(map, "keep_alive", mode)?,
            repository: take(map, "repository", mode)?,
            extra: Map::new(),
        };
        options.extra = std::mem::take(map);
        Ok(options)
    }

    /// The options as stored: the typed fields plus `extra`.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = self.extra.clone();
        let map_ref = &mut map;
        put(map_ref, "jhub_app", self.jhub_app.as_ref());
        put(map_ref, "name", self.name.as_ref());
        put(map_ref, "display_name", self.display_name.as_ref());
        put(map_ref, "description", self.description.as_ref());
        put(map_ref, "framework", self.framework.as_ref());
        put(map_ref, "thumbnail", self.thumbnail.as_ref());
        put(map_ref, "filepath", self.filepath.as_ref());
        put(map_ref, "conda_env", self.conda_env.as_ref());
        put(map_ref, "env", self.env.as_ref());
        put(map_ref, "custom_command", self.custom_command.as_ref());
        put(map_ref, "profile", self.profile.as_ref());
        put(map_ref, "profile_image", self.profile_image.as_ref());
        put(map_ref, "public", self.public.as_ref());
        put(map_ref, "share_with", self.share_with.as_ref());
        put(map_ref, "keep_alive", self.keep_alive.as_ref());
        put(map_ref, "repository", self.repository.as_ref());
        map
    }

    /// What a user the app is shared with may see: the app, not its configuration (no
    /// environment, command, repository, environment name, profile or share list, and no
    /// keys japps does not know, which could hold anything).
    pub fn for_sharee(&self) -> Self {
        Self {
            jhub_app: self.jhub_app,
            name: self.name.clone(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            framework: self.framework.clone(),
            thumbnail: self.thumbnail.clone(),
            public: self.public,
            keep_alive: self.keep_alive,
            ..Self::default()
        }
    }

    /// The framework, if the options name one japps knows.
    pub fn framework(&self) -> Option<Framework> {
        filled(self.framework.as_ref()).and_then(Framework::from_name)
    }

    /// The title, trimmed; `None` when empty.
    pub fn title(&self) -> Option<&str> {
        filled(self.display_name.as_ref())
    }

    pub fn filepath(&self) -> Option<&str> {
        filled(self.filepath.as_ref())
    }

    pub fn conda_env(&self) -> Option<&str> {
        filled(self.conda_env.as_ref())
    }

    pub fn custom_command(&self) -> Option<&str> {
        filled(self.custom_command.as_ref())
    }

    pub fn profile_image(&self) -> Option<&str> {
        filled(self.profile_image.as_ref())
    }

    pub fn thumbnail(&self) -> Option<&str> {
        filled(self.thumbnail.as_ref())
    }

    pub fn is_public(&self) -> bool {
        self.public.unwrap_or(false)
    }

    pub fn keeps_alive(&self) -> bool {
        self.keep_alive.unwrap_or(false)
    }

    /// The repository to clone, when it has a URL.
    pub fn repository(&self) -> Option<&Repository> {
        self.repository
            .as_ref()
            .filter(|repository| repository.url().is_some())
    }

    /// The users the app is shared with, each once, in the order given.
    pub fn share_users(&self) -> Vec<&str> {
        unique(self.share_with.as_ref().and_then(|s| s.users.as_deref()))
    }

    /// The groups the app is shared with, each once, in the order given.
    pub fn share_groups(&self) -> Vec<&str> {
        unique(self.share_with.as_ref().and_then(|s| s.groups.as_deref()))
    }

    /// Sets the title as the user typed it, only trimmed (`a/b` stays `a/b`), or
    /// `fallback` (the requested server name) when there is none; returns it.
    pub fn settle_title(&mut self, fallback: &str) -> Result<String, AppError> {
        let title = self.title().unwrap_or_else(|| fallback.trim()).to_owned();
        if title.is_empty() {
            return Err(AppError::Invalid(
                "the app needs a name (user_options.display_name)".into(),
            ));
        }
        self.display_name = Some(title.clone());
        Ok(title)
    }

    /// The rules every app obeys, whoever made it and wherever it runs; returns its
    /// framework.
    pub fn validate(&self) -> Result<Framework, AppError> {
        let framework = self.checked_framework()?;
        self.check_definition(framework)?;
        Ok(framework)
    }

    fn checked_framework(&self) -> Result<Framework, AppError> {
        let name = filled(self.framework.as_ref())
            .ok_or_else(|| AppError::Invalid("user_options.framework is required".into()))?;
        Framework::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = FRAMEWORKS.iter().map(|f| f.name()).collect();
            AppError::Invalid(format!(
                "user_options.framework: {name:?} is not a framework japps knows ({})",
                known.join(", ")
            ))
        })
    }

    fn check_definition(&self, framework: Framework) -> Result<(), AppError> {
        if framework == Framework::Custom {
            let command = self.custom_command().ok_or_else(|| {
                AppError::Invalid(
                    "a custom app needs a command (user_options.custom_command)".into(),
                )
            })?;
            // The launcher splits it the same way when it starts the app.
            match shlex::split(command) {
                None => {
                    return Err(AppError::Invalid(
                        "user_options.custom_command has an unbalanced quote or a trailing \
                         backslash"
                            .into(),
                    ));
                }
                Some(words) if words.first().is_none_or(String::is_empty) => {
                    return Err(AppError::Invalid(
                        "user_options.custom_command does not name a program".into(),
                    ));
                }
                Some(_) => {}
            }
        }
        for (key, value) in self.env.iter().flatten() {
            check_env(key, value)?;
        }
        let shared = !self.share_users().is_empty() || !self.share_groups().is_empty();
        if shared && framework == Framework::JupyterLab {
            return Err(AppError::Invalid(
                "JupyterLab apps cannot be shared: they give access to the owner's files".into(),
            ));
        }
        if self.repository.is_some() && self.repository().is_none() {
            return Err(AppError::Invalid(
                "user_options.repository.url is required when a repository is given".into(),
            ));
        }
        Ok(())
    }
}

/// One variable of `user_options.env`: a name a shell accepts, not one the hub or japps
/// sets, and a value the environment can carry.
fn check_env(key: &str, value: &str) -> Result<(), AppError> {
    let valid = key
        .bytes()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return Err(AppError::Invalid(format!(
            "user_options.env: {key:?} is not a variable name (letters, digits and _, not \
             starting with a digit)"
        )));
    }
    let upper = key.to_ascii_uppercase();
    if upper == APP_ENV
        || REFUSED_ENV_PREFIXES
            .iter()
            .any(|prefix| upper.starts_with(prefix))
    {
        return Err(AppError::Invalid(format!(
            "user_options.env: {key} cannot be set by an app: JUPYTERHUB_*, JPY_* and \
             {APP_ENV} are set by the hub and japps"
        )));
    }
    if value.contains('\0') {
        return Err(AppError::Invalid(format!(
            "user_options.env: the value of {key} contains a NUL character"
        )));
    }
    Ok(())
}

fn unique(names: Option<&[String]>) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    names
        .into_iter()
        .flatten()
        .map(String::as_str)
        .filter(|name| seen.insert(*name))
        .collect()
}

impl Repository {
    /// The URL, trimmed; `None` when empty.
    pub fn url(&self) -> Option<&str> {
        filled(self.url.as_ref())
    }

    /// The branch or tag; `None` = the repository's default branch.
    pub fn git_ref(&self) -> Option<&str> {
        filled(self.git_ref.as_ref())
    }
}

/// What the operator allows on top of [`AppOptions::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPolicy {
    frameworks: FrameworkPolicy,
    allow_profile_image: bool,
    max_share_targets: usize,
    launcher: LauncherRules,
}

impl AppPolicy {
    pub fn new(
        frameworks: FrameworkPolicy,
        allow_profile_image: bool,
        max_share_targets: usize,
    ) -> Self {
        Self {
            frameworks,
            allow_profile_image,
            max_share_targets,
            launcher: LauncherRules {
                allow_public: true,
                allow_keep_alive: true,
                final_args: Vec::new(),
            },
        }
    }

    /// The same policy with the operator's rules about launcher flags (public apps,
    /// keep-alive, final `launcher_args`) taken from `config`.
    #[must_use]
    pub fn with_launcher_rules(mut self, config: &JAppsConfig) -> Self {
        self.launcher = Self::launcher_rules(config);
        self
    }

    /// The rules `japps launch` enforces again, as the service reads them from `config`.
    pub fn launcher_rules(config: &JAppsConfig) -> LauncherRules {
        LauncherRules {
            allow_public: config.allow_public_apps,
            allow_keep_alive: config.allow_keep_alive,
            final_args: if config.launcher_args_final {
                launcher_args::flags(&config.launcher_args)
            } else {
                Vec::new()
            },
        }
    }

    /// What users may create under `config`.
    pub fn from_config(config: &JAppsConfig) -> Self {
        Self::new(
            FrameworkPolicy::new(
                config.allowed_frameworks.as_deref(),
                config.blocked_frameworks.as_deref(),
            ),
            config.allow_profile_image,
            config.max_share_targets,
        )
        .with_launcher_rules(config)
    }

    /// What the operator's own startup apps may be: any framework and image (the
    /// framework lists and the image switch are about what users create, as in
    /// jhub-apps), the same share limit.
    /// Public apps, keep-alive and final launcher flags bind startup apps too: the
    /// launcher would not honour them anyway.
    pub fn for_operator(config: &JAppsConfig) -> Self {
        Self::new(
            FrameworkPolicy::new(None, None),
            true,
            config.max_share_targets,
        )
        .with_launcher_rules(config)
    }

    /// [`AppOptions::validate`] and the operator's rules; returns the app's framework.
    pub fn check(&self, options: &AppOptions) -> Result<Framework, AppError> {
        let framework = options.checked_framework()?;
        if !self.frameworks.allows(framework.name()) {
            return Err(AppError::NotAllowed(format!(
                "Given framework \"{framework}\" is not allowed on this deployment, please contact admin."
            )));
        }
        if options.profile_image().is_some() && !self.allow_profile_image {
            return Err(AppError::NotAllowed(
                "custom images (profile_image) are not allowed on this deployment".into(),
            ));
        }
        options.check_definition(framework)?;
        self.check_launcher_rules(options)?;
        let targets = options.share_users().len() + options.share_groups().len();
        if targets > self.max_share_targets {
            return Err(AppError::Invalid(format!(
                "user_options.share_with names {targets} users and groups; this deployment \
                 allows at most {} per app",
                self.max_share_targets
            )));
        }
        Ok(framework)
    }

    /// Public apps, keep-alive, and the app's own launcher flags against the operator's
    /// rules. Each message starts with the field, for the form to show it there.
    fn check_launcher_rules(&self, options: &AppOptions) -> Result<(), AppError> {
        let rules = &self.launcher;
        if options.is_public() && !rules.allow_public {
            return Err(AppError::NotAllowed(
                "user_options.public: public apps (reachable without logging in) are not \
                 allowed on this deployment; share the app with users or groups instead"
                    .into(),
            ));
        }
        if options.keeps_alive() && !rules.allow_keep_alive {
            return Err(AppError::NotAllowed(
                "user_options.keep_alive: apps that keep themselves alive are not allowed on \
                 this deployment; the app stops when it has been idle"
                    .into(),
            ));
        }
        let env = options.env.as_ref();
        if !rules.allow_keep_alive
            && env
                .and_then(|env| env.get(KEEP_ALIVE_ENV))
                .is_some_and(|value| launcher_args::truthy(value))
        {
            return Err(AppError::NotAllowed(format!(
                "user_options.env: \"{KEEP_ALIVE_ENV}\" keeps the app alive, which is not \
                 allowed on this deployment"
            )));
        }
        if let Some(value) = env.and_then(|env| env.get(OVERRIDES_ENV))
            && let Some(flags) = launcher_args::override_flags(value)
            && let Some(reason) = rules.refuse_overrides(&flags)
        {
            return Err(AppError::NotAllowed(format!(
                "user_options.env: \"{OVERRIDES_ENV}\": {reason}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn parse(value: Value) -> Result<AppOptions, AppError> {
        AppOptions::parse(map(value))
    }

    fn policy() -> AppPolicy {
        AppPolicy::from_config(&JAppsConfig::default())
    }

    fn checked(value: Value) -> Result<Framework, AppError> {
        policy().check(&parse(value)?)
    }

    fn invalid(value: Value, needle: &str) {
        match checked(value.clone()) {
            Err(AppError::Invalid(message)) => {
                assert!(message.contains(needle), "{value}: {message}");
            }
            other => panic!("{value}: expected a 400 with {needle:?}, got {other:?}"),
        }
    }

    /// Options as jhub-apps' UI and service store them, plus keys of other versions.
    fn jhub_apps_written() -> Value {
        json!({
            "name": "my-app", "jhub_app": true, "display_name": "My App",
            "description": "…", "thumbnail": "data:image/png;base64,AAAA",
            "filepath": "/home/alice/app.py", "framework": "panel", "custom_command": "",
            "public": false, "keep_alive": false, "env": {"K": "V"},
            "repository": {"url": "https://x/y.git", "config_directory": ".", "ref": "main"},
            "conda_env": "", "profile": "small", "profile_image": "",
            "share_with": {"users": ["bob"], "groups": ["class-A"]},
            "future_key": {"nested": [1, 2]}, "another": null
        })
    }

    #[test]
    fn stored_options_round_trip() {
        let odd_shapes = [
            jhub_apps_written(),
            json!({}),
            json!({"profile": "small"}),
            json!({"share_with": {}, "repository": null, "conda_env": "", "env": null}),
            json!({"share_with": null, "env": {"A": 1, "B": "x"}, "public": "yes",
                   "keep_alive": 1, "framework": 7, "display_name": ["a"]}),
            json!({"share_with": {"users": "bob", "groups": [1], "x": true},
                   "repository": {"url": null, "ref": 3, "extra": "kept"}}),
            json!({"repository": "https://x/y.git", "share_with": [], "jhub_app": "true"}),
            json!({"framework": "shiny", "name": "", "thumbnail": ""}),
        ];
        for value in odd_shapes {
            let options = AppOptions::from_stored(map(value.clone()));
            assert_eq!(Value::Object(options.to_map()), value);
        }
    }

    #[test]
    fn any_value_of_any_key_round_trips() {
        let samples = [
            json!(null),
            json!(""),
            json!(" x "),
            json!(true),
            json!(0),
            json!(1.5),
            json!([]),
            json!(["a", "a"]),
            json!([1, "a"]),
            json!({}),
            json!({"users": ["a"], "groups": null}),
            json!({"users": [], "groups": [], "z": 1}),
            json!({"url": "u", "ref": null, "config_directory": 1}),
            json!({"A": "b"}),
            json!({"A": 1}),
            json!({"A": {"B": "c"}}),
        ];
        let keys = KEYS.iter().chain(&["unknown"]);
        for key in keys.clone() {
            for sample in &samples {
                let value = json!({ *key: sample.clone() });
                let options = AppOptions::from_stored(map(value.clone()));
                assert_eq!(Value::Object(options.to_map()), value);
            }
        }
        // Every key at once, each with a different sample.
        for shift in 0..samples.len() {
            let mut all = Map::new();
            for (i, key) in keys.clone().enumerate() {
                all.insert(
                    (*key).to_owned(),
                    samples[(i + shift) % samples.len()].clone(),
                );
            }
            let options = AppOptions::from_stored(all.clone());
            assert_eq!(options.to_map(), all);
        }
    }

    #[test]
    fn stored_options_are_read_where_they_fit() {
        let options = AppOptions::from_stored(map(jhub_apps_written()));
        assert_eq!(options.framework(), Some(Framework::Panel));
        assert_eq!(options.title(), Some("My App"));
        assert_eq!(options.conda_env(), None, "empty is absent");
        assert_eq!(options.custom_command(), None);
        assert_eq!(options.profile_image(), None);
        assert_eq!(options.repository().unwrap().git_ref(), Some("main"));
        assert_eq!(options.share_users(), ["bob"]);
        assert_eq!(options.share_groups(), ["class-A"]);
        assert_eq!(
            options.extra.keys().collect::<Vec<_>>(),
            ["another", "future_key"]
        );
        let older = AppOptions::from_stored(map(json!({"share_with": {}, "repository": null})));
        assert!(older.share_users().is_empty());
        assert!(older.repository().is_none());
        assert!(older.extra.contains_key("repository"), "null kept");
        // The whole stored definition passes the checks it passed when it was made.
        assert_eq!(options.validate(), Ok(Framework::Panel));
    }

    #[test]
    fn requests_with_wrong_types_name_the_field() {
        for (value, field) in [
            (
                json!({"framework": 3}),
                "user_options.framework must be a string",
            ),
            (
                json!({"display_name": ["x"]}),
                "user_options.display_name must be a string",
            ),
            (
                json!({"public": "yes"}),
                "user_options.public must be true or false",
            ),
            (
                json!({"keep_alive": 1}),
                "user_options.keep_alive must be true or false",
            ),
            (
                json!({"env": {"A": 1}}),
                "user_options.env must be an object of string values",
            ),
            (json!({"env": ["A"]}), "user_options.env must be"),
            (
                json!({"share_with": ["bob"]}),
                "user_options.share_with must be",
            ),
            (
                json!({"share_with": {"users": "bob"}}),
                "user_options.share_with.users must be a list",
            ),
            (
                json!({"share_with": {"groups": [1]}}),
                "user_options.share_with.groups must be",
            ),
            (
                json!({"repository": "https://x"}),
                "user_options.repository must be",
            ),
            (
                json!({"repository": {"url": 1}}),
                "user_options.repository.url must be a string",
            ),
            (
                json!({"repository": {"url": "u", "ref": false}}),
                "user_options.repository.ref must be",
            ),
        ] {
            match parse(value.clone()) {
                Err(AppError::Invalid(message)) => {
                    assert!(message.contains(field), "{value}: {message}");
                }
                other => panic!("{value}: {other:?}"),
            }
        }
        // Nulls, empty strings and unknown keys are accepted and kept.
        let options = parse(
            json!({"framework": "panel", "env": null, "repository": null,
                                   "conda_env": "", "mine": 1}),
        )
        .unwrap();
        assert_eq!(options.to_map()["env"], Value::Null);
        assert_eq!(options.to_map()["mine"], 1);
        assert_eq!(policy().check(&options), Ok(Framework::Panel));
    }

    #[test]
    fn share_with_is_normalised_and_deduplicated() {
        let options = parse(json!({"framework": "panel", "share_with": {}})).unwrap();
        assert_eq!(
            options.to_map()["share_with"],
            json!({"users": [], "groups": []}),
            "jhub-apps' edit page reads both lists back"
        );
        let options = parse(json!({"framework": "panel",
            "share_with": {"users": ["bob", "carol", "bob"], "groups": ["t", "t"]}}))
        .unwrap();
        assert_eq!(
            options.to_map()["share_with"],
            json!({"users": ["bob", "carol"], "groups": ["t"]})
        );
        assert_eq!(options.share_users(), ["bob", "carol"]);
        // Stored lists are read once per name too, without changing what is stored.
        let stored =
            AppOptions::from_stored(map(json!({"share_with": {"users": ["b", "a", "b"]}})));
        assert_eq!(stored.share_users(), ["b", "a"]);
        assert_eq!(
            stored.to_map()["share_with"]["users"],
            json!(["b", "a", "b"])
        );
    }

    #[test]
    fn share_targets_are_capped() {
        let names = |n: usize, prefix: &str| -> Vec<String> {
            (0..n).map(|i| format!("{prefix}{i}")).collect()
        };
        let ok = json!({"framework": "panel",
            "share_with": {"users": names(60, "u"), "groups": names(40, "g")}});
        assert!(checked(ok).is_ok(), "100 is the default limit");
        invalid(
            json!({"framework": "panel",
                "share_with": {"users": names(60, "u"), "groups": names(41, "g")}}),
            "at most 100",
        );
        // Duplicates do not count.
        let mut repeated = names(100, "u");
        repeated.extend(names(100, "u"));
        assert!(checked(json!({"framework": "panel", "share_with": {"users": repeated}})).is_ok());
        let config = JAppsConfig {
            max_share_targets: 1,
            ..JAppsConfig::default()
        };
        let two =
            parse(json!({"framework": "panel", "share_with": {"users": ["a"], "groups": ["b"]}}))
                .unwrap();
        assert!(matches!(
            AppPolicy::from_config(&config).check(&two),
            Err(AppError::Invalid(_))
        ));
        assert!(matches!(
            AppPolicy::for_operator(&config).check(&two),
            Err(AppError::Invalid(_))
        ));
    }

    #[test]
    fn framework_rules() {
        invalid(json!({}), "framework is required");
        invalid(json!({"framework": " "}), "framework is required");
        invalid(json!({"framework": "cobol"}), "not a framework japps knows");
        assert_eq!(checked(json!({"framework": "voila"})), Ok(Framework::Voila));

        let blocked = JAppsConfig {
            blocked_frameworks: Some(vec!["gradio".into()]),
            ..JAppsConfig::default()
        };
        let gradio = parse(json!({"framework": "gradio"})).unwrap();
        assert_eq!(
            AppPolicy::from_config(&blocked).check(&gradio),
            Err(AppError::NotAllowed(
                "Given framework \"gradio\" is not allowed on this deployment, please contact admin."
                    .into()
            ))
        );
        // The operator's startup apps are not held to the users' framework list.
        assert!(AppPolicy::for_operator(&blocked).check(&gradio).is_ok());
        // Intrinsic validation knows no operator lists.
        assert!(gradio.validate().is_ok());
    }

    fn refused_at(config: &JAppsConfig, value: Value, field: &str) -> String {
        let options = parse(value.clone()).unwrap();
        for policy in [
            AppPolicy::from_config(config),
            AppPolicy::for_operator(config),
        ] {
            match policy.check(&options) {
                Err(AppError::NotAllowed(message)) => {
                    assert!(message.starts_with(field), "{value}: {message}");
                }
                other => panic!("{value}: {other:?}"),
            }
        }
        AppPolicy::from_config(config)
            .check(&options)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn public_apps_only_when_allowed() {
        let public = json!({"framework": "panel", "public": true});
        assert!(
            checked(public.clone()).is_ok(),
            "allowed by default, as in jhub-apps"
        );
        let config = JAppsConfig {
            allow_public_apps: false,
            ..JAppsConfig::default()
        };
        let message = refused_at(&config, public, "user_options.public:");
        assert!(
            message.contains("not allowed on this deployment"),
            "{message}"
        );
        refused_at(
            &config,
            json!({"framework": "panel", "env": {"JHUB_APP_PROXY_ARGS": "--authtype=none"}}),
            "user_options.env: \"JHUB_APP_PROXY_ARGS\"",
        );
        let private = parse(json!({"framework": "panel", "public": false})).unwrap();
        assert!(AppPolicy::from_config(&config).check(&private).is_ok());
    }

    #[test]
    fn keep_alive_only_when_allowed() {
        assert!(checked(json!({"framework": "panel", "keep_alive": true})).is_ok());
        let config = JAppsConfig {
            allow_keep_alive: false,
            ..JAppsConfig::default()
        };
        refused_at(
            &config,
            json!({"framework": "panel", "keep_alive": true}),
            "user_options.keep_alive:",
        );
        refused_at(
            &config,
            json!({"framework": "panel", "env": {"JH_APPS_KEEP_ALIVE": "true"}}),
            "user_options.env: \"JH_APPS_KEEP_ALIVE\"",
        );
        refused_at(
            &config,
            json!({"framework": "panel", "env": {"JHUB_APP_PROXY_ARGS": "--keep-alive"}}),
            "user_options.env:",
        );
        let off = parse(json!({"framework": "panel", "keep_alive": false,
            "env": {"JH_APPS_KEEP_ALIVE": "false"}}))
        .unwrap();
        assert!(AppPolicy::from_config(&config).check(&off).is_ok());
    }

    #[test]
    fn final_launcher_args_bind_every_app() {
        let config = JAppsConfig {
            launcher_args: vec!["--ready-timeout=60".into(), "--authtype=oauth".into()],
            ..JAppsConfig::default()
        };
        let message = refused_at(
            &config,
            json!({"framework": "panel", "env": {"JHUB_APP_PROXY_ARGS": "--ready-timeout=600"}}),
            "user_options.env:",
        );
        assert!(message.contains("launcher_args_final"), "{message}");
        refused_at(
            &config,
            json!({"framework": "panel", "env": {"JHUB_APP_PROXY_ARGS": "--authtype none"}}),
            "user_options.env:",
        );
        refused_at(
            &JAppsConfig::default(),
            json!({"framework": "panel", "env": {"JHUB_APP_PROXY_ARGS": "--allow-public"}}),
            "user_options.env:",
        );
        let other = json!({"framework": "panel", "env": {"JHUB_APP_PROXY_ARGS": "--exit-grace=5"}});
        assert!(
            AppPolicy::from_config(&config)
                .check(&parse(other).unwrap())
                .is_ok()
        );
        let open = JAppsConfig {
            launcher_args_final: false,
            ..config
        };
        let longer = json!({"framework": "panel",
            "env": {"JHUB_APP_PROXY_ARGS": "--ready-timeout=600"}});
        assert!(
            AppPolicy::from_config(&open)
                .check(&parse(longer).unwrap())
                .is_ok()
        );
    }

    #[test]
    fn custom_images_only_when_allowed() {
        let imaged = parse(json!({"framework": "panel", "profile_image": "evil/miner"})).unwrap();
        assert!(
            matches!(policy().check(&imaged), Err(AppError::NotAllowed(m)) if m.contains("profile_image"))
        );
        let allowed = JAppsConfig {
            allow_profile_image: true,
            ..JAppsConfig::default()
        };
        assert!(AppPolicy::from_config(&allowed).check(&imaged).is_ok());
        let blank = parse(json!({"framework": "panel", "profile_image": "  "})).unwrap();
        assert!(policy().check(&blank).is_ok(), "blank means none");
    }

    #[test]
    fn custom_apps_need_a_command_that_splits() {
        invalid(json!({"framework": "custom"}), "needs a command");
        invalid(
            json!({"framework": "custom", "custom_command": "  "}),
            "needs a command",
        );
        invalid(
            json!({"framework": "custom", "custom_command": "python -c 'print(1)"}),
            "unbalanced quote",
        );
        invalid(
            json!({"framework": "custom", "custom_command": "run \\"}),
            "unbalanced quote",
        );
        invalid(
            json!({"framework": "custom", "custom_command": "'' --port {port}"}),
            "does not name a program",
        );
        assert!(
            checked(json!({"framework": "custom",
                "custom_command": "python -m http.server {port} --bind 127.0.0.1"}))
            .is_ok()
        );
        // Other frameworks ignore a leftover command.
        assert!(checked(json!({"framework": "panel", "custom_command": "'"})).is_ok());
    }

    #[test]
    fn env_rules() {
        for refused in [
            "JUPYTERHUB_API_TOKEN",
            "jupyterhub_api_url",
            "JPY_API_TOKEN",
            "JAPPS_APP",
            "japps_app",
        ] {
            invalid(
                json!({"framework": "panel", "env": {refused: "x"}}),
                "set by the hub and japps",
            );
        }
        for bad in ["", "1A", "A-B", "A=B", "A B", "É"] {
            invalid(
                json!({"framework": "panel", "env": {bad: "x"}}),
                "not a variable name",
            );
        }
        invalid(
            json!({"framework": "panel", "env": {"A": "x\u{0}y"}}),
            "NUL",
        );
        assert!(
            checked(json!({"framework": "panel",
                "env": {"_A1": "", "MODE": "demo", "JAPPS_APPX": "ok", "JH_APPS_KEEP_ALIVE": "1"}}))
            .is_ok()
        );
    }

    #[test]
    fn jupyterlab_apps_are_not_shared() {
        invalid(
            json!({"framework": "jupyterlab", "share_with": {"users": ["bob"]}}),
            "JupyterLab apps cannot be shared",
        );
        invalid(
            json!({"framework": "jupyterlab", "share_with": {"groups": ["team"]}}),
            "JupyterLab apps cannot be shared",
        );
        assert!(
            checked(json!({"framework": "jupyterlab", "share_with": {"users": [], "groups": []}}))
                .is_ok()
        );
    }

    #[test]
    fn repositories_need_a_url() {
        invalid(
            json!({"framework": "panel", "repository": {}}),
            "repository.url is required",
        );
        invalid(
            json!({"framework": "panel", "repository": {"url": " ", "ref": "main"}}),
            "repository.url is required",
        );
        let options = parse(json!({"framework": "panel",
            "repository": {"url": "https://x/y.git", "ref": "", "config_directory": "."}}))
        .unwrap();
        assert!(policy().check(&options).is_ok());
        assert_eq!(options.repository().unwrap().git_ref(), None);
    }

    #[test]
    fn titles_are_kept_as_typed() {
        for (typed, fallback, title) in [
            ("  a/b Report ", "x", "a/b Report"),
            ("Q1 / Q2", "x", "Q1 / Q2"),
            ("", "Fallback ", "Fallback"),
            ("   ", "From name", "From name"),
            ("/", "x", "/"),
        ] {
            let mut options = parse(json!({"display_name": typed})).unwrap();
            assert_eq!(options.settle_title(fallback).unwrap(), title);
            assert_eq!(options.display_name.as_deref(), Some(title));
        }
        let mut nameless = parse(json!({})).unwrap();
        assert!(matches!(
            nameless.settle_title(" "),
            Err(AppError::Invalid(m)) if m.contains("display_name")
        ));
    }

    #[test]
    fn sharees_see_the_app_not_its_configuration() {
        let options = AppOptions::from_stored(map(jhub_apps_written()));
        let seen = options.for_sharee().to_map();
        let keys: Vec<&str> = seen.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "description",
                "display_name",
                "framework",
                "jhub_app",
                "keep_alive",
                "name",
                "public",
                "thumbnail"
            ]
        );
        assert_eq!(seen["display_name"], "My App");
    }

    #[test]
    fn keys_are_the_fields() {
        let filled = AppOptions::from_stored(map(jhub_apps_written()));
        let mut written: Vec<String> = filled.to_map().into_iter().map(|(k, _)| k).collect();
        written.retain(|key| !filled.extra.contains_key(key));
        let mut keys: Vec<&str> = KEYS.to_vec();
        keys.sort_unstable();
        assert_eq!(written, keys, "every key is a typed field");
        for key in LAUNCHER_KEYS {
            assert!(KEYS.contains(&key), "{key}");
        }
    }
}
