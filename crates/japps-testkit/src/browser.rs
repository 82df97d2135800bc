//! A browser-like HTTP client for tests: a cookie jar, no automatic redirects (tests look at
//! every hop), navigation headers, and helpers to log into the hub with the
//! DummyAuthenticator form and to follow a redirect chain by hand, submitting the hub's OAuth
//! consent page when it shows up.

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{ACCEPT, HeaderValue, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use url::Url;

use crate::TestHub;

/// A parsed `Set-Cookie` header and its `SameSite` values (the `cookie` crate's types,
/// re-exported for tests).
pub use cookie::{Cookie, SameSite};

/// At most this many requests in one [`Browser::follow`].
const MAX_HOPS: usize = 15;

/// The hub's login cookie: present once the hub has logged the browser in.
pub const HUB_LOGIN_COOKIE: &str = "jupyterhub-hub-login";

/// A cookie-keeping HTTP client that does not follow redirects by itself.
#[derive(Debug, Clone)]
pub struct Browser {
    client: reqwest::Client,
    jar: Arc<Jar>,
    /// Origins besides the hub's that [`Browser::follow`] keeps following (users' hosts
    /// with subdomains).
    also_follow: Vec<url::Origin>,
}

/// Where [`Browser::follow`] ended, and how it got there.
#[derive(Debug, Clone)]
pub struct Visit {
    /// The URL of the last response, or the off-hub URL the chain was heading to.
    pub final_url: Url,
    /// The status of the last response.
    pub status: StatusCode,
    /// Every redirect on the way: its status and its `Location` exactly as sent.
    pub hops: Vec<(StatusCode, String)>,
    /// The body of the last response (empty when the chain left the hub's origin).
    pub body: String,
    /// Every `Set-Cookie` header seen on the way, in order.
    pub set_cookies: Vec<String>,
    /// How many hub OAuth consent pages were submitted on the way.
    pub consent_pages: usize,
    /// True when a redirect pointed away from the hub's origin; it was not fetched.
    pub left_origin: bool,
}

impl Visit {
    /// The last `Set-Cookie` for `name` seen on the way.
    pub fn set_cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.set_cookies
            .iter()
            .filter_map(|raw| parse_set_cookie(raw))
            .rfind(|cookie| cookie.name() == name)
    }

    /// The first hop whose `Location` has this path (after resolving it against `base`).
    pub fn hop_to(&self, base: &Url, path: &str) -> Option<Url> {
        self.hops
            .iter()
            .filter_map(|(_, location)| base.join(location).ok())
            .find(|url| url.path() == path)
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("{} is not JSON ({err}): {}", self.final_url, self.body))
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("browser client");
        Self {
            client,
            jar,
            also_follow: Vec::new(),
        }
    }

    /// A browser for a hub with subdomains: `hosts` (e.g. `alice.localhost`,
    /// `japps--service.localhost`) resolve to loopback, as in Chromium, and redirects to
    /// them on the hub's port are followed like those on the hub's own origin.
    pub fn with_loopback_hosts(hub: &TestHub, hosts: &[&str]) -> Self {
        let jar = Arc::new(Jar::default());
        let port = hub.public_url().port().expect("the hub's port");
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut builder = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .resolve("localhost", loopback);
        let mut also_follow = Vec::new();
        for host in hosts {
            builder = builder.resolve(host, loopback);
            also_follow.push(
                Url::parse(&format!("http://{host}:{port}/"))
                    .expect("a host name")
                    .origin(),
            );
        }
        Self {
            client: builder.build().expect("browser client"),
            jar,
            also_follow,
        }
    }

    /// The underlying client (with this browser's cookies, no redirects), for requests the
    /// helpers do not cover.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Logs into the hub with the DummyAuthenticator form, as a person would: the login page
    /// sets the `_xsrf` cookie, the form posts it back with any password.
    pub async fn login_to_hub(&self, hub: &TestHub, user: &str) {
        let page = self.get(&hub.url("hub/login")).await;
        assert_eq!(page.status(), 200, "GET /hub/login");
        let html = page.text().await.unwrap();
        let xsrf = find_forms(&html)
            .into_iter()
            .flat_map(|form| form.fields)
            .find(|(name, _)| name == "_xsrf")
            .map(|(_, value)| value)
            .or_else(|| self.cookie(&hub.url("hub/login"), "_xsrf"))
            .expect("the hub login page carries an _xsrf token");
        let response = self
            .client
            .post(hub.url("hub/login"))
            .header(ACCEPT, "text/html")
            .header("Sec-Fetch-Mode", "navigate")
            .form(&[
                ("_xsrf", xsrf.as_str()),
                ("username", user),
                ("password", "any password"),
            ])
            .send()
            .await
            .expect("POST /hub/login");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(
            status.is_redirection(),
            "POST /hub/login for {user}: expected a redirect, got {status}: {body}"
        );
        let home = hub.url("hub/home");
        assert!(
            self.cookie(&home, HUB_LOGIN_COOKIE).is_some()
                || self
                    .cookie(&home, &format!("__Host-{HUB_LOGIN_COOKIE}"))
                    .is_some(),
            "POST /hub/login for {user} set no {HUB_LOGIN_COOKIE} cookie"
        );
    }

    /// A navigation: `Accept: text/html`, `Sec-Fetch-Mode: navigate`.
    pub async fn get(&self, url: &str) -> Response {
        self.client
            .get(url)
            .header(ACCEPT, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
            .header("Sec-Fetch-Mode", "navigate")
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {url}: {err}"))
    }

    /// A script's API request: `Accept: application/json`.
    pub async fn api_get(&self, url: &str) -> Response {
        self.client
            .get(url)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {url}: {err}"))
    }

    /// A POST with an empty body and exactly the given extra headers (no `Origin` or
    /// `Sec-Fetch-*` unless the test passes them).
    pub async fn post(&self, url: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = self.client.post(url).header(ACCEPT, "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {url}: {err}"))
    }

    /// Navigates to `url` and follows redirects by hand, like a browser: relative
    /// `Location`s are resolved against the current URL, a hub OAuth consent page is
    /// submitted (as if the user clicked "Authorize"), and a redirect that leaves the hub's
    /// origin is recorded but not fetched. Panics after more than 15 requests.
    pub async fn follow(&self, hub: &TestHub, url: &str) -> Visit {
        let origin = hub.public_url().origin();
        let mut current = Url::parse(url).unwrap_or_else(|err| panic!("{url}: {err}"));
        let mut visit = Visit {
            final_url: current.clone(),
            status: StatusCode::OK,
            hops: Vec::new(),
            body: String::new(),
            set_cookies: Vec::new(),
            consent_pages: 0,
            left_origin: false,
        };
        let mut pending_form: Option<Vec<(String, String)>> = None;
        for _ in 0..MAX_HOPS {
            let response = match pending_form.take() {
                None => self.get(current.as_str()).await,
                Some(fields) => self
                    .client
                    .post(current.as_str())
                    .header(ACCEPT, "text/html")
                    .header("Sec-Fetch-Mode", "navigate")
                    .header("Origin", origin.ascii_serialization())
                    .form(&fields)
                    .send()
                    .await
                    .unwrap_or_else(|err| panic!("POST {current}: {err}")),
            };
            let status = response.status();
            visit.set_cookies.extend(
                response
                    .headers()
                    .get_all(SET_COOKIE)
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .map(str::to_owned),
            );
            visit.status = status;
            visit.final_url = current.clone();
            if status.is_redirection()
                && let Some(location) = response.headers().get(LOCATION)
            {
                let location = location.to_str().expect("ASCII Location").to_owned();
                let next = current.join(&location).unwrap_or_else(|err| {
                    panic!("bad Location {location:?} from {current}: {err}")
                });
                visit.hops.push((status, location));
                visit.body.clear();
                if next.origin() != origin && !self.also_follow.contains(&next.origin()) {
                    visit.final_url = next;
                    visit.left_origin = true;
                    return visit;
                }
                current = next;
                continue;
            }
            visit.body = response.text().await.unwrap_or_default();
            if status == StatusCode::OK && is_consent_page(&current, &visit.body) {
                let form = consent_form(&visit.body)
                    .unwrap_or_else(|| panic!("no consent form at {current}:\n{}", visit.body));
                current = current
                    .join(&form.action)
                    .unwrap_or_else(|err| panic!("bad form action {:?}: {err}", form.action));
                pending_form = Some(form.fields);
                visit.consent_pages += 1;
                continue;
            }
            return visit;
        }
        panic!(
            "more than {MAX_HOPS} requests following {url}; hops: {:#?}",
            visit.hops
        );
    }

    /// The whole `Cookie` header this browser would send to `url` (for clients that do
    /// not share the jar, such as a WebSocket client).
    pub fn cookie_header(&self, url: &str) -> Option<String> {
        let url = Url::parse(url).unwrap_or_else(|err| panic!("{url}: {err}"));
        self.jar.cookies(&url)?.to_str().ok().map(str::to_owned)
    }

    /// The value of cookie `name` that this browser would send to `url`.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let url = Url::parse(url).unwrap_or_else(|err| panic!("{url}: {err}"));
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// Stores a cookie as if `url` had answered `Set-Cookie: <set_cookie>`.
    pub fn set_cookie(&self, url: &str, set_cookie: &str) {
        let url = Url::parse(url).unwrap_or_else(|err| panic!("{url}: {err}"));
        let value = HeaderValue::from_str(set_cookie).expect("a valid Set-Cookie value");
        self.jar.set_cookies(&mut std::iter::once(&value), &url);
    }
}

/// Every `Set-Cookie` of a response, parsed.
pub fn response_set_cookies(response: &Response) -> Vec<Cookie<'static>> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(parse_set_cookie)
        .collect()
}

/// Parses one `Set-Cookie` header value.
pub fn parse_set_cookie(raw: &str) -> Option<Cookie<'static>> {
    Cookie::parse(raw.to_owned()).ok()
}

/// Whether a `Set-Cookie` removes the cookie: `Max-Age` ≤ 0 or an expiry in the past.
pub fn is_removal(cookie: &Cookie<'_>) -> bool {
    cookie
        .max_age()
        .is_some_and(|age| age.is_zero() || age.is_negative())
        || cookie
            .expires_datetime()
            .is_some_and(|at| at <= cookie::time::OffsetDateTime::now_utc())
}

/// The hub renders `oauth.html` at the authorize URL when the user has to confirm.
fn is_consent_page(url: &Url, body: &str) -> bool {
    url.path().ends_with("/api/oauth2/authorize") && body.contains("<form")
}

fn consent_form(html: &str) -> Option<Form> {
    find_forms(html)
        .into_iter()
        .find(|form| form.method.eq_ignore_ascii_case("post"))
}

/// A form's submission: where it goes and the fields a browser would send.
#[derive(Debug)]
struct Form {
    action: String,
    method: String,
    fields: Vec<(String, String)>,
}

/// The forms of a page, with the `<input>`s a browser submits: named, not disabled, and
/// checkboxes only when checked. Enough for the hub's server-rendered templates.
fn find_forms(html: &str) -> Vec<Form> {
    let mut forms = Vec::new();
    let mut rest = html;
    while let Some(start) = find_tag(rest, "form") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let attrs = attributes(&after[5..open_end]);
        let inner_end = after.find("</form").unwrap_or(after.len());
        let inner = &after[open_end + 1..inner_end];
        let mut fields = Vec::new();
        let mut inputs = inner;
        while let Some(input_start) = find_tag(inputs, "input") {
            let tag = &inputs[input_start..];
            let tag_end = tag.find('>').unwrap_or(tag.len());
            let input = attributes(&tag[6..tag_end]);
            let get = |key: &str| {
                input
                    .iter()
                    .find(|(name, _)| name == key)
                    .map(|(_, value)| value.as_str())
            };
            let kind = get("type").unwrap_or("text").to_ascii_lowercase();
            let submitted = get("disabled").is_none()
                && !matches!(kind.as_str(), "submit" | "button" | "image" | "reset")
                && (!matches!(kind.as_str(), "checkbox" | "radio") || get("checked").is_some());
            if submitted && let Some(name) = get("name") {
                let value = get("value").unwrap_or(match kind.as_str() {
                    "checkbox" | "radio" => "on",
                    _ => "",
                });
                fields.push((name.to_owned(), value.to_owned()));
            }
            inputs = &tag[tag_end.min(tag.len())..];
        }
        let get = |key: &str| {
            attrs
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
        };
        forms.push(Form {
            action: get("action").unwrap_or_default(),
            method: get("method").unwrap_or_else(|| "get".to_owned()),
            fields,
        });
        rest = &after[inner_end..];
    }
    forms
}

/// The byte offset of the next `<name` tag (case-insensitive, followed by a space or `>`).
fn find_tag(html: &str, name: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    let needle = format!("<{name}");
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let at = from + found;
        let next = lower[at + needle.len()..].chars().next();
        if next.is_some_and(|c| c.is_ascii_whitespace() || c == '>' || c == '/') {
            return Some(at);
        }
        from = at + needle.len();
    }
    None
}

/// The attributes of a tag's inside (`name="x" value='y' disabled`), names lowercased and
/// values HTML-unescaped.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let text = tag.trim_end_matches('/');
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_ascii_whitespace() {
            chars.next();
            continue;
        }
        // The name.
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_ascii_whitespace() || c == '=' {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        let name = text[start..end].to_ascii_lowercase();
        while chars.peek().is_some_and(|&(_, c)| c.is_ascii_whitespace()) {
            chars.next();
        }
        if chars.peek().is_some_and(|&(_, c)| c == '=') {
            chars.next();
            while chars.peek().is_some_and(|&(_, c)| c.is_ascii_whitespace()) {
                chars.next();
            }
            let value = match chars.peek().copied() {
                Some((i, quote @ ('"' | '\''))) => {
                    chars.next();
                    let mut end = text.len();
                    for (j, c) in chars.by_ref() {
                        if c == quote {
                            end = j;
                            break;
                        }
                    }
                    &text[i + 1..end]
                }
                Some((i, _)) => {
                    let mut end = text.len();
                    while let Some(&(j, c)) = chars.peek() {
                        if c.is_ascii_whitespace() {
                            end = j;
                            break;
                        }
                        chars.next();
                    }
                    &text[i..end]
                }
                None => "",
            };
            out.push((name, unescape(value)));
        } else if !name.is_empty() {
            out.push((name, String::new()));
        }
    }
    out
}

/// The HTML escapes Jinja's autoescape produces.
fn unescape(value: &str) -> String {
    value
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_form_fields_are_what_a_browser_submits() {
        let html = r#"<html><form class="x">nothing</form>
            <form method="post" action="">
              <input type="hidden" name="_xsrf" value="2|ab&amp;cd|ef" />
              <input type="hidden" name="scopes" value="access:services!service=japps" />
              <input type="hidden" name="scopes" value="read:users:name!user" />
              <input type="checkbox" name="raw-scopes" checked="true" title="x" disabled="disabled" />
              <input type="checkbox" name="unchecked" />
              <button type="submit">Authorize</button>
            </form>"#;
        let form = consent_form(html).unwrap();
        assert_eq!(form.action, "");
        assert_eq!(
            form.fields,
            vec![
                ("_xsrf".to_owned(), "2|ab&cd|ef".to_owned()),
                (
                    "scopes".to_owned(),
                    "access:services!service=japps".to_owned()
                ),
                ("scopes".to_owned(), "read:users:name!user".to_owned()),
            ]
        );
        assert_eq!(find_forms(html).len(), 2);
    }

    #[test]
    fn empty_action_is_the_current_url() {
        let current = Url::parse("http://127.0.0.1:1/hub/api/oauth2/authorize?a=1&b=2").unwrap();
        assert_eq!(current.join("").unwrap(), current);
    }

    #[test]
    fn jar_round_trip_and_removal() {
        let browser = Browser::new();
        let url = "http://127.0.0.1:8000/services/japps/user";
        browser.set_cookie(
            "http://127.0.0.1:8000/services/japps/",
            "a=1; Path=/services/japps/; HttpOnly",
        );
        assert_eq!(browser.cookie(url, "a").as_deref(), Some("1"));
        assert_eq!(browser.cookie("http://127.0.0.1:8000/hub/", "a"), None);
        browser.set_cookie(
            "http://127.0.0.1:8000/services/japps/",
            "a=; Path=/services/japps/; Max-Age=0",
        );
        assert_eq!(browser.cookie(url, "a"), None);
        let removal = parse_set_cookie("a=; Path=/; Max-Age=0").unwrap();
        assert!(is_removal(&removal));
        let past = parse_set_cookie("a=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT").unwrap();
        assert!(is_removal(&past));
        assert!(!is_removal(&parse_set_cookie("a=1; Max-Age=60").unwrap()));
    }
}
