//! The closed set of hub endpoints japps calls.
//!
//! Each endpoint's key (`"GET /users/{name}"`) is the single source of truth
//! for three things: the HTTP method, the URL path template, and the name the
//! call is counted and logged under. A closed set lets the recorder count with
//! one atomic per endpoint and keeps metric labels low-cardinality.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use url::Url;

use crate::HubError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Root,
    CurrentUser,
    ListUsers,
    CreateUsers,
    GetUser,
    ListShared,
    StartServer,
    StopServer,
    CreateServer,
    UpdateServer,
    ListGroups,
    GetGroup,
    CreateGroup,
    ListServices,
    Share,
    ListServerShares,
    RevokeShares,
    RevokeShare,
    OAuthToken,
    PostActivity,
}

impl Endpoint {
    pub(crate) const ALL: [Self; 20] = [
        Self::Root,
        Self::CurrentUser,
        Self::ListUsers,
        Self::CreateUsers,
        Self::GetUser,
        Self::ListShared,
        Self::StartServer,
        Self::StopServer,
        Self::CreateServer,
        Self::UpdateServer,
        Self::ListGroups,
        Self::GetGroup,
        Self::CreateGroup,
        Self::ListServices,
        Self::Share,
        Self::ListServerShares,
        Self::RevokeShares,
        Self::RevokeShare,
        Self::OAuthToken,
        Self::PostActivity,
    ];

    /// `"METHOD /path/{placeholder}"`, relative to the hub API URL.
    pub(crate) const fn key(self) -> &'static str {
        match self {
            Self::Root => "GET /",
            Self::CurrentUser => "GET /user",
            Self::ListUsers => "GET /users",
            Self::CreateUsers => "POST /users",
            Self::GetUser => "GET /users/{name}",
            Self::ListShared => "GET /users/{name}/shared",
            Self::StartServer => "POST /users/{name}/servers/{server}",
            Self::StopServer => "DELETE /users/{name}/servers/{server}",
            Self::CreateServer => "PUT /users/{name}/servers/{server}",
            Self::UpdateServer => "PATCH /users/{name}/servers/{server}",
            Self::ListGroups => "GET /groups",
            Self::GetGroup => "GET /groups/{name}",
            Self::CreateGroup => "POST /groups/{name}",
            Self::ListServices => "GET /services",
            Self::Share => "POST /shares/{owner}/{server}",
            Self::ListServerShares => "GET /shares/{owner}/{server}",
            Self::RevokeShares => "DELETE /shares/{owner}/{server}",
            Self::RevokeShare => "PATCH /shares/{owner}/{server}",
            Self::OAuthToken => "POST /oauth2/token",
            Self::PostActivity => "POST /users/{name}/activity",
        }
    }

    /// Position in [`Endpoint::ALL`], used to index the recorder's counters.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn method(self) -> Method {
        match self.key().split_once(' ').map(|(method, _)| method) {
            Some("POST") => Method::POST,
            Some("DELETE") => Method::DELETE,
            Some("PUT") => Method::PUT,
            Some("PATCH") => Method::PATCH,
            _ => Method::GET,
        }
    }

    fn template(self) -> &'static str {
        self.key().split_once(' ').map_or("/", |(_, path)| path)
    }

    /// The concrete URL: `base` (the hub API URL, with or without a trailing
    /// slash) plus this endpoint's path with `args` filled into the
    /// placeholders in order, each percent-encoded as one path segment.
    pub(crate) fn url(self, base: &Url, args: &[&str]) -> Result<Url, HubError> {
        let mut path = base.path().trim_end_matches('/').to_owned();
        let mut args = args.iter();
        for part in self.template().split('/').skip(1) {
            path.push('/');
            if let Some(placeholder) = part.strip_prefix('{') {
                let arg = args.next().ok_or_else(|| self.missing_argument())?;
                // An empty server name addresses the default server; an empty
                // user/group/owner would address a different endpoint.
                let may_be_empty = placeholder == "server}";
                check_segment(arg, may_be_empty).map_err(|()| HubError::InvalidName {
                    pattern: self.key(),
                    name: (*arg).to_owned(),
                })?;
                path.extend(utf8_percent_encode(arg, SEGMENT));
            } else {
                path.push_str(part);
            }
        }
        if args.next().is_some() {
            return Err(self.missing_argument());
        }
        let mut url = base.clone();
        url.set_path(&path);
        Ok(url)
    }

    fn missing_argument(self) -> HubError {
        HubError::Config(format!("wrong number of path arguments for {}", self.key()))
    }
}

/// Everything but RFC 3986 "unreserved" characters is escaped, so that `/`,
/// `?`, `#`, `%`, `+`, `@`, spaces and non-ASCII in names can never change
/// which resource a URL addresses, whatever a proxy in between decodes.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `.` and `..` are dot-segments: URL parsers (ours, proxies', the hub's)
/// resolve them away even when escaped as `%2E`, so no escaping can make them
/// reach the hub as a name.
fn check_segment(arg: &str, may_be_empty: bool) -> Result<(), ()> {
    match arg {
        "." | ".." => Err(()),
        "" if !may_be_empty => Err(()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn keys_are_unique_and_indexed_in_order() {
        for (i, endpoint) in Endpoint::ALL.iter().enumerate() {
            assert_eq!(endpoint.index(), i);
            let same = Endpoint::ALL.iter().filter(|e| e.key() == endpoint.key());
            assert_eq!(same.count(), 1, "{}", endpoint.key());
        }
    }

    #[test]
    fn method_comes_from_the_key() {
        assert_eq!(Endpoint::GetUser.method(), Method::GET);
        assert_eq!(Endpoint::StartServer.method(), Method::POST);
        assert_eq!(Endpoint::StopServer.method(), Method::DELETE);
    }

    #[test]
    fn joins_with_or_without_trailing_slash() {
        for api in [
            "http://127.0.0.1:8081/hub/api",
            "http://127.0.0.1:8081/hub/api/",
        ] {
            let url = Endpoint::GetUser.url(&base(api), &["alice"]).unwrap();
            assert_eq!(url.as_str(), "http://127.0.0.1:8081/hub/api/users/alice");
            let root = Endpoint::Root.url(&base(api), &[]).unwrap();
            assert_eq!(root.as_str(), "http://127.0.0.1:8081/hub/api/");
        }
    }

    #[test]
    fn encodes_every_odd_character_of_a_segment() {
        let url = Endpoint::StartServer
            .url(
                &base("http://hub/@/space%20word/hub/api"),
                &["a b/c+d@e", "élise?#%"],
            )
            .unwrap();
        assert_eq!(
            url.path(),
            "/@/space%20word/hub/api/users/a%20b%2Fc%2Bd%40e/servers/%C3%A9lise%3F%23%25"
        );
        assert_eq!(url.query(), None);
        assert_eq!(url.fragment(), None);
    }

    #[test]
    fn empty_server_means_default_server_but_empty_user_is_refused() {
        let api = base("http://hub/hub/api");
        let url = Endpoint::StopServer.url(&api, &["alice", ""]).unwrap();
        assert_eq!(url.path(), "/hub/api/users/alice/servers/");
        for args in [["", "s"], ["..", "s"], ["alice", "."]] {
            let err = Endpoint::StopServer.url(&api, &args).unwrap_err();
            assert!(matches!(err, HubError::InvalidName { .. }), "{args:?}");
        }
    }

    #[test]
    fn argument_count_must_match_placeholders() {
        let api = base("http://hub/hub/api");
        assert!(Endpoint::GetUser.url(&api, &[]).is_err());
        assert!(Endpoint::GetUser.url(&api, &["a", "b"]).is_err());
    }
}
