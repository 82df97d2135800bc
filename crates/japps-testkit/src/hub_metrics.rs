//! Reading the hub's own request counts from its Prometheus page (`/hub/metrics`).
//!
//! JupyterHub 5.5 and 6.1 count every request they answer in the histogram
//! `jupyterhub_request_duration_seconds` with the labels `method`, `handler` (the handler
//! class, `jupyterhub.apihandlers.users.UserAPIHandler`) and `code`. The handler class stands
//! for a URL pattern; this module names each API handler by the pattern japps' call recorder
//! uses (`GET /users/{name}`), so both counts can be compared key by key.

use std::collections::BTreeMap;

/// The histogram's sample count: requests answered.
pub(crate) const REQUESTS: &str = "jupyterhub_request_duration_seconds_count";

const API_HANDLERS: &str = "jupyterhub.apihandlers.";

/// Hub API requests by call (`"GET /users/{name}"`), summed over status codes; requests
/// answered with an error status are counted apart (`"GET /users/{name} 404"`).
pub(crate) fn api_calls(metrics: &str) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix(REQUESTS) else {
            continue;
        };
        let Some((labels, value)) = rest
            .strip_prefix('{')
            .and_then(|rest| rest.rsplit_once("} "))
        else {
            continue;
        };
        let labels = parse_labels(labels);
        let (Some(method), Some(handler), Some(code)) = (
            labels.get("method"),
            labels.get("handler"),
            labels.get("code"),
        ) else {
            continue;
        };
        let Some(handler) = handler.strip_prefix(API_HANDLERS) else {
            continue;
        };
        let count = value.trim().parse::<f64>().unwrap_or(0.0);
        let mut call = format!("{method} {}", pattern(handler));
        if !(code.starts_with('2') || code.starts_with('3')) {
            call = format!("{call} {code}");
        }
        // Counts are whole numbers printed as floats ("3.0").
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let count = count.round() as u64;
        *calls.entry(call).or_insert(0) += count;
    }
    calls.retain(|_, count| *count > 0);
    calls
}

/// `method="GET",handler="x",code="200"` → map. Label values here never contain quotes.
fn parse_labels(labels: &str) -> BTreeMap<&str, &str> {
    labels
        .split("\",")
        .filter_map(|pair| pair.split_once("=\""))
        .map(|(name, value)| (name.trim(), value.trim_end_matches('"')))
        .collect()
}

/// The URL pattern of an API handler class (module path below `jupyterhub.apihandlers.`),
/// in the spelling of japps' call recorder. Handlers serving several patterns are named by
/// the one launchers use; unknown handlers keep their class name.
fn pattern(handler: &str) -> &str {
    match handler {
        "hub.RootAPIHandler" => "/",
        "hub.InfoAPIHandler" => "/info",
        "hub.ShutdownAPIHandler" => "/shutdown",
        "users.SelfAPIHandler" => "/user",
        "users.UserListAPIHandler" => "/users",
        "users.UserAPIHandler" => "/users/{name}",
        "users.UserServerAPIHandler" => "/users/{name}/servers/{server}",
        "users.SpawnProgressAPIHandler" => "/users/{name}/servers/{server}/progress",
        "users.UserTokenListAPIHandler" => "/users/{name}/tokens",
        "users.UserTokenAPIHandler" => "/users/{name}/tokens/{id}",
        "users.ActivityAPIHandler" => "/users/{name}/activity",
        "users.UserAdminAccessAPIHandler" => "/users/{name}/admin-access",
        "groups.GroupListAPIHandler" => "/groups",
        "groups.GroupAPIHandler" => "/groups/{name}",
        "groups.GroupUsersAPIHandler" => "/groups/{name}/users",
        "groups.GroupPropertiesAPIHandler" => "/groups/{name}/properties",
        "services.ServiceListAPIHandler" => "/services",
        "services.ServiceAPIHandler" => "/services/{name}",
        "shares.ShareListAPIHandler" => "/shares",
        "shares.ServerShareAPIHandler" => "/shares/{owner}/{server}",
        "shares.UserShareListAPIHandler" => "/users/{name}/shared",
        "shares.GroupShareListAPIHandler" => "/groups/{name}/shared",
        "shares.UserShareAPIHandler" => "/users/{name}/shared/{owner}/{server}",
        "shares.GroupShareAPIHandler" => "/groups/{name}/shared/{owner}/{server}",
        "shares.ServerShareCodeAPIHandler" => "/share-codes/{owner}/{server}",
        "auth.TokenAPIHandler" => "/authorizations/token/{token}",
        "auth.CookieAPIHandler" => "/authorizations/cookie/{name}/{value}",
        "auth.OAuthAuthorizeHandler" => "/oauth2/authorize",
        "auth.OAuthTokenHandler" => "/oauth2/token",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"# HELP jupyterhub_request_duration_seconds Request duration for all HTTP requests
# TYPE jupyterhub_request_duration_seconds histogram
jupyterhub_request_duration_seconds_bucket{code="200",handler="jupyterhub.apihandlers.users.SelfAPIHandler",le="0.005",method="GET"} 2.0
jupyterhub_request_duration_seconds_count{code="200",handler="jupyterhub.apihandlers.users.SelfAPIHandler",method="GET"} 6.0
jupyterhub_request_duration_seconds_sum{code="200",handler="jupyterhub.apihandlers.users.SelfAPIHandler",method="GET"} 0.1
jupyterhub_request_duration_seconds_count{code="201",handler="jupyterhub.apihandlers.users.UserTokenListAPIHandler",method="POST"} 12.0
jupyterhub_request_duration_seconds_count{code="204",handler="jupyterhub.apihandlers.users.UserTokenAPIHandler",method="DELETE"} 11.0
jupyterhub_request_duration_seconds_count{code="404",handler="jupyterhub.apihandlers.users.UserAPIHandler",method="GET"} 1.0
jupyterhub_request_duration_seconds_count{code="200",handler="jupyterhub.apihandlers.users.UserAPIHandler",method="GET"} 4.0
jupyterhub_request_duration_seconds_count{code="200",handler="jupyterhub.handlers.metrics.MetricsHandler",method="GET"} 3.0
jupyterhub_request_duration_seconds_count{code="200",handler="jupyterhub.apihandlers.users.UserListAPIHandler",method="GET"} 0.0
"#;

    #[test]
    fn counts_api_handlers_by_pattern() {
        let calls = api_calls(SAMPLE);
        let expected: BTreeMap<String, u64> = [
            ("GET /user", 6),
            ("POST /users/{name}/tokens", 12),
            ("DELETE /users/{name}/tokens/{id}", 11),
            ("GET /users/{name}", 4),
            ("GET /users/{name} 404", 1),
        ]
        .into_iter()
        .map(|(call, n)| (call.to_owned(), n))
        .collect();
        assert_eq!(calls, expected);
    }
}
