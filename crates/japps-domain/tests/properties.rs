//! Property tests of the domain's parsers, the ones that take what users and operators type:
//! server names from titles, app definitions, and the theme's CSS values (which end up
//! inside a `<style>` element of every page).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use japps_domain::naming::{MAX_LEN, is_valid, slug, unique};
use japps_domain::theme::{css_color, font_family, font_url, image_url};
use japps_domain::{AppOptions, AppPolicy, JAppsConfig};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Strings that mix what breaks parsers: CSS and HTML punctuation, quotes, escapes,
/// control characters, non-ASCII, and the words the parsers look for.
fn nasty() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("#".to_owned()),
        Just("rgb(".to_owned()),
        Just(")".to_owned()),
        Just("}".to_owned()),
        Just("{".to_owned()),
        Just(";".to_owned()),
        Just("</style>".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("\\".to_owned()),
        Just("/*".to_owned()),
        Just("url(".to_owned()),
        Just("data:image/png;base64,".to_owned()),
        Just("https://".to_owned()),
        Just("//".to_owned()),
        Just("\n".to_owned()),
        Just(" ".to_owned()),
        Just("%".to_owned()),
        "[a-zA-Z0-9]{1,6}",
        "\\PC{1,3}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(pieces, 0..12).prop_map(|parts| parts.concat())
}

/// Characters that could end a CSS declaration, block or string, or the `<style>` element.
fn breaks_css(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || matches!(c, ';' | '{' | '}' | '<' | '>' | '\\'))
        || text.contains("/*")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_title_gives_a_valid_name(title in nasty()) {
        let name = slug(&title);
        prop_assert!(is_valid(&name), "{title:?} -> {name:?}");
        prop_assert!(name.len() <= MAX_LEN);
        // A valid name is its own slug: editing an app never renames it.
        prop_assert_eq!(slug(&name), name);
    }

    #[test]
    fn unique_names_are_valid_and_free(title in nasty(), taken in prop::collection::vec("[a-z][a-z0-9-]{0,12}", 0..6)) {
        let mut taken: BTreeSet<String> = taken.into_iter().collect();
        // The slug itself is taken, so a suffixed name must be found.
        taken.insert(slug(&title));
        let name = unique(&title, |n| taken.contains(n));
        prop_assert!(is_valid(&name), "{name:?}");
        prop_assert!(!taken.contains(&name));
    }

    #[test]
    fn css_colours_cannot_break_out(value in nasty()) {
        if let Some(color) = css_color(&value) {
            prop_assert!(!breaks_css(&color), "{value:?} -> {color:?}");
            prop_assert!(!color.contains(['"', '\'']));
        }
    }

    #[test]
    fn font_families_cannot_break_out(value in nasty()) {
        if let Some(family) = font_family(&value) {
            prop_assert!(!breaks_css(&family), "{value:?} -> {family:?}");
        }
    }

    #[test]
    fn urls_cannot_end_a_css_string_or_an_attribute(value in nasty()) {
        for checked in [font_url(&value), image_url(&value)].into_iter().flatten() {
            prop_assert!(
                !checked.chars().any(|c| c.is_control() || c.is_whitespace()
                    || matches!(c, '"' | '\'' | '\\' | '<' | '>')),
                "{value:?} -> {checked:?}"
            );
            let scheme_ok = checked.starts_with("https://")
                || checked.starts_with("http://")
                || checked.starts_with("data:image/")
                || (checked.starts_with('/') && !checked.starts_with("//"));
            prop_assert!(scheme_ok, "{value:?} -> {checked:?}");
        }
    }
}

/// JSON values of every kind, nested a little, with keys the app definition knows.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        nasty().prop_map(Value::String),
        prop_oneof![
            Just("panel"),
            Just("custom"),
            Just("jupyterlab"),
            Just("streamlit"),
            Just("python {port}")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![
            Just("display_name"),
            Just("description"),
            Just("framework"),
            Just("custom_command"),
            Just("env"),
            Just("share_with"),
            Just("users"),
            Just("groups"),
            Just("repository"),
            Just("url"),
            Just("public"),
            Just("keep_alive"),
            Just("filepath"),
            Just("thumbnail"),
            Just("conda_env"),
            Just("profile"),
            Just("profile_image"),
            Just("JHUB_APP_PROXY_ARGS"),
        ]
        .prop_map(str::to_owned),
        "[A-Za-z_]{1,8}",
    ]
}

fn definition() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), json_value(), 0..10).prop_map(|m| m.into_iter().collect())
}

/// The owner's configuration that a sharee must never see.
const OWNER_ONLY: [&str; 5] = [
    "env",
    "custom_command",
    "repository",
    "filepath",
    "conda_env",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_definition_is_parsed_or_refused_without_panicking(map in definition()) {
        let policy = AppPolicy::for_operator(&JAppsConfig::default());
        if let Ok(mut options) = AppOptions::parse(map.clone()) {
            // What is stored reads back the same.
            let stored = options.to_map();
            let again = AppOptions::parse(stored.clone()).unwrap();
            prop_assert_eq!(again.to_map(), stored);
            let _ = policy.check(&options);
            let _ = options.settle_title("fallback");
        }
        // Whatever the hub holds (also what japps would refuse) is read without panicking,
        // and a sharee's copy holds nothing of the owner's configuration.
        let shared = AppOptions::from_stored(map).for_sharee().to_map();
        for key in OWNER_ONLY {
            prop_assert!(!shared.contains_key(key), "{key} reached a sharee: {shared:?}");
        }
    }
}
