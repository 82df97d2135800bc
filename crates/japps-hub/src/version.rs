//! The hub's version, which decides the wire format of a few calls.

use std::fmt;
use std::str::FromStr;

/// `major.minor.patch` of the hub, from `GET {api}/`.
///
/// Pre-release and dev suffixes (`6.0.0b1`, `5.5.0.dev`) are dropped: japps
/// only branches on major/minor, and a pre-release of 6.0 already speaks 6.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HubVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl HubVersion {
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Server sharing exists from 5.0 on (jhub-apps tests `== 5` and loses it on 6).
    pub fn supports_sharing(&self) -> bool {
        self.major >= 5
    }

    /// 6.x reads `{display_name, user_options}` POST bodies, has a server
    /// `display_name`, and only accepts slug-like server names.
    pub fn is_v6_or_later(&self) -> bool {
        self.major >= 6
    }
}

impl fmt::Display for HubVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The version string had no leading number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a version: {0:?}")]
pub struct ParseVersionError(String);

impl FromStr for HubVersion {
    type Err = ParseVersionError;

    /// Lenient: each of the first three dot-separated parts contributes its
    /// leading digits; missing or non-numeric minor/patch count as 0.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.trim().split('.').map(leading_number);
        let major = parts
            .next()
            .flatten()
            .ok_or_else(|| ParseVersionError(s.to_owned()))?;
        let minor = parts.next().flatten().unwrap_or(0);
        let patch = parts.next().flatten().unwrap_or(0);
        Ok(Self::new(major, minor, patch))
    }
}

fn leading_number(part: &str) -> Option<u64> {
    let end = part
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(part.len());
    part[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_releases_and_prereleases() {
        let cases = [
            ("6.1.1", (6, 1, 1)),
            ("5.5.4", (5, 5, 4)),
            ("6.0.0b1", (6, 0, 0)),
            ("5.5.0.dev", (5, 5, 0)),
            ("6.1", (6, 1, 0)),
            ("7", (7, 0, 0)),
            ("7.0.0rc2", (7, 0, 0)),
            (" 5.4.3 ", (5, 4, 3)),
            ("6.dev0", (6, 0, 0)),
        ];
        for (text, (major, minor, patch)) in cases {
            let version: HubVersion = text.parse().unwrap();
            assert_eq!(version, HubVersion::new(major, minor, patch), "{text}");
        }
    }

    #[test]
    fn rejects_non_versions() {
        for text in ["", "dev", "v6.1.1", ".1.1"] {
            assert!(text.parse::<HubVersion>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn feature_gates_and_display() {
        let v5 = HubVersion::new(5, 5, 4);
        let v6 = HubVersion::new(6, 0, 0);
        assert!(v5.supports_sharing() && v6.supports_sharing());
        assert!(!HubVersion::new(4, 1, 6).supports_sharing());
        assert!(!v5.is_v6_or_later());
        assert!(v6.is_v6_or_later());
        assert!(v5 < v6);
        assert_eq!(v5.to_string(), "5.5.4");
    }
}
