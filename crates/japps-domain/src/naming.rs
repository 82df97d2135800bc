//! Server names for apps.
//!
//! JupyterHub 6 accepts a named server only if its name is 1–30 characters of `[a-z0-9-]`,
//! starts with a letter, ends with a letter or digit and has no `--`; 5.x accepts much more.
//! japps derives names valid on both from the app's title: readable and deterministic when
//! free, with a short suffix when taken. The title itself is kept as the display name.

/// The longest name JupyterHub 6 accepts.
pub const MAX_LEN: usize = 30;
/// Used when a title has nothing to make a name from (`"?"`, `"----"`, emoji only).
const FALLBACK: &str = "app";

/// Whether JupyterHub 6 (and so 5) accepts `name` as a named server.
pub fn is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !name.contains("--")
}

/// The name a title asks for: transliterated to ASCII, lower case, runs of anything else
/// turned into single `-`, cut to [`MAX_LEN`], starting with a letter.
pub fn slug(title: &str) -> String {
    let ascii = deunicode::deunicode(title).to_ascii_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() {
        FALLBACK.to_owned()
    } else if slug.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{FALLBACK}-{slug}")
    } else {
        slug.to_owned()
    };
    cut(&slug, MAX_LEN)
}

/// The first name for `title` that `taken` does not hold: the slug itself, else the slug
/// with a 4-character suffix derived from the title and an attempt counter (so the same
/// title on the same hub gives the same sequence of names).
pub fn unique(title: &str, taken: impl Fn(&str) -> bool) -> String {
    let base = slug(title);
    if !taken(&base) {
        return base;
    }
    for attempt in 1u32.. {
        let suffix = short_hash(title, attempt);
        let name = format!("{}-{suffix}", cut(&base, MAX_LEN - 1 - suffix.len()));
        if !taken(&name) {
            return name;
        }
    }
    unreachable!("u32 attempts cannot all be taken")
}

/// At most `max` bytes of an ASCII slug, never ending in `-`.
fn cut(slug: &str, max: usize) -> String {
    slug[..slug.len().min(max)].trim_end_matches('-').to_owned()
}

/// 4 hex digits of FNV-1a over the title and the attempt: stable, not secret.
fn short_hash(title: &str, attempt: u32) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in title.bytes().chain(attempt.to_le_bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{:04x}", hash & 0xffff)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn titles_become_valid_names() {
        for (title, expected) in [
            ("Sales Dashboard", "sales-dashboard"),
            ("Über App!!", "uber-app"),
            ("----", "app"),
            ("a/b", "a-b"),
            ("?", "app"),
            ("2024 report", "app-2024-report"),
            ("  spaced   out  ", "spaced-out"),
            ("日本語", "ri-ben-yu"),
            ("🚀", "rocket"),
            ("™", "tm"),
            ("\u{200b}", "app"),
        ] {
            let name = slug(title);
            assert_eq!(name, expected, "{title:?}");
            assert!(is_valid(&name), "{title:?} → {name:?}");
        }
    }

    #[test]
    fn long_titles_are_cut_cleanly() {
        let name = slug(&"very long title ".repeat(20));
        assert!(is_valid(&name), "{name}");
        assert!(name.len() <= MAX_LEN);
        let name = slug(&"x".repeat(300));
        assert_eq!(name.len(), MAX_LEN);
    }

    #[test]
    fn collisions_get_a_short_stable_suffix() {
        let taken: HashSet<&str> = ["sales"].into();
        let first = unique("Sales", |n| taken.contains(n));
        assert_ne!(first, "sales");
        assert!(first.starts_with("sales-") && is_valid(&first), "{first}");
        assert_eq!(
            first,
            unique("Sales", |n| taken.contains(n)),
            "deterministic"
        );
        assert_eq!(
            unique("Sales", |_| false),
            "sales",
            "free names carry no suffix"
        );

        let long = "y".repeat(300);
        let base = slug(&long);
        let next = unique(&long, |n| n == base);
        assert!(is_valid(&next) && next.len() <= MAX_LEN, "{next}");

        let mut names = HashSet::new();
        for _ in 0..50 {
            let name = unique("Dup", |n| names.contains(n));
            assert!(is_valid(&name));
            names.insert(name);
        }
        assert_eq!(names.len(), 50);
    }

    #[test]
    fn validity_rules() {
        for ok in ["a", "app-1", "abc123", &"a".repeat(30)] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "1app",
            "-app",
            "app-",
            "a--b",
            "App",
            "a_b",
            "a.b",
            &"a".repeat(31),
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
