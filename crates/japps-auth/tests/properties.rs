//! Property tests of what japps-auth reads from browsers: where a login may send the
//! browser next, which cookies an app may see, `Authorization` values, OAuth callback
//! queries and jhub-apps' legacy cookie.

#![allow(clippy::unwrap_used)]

use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use japps_auth::cookies::is_credential_cookie;
use japps_auth::legacy::LegacyCookies;
use japps_auth::login::authorization_token;
use japps_auth::{CallbackQuery, Forwarding, safe_next, strip_credentials};
use proptest::prelude::*;
use secrecy::SecretString;
use url::Url;

const WITHIN: &str = "/services/japps/";

/// Paths built from the pieces open redirects are made of.
fn next_path() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_owned()),
        Just("//".to_owned()),
        Just("services/japps/".to_owned()),
        Just("/services/japps/".to_owned()),
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just("%2e".to_owned()),
        Just("%2E".to_owned()),
        Just("%2f".to_owned()),
        Just("\\".to_owned()),
        Just("?".to_owned()),
        Just("#".to_owned()),
        Just("@evil.example".to_owned()),
        Just("https:".to_owned()),
        Just("\t".to_owned()),
        "[a-z0-9]{1,5}",
    ];
    prop::collection::vec(piece, 0..10).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// Whatever `safe_next` lets through, a browser resolving it on the hub's origin stays
    /// on that origin and inside the service's prefix.
    #[test]
    fn next_stays_on_the_origin_and_under_the_prefix(next in next_path()) {
        if let Some(kept) = safe_next(&next, WITHIN) {
            let base = Url::parse("https://hub.example.org/services/japps/jhub-login").unwrap();
            let resolved = base.join(&kept).unwrap();
            prop_assert_eq!(resolved.host_str(), Some("hub.example.org"), "{:?}", next);
            prop_assert!(resolved.path().starts_with(WITHIN), "{next:?} -> {resolved}");
        }
    }

    #[test]
    fn authorization_tokens_are_single_words(value in "\\PC{0,40}") {
        if let Some(token) = authorization_token(&value) {
            prop_assert!(!token.is_empty());
            prop_assert!(!token.contains(char::is_whitespace));
            prop_assert!(value.contains(token));
        }
    }

    #[test]
    fn callback_queries_never_panic(query in "\\PC{0,80}") {
        let _ = CallbackQuery::parse(&query);
    }

    #[test]
    fn legacy_cookies_that_were_not_signed_are_refused(value in "\\PC{0,200}") {
        let reader = LegacyCookies::new(&SecretString::from("k".repeat(32)));
        prop_assert!(reader.read(&value).is_none());
    }
}

/// Cookie names: the credential ones in any case and with any browser prefix, an app's own
/// OAuth cookie, and ordinary ones.
fn cookie_name() -> impl Strategy<Value = String> {
    let base = prop_oneof![
        Just("japps-session"),
        Just("japps-oauth-state"),
        Just("jhub_apps_access_token"),
        Just("jupyterhub-hub-login"),
        Just("jupyterhub-user-bob-other"),
        Just("jupyterhub-services"),
        Just("jupyterhub-user-alice-app"),
        Just("jupyterhub-user-alice-app-oauth-state"),
        Just("_xsrf"),
        Just("theme"),
        Just("session"),
    ]
    .prop_map(str::to_owned);
    let cased = (base, any::<bool>()).prop_map(
        |(name, upper)| {
            if upper { name.to_uppercase() } else { name }
        },
    );
    (
        prop_oneof![
            Just(""),
            Just("__Host-"),
            Just("__Secure-"),
            Just("__host-")
        ],
        cased,
    )
        .prop_map(|(prefix, name)| format!("{prefix}{name}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// After stripping, an app sees none of a visitor's credentials and every other cookie
    /// in its order; `Authorization` passes only when forwarding allows it.
    #[test]
    fn apps_never_receive_credentials(
        pairs in prop::collection::vec((cookie_name(), "[a-zA-Z0-9=_-]{0,12}"), 0..8),
        headers_count in 1_usize..3,
        authorization in any::<bool>(),
        forward_authorization in any::<bool>(),
    ) {
        let forwarding = Forwarding {
            own_client_id: "jupyterhub-user-alice-app".to_owned(),
            authorization: forward_authorization,
        };
        let mut headers = HeaderMap::new();
        let chunk = pairs.len().div_ceil(headers_count).max(1);
        for group in pairs.chunks(chunk) {
            let value = group.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
            headers.append(COOKIE, HeaderValue::from_str(&value).unwrap());
        }
        if authorization {
            headers.insert(AUTHORIZATION, HeaderValue::from_static("token abc"));
        }
        strip_credentials(&mut headers, &forwarding);

        let seen: Vec<(String, String)> = headers
            .get_all(COOKIE)
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(';').map(str::trim).map(str::to_owned).collect::<Vec<_>>())
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (n, v) = pair.split_once('=').unwrap_or((pair.as_str(), ""));
                (n.to_owned(), v.to_owned())
            })
            .collect();
        for (name, _) in &seen {
            prop_assert!(!is_credential_cookie(name, &forwarding), "{name} reached the app");
            let bare = name.to_ascii_lowercase();
            let bare = bare.trim_start_matches("__host-").trim_start_matches("__secure-");
            prop_assert!(!bare.starts_with("japps-") && bare != "jhub_apps_access_token"
                && bare != "jupyterhub-hub-login", "{name} reached the app");
        }
        let expected: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(n, _)| !is_credential_cookie(n, &forwarding))
            .collect();
        prop_assert_eq!(seen, expected);
        prop_assert_eq!(headers.contains_key(AUTHORIZATION), authorization && forward_authorization);
    }
}
