//! The hub's pagination envelope (`Accept: application/jupyterhub-pagination+json`).
//!
//! Listings are asked for with the pagination `Accept` header and read as
//! `{"items": [...], "_pagination": {"offset", "limit", "total", "next"}}`.
//! A bare JSON list is refused: it is what the hub sends when it ignored the
//! header, and it silently stops at 200 items.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::HubError;

/// Media type that makes the hub answer listings with the envelope.
pub(crate) const ACCEPT: &str = "application/jupyterhub-pagination+json";

/// `api_page_max_limit`'s default: larger requests are cut to it anyway.
pub(crate) const MAX_LIMIT: u64 = 200;

/// A bound on pages per listing (2 million items at the maximum limit), so
/// that a hub misbehaving with ever-advancing offsets cannot keep us forever.
pub(crate) const MAX_PAGES: usize = 10_000;

/// Which page to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) offset: u64,
    pub(crate) limit: u64,
}

impl Cursor {
    pub(crate) const FIRST: Self = Self {
        offset: 0,
        limit: MAX_LIMIT,
    };
}

#[derive(Deserialize)]
struct Page<T> {
    items: Vec<T>,
    #[serde(rename = "_pagination")]
    pagination: PageInfo,
}

#[derive(Deserialize)]
struct PageInfo {
    #[serde(default)]
    next: Option<Next>,
}

/// The hub's `next` also has an absolute `url`, built from the hub's own idea
/// of its host, which may not be reachable from here; only the numbers are
/// used, on our own URL.
#[derive(Deserialize)]
struct Next {
    offset: u64,
    #[serde(default)]
    limit: Option<u64>,
}

/// Reads one page fetched at `at`: its items, and the cursor of the next page
/// if there is one.
pub(crate) fn read_page<T: DeserializeOwned>(
    pattern: &'static str,
    body: &[u8],
    at: Cursor,
) -> Result<(Vec<T>, Option<Cursor>), HubError> {
    if body.trim_ascii_start().starts_with(b"[") {
        return Err(HubError::Unpaginated { pattern });
    }
    let page: Page<T> =
        serde_json::from_slice(body).map_err(|e| HubError::decode(pattern, e.to_string()))?;
    let Some(next) = page.pagination.next else {
        return Ok((page.items, None));
    };
    if next.offset <= at.offset {
        return Err(HubError::decode(
            pattern,
            format!(
                "pagination does not advance: next offset {} after offset {}",
                next.offset, at.offset
            ),
        ));
    }
    if page.items.is_empty() {
        return Err(HubError::decode(
            pattern,
            "pagination gave an empty page with a next page",
        ));
    }
    let limit = next.limit.unwrap_or(at.limit).clamp(1, MAX_LIMIT);
    Ok((
        page.items,
        Some(Cursor {
            offset: next.offset,
            limit,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "GET /users";

    fn read(body: &str, at: Cursor) -> Result<(Vec<u32>, Option<Cursor>), HubError> {
        read_page(P, body.as_bytes(), at)
    }

    #[test]
    fn last_page_has_no_next() {
        let body =
            r#"{"items":[1,2],"_pagination":{"offset":0,"limit":200,"total":2,"next":null}}"#;
        assert_eq!(read(body, Cursor::FIRST).unwrap(), (vec![1, 2], None));
    }

    #[test]
    fn next_uses_offset_and_limit_not_url() {
        let body = r#"{"items":[1],"_pagination":{"offset":0,"limit":1,"total":2,
            "next":{"offset":1,"limit":1,"url":"http://unreachable:9/hub/api/users?offset=1&limit=1"}}}"#;
        let (items, next) = read(body, Cursor::FIRST).unwrap();
        assert_eq!(items, [1]);
        assert_eq!(
            next,
            Some(Cursor {
                offset: 1,
                limit: 1
            })
        );
    }

    #[test]
    fn bare_list_is_refused() {
        for body in ["[1,2,3]", "  \n[]"] {
            assert!(matches!(
                read(body, Cursor::FIRST),
                Err(HubError::Unpaginated { pattern: P })
            ));
        }
    }

    #[test]
    fn non_advancing_or_empty_pages_are_refused() {
        let stuck = r#"{"items":[1],"_pagination":{"next":{"offset":5,"limit":5}}}"#;
        let at = Cursor {
            offset: 5,
            limit: 5,
        };
        assert!(matches!(read(stuck, at), Err(HubError::Decode { .. })));
        let empty = r#"{"items":[],"_pagination":{"next":{"offset":10,"limit":5}}}"#;
        assert!(matches!(read(empty, at), Err(HubError::Decode { .. })));
    }

    #[test]
    fn wrong_shapes_are_decode_errors() {
        for body in [
            "{}",
            r#"{"items":[1]}"#,
            r#"{"items":["x"],"_pagination":{}}"#,
            "not json",
        ] {
            assert!(
                matches!(read(body, Cursor::FIRST), Err(HubError::Decode { .. })),
                "{body}"
            );
        }
    }
}
