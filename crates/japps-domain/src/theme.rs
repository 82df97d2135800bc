//! The launcher's look, from the operator's `c.JupyterHub.template_vars` (+ banners).
//!
//! Three faces, with jhub-apps' shapes: `config.json` (`{theme, version, banners}`), `theme`
//! (the `theme` object alone) and `theme.css` (an optional font `@import` and a `:root`
//! block of custom properties). As in jhub-apps 2026.9.1, `config.json` carries only the
//! colours the operator set, so a UI keeps its own light and dark palettes for the rest,
//! while `theme.css` (for pages without such a palette) fills in defaults underneath.
//!
//! Every value that reaches CSS is checked against a small grammar first (colours, font
//! family lists, http(s) or same-origin font URLs). A value that does not fit is dropped
//! and reported, so no template variable can end a declaration or a block, open a comment
//! or a string, or pull in a URL: only the font `@import url("…")` japps writes itself, from
//! a URL it parsed and re-serialised.

use serde_json::{Map, Value, json};
use url::Url;

use crate::config::{Banner, Banners};

/// A theme colour: its `template_vars` key, its key under `config.json`'s `theme.colors`
/// (if it has one), the custom properties it sets, and its default on server pages.
#[derive(Debug, Clone, Copy)]
struct ColorKey {
    var: &'static str,
    json: Option<&'static str>,
    css: &'static [&'static str],
    default: &'static str,
}

/// The colour keys of jhub-apps' `template_vars`. The names are an interface (operators'
/// configs and custom CSS use them); the default values are japps' own.
const COLORS: [ColorKey; 14] = [
    ColorKey {
        var: "primary_color",
        json: Some("primary"),
        css: &["--primary-color"],
        default: "#5b4bc4",
    },
    ColorKey {
        var: "primary_color_light",
        json: Some("primaryLight"),
        css: &["--primary-color-light", "--primary-light"],
        default: "#f2f0fb",
    },
    ColorKey {
        var: "primary_color_dark",
        json: Some("primaryDark"),
        css: &["--primary-color-dark"],
        default: "#44379a",
    },
    ColorKey {
        var: "secondary_color",
        json: Some("secondary"),
        css: &["--secondary-color"],
        default: "#21786e",
    },
    ColorKey {
        var: "secondary_color_dark",
        json: Some("secondaryDark"),
        css: &["--secondary-color-dark", "--secondary-dark"],
        default: "#175850",
    },
    ColorKey {
        var: "accent_color",
        json: Some("accent"),
        css: &["--accent-color", "--link-hover-color"],
        default: "#b7771a",
    },
    ColorKey {
        var: "accent_color_dark",
        json: Some("accentDark"),
        css: &["--accent-color-dark"],
        default: "#875711",
    },
    ColorKey {
        var: "accent_text_color",
        json: None,
        css: &["--accent-text-color"],
        default: "#1d1d22",
    },
    ColorKey {
        var: "text_color",
        json: Some("text"),
        css: &["--text-color", "--link-text-color"],
        default: "#26262b",
    },
    ColorKey {
        var: "h1_color",
        json: Some("heading"),
        css: &["--heading-color"],
        default: "#1b1b1f",
    },
    ColorKey {
        var: "h2_color",
        json: Some("heading2"),
        css: &["--h2-color"],
        default: "#1b1b1f",
    },
    ColorKey {
        var: "navbar_color",
        json: Some("navbar"),
        css: &["--navbar-background-color"],
        default: "#f6f6f7",
    },
    ColorKey {
        var: "navbar_text_color",
        json: Some("navbarText"),
        css: &["--navbar-text-color"],
        default: "#26262b",
    },
    ColorKey {
        var: "navbar_hover_color",
        json: Some("navbarHover"),
        css: &["--navbar-hover-color"],
        default: "#eaeaec",
    },
];

/// Custom properties that do not depend on the configuration (sizes, focus styles, the
/// few colours no template variable sets).
const FIXED_CSS: [(&str, &str); 19] = [
    ("--font-size-base", "100%"),
    ("--line-height-base", "1.6"),
    ("--headings-line-height", "1.25"),
    ("--h1-font-size", "2rem"),
    ("--h2-font-size", "1.375rem"),
    ("--h3-font-size", "1.125rem"),
    ("--h4-font-size", "1rem"),
    ("--h5-font-size", "0.875rem"),
    ("--h6-font-size", "0.8125rem"),
    ("--light-text-color", "#f4f4f6"),
    ("--danger-color", "#c8324b"),
    ("--danger-color-dark", "#9e253a"),
    ("--gray-color", "#ececee"),
    ("--gray-color-dark", "#dcdce0"),
    ("--blue-link-color", "#2a62d4"),
    ("--focus-width", "2px"),
    ("--outline-offset", "0.2rem"),
    ("--outline-reset", "1px solid transparent"),
    ("--text-decoration-thickness", "1px"),
];

const FONT_VARS: [&str; 3] = [
    "--app-font-family",
    "--base-font-family",
    "--headings-font-family",
];

/// System fonts: nothing to download, so pages look right on air-gapped hubs too.
pub const DEFAULT_FONT_FAMILY: &str =
    "system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, sans-serif";

const MAX_VALUE_CHARS: usize = 2048;

/// A `template_vars` (or banner) value that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub key: String,
    pub reason: &'static str,
}

/// The validated theme.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub logo: String,
    pub favicon: String,
    pub font_family: String,
    /// An absolute http(s) URL or a same-origin path, re-serialised.
    pub font_url: Option<String>,
    /// Operator-set colours by `template_vars` key, valid CSS colours only.
    colors: Map<String, Value>,
    banners: Value,
}

impl Theme {
    /// Builds the theme from `template_vars` and the banners; `default_logo` and
    /// `default_favicon` are URLs of japps' own artwork. Returns the values it dropped too.
    pub fn new(
        template_vars: &Map<String, Value>,
        banners: &Banners,
        default_logo: &str,
        default_favicon: &str,
    ) -> (Self, Vec<Rejected>) {
        let mut rejected = Vec::new();
        let mut string = |key: &str, check: fn(&str) -> Option<String>| -> Option<String> {
            let value = template_vars.get(key)?;
            let checked = match value {
                Value::Null => return None,
                Value::String(text) => check(text),
                _ => None,
            };
            if checked.is_none() {
                rejected.push(Rejected {
                    key: key.to_owned(),
                    reason: reason(key),
                });
            }
            checked
        };
        let logo = string("logo", image_url).unwrap_or_else(|| default_logo.to_owned());
        let favicon = string("favicon", image_url).unwrap_or_else(|| default_favicon.to_owned());
        let font_family =
            string("font_family", font_family).unwrap_or_else(|| DEFAULT_FONT_FAMILY.to_owned());
        let font_url = string("font_url", font_url);
        let mut colors = Map::new();
        for key in &COLORS {
            if let Some(color) = string(key.var, css_color) {
                colors.insert(key.var.to_owned(), Value::String(color));
            }
        }
        let banners = json!({
            "top": banner("top", &banners.top, &mut rejected),
            "bottom": banner("bottom", &banners.bottom, &mut rejected),
        });
        let theme = Self {
            logo,
            favicon,
            font_family,
            font_url,
            colors,
            banners,
        };
        (theme, rejected)
    }

    /// The operator-set colour of a `template_vars` key.
    pub fn color(&self, var: &str) -> Option<&str> {
        self.colors.get(var).and_then(Value::as_str)
    }

    /// `GET theme`: `{logo, favicon, font: {family, url}, colors: {...}, cssVariables}`;
    /// colours the operator did not set are `null` and have no custom property.
    pub fn theme_json(&self) -> Value {
        let mut colors = Map::new();
        for key in &COLORS {
            if let Some(name) = key.json {
                let value = self.color(key.var).map_or(Value::Null, Value::from);
                colors.insert(name.to_owned(), value);
            }
        }
        let variables: Map<String, Value> = self
            .variables(false)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Value::String(value)))
            .collect();
        json!({
            "logo": self.logo,
            "favicon": self.favicon,
            "font": {"family": self.font_family, "url": self.font_url},
            "colors": colors,
            "cssVariables": variables,
        })
    }

    /// `GET config.json`: `{theme, version, banners}`.
    pub fn config_json(&self, version: &str) -> Value {
        json!({
            "theme": self.theme_json(),
            "version": version,
            "banners": self.banners,
        })
    }

    /// `GET theme.css`: the font import, then every custom property, with japps' default
    /// colours under the ones the operator did not set.
    pub fn css(&self) -> String {
        let mut css = String::new();
        if let Some(url) = &self.font_url {
            // Checked by `font_url`: no quote, backslash or line break can be in it.
            css.push_str(&format!("@import url(\"{url}\");\n"));
        }
        css.push_str(":root {\n");
        for (name, value) in self.variables(true) {
            css.push_str(&format!("  {name}: {value};\n"));
        }
        css.push_str("}\n");
        // Here rather than in `style` attributes: the pages' Content-Security-Policy allows
        // this one inline stylesheet by its hash, and no inline style attribute.
        for side in ["top", "bottom"] {
            let banner = &self.banners[side];
            let mut rules = String::new();
            if let Some(color) = banner["background"].as_str() {
                rules.push_str(&format!(" background: {color};"));
            }
            if let Some(color) = banner["foreground"].as_str() {
                rules.push_str(&format!(" color: {color};"));
            }
            if !rules.is_empty() {
                css.push_str(&format!(".banner-{side} {{{rules} }}\n"));
            }
        }
        css
    }

    /// Custom properties in a stable order: fixed ones, fonts, colours.
    fn variables(&self, with_default_colors: bool) -> Vec<(&'static str, String)> {
        let mut variables: Vec<(&'static str, String)> = FIXED_CSS
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect();
        variables.extend(
            FONT_VARS
                .iter()
                .map(|name| (*name, self.font_family.clone())),
        );
        for key in &COLORS {
            let value = match self.color(key.var) {
                Some(color) => color,
                None if with_default_colors => key.default,
                None => continue,
            };
            variables.extend(key.css.iter().map(|name| (*name, value.to_owned())));
        }
        variables
    }
}

fn banner(side: &str, banner: &Banner, rejected: &mut Vec<Rejected>) -> Value {
    let mut color = |name: &str, value: &Option<String>| -> Value {
        let Some(value) = value else {
            return Value::Null;
        };
        match css_color(value) {
            Some(color) => Value::String(color),
            None => {
                rejected.push(Rejected {
                    key: format!("banners.{side}.{name}"),
                    reason: "not a CSS colour",
                });
                Value::Null
            }
        }
    };
    json!({
        "text": banner.text,
        "background": color("background", &banner.background),
        "foreground": color("foreground", &banner.foreground),
    })
}

fn reason(key: &str) -> &'static str {
    match key {
        "logo" | "favicon" => "not an http(s) URL, a path or a data:image URL",
        "font_family" => "not a list of font names",
        "font_url" => "not an http(s) URL or a path",
        _ => "not a CSS colour",
    }
}

/// A CSS colour: `#rgb[a]`, `#rrggbb[aa]`, a keyword (`red`, `transparent`), or a colour
/// function with plain arguments (`rgb(0 0 0 / 50%)`, `hsl(200, 50%, 40%)`,
/// `oklch(0.6 0.1 250)`). Nothing else: no nesting, quotes or punctuation.
pub fn css_color(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || value.len() > 64 {
        return None;
    }
    if let Some(hex) = value.strip_prefix('#') {
        let ok = matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit());
        return ok.then(|| value.to_owned());
    }
    if value.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(value.to_owned());
    }
    let (name, rest) = value.split_once('(')?;
    let args = rest.strip_suffix(')')?;
    let known = matches!(
        name.to_ascii_lowercase().as_str(),
        "rgb" | "rgba" | "hsl" | "hsla" | "hwb" | "lab" | "lch" | "oklab" | "oklch" | "color"
    );
    let plain = args
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | ',' | '%' | '/' | '+' | '-'));
    (known && plain && !args.trim().is_empty()).then(|| value.to_owned())
}

/// A `font-family` list: comma-separated names, each bare (`sans-serif`, `Open Sans`) or
/// quoted (`'Inter'`, `"Segoe UI"`), made of letters, digits, spaces, `-` and `_`.
pub fn font_family(value: &str) -> Option<String> {
    if value.len() > 256 {
        return None;
    }
    let name_chars = |name: &str| {
        !name.trim().is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_'))
    };
    let mut names = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let quoted = ['\'', '"'].into_iter().any(|quote| {
            item.strip_prefix(quote)
                .and_then(|inner| inner.strip_suffix(quote))
                .is_some_and(name_chars)
        });
        let bare = name_chars(item) && !item.starts_with(|c: char| c.is_ascii_digit());
        if !quoted && !bare {
            return None;
        }
        names.push(item);
    }
    Some(names.join(", "))
}

/// An http(s) URL or a same-origin path (`/…`), as the URL parser re-serialises it, and
/// only if that holds nothing that could end a CSS string or an HTML attribute.
pub fn font_url(value: &str) -> Option<String> {
    let url = web_url(value)?;
    url.chars()
        .all(|c| {
            !c.is_control() && !c.is_whitespace() && !matches!(c, '"' | '\'' | '\\' | '<' | '>')
        })
        .then_some(url)
}

/// A logo or favicon: an http(s) URL, a same-origin path or a `data:image/…` URL.
pub fn image_url(value: &str) -> Option<String> {
    let value = value.trim();
    if let Some(data) = value.strip_prefix("data:image/") {
        let safe = value.len() <= MAX_VALUE_CHARS * 512
            && data.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '+' | '/' | '=' | ';' | ',' | '-' | '.' | '%')
            });
        return safe.then(|| value.to_owned());
    }
    font_url(value)
}

fn web_url(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || value.len() > MAX_VALUE_CHARS || value.contains('\\') {
        return None;
    }
    if value.starts_with('/') {
        if value.starts_with("//") {
            return None;
        }
        let base = Url::parse("http://japps.invalid/").ok()?;
        let url = base.join(value).ok()?;
        if url.host_str() != Some("japps.invalid") {
            return None;
        }
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        return Some(path);
    }
    let url = Url::parse(value).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGO: &str = "/services/japps/static/logos/japps.svg";

    fn vars(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn theme(template_vars: Value) -> (Theme, Vec<Rejected>) {
        Theme::new(&vars(template_vars), &Banners::default(), LOGO, LOGO)
    }

    fn rejected_keys(rejected: &[Rejected]) -> Vec<&str> {
        rejected.iter().map(|r| r.key.as_str()).collect()
    }

    #[test]
    fn defaults_carry_no_brand_colours() {
        let (theme, rejected) = theme(json!({}));
        assert!(rejected.is_empty());
        let config = theme.config_json("1.2.3");
        assert_eq!(config["version"], "1.2.3");
        assert_eq!(config["theme"]["logo"], LOGO);
        assert_eq!(config["theme"]["favicon"], LOGO);
        assert_eq!(config["theme"]["font"]["family"], DEFAULT_FONT_FAMILY);
        assert_eq!(config["theme"]["font"]["url"], Value::Null);
        let colors = config["theme"]["colors"].as_object().unwrap();
        assert_eq!(colors.len(), 13);
        assert!(colors.values().all(Value::is_null), "{colors:?}");
        let variables = config["theme"]["cssVariables"].as_object().unwrap();
        assert!(!variables.contains_key("--primary-color"));
        assert_eq!(variables["--app-font-family"], DEFAULT_FONT_FAMILY);
        assert_eq!(variables["--danger-color"], "#c8324b");
        assert_eq!(
            config["banners"],
            json!({"top": {"text": "", "background": null, "foreground": null},
                   "bottom": {"text": "", "background": null, "foreground": null}})
        );
        assert_eq!(theme.theme_json(), config["theme"]);

        // theme.css falls back to japps' palette.
        let css = theme.css();
        assert!(css.starts_with(":root {\n"), "{css}");
        assert!(css.contains("  --primary-color: #5b4bc4;\n"), "{css}");
        assert!(
            css.contains("  --navbar-background-color: #f6f6f7;\n"),
            "{css}"
        );
        assert!(css.ends_with("}\n"));
    }

    #[test]
    fn operator_values_are_used() {
        let (theme, rejected) = theme(json!({
            "logo": "https://example.org/logo.svg",
            "favicon": "/hub/static/favicon.ico",
            "font_family": "'Inter', sans-serif",
            "font_url": "https://fonts.example.org/css2?family=Inter:wght@300;400&display=swap",
            "primary_color": "#123456",
            "primary_color_light": "#12345610",
            "navbar_color": "rgb(255 255 255 / 90%)",
            "accent_text_color": "black",
            "hub_title": "Not a theme colour",
            "version": "9.9.9",
        }));
        assert!(rejected.is_empty(), "{rejected:?}");
        let config = theme.config_json("1.2.3");
        assert_eq!(config["version"], "1.2.3", "the version is japps'");
        let t = &config["theme"];
        assert_eq!(t["logo"], "https://example.org/logo.svg");
        assert_eq!(t["favicon"], "/hub/static/favicon.ico");
        assert_eq!(t["font"]["family"], "'Inter', sans-serif");
        assert_eq!(t["colors"]["primary"], "#123456");
        assert_eq!(t["colors"]["primaryLight"], "#12345610");
        assert_eq!(t["colors"]["navbar"], "rgb(255 255 255 / 90%)");
        assert_eq!(t["colors"]["secondary"], Value::Null);
        assert_eq!(t["cssVariables"]["--primary-color"], "#123456");
        assert_eq!(t["cssVariables"]["--primary-light"], "#12345610");
        assert_eq!(t["cssVariables"]["--accent-text-color"], "black");
        assert_eq!(
            t["cssVariables"]["--app-font-family"],
            "'Inter', sans-serif"
        );
        assert!(t["cssVariables"].get("--secondary-color").is_none());

        let css = theme.css();
        assert!(
            css.starts_with(
                "@import url(\"https://fonts.example.org/css2?family=Inter:wght@300;400&display=swap\");\n:root {\n"
            ),
            "{css}"
        );
        assert!(css.contains("  --primary-color: #123456;\n"));
        assert!(
            css.contains("  --secondary-color: #21786e;\n"),
            "defaults below"
        );
        assert!(css.contains("  --headings-font-family: 'Inter', sans-serif;\n"));
    }

    /// Declarations of `:root` in `css`, checking the sheet has exactly the structure
    /// japps writes: one optional import, one rule, one declaration per line.
    fn declarations(css: &str) -> Vec<(String, String)> {
        let mut lines = css.lines();
        let mut line = lines.next().unwrap();
        if let Some(import) = line.strip_prefix("@import url(\"") {
            let url = import.strip_suffix("\");").unwrap();
            assert!(!url.contains(['"', '\\', '\n']), "{line}");
            line = lines.next().unwrap();
        }
        assert_eq!(line, ":root {");
        let mut out = Vec::new();
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            let decl = line.strip_prefix("  ").unwrap().strip_suffix(';').unwrap();
            assert!(!decl.contains([';', '{', '}', '<', '>', '\\']), "{line}");
            let (name, value) = decl.split_once(": ").unwrap();
            out.push((name.to_owned(), value.to_owned()));
        }
        assert_eq!(lines.next(), None, "nothing after the rule:\n{css}");
        out
    }

    #[test]
    fn malicious_values_cannot_escape_the_declaration() {
        let evil = [
            "red;} body{display:none",
            "red; background: url(https://evil.example/x)",
            "red}</style><script>alert(1)</script>",
            "#fff\n}\nbody { display: none }",
            "red /* comment",
            "expression(alert(1))",
            "var(--x)",
            "url(https://evil.example/x)",
            "rgb(0,0,0);}",
            "'x'; color: red",
            "red\\;",
        ];
        for value in evil {
            let (theme, rejected) = theme(json!({
                "primary_color": value,
                "font_family": value,
                "font_url": value,
                "logo": value,
            }));
            assert_eq!(
                rejected_keys(&rejected),
                ["logo", "font_family", "font_url", "primary_color"],
                "{value:?}"
            );
            let css = theme.css();
            assert!(!css.contains("display"), "{value:?}:\n{css}");
            assert!(!css.contains("evil"), "{value:?}:\n{css}");
            assert!(!css.contains("script"), "{value:?}:\n{css}");
            let declarations = declarations(&css);
            assert!(declarations.contains(&("--primary-color".into(), "#5b4bc4".into())));
            assert_eq!(theme.logo, LOGO);
        }
    }

    #[test]
    fn font_urls_are_checked_and_reserialised() {
        assert_eq!(
            font_url("/hub/static/fonts.css?x=1").as_deref(),
            Some("/hub/static/fonts.css?x=1")
        );
        assert_eq!(
            font_url("https://fonts.example.org/a b").as_deref(),
            Some("https://fonts.example.org/a%20b")
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/css,body{}",
            "//evil.example/x.css",
            "ftp://example.org/x.css",
            "fonts.css",
            "/x\\y",
            "",
        ] {
            assert_eq!(font_url(bad), None, "{bad:?}");
        }
        // Quotes and braces become percent escapes: the URL stays one CSS string.
        assert_eq!(
            font_url("https://example.org/x\");body{display:none}").as_deref(),
            Some("https://example.org/x%22);body%7Bdisplay:none%7D")
        );
    }

    #[test]
    fn colours_and_fonts_grammar() {
        for good in [
            "#abc",
            "#ABCD",
            "#a1b2c3",
            "#a1b2c3d4",
            "red",
            "transparent",
            "rgb(1, 2, 3)",
            "rgba(1,2,3,0.5)",
            "hsl(200 50% 40%)",
            "oklch(0.6 0.1 250)",
            "color(display-p3 1 0 0)",
        ] {
            assert_eq!(css_color(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "#ab",
            "#abcde",
            "#ggg",
            "",
            "red blue",
            "rgb(1,2,3",
            "rgb((1))",
            "calc(1px)",
            "rgb(var(--a))",
            "#fff;",
        ] {
            assert_eq!(css_color(bad), None, "{bad}");
        }
        assert_eq!(
            font_family("'Inter',sans-serif").as_deref(),
            Some("'Inter', sans-serif")
        );
        assert_eq!(
            font_family("\"Segoe UI\", Open Sans, system-ui").as_deref(),
            Some("\"Segoe UI\", Open Sans, system-ui")
        );
        for bad in [
            "'Inter", "Inter'", "'a'b'", "a;b", "", "a,,b", "1abc", "'x\\'",
        ] {
            assert_eq!(font_family(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn banners_keep_text_and_valid_colours() {
        let banners = Banners {
            top: Banner {
                text: "Maintenance <tonight>".into(),
                background: Some("#b00".into()),
                foreground: Some("white;}".into()),
            },
            bottom: Banner::default(),
        };
        let (theme, rejected) = Theme::new(&Map::new(), &banners, LOGO, LOGO);
        assert_eq!(rejected_keys(&rejected), ["banners.top.foreground"]);
        assert_eq!(
            theme.config_json("x")["banners"]["top"],
            json!({"text": "Maintenance <tonight>", "background": "#b00", "foreground": null})
        );
        let css = theme.css();
        assert!(css.contains(".banner-top { background: #b00; }\n"), "{css}");
        assert!(
            !css.contains("white") && !css.contains(".banner-bottom"),
            "{css}"
        );
    }

    #[test]
    fn non_string_values_are_rejected() {
        let (theme, rejected) = theme(json!({"primary_color": 5, "logo": null, "favicon": ["x"]}));
        assert_eq!(rejected_keys(&rejected), ["favicon", "primary_color"]);
        assert_eq!(theme.logo, LOGO);
        assert_eq!(theme.color("primary_color"), None);
    }

    #[test]
    fn data_image_logos() {
        assert!(image_url("data:image/png;base64,iVBORw0KGgo=").is_some());
        assert_eq!(image_url("data:image/svg+xml,<svg onload=x>"), None);
        assert_eq!(image_url("data:text/html;base64,AAAA"), None);
    }
}
