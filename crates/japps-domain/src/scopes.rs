//! JupyterHub scopes: `base` or `base!filter` (e.g. `access:services!service=japps`).

/// Whether `held` grants at least one of `required` (JupyterHub's "any of" access check).
///
/// A held scope grants a required one when they are equal, or when the held scope is the
/// unfiltered form of the required one (`access:services` grants
/// `access:services!service=japps`). A filtered held scope never grants an unfiltered
/// requirement: JupyterHub's own intersection would let `access:services!service=other`
/// satisfy a bare `access:services` requirement, which is wider than an operator expects
/// from "access to this service".
pub fn grants_any<H, R>(held: &[H], required: &[R]) -> bool
where
    H: AsRef<str>,
    R: AsRef<str>,
{
    required
        .iter()
        .any(|want| held.iter().any(|have| grants(have.as_ref(), want.as_ref())))
}

fn grants(held: &str, required: &str) -> bool {
    if held == required {
        return true;
    }
    match required.split_once('!') {
        Some((base, _filter)) => held == base,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::grants_any;

    const ACCESS: [&str; 2] = ["access:services", "access:services!service=japps"];

    #[test]
    fn filtered_grant_for_this_service() {
        assert!(grants_any(
            &["read:users:name", "access:services!service=japps"],
            &ACCESS
        ));
    }

    #[test]
    fn unfiltered_grant_covers_every_filter() {
        assert!(grants_any(
            &["access:services"],
            &["access:services!service=japps"]
        ));
    }

    #[test]
    fn other_services_and_lookalikes_do_not_count() {
        assert!(!grants_any(&["access:services!service=other"], &ACCESS));
        assert!(!grants_any(&["access:services!service=japps2"], &ACCESS));
        assert!(!grants_any(&["access:servers!user=alice"], &ACCESS));
        assert!(!grants_any::<&str, &str>(&[], &ACCESS));
        assert!(!grants_any(&["access:services"], &[] as &[&str]));
    }

    #[test]
    fn plain_scopes() {
        assert!(grants_any(&["read:metrics"], &["read:metrics"]));
        assert!(!grants_any(&["read:metrics!user=x"], &["read:metrics"]));
    }
}
