//! Git repository URLs as people may see them: without the credentials they can carry.
//!
//! A clone URL may hold a user name and password (`https://user:token@host/repo.git`) or a
//! token in its query. The service (`app-config-from-git/`) and the launcher (cloning an
//! app's repository) both show such URLs in errors, logs and pages, and both relay what git
//! prints, which repeats the URL in some messages; both redact with these functions.

use url::Url;

/// How a redacted secret reads.
pub const MASK: &str = "***";

/// The most characters of a URL (or other user text) shown in a message.
const SHOWN_CHARS: usize = 200;

/// The URL as errors, logs and pages show it: without user name, password, query (which may
/// hold a token) or fragment, without control characters, and not too long.
pub fn redact_url(url: &str) -> String {
    let shown = match Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        _ => strip_userinfo(url),
    };
    shorten(&shown)
}

/// The secret parts of a URL (user name, password, query), raw and percent-decoded,
/// longest first so that masking one never leaves part of a longer one behind.
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets: Vec<String> = Vec::new();
    let mut add = |raw: &str| {
        if raw.is_empty() {
            return;
        }
        secrets.push(raw.to_owned());
        if let Some(decoded) = percent_decode(raw) {
            secrets.push(decoded);
        }
    };
    match Url::parse(url) {
        Ok(parsed) if parsed.has_host() => {
            if let Some(query) = parsed.query() {
                add(query);
            }
            if let Some(password) = parsed.password() {
                add(password);
            }
            add(parsed.username());
        }
        // `user:pw@host:path` (which `Url` reads as scheme `user`) and other forms.
        _ => {
            if let Some(userinfo) = userinfo(url) {
                for part in userinfo.split(':') {
                    add(part);
                }
            }
        }
    }
    secrets.retain(|secret| !secret.is_empty());
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();
    secrets
}

/// `text` with every secret of [`url_secrets`] replaced by [`MASK`].
pub fn mask_secrets(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), MASK);
        }
    }
    text
}

/// `text` (e.g. git's messages about `url`) without the URL's credentials and query: git
/// hides a password in most messages, not in all.
pub fn redact_credentials(text: &str, url: &str) -> String {
    mask_secrets(text, &url_secrets(url))
}

/// User text as a message shows it: control characters replaced, at most 200 characters.
pub fn shorten(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.chars().count() > SHOWN_CHARS {
        let mut short: String = clean.chars().take(SHOWN_CHARS).collect();
        short.push('…');
        short
    } else {
        clean
    }
}

/// The part before `@` in the authority of `url` (`scheme://userinfo@host/…` or
/// `userinfo@host:path`).
fn userinfo(url: &str) -> Option<&str> {
    let rest = url.find("://").map_or(url, |at| &url[at + 3..]);
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    authority.rfind('@').map(|at| &authority[..at])
}

/// `scheme://user:pw@host/…` and `user@host:path` without the part before `@`.
fn strip_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(at) => url.split_at(at + 3),
        None => ("", url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}{}{path}", &authority[at + 1..]),
        None => url.to_owned(),
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let decoded: Vec<u8> = url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials() {
        for (url, shown) in [
            (
                "https://x-access-token:ghp_abc@github.com/org/repo.git",
                "https://github.com/org/repo.git",
            ),
            ("https://user:secret@host/x.git", "https://host/x.git"),
            (
                "https://host/r.git?access_token=s3cret#frag",
                "https://host/r.git",
            ),
            ("ssh://alice:hunter22@host/repo", "ssh://host/repo"),
            (
                "ftp://tok3n@host/repo?access_token=s3cret",
                "ftp://host/repo",
            ),
            ("alice:hunter22@host:repo", "host:repo"),
            ("weird://alice:hunter22@[bad/repo", "weird://[bad/repo"),
            ("https://github.com/org/repo", "https://github.com/org/repo"),
            ("/srv/repo", "/srv/repo"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        assert!(redact_url(&"a".repeat(10_000)).chars().count() < 300);
        assert_eq!(redact_url("https://host/a\u{7}b"), "https://host/a%07b");
        assert_eq!(shorten("a\nb"), "a?b");
    }

    #[test]
    fn git_messages_lose_the_credentials() {
        assert_eq!(
            redact_credentials(
                "fatal: could not read from https://bob:pa%20ss@host/r: pa ss bob",
                "https://bob:pa%20ss@host/r"
            ),
            "fatal: could not read from https://***:***@host/r: *** ***"
        );
        assert_eq!(
            redact_credentials(
                "fatal: repository 'https://host/r?token=abc/' not found",
                "https://host/r?token=abc"
            ),
            "fatal: repository 'https://host/r?***/' not found"
        );
        assert_eq!(
            redact_credentials("remote: user:secret rejected", "user:secret@host:repo"),
            "remote: ***:*** rejected"
        );
        assert_eq!(
            redact_credentials("nothing to hide", "https://github.com/org/repo"),
            "nothing to hide"
        );
    }

    #[test]
    fn longer_secrets_are_masked_first() {
        // The user name is part of the password: masking it first would leave "secret".
        let secrets = url_secrets("https://bob:bobsecret@host/r");
        assert_eq!(secrets, ["bobsecret", "bob"]);
        let text = mask_secrets("auth bobsecret for bob", &secrets);
        assert_eq!(text, "auth *** for ***");
        assert!(url_secrets("https://host/r").is_empty());
    }
}
