//! `POST /hooks/{connection_id}`: provider webhooks, and the event-list query parameters the
//! control and agent APIs share.
//!
//! A webhook carries no token or cookie: the provider's signature over the raw body is its only
//! authentication, checked by `switchboard_api::App::webhook_receive` (which also de-duplicates,
//! stores and audits). So this route is outside the control API's token/cookie rules and the
//! `Origin` check (a provider sends none; a forged request cannot sign), but it stays behind the
//! loopback `Host` check like every route. The body is read raw, up to
//! [`MAX_WEBHOOK_BYTES`]; a larger one is refused `payload_too_large` (413) without being read.
//! Answers: 200 `{"stored", "duplicates"}`, 200 `{"challenge"}` for Slack's handshake, or
//! `{code, message}` with a 4xx.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{CONTENT_LENGTH, HOST};
use axum::response::Response;
use switchboard_api::App;
use switchboard_api::events::{Headers, InboundWebhook, MAX_WEBHOOK_BYTES};
use switchboard_core::ApiError;

use crate::control::{error_response, ok};

pub async fn receive(
    State(app): State<App>,
    Path(connection_id): Path<String>,
    req: Request<Body>,
) -> Response {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_WEBHOOK_BYTES) {
        return error_response(app.webhook_too_large(&connection_id).await);
    }
    // With the limit set, reading fails only when the body is longer than it.
    let Ok(bytes) = axum::body::to_bytes(body, MAX_WEBHOOK_BYTES).await else {
        return error_response(app.webhook_too_large(&connection_id).await);
    };
    // HubSpot signs the URI it sent to; a delivery reaches the gateway at its loopback address
    // (directly, or through a relay that keeps the Host), so that is the URI rebuilt here.
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
    let headers: Headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let inbound = InboundWebhook {
        method: parts.method.to_string(),
        uri: format!("http://{host}{path}"),
        headers,
        body: bytes.to_vec(),
    };
    match app.webhook_receive(&connection_id, inbound).await {
        Ok(answer) => ok(answer),
        Err(e) => error_response(e),
    }
}

/// `connection`, `after` and `limit` of an event list; anything else is a `bad_request`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub connection: Option<String>,
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

pub fn parse_event_query(query: &str, allow_connection: bool) -> Result<EventQuery, ApiError> {
    let mut q = EventQuery::default();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "connection" if allow_connection => q.connection = Some(v.into_owned()),
            "after" => {
                q.after = Some(v.parse().map_err(|_| {
                    ApiError::bad_request(format!("after must be an event seq number (got '{v}')"))
                })?)
            }
            "limit" => {
                q.limit = Some(v.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "limit must be a number from 1 to 500 (got '{v}')"
                    ))
                })?)
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}'"
                )));
            }
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_queries_take_connection_after_and_limit_only() {
        let q = parse_event_query("connection=stripe-1&after=12&limit=5", true).expect("valid");
        assert_eq!(
            q,
            EventQuery {
                connection: Some("stripe-1".into()),
                after: Some(12),
                limit: Some(5)
            }
        );
        assert!(
            parse_event_query("connection=stripe-1", false).is_err(),
            "a per-connection path takes no connection parameter"
        );
        assert!(
            parse_event_query("after=x", true)
                .expect_err("bad after")
                .message
                .contains("after")
        );
        assert!(
            parse_event_query("since=1", true)
                .expect_err("unknown")
                .message
                .contains("since")
        );
    }
}
