//! What may be cloned: the URL's transport, the ref, the lengths of what the caller sends,
//! and paths that must stay inside the clone.

use std::path::{Component, Path, PathBuf};

use japps_domain::git::{redact_url, shorten};
use url::Url;

use crate::application::ApplicationError;

/// The longest URL, ref or path accepted.
const MAX_INPUT_CHARS: usize = 4096;

/// The transports git may use for a clone. `git://` goes with the operator's own network:
/// git resolves its host itself, so its address cannot be pinned to the one checked.
pub(super) fn protocols(transports: Transports) -> Vec<&'static str> {
    let mut allowed = vec!["https", "http"];
    if transports.git {
        allowed.push("git");
    }
    if transports.local {
        allowed.push("file");
    }
    allowed
}

/// The transports beyond HTTP(S) the operator allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Transports {
    /// `file://` URLs and absolute paths (`allow_local_git_repositories`).
    pub(crate) local: bool,
    /// `git://` (`git_allow_private_addresses`).
    pub(crate) git: bool,
}

/// Checks a repository URL against the policy and returns what git is given: the URL as
/// parsed (so git sees what was checked), or a local path when those are allowed.
pub(crate) fn check_url(url: &str, transports: Transports) -> Result<String, ApplicationError> {
    let allow_local = transports.local;
    let refused = || {
        let mut kinds = vec!["an https://", "http://"];
        if transports.git {
            kinds.push("git://");
        }
        if allow_local {
            kinds.push("file://");
        }
        let last = kinds.pop().unwrap_or_default();
        ApplicationError::Invalid(format!(
            "Repository URL not allowed: {} (use {} or {last} URL{})",
            redact_url(url),
            kinds.join(", "),
            if allow_local {
                " or an absolute path"
            } else {
                ""
            }
        ))
    };
    if url.chars().count() > MAX_INPUT_CHARS
        || url.starts_with('-')
        || url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(refused());
    }
    match Url::parse(url) {
        Ok(parsed) => {
            let scheme = parsed.scheme();
            // `Url` accepts `https:host`; git wants the `//`, and so do we.
            let spelled = url
                .get(..scheme.len() + 3)
                .is_some_and(|start| start.eq_ignore_ascii_case(&format!("{scheme}://")));
            let allowed = match scheme {
                "https" | "http" => parsed.host_str().is_some_and(|h| !h.is_empty()),
                "git" => transports.git && parsed.host_str().is_some_and(|h| !h.is_empty()),
                "file" => allow_local && parsed.host_str().is_none_or(str::is_empty),
                _ => false,
            };
            if spelled && allowed {
                Ok(parsed.to_string())
            } else {
                Err(refused())
            }
        }
        // Not a URL: `/srv/repo`, `host:path`, `./repo`, `ext::cmd`…
        Err(_) if allow_local && url.starts_with('/') => Ok(url.to_owned()),
        Err(_) => Err(refused()),
    }
}

/// A branch or tag name git would accept (a subset of `git check-ref-format`).
pub(super) fn check_ref(git_ref: &str) -> Result<(), ApplicationError> {
    let valid = !git_ref.is_empty()
        && git_ref.chars().count() <= 255
        && !git_ref.starts_with(['-', '/', '.'])
        && !git_ref.ends_with(['/', '.'])
        && !git_ref.ends_with(".lock")
        && !git_ref.contains("..")
        && !git_ref.contains("@{")
        && !git_ref.contains("//")
        && !git_ref.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        });
    if valid {
        Ok(())
    } else {
        Err(ApplicationError::Invalid(format!(
            "ref {:?} is not a valid branch or tag name",
            shorten(git_ref)
        )))
    }
}

pub(super) fn check_length(field: &str, value: &str) -> Result<(), ApplicationError> {
    if value.chars().count() > MAX_INPUT_CHARS {
        return Err(ApplicationError::Invalid(format!("{field} is too long")));
    }
    Ok(())
}

/// `relative` under `root` (a canonical path) when it names something there: no absolute
/// path, no `..`, and no symbolic link leading out. The answer is canonical.
pub(crate) fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    if relative.contains('\0') {
        return None;
    }
    let path = Path::new(relative);
    if !path
        .components()
        .all(|part| matches!(part, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    let resolved = root.join(path).canonicalize().ok()?;
    resolved.starts_with(root).then_some(resolved)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::application::git_config::tests::tree;

    const LOCAL: Transports = Transports {
        local: true,
        git: false,
    };
    const NONE: Transports = Transports {
        local: false,
        git: false,
    };

    fn refused(url: &str, allow_local: bool) -> String {
        let transports = if allow_local { LOCAL } else { NONE };
        match check_url(url, transports) {
            Err(ApplicationError::Invalid(detail)) => detail,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn remote_urls_are_allowed() {
        for url in [
            "https://github.com/org/repo.git",
            "https://github.com/org/repo",
            "http://127.0.0.1:8080/repo.git",
            "HTTPS://github.com/org/repo",
        ] {
            assert!(check_url(url, NONE).is_ok(), "{url}");
            assert!(check_url(url, LOCAL).is_ok(), "{url}");
        }
        // git gets the URL as it was checked.
        assert_eq!(
            check_url("https://GitHub.com/org/repo", NONE).unwrap(),
            "https://github.com/org/repo"
        );
    }

    #[test]
    fn other_urls_are_refused() {
        for url in [
            "file:///etc",
            "/srv/repo",
            "./repo",
            "repo",
            "ssh://git@github.com/org/repo.git",
            "git@github.com:org/repo.git",
            "github.com:org/repo",
            "ext::sh -c touch% /tmp/pwned",
            "ext::sh",
            "fd::3",
            "git+ssh://host/repo",
            "ftp://host/repo",
            "https:github.com/org/repo",
            "-uhttps://github.com/org/repo",
            " https://github.com/org/repo",
            "https://github.com/org/repo\n",
            "https://github.com/org/re po",
            "https:\\\\github.com\\org",
            "",
        ] {
            let detail = refused(url, false);
            assert!(
                detail.starts_with("Repository URL not allowed: "),
                "{detail}"
            );
        }
    }

    #[test]
    fn local_repositories_need_the_setting() {
        assert!(check_url("file:///srv/repo", LOCAL).is_ok());
        assert!(check_url("/srv/repo", LOCAL).is_ok());
        assert_eq!(check_url("/srv/repo", LOCAL).unwrap(), "/srv/repo");
        refused("file://otherhost/srv/repo", true);
        refused("./repo", true);
        refused("ssh://host/repo", true);
        refused("ext::sh -c id", true);
        refused("ext::sh", true);
        let detail = refused("file:///srv/repo", false);
        assert_eq!(
            detail,
            "Repository URL not allowed: file:///srv/repo (use an https:// or http:// URL)"
        );
        assert_eq!(
            refused("ssh://host/repo", true),
            "Repository URL not allowed: ssh://host/repo (use an https://, http:// or file:// URL or an absolute path)"
        );
    }

    #[test]
    fn git_protocol_goes_with_private_addresses() {
        // git resolves a git:// host itself: its address cannot be pinned.
        let detail = refused("git://example.org/repo.git", false);
        assert_eq!(
            detail,
            "Repository URL not allowed: git://example.org/repo.git (use an https:// or http:// URL)"
        );
        let git = Transports {
            local: false,
            git: true,
        };
        assert!(check_url("git://example.org/repo.git", git).is_ok());
        assert_eq!(protocols(git), ["https", "http", "git"]);
        assert_eq!(protocols(NONE), ["https", "http"]);
        assert_eq!(protocols(LOCAL), ["https", "http", "file"]);
    }

    #[test]
    fn credentials_never_appear_in_errors() {
        for (url, shown) in [
            (
                "ssh://alice:hunter22@host/repo",
                "Repository URL not allowed: ssh://host/repo",
            ),
            (
                "ftp://tok3n@host/repo?access_token=s3cret",
                "Repository URL not allowed: ftp://host/repo",
            ),
            (
                "alice:hunter22@host:repo",
                "Repository URL not allowed: host:repo",
            ),
            (
                "weird://alice:hunter22@[bad/repo",
                "Repository URL not allowed: weird://[bad/repo",
            ),
        ] {
            let detail = refused(url, false);
            assert!(detail.starts_with(shown), "{detail}");
            assert!(
                !detail.contains("hunter22") && !detail.contains("s3cret"),
                "{detail}"
            );
        }
        // The redaction itself is tested with `japps_domain::git`.
    }

    #[test]
    fn refs_are_checked() {
        for good in ["main", "v1.2.3", "feature/x", "release-2024_01", "ü"] {
            assert!(check_ref(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-b",
            "--upload-pack=x",
            "a..b",
            "a b",
            "a\nb",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "/a",
            "a/",
            "a.lock",
            "@{-1}",
            ".hidden",
            "a//b",
        ] {
            assert!(check_ref(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn paths_stay_inside_the_clone() {
        let (_dir, root) = tree();
        assert_eq!(inside(&root, ".").unwrap(), root);
        assert_eq!(inside(&root, "").unwrap(), root);
        assert_eq!(inside(&root, "sub").unwrap(), root.join("sub"));
        assert_eq!(
            inside(&root, "./sub/deeper/").unwrap(),
            root.join("sub/deeper")
        );
        assert_eq!(inside(&root, "ok-link").unwrap(), root.join("sub/file.txt"));
        for escape in [
            "..",
            "../outside.txt",
            "../../etc/passwd",
            "sub/../../outside.txt",
            "sub/../sub",
            "/etc/passwd",
            "/",
            "passwd",
            "up",
            "etc",
            "etc/hostname",
            "missing",
            "sub/\0",
        ] {
            assert_eq!(inside(&root, escape), None, "{escape:?}");
        }
    }
}
