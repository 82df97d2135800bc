//! Answer lists shared by the handlers' `#[utoipa::path]` attributes: the error answers
//! of every operation that needs a login, and the answers of the start operations.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::IntoResponses;
use utoipa::openapi::response::{Response as ApiResponse, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};

/// The error answers of every operation that needs a login.
#[derive(Debug)]
pub(crate) struct LoginErrors;

impl IntoResponses for LoginErrors {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        let mut responses = BTreeMap::from([
            error(
                401,
                "No credentials, or invalid or expired ones. (A browser navigating to a GET \
                 operation is sent to log in instead: 302 to `jhub-login`.)",
            ),
            error(
                403,
                "The caller may not use this service (or this operation), or a \
                 cookie-authenticated POST, PUT or DELETE came from another site.",
            ),
        ]);
        responses.append(&mut HubErrors::responses());
        responses
    }
}

/// The answers of the two start operations: the hub's status, or why it refused.
#[derive(Debug)]
pub(crate) struct StartAnswers;

impl IntoResponses for StartAnswers {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        let status = ContentBuilder::new()
            .schema(Some(<u16 as utoipa::PartialSchema>::schema()))
            .example(Some(Value::from(202)))
            .build();
        let mut responses = BTreeMap::from([
            (
                "200".to_owned(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description("The hub's status: 201 started, 202 starting.")
                        .content("application/json", status)
                        .build(),
                ),
            ),
            error(404, "No such server."),
            error(409, "The hub refused: already running, or still stopping."),
        ]);
        responses.append(&mut LoginErrors::responses());
        responses
    }
}

/// The error answers of an operation that calls the hub.
#[derive(Debug)]
pub(crate) struct HubErrors;

impl IntoResponses for HubErrors {
    fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
        BTreeMap::from([
            error(502, "The hub failed or answered nonsense."),
            error(504, "The hub did not answer in time."),
        ])
    }
}

fn error(status: u16, description: &str) -> (String, RefOr<ApiResponse>) {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    let response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .build();
    (status.to_string(), RefOr::T(response))
}
