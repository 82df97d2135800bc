//! Types that exist only to describe JSON in the API description: the stored
//! `user_options` are free-form JSON (jhub-apps' shapes, other keys kept), read through
//! `japps_domain::AppOptions`; these name its keys for readers of `openapi.json` (a test
//! keeps the two lists equal). Both the application layer and the routes refer to them.

use std::collections::BTreeMap;

use utoipa::ToSchema;

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
