//! Types that exist only to describe JSON in the API description, for bodies the code
//! builds as untyped JSON: the stored `user_options` (read through
//! `japps_domain::AppOptions`, whose keys a test keeps equal to these), the hub's own
//! server model under `user.servers`, spawner profiles, the theme, the multipart form.
//! They name the known keys for readers of `openapi.json`; the tests check them against
//! what the code really sends. Both the application layer and the routes refer to them.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Schema, Type};

/// An app's definition, kept in its server's `user_options` (jhub-apps' `UserOptions`).
/// Every key is optional: the default server has `{}` or just a `profile`, and other
/// keys may be present.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only: user_options are free-form JSON")]
pub(crate) struct UserOptions {
    /// The server name.
    name: Option<String>,
    /// Set on servers that are apps.
    jhub_app: Option<bool>,
    display_name: Option<String>,
    description: Option<String>,
    /// A `data:` URL.
    thumbnail: Option<String>,
    /// The app's file, for frameworks that serve a file.
    filepath: Option<String>,
    /// A name from `frameworks/`.
    framework: Option<String>,
    /// The command of a `custom` app.
    custom_command: Option<String>,
    public: Option<bool>,
    keep_alive: Option<bool>,
    env: Option<BTreeMap<String, String>>,
    repository: Option<Repository>,
    conda_env: Option<String>,
    /// A `slug` from `spawner-profiles/`.
    profile: Option<String>,
    profile_image: Option<String>,
    share_with: Option<ShareWith>,
}

/// Where an app's code comes from.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub(crate) struct Repository {
    url: String,
    config_directory: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
}

/// Whom an app is shared with.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub(crate) struct ShareWith {
    users: Vec<String>,
    groups: Vec<String>,
}

/// A server as the hub reports it in a user model (`GET user`'s `servers`).
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "a schema only: mirrors japps_hub::Server's serialization"
)]
pub(crate) struct HubServer {
    /// The server name; `""` is the default server.
    name: String,
    /// JupyterHub 6 only.
    display_name: Option<String>,
    /// `owner/name`.
    full_name: String,
    url: String,
    ready: bool,
    stopped: bool,
    pending: Option<String>,
    started: Option<String>,
    last_activity: Option<String>,
    #[schema(value_type = UserOptions)]
    user_options: BTreeMap<String, Value>,
    progress_url: Option<String>,
    full_url: Option<String>,
    full_progress_url: Option<String>,
    /// The spawner's state; null unless the token may read it.
    #[schema(value_type = Option<Object>)]
    state: Option<Value>,
}

/// One entry of KubeSpawner's `profile_list`, as configured; other keys may be present.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only: profiles are the operator's JSON")]
pub(crate) struct SpawnerProfile {
    display_name: Option<String>,
    /// Made from `display_name` when the profile has none.
    slug: Option<String>,
    description: Option<String>,
    default: Option<bool>,
    /// KubeSpawner settings (`image`, `cpu_limit`, `mem_limit`, ...).
    #[schema(value_type = Option<Object>)]
    kubespawner_override: Option<Value>,
}

/// A create or edit request: a multipart form (or a URL-encoded one, without the file).
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "a schema only: routes::lifecycle::AppForm reads the parts"
)]
pub(crate) struct AppFormBody {
    /// JSON of `{"servername": string, "user_options": UserOptions}`; the server name of
    /// a new app is made from `user_options.display_name`.
    #[schema(
        example = r#"{"servername": "sales", "user_options": {"jhub_app": true, "display_name": "Sales", "framework": "panel", "filepath": "app.py"}}"#
    )]
    data: String,
    /// An image (PNG, JPEG, GIF or WebP, checked by its content), scaled down and kept as
    /// the app's thumbnail.
    #[schema(value_type = Option<String>, format = Binary, content_media_type = "application/octet-stream")]
    thumbnail: Option<Vec<u8>>,
    /// A thumbnail as a `data:` URL when no file is sent: on edit the current one (kept),
    /// on create e.g. the one `app-config-from-git/` returned (checked like an upload).
    thumbnail_data_url: Option<String>,
}

/// The answer to a create or edit, in jhub-apps' shape: `[status, servername]`, the hub's
/// status for the start (201 started, 202 starting, or the hub's error status) and the
/// app's server name, and a third element `{"warnings": [...]}` when the app is saved but
/// something else (a share, the start) did not work. Written by hand: `prefixItems`.
#[derive(Debug)]
pub(crate) struct AppAnswer;

impl utoipa::PartialSchema for AppAnswer {
    fn schema() -> RefOr<Schema> {
        let status = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some("The hub's status for the start."));
        let name = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The app's server name."));
        let warnings = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("What did not work although the app is saved."))
            .property(
                "warnings",
                ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)),
            )
            .required("warnings");
        ArrayBuilder::new()
            .description(Some(
                "`[status, servername]`, or `[status, servername, {\"warnings\": [...]}]`.",
            ))
            .prefix_items([status, name, warnings])
            .items(ArrayItems::False)
            .min_items(Some(2))
            .max_items(Some(3))
            .examples([serde_json::json!([202, "sales"])])
            .into()
    }
}

impl ToSchema for AppAnswer {}

/// `config.json`.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only: japps_domain::theme builds JSON")]
pub(crate) struct ConfigJson {
    theme: ThemeJson,
    /// The japps version.
    version: String,
    banners: Banners,
}

/// The launcher's theme, from `c.JupyterHub.template_vars`.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only: japps_domain::theme builds JSON")]
pub(crate) struct ThemeJson {
    /// The logo's URL (japps' own unless the operator set one).
    logo: String,
    favicon: String,
    font: Font,
    /// The colours the operator set; the others are null.
    colors: ThemeColors,
    /// CSS custom properties for `:root`.
    #[serde(rename = "cssVariables")]
    css_variables: BTreeMap<String, String>,
}

#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub(crate) struct Font {
    /// A CSS font-family list.
    family: String,
    /// A style sheet to import for the font.
    url: Option<String>,
}

#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[expect(dead_code, reason = "a schema only")]
pub(crate) struct ThemeColors {
    primary: Option<String>,
    primary_light: Option<String>,
    primary_dark: Option<String>,
    secondary: Option<String>,
    secondary_dark: Option<String>,
    accent: Option<String>,
    accent_dark: Option<String>,
    text: Option<String>,
    heading: Option<String>,
    heading2: Option<String>,
    navbar: Option<String>,
    navbar_text: Option<String>,
    navbar_hover: Option<String>,
}

#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub(crate) struct Banners {
    top: Banner,
    bottom: Banner,
}

/// A banner; one with empty text is not shown.
#[derive(Debug, ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub(crate) struct Banner {
    text: String,
    /// A CSS colour.
    background: Option<String>,
    foreground: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::PartialSchema;
    use utoipa::openapi::{RefOr, Schema};

    use super::UserOptions;

    /// The API description lists exactly the keys of the app definition.
    #[test]
    fn user_options_are_the_app_definition() {
        let RefOr::T(Schema::Object(object)) = UserOptions::schema() else {
            panic!("UserOptions is an object schema");
        };
        let described: BTreeSet<&str> = object.properties.keys().map(String::as_str).collect();
        let defined: BTreeSet<&str> = japps_domain::app::KEYS.into_iter().collect();
        assert_eq!(described, defined);
    }
}
