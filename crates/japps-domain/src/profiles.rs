//! Spawner profiles (`c.KubeSpawner.profile_list`) as the launcher offers them.
//!
//! The launcher stores the chosen profile's `slug` in `user_options.profile`, and
//! KubeSpawner looks the profile up by that slug; a profile without one gets the slug
//! KubeSpawner itself would give it, made from `display_name`. jhub-apps added slugs only
//! to profiles that came from a callable, so static lists without slugs could not be chosen.

use serde_json::{Map, Value};

/// Why a value is not a profile list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("a profile list must be a list, not {0}")]
    NotAList(&'static str),
    #[error("profile {index} is {kind}, not an object")]
    NotAnObject { index: usize, kind: &'static str },
}

/// A profile list from configuration or from a callable, each profile given a `slug` when
/// it has none (and a `display_name` to make it from).
pub fn profile_list(value: Value) -> Result<Vec<Map<String, Value>>, ProfileError> {
    let Value::Array(items) = value else {
        return Err(ProfileError::NotAList(kind(&value)));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::Object(profile) => Ok(with_slug(profile)),
            other => Err(ProfileError::NotAnObject {
                index,
                kind: kind(&other),
            }),
        })
        .collect()
}

/// The profile, with `slug` made from `display_name` if it has none (and the name has
/// letters or digits to make one from).
pub fn with_slug(mut profile: Map<String, Value>) -> Map<String, Value> {
    if !profile.contains_key("slug")
        && let Some(Value::String(display_name)) = profile.get("display_name")
    {
        let slug = slugify(display_name);
        if !slug.is_empty() {
            profile.insert("slug".to_owned(), Value::String(slug));
        }
    }
    profile
}

/// A URL-safe slug of `text`, as python-slugify (which KubeSpawner uses) makes it for
/// ordinary names: accents dropped (`é` → `e`, `ß` → `ss`), apostrophes removed, lowercase,
/// every run of other characters replaced by one `-`, no `-` at either end.
/// `"Small Instance (2 CPU)"` → `"small-instance-2-cpu"`.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut pending_dash = false;
    let mut push = |c: char, slug: &mut String| {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    };
    for c in text.chars() {
        if matches!(c, '\'' | '\u{2019}') {
            continue;
        }
        match fold(c) {
            Some(ascii) => ascii.chars().for_each(|a| push(a, &mut slug)),
            None => push(c, &mut slug),
        }
    }
    slug
}

/// ASCII spellings of common accented Latin letters.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'ç' | 'ć' | 'č' => "c",
        'Ç' | 'Ć' | 'Č' => "C",
        'ď' | 'đ' => "d",
        'Ď' | 'Đ' => "D",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' | 'İ' => "I",
        'ł' | 'ľ' => "l",
        'Ł' | 'Ľ' => "L",
        'ñ' | 'ń' | 'ň' => "n",
        'Ñ' | 'Ń' | 'Ň' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
        'ř' => "r",
        'Ř' => "R",
        'ś' | 'š' | 'ş' => "s",
        'Ś' | 'Š' | 'Ş' => "S",
        'ť' | 'ţ' => "t",
        'Ť' | 'Ţ' => "T",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ß' => "ss",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'þ' => "th",
        'Þ' => "TH",
        _ => return None,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn slugs_like_kubespawner() {
        for (name, slug) in [
            ("Small Instance", "small-instance"),
            (
                "Small Instance (2 CPU, 4 GiB)",
                "small-instance-2-cpu-4-gib",
            ),
            ("  GPU -- A100  ", "gpu-a100"),
            ("Data Scientist's env", "data-scientists-env"),
            ("Größe L", "grosse-l"),
            ("Café Crème", "cafe-creme"),
            ("UPPER_case.name", "upper-case-name"),
            ("", ""),
            ("!!!", ""),
            ("数据", ""),
        ] {
            assert_eq!(slugify(name), slug, "{name:?}");
        }
    }

    #[test]
    fn missing_slugs_are_added_existing_kept() {
        let profiles = profile_list(json!([
            {"display_name": "Small Instance", "description": "2 CPU", "default": true},
            {"display_name": "GPU", "slug": "gpu-custom"},
            {"description": "no display name"},
            {"display_name": 3},
            {"display_name": "!!!"},
        ]))
        .unwrap();
        assert_eq!(profiles[0]["slug"], "small-instance");
        assert_eq!(profiles[0]["default"], true);
        assert_eq!(profiles[1]["slug"], "gpu-custom");
        assert!(!profiles[2].contains_key("slug"));
        assert!(!profiles[3].contains_key("slug"));
        assert!(!profiles[4].contains_key("slug"), "no empty slugs");
    }

    #[test]
    fn other_shapes_are_refused() {
        assert_eq!(
            profile_list(json!({"a": 1})).unwrap_err(),
            ProfileError::NotAList("an object")
        );
        assert_eq!(
            profile_list(json!([{"display_name": "a"}, "b"])).unwrap_err(),
            ProfileError::NotAnObject {
                index: 1,
                kind: "a string"
            }
        );
        assert!(profile_list(json!([])).unwrap().is_empty());
    }
}
