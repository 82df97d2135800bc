//! Where a clone may connect: the operator's list of git hosts, and no address of the
//! service's own networks (loopback, private, link-local…) unless the operator allows them.
//!
//! The host name is resolved here, every address it resolves to is checked, and git is then
//! pinned to those addresses (`http.curloptResolve`), so a DNS answer that changes between
//! our check and git's own lookup (DNS rebinding) cannot send the clone elsewhere. Redirects
//! are off for the same reason (`http.followRedirects=false` in [`super::clone`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use japps_domain::git::redact_url;
use tokio::time::Instant;
use url::{Host, Url};

use super::GitPolicy;
use crate::application::ApplicationError;

/// Where git will connect: what `http.curloptResolve` pins the URL's host to, when the URL
/// names a host (not for IP literals, local repositories or an allowed `git://`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pin(pub(super) String);

/// Checks the URL's host against the operator's list, resolves it and checks every address.
/// `source` is what [`super::policy::check_url`] accepted.
pub(super) async fn check_destination(
    source: &str,
    policy: &GitPolicy,
    deadline: Instant,
) -> Result<Option<Pin>, ApplicationError> {
    let Ok(url) = Url::parse(source) else {
        // A local path, allowed by the operator: no network.
        return Ok(None);
    };
    let Some(host) = url.host() else {
        // `file:///…`: no network either.
        return Ok(None);
    };
    let shown = redact_url(source);
    let refused = |why: String| {
        ApplicationError::Invalid(format!("Repository URL not allowed: {shown} ({why})"))
    };
    let name = match &host {
        Host::Domain(name) => (*name).to_owned(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    };
    if !host_allowed(&name, &policy.allowed_hosts) {
        return Err(refused(format!(
            "{name} is not one of the git hosts this service may clone from"
        )));
    }
    let port = url.port_or_known_default().unwrap_or(9418);
    let addresses: Vec<IpAddr> = match host {
        Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
        Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        Host::Domain(domain) => {
            if domain.ends_with('.') {
                return Err(refused("write the host name without its final dot".into()));
            }
            let lookup = tokio::net::lookup_host((domain, port));
            match tokio::time::timeout_at(deadline, lookup).await {
                Ok(Ok(found)) => found.map(|address| address.ip()).collect(),
                Ok(Err(_)) | Err(_) => Vec::new(),
            }
        }
    };
    if addresses.is_empty() {
        return Err(refused(format!("{name} could not be resolved")));
    }
    // The resolved address itself is not shown: it would map the service's network.
    if !policy.allow_private_addresses
        && let Some(rule) = addresses.iter().find_map(|ip| refused_range(*ip))
    {
        return Err(refused(format!("{name} is {rule} address")));
    }
    Ok(match host {
        Host::Domain(domain) if url.scheme() != "git" => {
            let pinned: Vec<String> = addresses
                .iter()
                .map(|ip| match ip {
                    IpAddr::V4(v4) => v4.to_string(),
                    IpAddr::V6(v6) => format!("[{v6}]"),
                })
                .collect();
            Some(Pin(format!("{domain}:{port}:{}", pinned.join(","))))
        }
        _ => None,
    })
}

/// Whether `host` (lower case, as `url` gives it) matches the operator's list: a name
/// matches itself, `*.example.org` matches any name below `example.org` (not `example.org`
/// itself). An empty list allows every host.
pub(super) fn host_allowed(host: &str, patterns: &[String]) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|pattern| {
            let pattern = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
            match pattern.strip_prefix("*.") {
                Some(parent) => host
                    .strip_suffix(parent)
                    .is_some_and(|below| below.len() > 1 && below.ends_with('.')),
                None => host == pattern.trim_start_matches('[').trim_end_matches(']'),
            }
        })
}

/// Why `ip` is not a public address ("a loopback", "a private"…), or `None` when it is.
pub(super) fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, _, _) => Some("an unspecified"),
        (127, _, _) => Some("a loopback"),
        (10, _, _) | (192, 168, _) => Some("a private"),
        (172, 16..=31, _) => Some("a private"),
        (100, 64..=127, _) => Some("a shared (CGNAT)"),
        (169, 254, _) => Some("a link-local"),
        (224..=239, _, _) => Some("a multicast"),
        // 240/4 (broadcast included), IETF assignments, benchmarking, documentation.
        (240..=255, _, _)
        | (192, 0, 0 | 2)
        | (198, 18 | 19, _)
        | (198, 51, 100)
        | (203, 0, 113) => Some("a reserved"),
        _ => None,
    }
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified");
    }
    if ip.is_loopback() {
        return Some("a loopback");
    }
    // Addresses that carry an IPv4 address reach that address: judged as it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    let embedded = |high: u16, low: u16| {
        let [h1, h2] = high.to_be_bytes();
        let [l1, l2] = low.to_be_bytes();
        Ipv4Addr::new(h1, h2, l1, l2)
    };
    match segments {
        // IPv4-compatible (deprecated) and NAT64.
        [0, 0, 0, 0, 0, 0, high, low] | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => {
            return refused_v4(embedded(high, low));
        }
        // 6to4: the IPv4 address follows the prefix.
        [0x2002, high, low, ..] => return refused_v4(embedded(high, low)),
        _ => {}
    }
    match segments[0] {
        0xfc00..=0xfdff => Some("a unique-local"),
        0xfe80..=0xfebf => Some("a link-local"),
        0xfec0..=0xfeff => Some("a site-local"),
        0xff00..=0xffff => Some("a multicast"),
        0x2001 if segments[1] == 0x0db8 => Some("a reserved"),
        0x0100 if segments[1..4] == [0, 0, 0] => Some("a reserved"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use japps_domain::JAppsConfig;

    #[test]
    fn internal_addresses_are_refused_by_rule() {
        for (address, rule) in [
            ("0.0.0.0", "an unspecified"),
            ("127.0.0.1", "a loopback"),
            ("127.255.0.9", "a loopback"),
            ("10.1.2.3", "a private"),
            ("172.16.0.1", "a private"),
            ("172.31.255.255", "a private"),
            ("192.168.1.1", "a private"),
            ("100.64.0.1", "a shared (CGNAT)"),
            ("100.127.255.254", "a shared (CGNAT)"),
            ("169.254.169.254", "a link-local"),
            ("224.0.0.1", "a multicast"),
            ("255.255.255.255", "a reserved"),
            ("::", "an unspecified"),
            ("::1", "a loopback"),
            ("::ffff:127.0.0.1", "a loopback"),
            ("::ffff:10.0.0.1", "a private"),
            ("::ffff:169.254.169.254", "a link-local"),
            ("::127.0.0.1", "a loopback"),
            ("64:ff9b::a00:1", "a private"),
            ("2002:c0a8:101::1", "a private"),
            ("fc00::1", "a unique-local"),
            ("fd12:3456::1", "a unique-local"),
            ("fe80::1", "a link-local"),
            ("ff02::1", "a multicast"),
            ("2001:db8::1", "a reserved"),
        ] {
            assert_eq!(
                refused_range(address.parse().unwrap()),
                Some(rule),
                "{address}"
            );
        }
        for public in [
            "140.82.121.3",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "::ffff:140.82.121.3",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert_eq!(refused_range(public.parse().unwrap()), None, "{public}");
        }
    }

    #[test]
    fn the_host_list_matches_names_and_subdomains() {
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(host_allowed("anything.example", &[]));
        let patterns = list(&["github.com", "*.Example.org", "10.0.0.5"]);
        for host in [
            "github.com",
            "git.example.org",
            "a.b.example.org",
            "10.0.0.5",
        ] {
            assert!(host_allowed(host, &patterns), "{host}");
        }
        for host in [
            "example.org",
            "badexample.org",
            "github.com.evil.net",
            "evilgithub.com",
            "gitlab.com",
            "10.0.0.6",
        ] {
            assert!(!host_allowed(host, &patterns), "{host}");
        }
        assert!(host_allowed("::1", &list(&["[::1]"])));
    }

    fn policy(configure: impl FnOnce(&mut JAppsConfig)) -> GitPolicy {
        let mut config = JAppsConfig::default();
        configure(&mut config);
        GitPolicy::from_config(&config)
    }

    async fn check(source: &str, policy: &GitPolicy) -> Result<Option<Pin>, String> {
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        check_destination(source, policy, deadline)
            .await
            .map_err(|err| err.to_string())
    }

    #[tokio::test]
    async fn resolved_addresses_are_checked_and_pinned() {
        let strict = policy(|_| {});
        for (source, why) in [
            (
                "https://127.0.0.1/r.git",
                "(127.0.0.1 is a loopback address)",
            ),
            ("http://[::1]:8080/r.git", "(::1 is a loopback address)"),
            ("http://0x7f.1/r.git", "(127.0.0.1 is a loopback address)"),
            (
                "https://169.254.169.254/latest",
                "(169.254.169.254 is a link-local address)",
            ),
            // A name that resolves to loopback is refused on its address.
            (
                "https://localhost/r.git",
                "(localhost is a loopback address)",
            ),
            (
                "https://nowhere.invalid/r.git",
                "(nowhere.invalid could not be resolved)",
            ),
            (
                "https://localhost./r.git",
                "(write the host name without its final dot)",
            ),
        ] {
            let source = Url::parse(source).unwrap().to_string();
            let text = check(&source, &strict).await.unwrap_err();
            assert!(
                text.starts_with("Repository URL not allowed: ") && text.ends_with(why),
                "{source}: {text}"
            );
        }
        // The operator may allow their own network: names are then pinned to what was
        // resolved, IP literals need no pin.
        let open = policy(|config| config.git_allow_private_addresses = true);
        let pin = check("https://localhost:8443/r.git", &open).await.unwrap();
        let Some(Pin(pin)) = pin else {
            panic!("a host name is pinned")
        };
        assert!(pin.starts_with("localhost:8443:"), "{pin}");
        assert!(pin.contains("127.0.0.1") || pin.contains("[::1]"), "{pin}");
        assert_eq!(check("http://127.0.0.1:9/r.git", &open).await, Ok(None));
        assert_eq!(check("file:///srv/repo", &strict).await, Ok(None));
        assert_eq!(check("/srv/repo", &strict).await, Ok(None));
    }

    #[tokio::test]
    async fn only_listed_hosts_are_cloned_when_there_is_a_list() {
        let listed = policy(|config| {
            config.git_allowed_hosts = vec!["*.example.org".into()];
            config.git_allow_private_addresses = true;
        });
        let text = check("https://127.0.0.1/r.git", &listed).await.unwrap_err();
        assert!(
            text.ends_with("(127.0.0.1 is not one of the git hosts this service may clone from)"),
            "{text}"
        );
        let text = check("https://github.com/o/r.git", &listed)
            .await
            .unwrap_err();
        assert!(
            text.contains("github.com is not one of the git hosts"),
            "{text}"
        );
    }
}
