//! Which japps this is: the release version and the git revision it was built from.

/// The release version (the workspace's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git revision built (12 hex digits), or `unknown` for a build outside a checkout.
pub const REVISION: &str = env!("JAPPS_REVISION");

/// `0.1.0 (0123456789ab)`: what `japps --version` prints after the name.
pub const LONG_VERSION: &str =
    concat!(env!("CARGO_PKG_VERSION"), " (", env!("JAPPS_REVISION"), ")");

/// The version in another japps' `--version` output or `JAPPS_SERVICE_VERSION`
/// (`japps 0.1.0 (rev)`, `0.1.0 (rev)` or `0.1.0`), if it differs from this one's.
pub fn differing_version(other: &str) -> Option<&str> {
    let version = other
        .trim()
        .trim_start_matches("japps")
        .split_whitespace()
        .next()?;
    (version != VERSION).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_version_names_version_and_revision() {
        assert!(LONG_VERSION.starts_with(VERSION));
        assert!(LONG_VERSION.ends_with(&format!("({REVISION})")));
        assert!(!REVISION.is_empty());
    }

    #[test]
    fn only_a_different_version_counts() {
        assert_eq!(differing_version(&format!("japps {LONG_VERSION}")), None);
        assert_eq!(differing_version(&format!("{VERSION} (other)")), None);
        assert_eq!(differing_version(VERSION), None);
        assert_eq!(differing_version("japps 0.0.9 (abc)"), Some("0.0.9"));
        assert_eq!(differing_version("9.9.9"), Some("9.9.9"));
        assert_eq!(differing_version("  "), None);
    }
}
