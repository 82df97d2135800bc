//! Login and identity (issue 3) against a real hub: the OAuth flow with `state` and PKCE,
//! the session cookie, hub tokens, the jhub-apps JWT cookie, the identity cache, CSRF and
//! logout. A [`Browser`] logs into the hub with the DummyAuthenticator form and follows every
//! redirect by hand, so each hop can be checked.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use japps_testkit::{
    Browser, Cookie, HubOptions, HubRelease, SameSite, TestHub, Visit, is_removal, random_token,
    real_hub_tests, response_set_cookies,
};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use url::Url;

real_hub_tests!(
    browser_login_through_hub_oauth_sets_a_session,
    login_with_the_hub_consent_page,
    login_redirect_carries_state_and_pkce,
    oauth_callback_refuses_bad_state,
    oauth_callback_refuses_a_replayed_code,
    login_next_never_leaves_the_hub,
    user_without_credentials_is_401_or_a_login_redirect,
    hub_tokens_in_the_authorization_header,
    jhub_apps_cookie_keeps_upgraded_users_logged_in,
    identity_is_cached_per_token,
    identity_cache_expires_and_then_sees_a_revoked_token,
    csrf_refuses_cross_site_cookie_posts,
    logout_ends_the_session,
);

const SESSION_COOKIE: &str = "japps-session";
const STATE_COOKIE: &str = "japps-oauth-state";
const JHUB_APPS_COOKIE: &str = "jhub_apps_access_token";
const PREFIX: &str = "/services/japps/";
const JWT_SECRET: &str = "japps-test-jwt-secret-0123456789-abcdefghij";
const EVIL_ORIGIN: &str = "http://evil.example";

/// The keys of `GET {prefix}user`: jhub-apps' `User` model without `share_permissions`.
const USER_KEYS: [&str; 10] = [
    "name",
    "admin",
    "groups",
    "kind",
    "server",
    "pending",
    "last_activity",
    "servers",
    "scopes",
    "auth_state",
];

fn options() -> HubOptions {
    HubOptions::new(env!("CARGO_BIN_EXE_japps"))
}

// --- helpers -----------------------------------------------------------------------------

/// Logs `user` into the hub, then into japps through `jhub-login` (all redirects followed);
/// returns that visit. The browser then holds the japps session cookie.
async fn log_in(hub: &TestHub, browser: &Browser, user: &str) -> Visit {
    browser.login_to_hub(hub, user).await;
    japps_login(hub, browser).await
}

/// `jhub-login` for a browser already logged into the hub.
async fn japps_login(hub: &TestHub, browser: &Browser) -> Visit {
    let visit = browser.follow(hub, &hub.service_url("jhub-login")).await;
    assert_eq!(
        (visit.status, visit.final_url.path()),
        (StatusCode::OK, "/hub/home"),
        "the login ends on the hub home page; hops: {:#?}\n{}",
        visit.hops,
        visit.body
    );
    assert!(
        session_value(hub, browser).is_some(),
        "no {SESSION_COOKIE} cookie after login; hops: {:#?}; cookies set: {:#?}",
        visit.hops,
        visit.set_cookies
    );
    visit
}

fn session_value(hub: &TestHub, browser: &Browser) -> Option<String> {
    browser.cookie(&hub.service_url("user"), SESSION_COOKIE)
}

/// The `code` the hub sent to japps' callback during `visit`.
fn oauth_code(hub: &TestHub, visit: &Visit) -> String {
    let callback = visit
        .hop_to(hub.public_url(), &format!("{PREFIX}oauth_callback"))
        .unwrap_or_else(|| panic!("no redirect to the callback: {:#?}", visit.hops));
    query(&callback, "code").expect("the callback URL carries a code")
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A redirect's target, resolved against the URL that was requested.
fn location(response: &Response) -> Url {
    let raw = response
        .headers()
        .get(LOCATION)
        .unwrap_or_else(|| panic!("{} {} has no Location", response.status(), response.url()))
        .to_str()
        .unwrap();
    response.url().join(raw).unwrap()
}

/// A 302 Found: what the contract promises for every japps redirect (axum's
/// `Redirect::to` would answer 303).
fn assert_found(response: &Response, what: &str) {
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "{what}: expected 302 Found, Location {:?}",
        response.headers().get(LOCATION)
    );
}

/// Checks an error answer: its status, a JSON body `{"detail": "..."}` (or, for a browser
/// navigating, the error page showing that detail), and returns the raw body so a test can
/// check what it must not contain.
async fn expect_error(response: Response, status: u16, what: &str) -> String {
    let actual = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    assert_eq!(actual.as_u16(), status, "{what}: {text}");
    if content_type.starts_with("text/html") {
        let detail = text
            .split_once("<span id=\"error-detail\">")
            .and_then(|(_, rest)| rest.split_once("</span>"))
            .map(|(detail, _)| detail.trim());
        assert!(
            detail.is_some_and(|detail| !detail.is_empty()),
            "{what}: an HTML answer that is not the error page: {text}"
        );
        return text;
    }
    assert!(
        content_type.starts_with("application/json"),
        "{what}: content type {content_type:?}"
    );
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{what}: body is not JSON ({err}): {text}"));
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty()),
        "{what}: no detail in {text}"
    );
    text
}

async fn expect_user(response: Response, name: &str, what: &str) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{what}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["name"], name, "{what}: {text}");
    body
}

/// `GET {prefix}user` with a hub token in the header.
async fn user_with_token(hub: &TestHub, scheme: &str, token: &str) -> Response {
    reqwest::Client::new()
        .get(hub.service_url("user"))
        .header("Authorization", format!("{scheme} {token}"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
}

/// The hub calls japps has made, by call (`"GET /user"`), from its metrics page.
async fn hub_calls(hub: &TestHub) -> BTreeMap<String, u64> {
    hub.service_hub_calls().await
}

fn calls(snapshot: &BTreeMap<String, u64>, call: &str) -> u64 {
    snapshot.get(call).copied().unwrap_or(0)
}

/// A jhub-apps `jhub_apps_access_token` cookie value.
fn jhub_apps_jwt(hub_token: &str, secret: &str, exp: i64) -> String {
    let claims = serde_json::json!({
        "access_token_data": {"access_token": hub_token},
        "exp": exp,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// The secrets a test handled must not be in anything the hub or japps logged. The japps
/// and test-admin service tokens are always checked.
///
/// Left out: the access log of the test proxy (the pure-Python configurable-http-proxy,
/// lines from `tornado.access`), which logs the full URL of every 4xx answer, so the
/// `code` of a refused callback. That is the test harness's proxy, not the hub (whose
/// access log scrubs `code`, `state` and tokens) and not japps.
async fn assert_no_secrets(hub: &TestHub, secrets: &[(&str, &str)]) {
    // Let the last log lines reach the file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs: String = hub
        .logs()
        .lines()
        .filter(|line| !line.contains(" tornado.access] "))
        .flat_map(|line| [line, "\n"])
        .collect();
    assert!(!logs.is_empty(), "no hub log captured");
    let always = [
        ("the japps service token", hub.japps_token()),
        ("the test-admin token", hub.admin_token()),
    ];
    for (what, secret) in always.iter().chain(secrets) {
        assert!(!secret.is_empty(), "{what} is empty");
        if let Some(at) = logs.find(secret) {
            let line_start = logs[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
            panic!(
                "{what} appears in the logs:\n{}",
                &logs[line_start..line_end]
            );
        }
    }
}

fn assert_session_cookie_attributes(cookie: &Cookie<'_>) {
    assert_eq!(cookie.name(), SESSION_COOKIE);
    assert!(!cookie.value().is_empty());
    assert_eq!(cookie.http_only(), Some(true), "{cookie}: HttpOnly");
    assert_eq!(
        cookie.same_site(),
        Some(SameSite::Lax),
        "{cookie}: SameSite=Lax"
    );
    assert_eq!(cookie.path(), Some(PREFIX), "{cookie}: Path");
    assert_ne!(
        cookie.secure(),
        Some(true),
        "{cookie}: not Secure over http"
    );
    assert!(!is_removal(cookie), "{cookie}: a live cookie");
}

// --- the OAuth flow ----------------------------------------------------------------------

/// The whole browser login: hub login form, `jhub-login`, the hub's authorize endpoint,
/// japps' callback, the hub home page; the session cookie's attributes; `GET {prefix}user`.
async fn browser_login_through_hub_oauth_sets_a_session(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    let browser = Browser::new();
    let visit = log_in(&hub, &browser, "alice").await;
    assert_eq!(visit.consent_pages, 0, "oauth_no_confirm: no consent page");
    assert!(!visit.left_origin);
    let base = hub.public_url();
    let statuses: Vec<u16> = visit.hops.iter().map(|(s, _)| s.as_u16()).collect();
    assert_eq!(
        statuses,
        [302, 302, 302],
        "jhub-login → authorize → callback → /hub/home: {:#?}",
        visit.hops
    );
    let authorize = visit
        .hop_to(base, "/hub/api/oauth2/authorize")
        .expect("japps sends the browser to the hub's authorize endpoint");
    assert_eq!(authorize.origin(), base.origin());
    let code = oauth_code(&hub, &visit);
    let landing = base.join(&visit.hops[2].1).unwrap();
    assert_eq!(landing.path(), "/hub/home", "default landing page");

    let session = visit
        .set_cookie(SESSION_COOKIE)
        .expect("the callback sets the session cookie");
    assert_session_cookie_attributes(&session);
    let session_value = session.value().to_owned();
    let state_removal = visit
        .set_cookie(STATE_COOKIE)
        .expect("the state cookie was set and cleared");
    assert!(
        is_removal(&state_removal),
        "the callback clears the state cookie: {state_removal}"
    );
    assert_eq!(state_removal.path(), Some(PREFIX));
    assert_eq!(browser.cookie(&hub.service_url("user"), STATE_COOKIE), None);

    // The user model, for a script (JSON) and for a navigation alike.
    let user = expect_user(
        browser.api_get(&hub.service_url("user")).await,
        "alice",
        "GET user with the session cookie",
    )
    .await;
    let keys: BTreeSet<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(USER_KEYS), "{user}");
    assert_eq!(user["kind"], "user");
    assert_eq!(user["admin"], false);
    assert!(user["groups"].is_array() && user["servers"].is_object());
    let scopes: Vec<&str> = user["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        scopes.contains(&"access:services!service=japps"),
        "{scopes:?}"
    );
    expect_user(
        browser.get(&hub.service_url("user")).await,
        "alice",
        "navigation to user with the session cookie",
    )
    .await;

    // Authenticated encryption: a changed byte is no session at all.
    let mut tampered: Vec<char> = session_value.chars().collect();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let forger = Browser::new();
    forger.set_cookie(
        &hub.service_url(""),
        &format!("{SESSION_COOKIE}={tampered}; Path={PREFIX}"),
    );
    expect_error(
        forger.api_get(&hub.service_url("user")).await,
        401,
        "a tampered session cookie",
    )
    .await;

    assert_no_secrets(
        &hub,
        &[
            ("the session cookie", &session_value),
            ("the OAuth code", &code),
        ],
    )
    .await;
}

/// Without `oauth_no_confirm` the hub asks the user once; the browser submits the consent
/// form and the login completes. The next login needs no consent.
async fn login_with_the_hub_consent_page(release: HubRelease) {
    let hub = TestHub::start(release, options().oauth_no_confirm(false)).await;
    let browser = Browser::new();
    let first = log_in(&hub, &browser, "alice").await;
    assert_eq!(
        first.consent_pages, 1,
        "the hub asked once: {:#?}",
        first.hops
    );
    expect_user(
        browser.api_get(&hub.service_url("user")).await,
        "alice",
        "GET user after a confirmed login",
    )
    .await;
    let code = oauth_code(&hub, &first);
    let first_session = session_value(&hub, &browser).unwrap();

    let second = japps_login(&hub, &browser).await;
    assert_eq!(
        second.consent_pages, 0,
        "already authorized: no second consent page"
    );
    let second_session = session_value(&hub, &browser).unwrap();
    expect_user(
        browser.api_get(&hub.service_url("user")).await,
        "alice",
        "GET user after the second login",
    )
    .await;
    assert_no_secrets(
        &hub,
        &[
            ("the first session cookie", &first_session),
            ("the second session cookie", &second_session),
            ("the OAuth code", &code),
        ],
    )
    .await;
}

/// `jhub-login` → the hub's authorize URL with the registered client and callback, a fresh
/// `state` and an S256 PKCE challenge, and a short-lived, prefix-scoped state cookie.
async fn login_redirect_carries_state_and_pkce(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    let browser = Browser::new();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = browser
            .get(&hub.service_url(&format!("jhub-login?next={}", encode("/hub/home"))))
            .await;
        assert_found(&response, "GET jhub-login");
        let cookies = response_set_cookies(&response);
        let authorize = location(&response);
        assert_eq!(authorize.origin(), hub.public_url().origin());
        assert_eq!(authorize.path(), "/hub/api/oauth2/authorize");
        let params: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        let names: BTreeSet<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names.len(),
            params.len(),
            "no repeated parameter: {params:?}"
        );
        assert_eq!(
            names,
            BTreeSet::from([
                "client_id",
                "redirect_uri",
                "response_type",
                "state",
                "code_challenge",
                "code_challenge_method",
            ]),
            "{authorize}"
        );
        let get = |key: &str| query(&authorize, key).unwrap();
        assert_eq!(get("client_id"), "service-japps");
        assert_eq!(get("redirect_uri"), format!("{PREFIX}oauth_callback"));
        assert_eq!(get("response_type"), "code");
        assert_eq!(get("code_challenge_method"), "S256");
        let state = get("state");
        assert!(state.len() >= 16, "a random state: {state:?}");
        let challenge = get("code_challenge");
        let digest = URL_SAFE_NO_PAD
            .decode(&challenge)
            .unwrap_or_else(|err| panic!("code_challenge {challenge:?} is not base64url: {err}"));
        assert_eq!(digest.len(), 32, "a SHA-256 digest");

        let state_cookie = cookies
            .iter()
            .find(|cookie| cookie.name() == STATE_COOKIE)
            .unwrap_or_else(|| panic!("no {STATE_COOKIE} cookie: {cookies:?}"));
        assert!(!state_cookie.value().is_empty());
        assert_eq!(state_cookie.path(), Some(PREFIX), "{state_cookie}");
        assert_eq!(state_cookie.http_only(), Some(true), "{state_cookie}");
        assert_eq!(
            state_cookie.same_site(),
            Some(SameSite::Lax),
            "{state_cookie}"
        );
        assert_ne!(state_cookie.secure(), Some(true), "{state_cookie}");
        let max_age = state_cookie
            .max_age()
            .unwrap_or_else(|| panic!("{state_cookie}: needs Max-Age"));
        assert!(
            max_age.whole_seconds() > 0 && max_age.whole_seconds() <= 600,
            "{state_cookie}"
        );
        assert!(
            !cookies.iter().any(|cookie| cookie.name() == SESSION_COOKIE),
            "no session before the callback"
        );
        seen.push((state, challenge, state_cookie.value().to_owned()));
    }
    assert_ne!(seen[0].0, seen[1].0, "each login has its own state");
    assert_ne!(seen[0].1, seen[1].1, "each login has its own PKCE verifier");
    assert_ne!(seen[0].2, seen[1].2, "each login has its own state cookie");
    let secrets: Vec<(&str, &str)> = seen
        .iter()
        .map(|(_, _, cookie)| ("a state cookie", cookie.as_str()))
        .collect();
    assert_no_secrets(&hub, &secrets).await;
}

/// Steps through a login up to the callback without calling it: returns the callback URL
/// (with `code` and `state`) and the raw `Set-Cookie` of the state cookie.
async fn login_until_callback(hub: &TestHub, browser: &Browser) -> (Url, String) {
    let start = browser.get(&hub.service_url("jhub-login")).await;
    assert_found(&start, "GET jhub-login");
    let state_cookie = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|raw| raw.starts_with(&format!("{STATE_COOKIE}=")))
        .expect("jhub-login sets the state cookie");
    let authorize = browser.get(location(&start).as_str()).await;
    assert!(
        authorize.status().is_redirection(),
        "the hub authorizes at once (oauth_no_confirm): {}",
        authorize.status()
    );
    let callback = location(&authorize);
    assert_eq!(callback.path(), format!("{PREFIX}oauth_callback"));
    assert!(query(&callback, "code").is_some() && query(&callback, "state").is_some());
    (callback, state_cookie)
}

/// The callback checks `state` against the state cookie before it exchanges anything.
async fn oauth_callback_refuses_bad_state(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    let browser = Browser::new();
    browser.login_to_hub(&hub, "alice").await;
    let (callback, _) = login_until_callback(&hub, &browser).await;
    let code = query(&callback, "code").unwrap();
    let state = query(&callback, "state").unwrap();
    let at = |query: String| hub.service_url(&format!("oauth_callback?{query}"));

    let body = expect_error(
        browser.get(&at(format!("code={}", encode(&code)))).await,
        400,
        "callback without state",
    )
    .await;
    assert!(!body.contains(&code), "{body}");
    let body = expect_error(
        browser
            .get(&at(format!(
                "code={}&state={}",
                encode(&code),
                encode(&format!("{state}x"))
            )))
            .await,
        403,
        "callback with a state that does not match the cookie",
    )
    .await;
    assert!(!body.contains(&code), "{body}");
    expect_error(
        browser
            .get(&at(format!(
                "code={}&state={}",
                encode(&code),
                random_token()
            )))
            .await,
        403,
        "callback with another state",
    )
    .await;
    expect_error(
        browser
            .get(&at(format!("error=access_denied&state={}", encode(&state))))
            .await,
        400,
        "callback with error=",
    )
    .await;
    // Right code and state, but from a browser that never started this login.
    let stranger = Browser::new();
    stranger.login_to_hub(&hub, "alice").await;
    expect_error(
        stranger.get(callback.as_str()).await,
        403,
        "callback without a state cookie",
    )
    .await;
    assert_eq!(session_value(&hub, &stranger), None);
    assert_eq!(session_value(&hub, &browser), None);
    assert_no_secrets(&hub, &[("the OAuth code", &code)]).await;
}

/// A code is good for one exchange: the same callback again, with the state cookie put
/// back, is refused by the hub and so by japps.
async fn oauth_callback_refuses_a_replayed_code(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    let browser = Browser::new();
    browser.login_to_hub(&hub, "alice").await;
    let (callback, state_cookie) = login_until_callback(&hub, &browser).await;
    let code = query(&callback, "code").unwrap();

    let first = browser.get(callback.as_str()).await;
    assert_found(&first, "the first callback");
    assert_eq!(location(&first).path(), "/hub/home");
    let session = session_value(&hub, &browser).expect("the first callback logs in");
    expect_user(
        browser.api_get(&hub.service_url("user")).await,
        "alice",
        "GET user after the first callback",
    )
    .await;

    let replayer = Browser::new();
    replayer.set_cookie(&hub.service_url(""), &state_cookie);
    let replay = replayer.get(callback.as_str()).await;
    let body = expect_error(replay, 400, "a replayed code").await;
    assert!(!body.contains(&code), "{body}");
    assert_eq!(
        session_value(&hub, &replayer),
        None,
        "no session from a replay"
    );

    // The same in the browser that logged in (its state cookie restored).
    browser.set_cookie(&hub.service_url(""), &state_cookie);
    expect_error(
        browser.get(callback.as_str()).await,
        400,
        "a replayed code in the same browser",
    )
    .await;
    assert_no_secrets(
        &hub,
        &[
            ("the OAuth code", &code),
            ("the session cookie", &session),
            ("the state cookie", state_cookie.split(';').next().unwrap()),
        ],
    )
    .await;
}

/// `next` is honoured for same-origin paths only; anything else lands on the hub home page
/// and never on another origin.
async fn login_next_never_leaves_the_hub(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    let browser = Browser::new();
    browser.login_to_hub(&hub, "alice").await;
    let base = hub.public_url();

    let good = browser
        .follow(
            &hub,
            &hub.service_url(&format!(
                "jhub-login?next={}",
                encode("/services/japps/user")
            )),
        )
        .await;
    assert_eq!(
        good.final_url.path(),
        "/services/japps/user",
        "{:#?}",
        good.hops
    );
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(good.json()["name"], "alice");
    let mut secrets = vec![oauth_code(&hub, &good)];

    for bad in [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let visit = browser
            .follow(
                &hub,
                &hub.service_url(&format!("jhub-login?next={}", encode(bad))),
            )
            .await;
        assert!(
            !visit.left_origin,
            "next={bad:?} sent the browser to {}",
            visit.final_url
        );
        for (_, location) in &visit.hops {
            let target = base.join(location).unwrap();
            assert_eq!(target.origin(), base.origin(), "next={bad:?}: {location}");
            assert!(
                !location.contains("evil.example") || target.path().starts_with("/hub/api/"),
                "next={bad:?}: redirect to {location}"
            );
        }
        let callback_at = visit
            .hops
            .iter()
            .position(|(_, location)| {
                base.join(location).unwrap().path() == format!("{PREFIX}oauth_callback")
            })
            .unwrap_or_else(|| panic!("next={bad:?}: no callback: {:#?}", visit.hops));
        let after_login = visit
            .hops
            .get(callback_at + 1)
            .unwrap_or_else(|| panic!("next={bad:?}: the callback did not redirect"));
        assert_eq!(
            base.join(&after_login.1).unwrap().path(),
            "/hub/home",
            "next={bad:?}: after login, the launcher home"
        );
        assert_eq!(
            (visit.status, visit.final_url.path()),
            (StatusCode::OK, "/hub/home"),
            "next={bad:?}"
        );
        secrets.push(oauth_code(&hub, &visit));
    }
    let session = session_value(&hub, &browser).unwrap();
    let mut labelled: Vec<(&str, &str)> = secrets
        .iter()
        .map(|code| ("an OAuth code", code.as_str()))
        .collect();
    labelled.push(("the session cookie", &session));
    assert_no_secrets(&hub, &labelled).await;
}

/// No credentials: a script gets 401 JSON, a browser is sent to log in and, once logged
/// into the hub, comes back to where it was going.
async fn user_without_credentials_is_401_or_a_login_redirect(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    let browser = Browser::new();
    expect_error(
        browser.api_get(&hub.service_url("user")).await,
        401,
        "GET user without credentials, Accept: application/json",
    )
    .await;

    for (path, next) in [
        ("user", "/services/japps/user"),
        ("user?x=1", "/services/japps/user?x=1"),
    ] {
        let navigation = browser.get(&hub.service_url(path)).await;
        assert_found(
            &navigation,
            &format!("a navigation to {path} without a session"),
        );
        let target = location(&navigation);
        assert_eq!(target.origin(), hub.public_url().origin());
        assert_eq!(target.path(), format!("{PREFIX}jhub-login"));
        assert_eq!(query(&target, "next").as_deref(), Some(next), "{target}");
    }

    // Logged into the hub only: the navigation goes through the login and comes back.
    browser.login_to_hub(&hub, "alice").await;
    let visit = browser.follow(&hub, &hub.service_url("user")).await;
    assert_eq!(
        (visit.status, visit.final_url.path()),
        (StatusCode::OK, "/services/japps/user"),
        "{:#?}",
        visit.hops
    );
    assert_eq!(visit.json()["name"], "alice");
    let session = session_value(&hub, &browser).unwrap();
    assert_no_secrets(
        &hub,
        &[
            ("the session cookie", &session),
            ("the OAuth code", &oauth_code(&hub, &visit)),
        ],
    )
    .await;
}

// --- other credentials -------------------------------------------------------------------

/// `Authorization: token|Bearer <hub token>`; a bad token is 401 and not echoed; a token
/// without access to the service is 403.
async fn hub_tokens_in_the_authorization_header(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    for scheme in ["token", "Bearer", "bearer"] {
        expect_user(
            user_with_token(&hub, scheme, &token).await,
            "alice",
            &format!("Authorization: {scheme} <token>"),
        )
        .await;
    }

    let bad = random_token();
    let body = expect_error(
        user_with_token(&hub, "token", &bad).await,
        401,
        "a bad token",
    )
    .await;
    assert!(!body.contains(&bad), "the 401 echoes the token: {body}");
    let body = expect_error(
        user_with_token(&hub, "Bearer", &bad).await,
        401,
        "a bad bearer token",
    )
    .await;
    assert!(!body.contains(&bad), "{body}");

    let restricted = hub
        .user_token_with_scopes("alice", &["read:users:name!user=alice"])
        .await;
    let body = expect_error(
        user_with_token(&hub, "token", &restricted).await,
        403,
        "a token without access:services!service=japps",
    )
    .await;
    assert!(!body.contains(&restricted), "{body}");

    assert_no_secrets(
        &hub,
        &[
            ("alice's token", &token),
            ("the bad token", &bad),
            ("the restricted token", &restricted),
        ],
    )
    .await;
}

/// jhub-apps' `jhub_apps_access_token` JWT cookie, signed with `JHUB_APP_JWT_SECRET_KEY`:
/// valid → the user; forged or expired → 401.
async fn jhub_apps_cookie_keeps_upgraded_users_logged_in(release: HubRelease) {
    let hub = TestHub::start(
        release,
        options().env("JHUB_APP_JWT_SECRET_KEY", JWT_SECRET),
    )
    .await;
    hub.create_users(&["alice"]).await;
    let token = hub.user_token("alice").await;
    let hour_ahead = unix_now() + 3600;
    let valid = jhub_apps_jwt(&token, JWT_SECRET, hour_ahead);
    let forged = jhub_apps_jwt(
        &token,
        "another-secret-of-32-characters-or-more!",
        hour_ahead,
    );
    let expired = jhub_apps_jwt(&token, JWT_SECRET, unix_now() - 3600);

    let with_cookie = |jwt: &str| {
        let browser = Browser::new();
        browser.set_cookie(
            &hub.service_url(""),
            &format!("{JHUB_APPS_COOKIE}={jwt}; Path=/"),
        );
        browser
    };
    // Accepted once: the answer brings japps' own session and expires jhub-apps' cookie,
    // which holds the hub token in clear and is sent to every path, apps included.
    let upgraded = with_cookie(&valid);
    let response = upgraded.api_get(&hub.service_url("user")).await;
    let set = response_set_cookies(&response);
    let removal = set
        .iter()
        .find(|cookie| cookie.name() == JHUB_APPS_COOKIE)
        .expect("the jhub-apps cookie is expired");
    assert!(is_removal(removal), "{removal}");
    assert_eq!(removal.path(), Some("/"), "{removal}");
    assert!(
        set.iter()
            .any(|cookie| cookie.name() == SESSION_COOKIE && !is_removal(cookie)),
        "a japps session replaces it: {set:?}"
    );
    expect_user(response, "alice", "a valid jhub-apps cookie").await;
    assert_eq!(
        upgraded.cookie(&hub.service_url(""), JHUB_APPS_COOKIE),
        None
    );
    expect_user(
        upgraded.api_get(&hub.service_url("user")).await,
        "alice",
        "the session that replaced the jhub-apps cookie",
    )
    .await;
    for (what, jwt) in [
        ("a jhub-apps cookie with a wrong signature", &forged),
        ("an expired jhub-apps cookie", &expired),
    ] {
        let body = expect_error(
            with_cookie(jwt).api_get(&hub.service_url("user")).await,
            401,
            what,
        )
        .await;
        assert!(
            !body.contains(&token) && !body.contains(jwt.as_str()),
            "{body}"
        );
    }
    assert_no_secrets(
        &hub,
        &[
            ("alice's token", &token),
            ("the valid JWT", &valid),
            ("the forged JWT", &forged),
            ("the expired JWT", &expired),
            ("the JWT secret", JWT_SECRET),
        ],
    )
    .await;
}

// --- identity cache ----------------------------------------------------------------------

/// Within the cache TTL a known token costs no hub call; another token does.
async fn identity_is_cached_per_token(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    hub.create_users(&["alice", "bob"]).await;
    let alice = hub.user_token("alice").await;
    let bob = hub.user_token("bob").await;

    // Warm the admin identity used by the metrics requests themselves.
    let warm = hub_calls(&hub).await;
    let before = hub_calls(&hub).await;
    assert_eq!(before, warm, "a cached metrics caller costs no hub call");

    expect_user(
        user_with_token(&hub, "token", &alice).await,
        "alice",
        "first",
    )
    .await;
    let after_first = hub_calls(&hub).await;
    assert_eq!(
        calls(&after_first, "GET /user") - calls(&before, "GET /user"),
        1,
        "the first request looks the token up: {after_first:?}"
    );

    expect_user(
        user_with_token(&hub, "token", &alice).await,
        "alice",
        "second",
    )
    .await;
    expect_user(
        user_with_token(&hub, "Bearer", &alice).await,
        "alice",
        "third",
    )
    .await;
    let after_repeats = hub_calls(&hub).await;
    assert_eq!(
        after_repeats, after_first,
        "repeats within the TTL make no hub call at all"
    );

    expect_user(user_with_token(&hub, "token", &bob).await, "bob", "bob").await;
    let after_bob = hub_calls(&hub).await;
    assert_eq!(
        calls(&after_bob, "GET /user") - calls(&after_repeats, "GET /user"),
        1,
        "another token is another identity: {after_bob:?}"
    );
    assert_no_secrets(&hub, &[("alice's token", &alice), ("bob's token", &bob)]).await;
}

/// Like JupyterHub's HubAuth, a revoked token is honoured until its cache entry expires,
/// and refused after.
async fn identity_cache_expires_and_then_sees_a_revoked_token(release: HubRelease) {
    let hub = TestHub::start(
        release,
        options().japps_config("c.JAppsConfig.identity_cache_max_age = 2"),
    )
    .await;
    hub.create_users(&["alice"]).await;
    let issued = hub.issue_token("alice", None).await;
    expect_user(
        user_with_token(&hub, "token", &issued.token).await,
        "alice",
        "before revocation",
    )
    .await;
    hub.revoke_token("alice", &issued.id).await;
    expect_user(
        user_with_token(&hub, "token", &issued.token).await,
        "alice",
        "right after revocation, from the cache",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let body = expect_error(
        user_with_token(&hub, "token", &issued.token).await,
        401,
        "a revoked token after the cache entry expired",
    )
    .await;
    assert!(!body.contains(&issued.token), "{body}");
    assert_no_secrets(&hub, &[("alice's token", &issued.token)]).await;
}

// --- CSRF and logout ---------------------------------------------------------------------

/// A cookie-authenticated POST that says it comes from another site is refused; same-origin,
/// header-less (scripts) and header-token POSTs are not.
async fn csrf_refuses_cross_site_cookie_posts(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    hub.create_users(&["alice"]).await;
    let browser = Browser::new();
    let first_visit = log_in(&hub, &browser, "alice").await;
    let first_session = session_value(&hub, &browser).unwrap();
    let logout = hub.service_url("logout");

    for (what, headers) in [
        ("Origin of another site", [("Origin", EVIL_ORIGIN)]),
        (
            "Sec-Fetch-Site: cross-site",
            [("Sec-Fetch-Site", "cross-site")],
        ),
    ] {
        expect_error(browser.post(&logout, &headers).await, 403, what).await;
        assert_eq!(
            session_value(&hub, &browser).as_deref(),
            Some(first_session.as_str()),
            "{what}: the refused POST leaves the session alone"
        );
    }
    expect_user(
        browser.api_get(&hub.service_url("user")).await,
        "alice",
        "still logged in after refused POSTs",
    )
    .await;

    let origin = hub.public_origin();
    let same_origin = browser.post(&logout, &[("Origin", origin.as_str())]).await;
    assert_eq!(same_origin.status(), 204, "same-origin POST logout");
    let removal = response_set_cookies(&same_origin)
        .into_iter()
        .find(|cookie| cookie.name() == SESSION_COOKIE)
        .expect("POST logout clears the session cookie");
    assert!(is_removal(&removal), "{removal}");
    assert_eq!(removal.path(), Some(PREFIX), "{removal}");
    assert_eq!(session_value(&hub, &browser), None);
    expect_error(
        browser.api_get(&hub.service_url("user")).await,
        401,
        "after POST logout",
    )
    .await;

    let second_visit = japps_login(&hub, &browser).await;
    let second_session = session_value(&hub, &browser).unwrap();
    let no_headers = browser.post(&logout, &[]).await;
    assert_eq!(
        no_headers.status(),
        204,
        "a POST with neither Origin nor Sec-Fetch-Site (a script)"
    );
    assert_eq!(session_value(&hub, &browser), None);

    let token = hub.user_token("alice").await;
    let authorization = format!("token {token}");
    let with_token = Browser::new()
        .post(
            &logout,
            &[
                ("Authorization", authorization.as_str()),
                ("Origin", EVIL_ORIGIN),
                ("Sec-Fetch-Site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(
        with_token.status(),
        204,
        "a header-token POST is not subject to the cookie CSRF check"
    );
    assert_no_secrets(
        &hub,
        &[
            ("the first session cookie", &first_session),
            ("the second session cookie", &second_session),
            ("the first OAuth code", &oauth_code(&hub, &first_visit)),
            ("the second OAuth code", &oauth_code(&hub, &second_visit)),
            ("alice's token", &token),
        ],
    )
    .await;
}

/// `GET {prefix}logout` clears the session cookie and hands over to the hub's logout, which
/// revokes the OAuth token: even a copy of the old cookie is no longer accepted.
async fn logout_ends_the_session(release: HubRelease) {
    let hub = TestHub::start(release, options()).await;
    let browser = Browser::new();
    let visit = log_in(&hub, &browser, "alice").await;
    let session = session_value(&hub, &browser).unwrap();

    let response = browser.get(&hub.service_url("logout")).await;
    assert_found(&response, "GET logout");
    let hub_logout = location(&response);
    assert_eq!(hub_logout.origin(), hub.public_url().origin());
    assert_eq!(hub_logout.path(), "/hub/logout");
    let removal = response_set_cookies(&response)
        .into_iter()
        .find(|cookie| cookie.name() == SESSION_COOKIE)
        .expect("GET logout clears the session cookie");
    assert!(is_removal(&removal), "{removal}");
    assert_eq!(removal.path(), Some(PREFIX), "{removal}");
    assert_eq!(session_value(&hub, &browser), None);
    expect_error(
        browser.api_get(&hub.service_url("user")).await,
        401,
        "GET user after logout",
    )
    .await;
    let navigation = browser.get(&hub.service_url("user")).await;
    assert_found(&navigation, "a navigation to user after logout");
    assert_eq!(location(&navigation).path(), format!("{PREFIX}jhub-login"));

    // The hub logs the browser out and revokes the token behind the old cookie.
    let hub_visit = browser.follow(&hub, hub_logout.as_str()).await;
    assert!(hub_visit.status.is_success(), "{:#?}", hub_visit.hops);
    assert_eq!(
        browser.cookie(&hub.url("hub/home"), japps_testkit::HUB_LOGIN_COOKIE),
        None,
        "logged out of the hub"
    );
    let replay = Browser::new();
    replay.set_cookie(
        &hub.service_url(""),
        &format!("{SESSION_COOKIE}={session}; Path={PREFIX}"),
    );
    expect_error(
        replay.api_get(&hub.service_url("user")).await,
        401,
        "a copy of the session cookie after the hub logout",
    )
    .await;
    assert_no_secrets(
        &hub,
        &[
            ("the session cookie", &session),
            ("the OAuth code", &oauth_code(&hub, &visit)),
        ],
    )
    .await;
}
