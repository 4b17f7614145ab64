//! From a verified delivery to events in the one shape agents read.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Delivery, Scheme};

/// Longest event id or type kept; longer ones are refused as malformed.
const MAX_ID: usize = 255;
/// Longest `url_verification` challenge echoed back.
const MAX_CHALLENGE: usize = 1024;

/// One provider event, whichever path brought it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The provider's id for the event, stable across retries (`evt_…`, Slack
    /// `message:{channel}:{ts}`, HubSpot's `eventId`, Gmail `messageAdded:{id}`).
    pub id: String,
    /// The provider's event type (`invoice.paid`, `message`, `contact.creation`, `messageAdded`).
    pub event_type: String,
    /// When it happened at the provider (UTC ms).
    pub occurred_at_ms: i64,
    /// The provider's own JSON for the event.
    pub payload: Value,
}

/// What a verified delivery holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Slack's Events API handshake: answer with this challenge.
    UrlVerification { challenge: String },
    /// Zero or more events (HubSpot batches up to 100 in one delivery).
    Events(Vec<Event>),
}

pub(crate) fn checked_id(id: &str, what: &str) -> Result<String, String> {
    if id.is_empty() || id.len() > MAX_ID || id.chars().any(char::is_control) {
        return Err(format!(
            "the {what} is empty, longer than {MAX_ID} characters or holds control characters"
        ));
    }
    Ok(id.to_string())
}

fn json_body(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| {
        format!(
            "the body is not JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })
}

fn str_field<'a>(v: &'a Value, field: &str, what: &str) -> Result<&'a str, String> {
    v.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the {what} has no '{field}' text"))
}

/// Parses a verified delivery of `scheme` into events.
pub fn parse(scheme: Scheme, delivery: &Delivery<'_>) -> Result<Parsed, String> {
    match scheme {
        Scheme::StripeV1 => {
            stripe_event(&json_body(delivery.body)?).map(|e| Parsed::Events(vec![e]))
        }
        Scheme::SlackV0 => slack(&json_body(delivery.body)?),
        Scheme::HubspotV3 => hubspot(&json_body(delivery.body)?),
        Scheme::StandardWebhooks => standard(delivery),
    }
}

/// A Stripe `event` object (a webhook body, or one item of `GET /v1/events`).
pub(crate) fn stripe_event(v: &Value) -> Result<Event, String> {
    if v.get("object").and_then(Value::as_str) != Some("event") {
        return Err("the body is not a Stripe event (object is not \"event\")".into());
    }
    let id = checked_id(str_field(v, "id", "Stripe event")?, "event id")?;
    let event_type = checked_id(str_field(v, "type", "Stripe event")?, "event type")?;
    let created = v
        .get("created")
        .and_then(Value::as_i64)
        .ok_or("the Stripe event has no 'created' time")?;
    if !v.pointer("/data/object").is_some_and(Value::is_object) {
        return Err("the Stripe event has no data.object".into());
    }
    Ok(Event {
        id,
        event_type,
        occurred_at_ms: created.saturating_mul(1000),
        payload: v.clone(),
    })
}

/// Slack's `ts` (`"1712345678.000200"`) in UTC ms.
pub(crate) fn slack_ts_ms(ts: &str) -> Option<i64> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 6
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let micros: i64 = format!("{frac:0<6}").parse().ok()?;
    Some(secs.parse::<i64>().ok()?.checked_mul(1000)? + micros / 1000)
}

/// A Slack message (from an Events API `message` event or a history page) in `channel`. Its id
/// is the same on both paths: `message:{channel}:{ts}`.
pub(crate) fn slack_message(channel: &str, message: &Value) -> Result<Event, String> {
    let ts = str_field(message, "ts", "Slack message")?;
    let occurred_at_ms =
        slack_ts_ms(ts).ok_or("the Slack message's ts is not a Slack timestamp")?;
    let event_type = match message.get("subtype").and_then(Value::as_str) {
        Some(sub) => format!("message.{sub}"),
        None => "message".to_string(),
    };
    let mut payload = message.clone();
    if let Some(o) = payload.as_object_mut() {
        o.insert("channel".into(), Value::String(channel.to_string()));
    }
    Ok(Event {
        id: checked_id(&format!("message:{channel}:{ts}"), "message id")?,
        event_type: checked_id(&event_type, "event type")?,
        occurred_at_ms,
        payload,
    })
}

fn slack(v: &Value) -> Result<Parsed, String> {
    match v.get("type").and_then(Value::as_str) {
        Some("url_verification") => {
            let challenge = str_field(v, "challenge", "url_verification request")?;
            if challenge.is_empty()
                || challenge.len() > MAX_CHALLENGE
                || challenge.chars().any(char::is_control)
            {
                return Err(
                    "the url_verification challenge is empty, too long or holds control characters"
                        .into(),
                );
            }
            Ok(Parsed::UrlVerification {
                challenge: challenge.to_string(),
            })
        }
        Some("event_callback") => {
            let event = v
                .get("event")
                .filter(|e| e.is_object())
                .ok_or("the event_callback has no event object")?;
            let kind = str_field(event, "type", "Slack event")?;
            if kind == "message"
                && let Some(channel) = event.get("channel").and_then(Value::as_str)
            {
                return Ok(Parsed::Events(vec![slack_message(channel, event)?]));
            }
            let id = checked_id(str_field(v, "event_id", "event_callback")?, "event id")?;
            let time = v
                .get("event_time")
                .and_then(Value::as_i64)
                .ok_or("the event_callback has no event_time")?;
            Ok(Parsed::Events(vec![Event {
                id,
                event_type: checked_id(kind, "event type")?,
                occurred_at_ms: time.saturating_mul(1000),
                payload: event.clone(),
            }]))
        }
        // `app_rate_limited` and other notices carry no event.
        Some(_) => Ok(Parsed::Events(Vec::new())),
        None => Err("the body has no Slack envelope 'type'".into()),
    }
}

fn hubspot(v: &Value) -> Result<Parsed, String> {
    let items = v
        .as_array()
        .ok_or("the body is not HubSpot's JSON array of events")?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let id = match item.get("eventId") {
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => return Err("a HubSpot event has no eventId".into()),
        };
        let kind = str_field(item, "subscriptionType", "HubSpot event")?;
        let at = item
            .get("occurredAt")
            .and_then(Value::as_i64)
            .ok_or("a HubSpot event has no occurredAt")?;
        out.push(Event {
            id: checked_id(&id, "event id")?,
            event_type: checked_id(kind, "event type")?,
            occurred_at_ms: at,
            payload: item.clone(),
        });
    }
    Ok(Parsed::Events(out))
}

pub(crate) fn rfc3339_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn standard(d: &Delivery<'_>) -> Result<Parsed, String> {
    let v = json_body(d.body)?;
    let id = checked_id(
        d.headers.get("webhook-id").unwrap_or_default(),
        "webhook-id",
    )?;
    let kind = str_field(&v, "type", "Standard Webhooks payload")?;
    let at = match v
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(rfc3339_ms)
    {
        Some(ms) => ms,
        None => d
            .headers
            .get("webhook-timestamp")
            .and_then(|t| t.trim().parse::<i64>().ok())
            .map(|s| s.saturating_mul(1000))
            .ok_or("the payload has no timestamp")?,
    };
    Ok(Parsed::Events(vec![Event {
        id,
        event_type: checked_id(kind, "event type")?,
        occurred_at_ms: at,
        payload: v,
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Headers;
    use serde_json::json;

    fn parse_body(scheme: Scheme, body: &Value) -> Result<Parsed, String> {
        let bytes = body.to_string();
        let h = Headers::new();
        parse(
            scheme,
            &Delivery {
                method: "POST",
                uri: "http://127.0.0.1:1/hooks/x",
                headers: &h,
                body: bytes.as_bytes(),
            },
        )
    }

    #[test]
    fn a_stripe_event_keeps_its_id_type_and_time() {
        let e = json!({ "id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1_700_000_000, "data": { "object": { "id": "in_1" } } });
        let Ok(Parsed::Events(list)) = parse_body(Scheme::StripeV1, &e) else {
            panic!("a Stripe event should parse")
        };
        assert_eq!(
            (
                list[0].id.as_str(),
                list[0].event_type.as_str(),
                list[0].occurred_at_ms
            ),
            ("evt_1", "invoice.paid", 1_700_000_000_000)
        );
        assert!(
            parse_body(
                Scheme::StripeV1,
                &json!({ "id": "evt_1", "object": "customer" })
            )
            .is_err(),
            "a non-event body is malformed"
        );
        assert!(parse_body(Scheme::StripeV1, &json!({ "id": "", "object": "event", "type": "x", "created": 1, "data": { "object": {} } })).is_err(), "an empty id is refused");
    }

    #[test]
    fn slack_messages_get_the_same_id_on_both_paths_and_the_handshake_is_recognised() {
        let cb = json!({ "type": "event_callback", "event_id": "Ev1", "event_time": 1_712_400_001,
            "event": { "type": "message", "channel": "C1", "user": "U1", "text": "hi", "ts": "1712400000.000100" } });
        let Ok(Parsed::Events(list)) = parse_body(Scheme::SlackV0, &cb) else {
            panic!("a message event should parse")
        };
        assert_eq!(
            (
                list[0].id.as_str(),
                list[0].event_type.as_str(),
                list[0].occurred_at_ms
            ),
            ("message:C1:1712400000.000100", "message", 1_712_400_000_000)
        );
        let pulled = slack_message(
            "C1",
            &json!({ "type": "message", "user": "U1", "text": "hi", "ts": "1712400000.000100" }),
        )
        .expect("history item");
        assert_eq!(
            pulled.id, list[0].id,
            "a pulled message and its webhook must de-duplicate"
        );
        let other = json!({ "type": "event_callback", "event_id": "Ev2", "event_time": 5, "event": { "type": "reaction_added" } });
        let Ok(Parsed::Events(list)) = parse_body(Scheme::SlackV0, &other) else {
            panic!("other events parse")
        };
        assert_eq!(
            (list[0].id.as_str(), list[0].occurred_at_ms),
            ("Ev2", 5_000)
        );
        assert_eq!(
            parse_body(
                Scheme::SlackV0,
                &json!({ "type": "url_verification", "challenge": "abc", "token": "t" })
            ),
            Ok(Parsed::UrlVerification {
                challenge: "abc".into()
            })
        );
        assert!(parse_body(Scheme::SlackV0, &json!({ "event": {} })).is_err());
        assert_eq!(slack_ts_ms("1712345678.5"), Some(1_712_345_678_500));
        assert_eq!(slack_ts_ms("x.1"), None);
    }

    #[test]
    fn a_hubspot_batch_is_several_events() {
        let body = json!([
            { "eventId": 10, "subscriptionType": "contact.creation", "occurredAt": 1_564_113_600_000_i64, "objectId": 123 },
            { "eventId": 11, "subscriptionType": "contact.propertyChange", "occurredAt": 1_564_113_600_001_i64, "objectId": 123, "propertyName": "email" },
        ]);
        let Ok(Parsed::Events(list)) = parse_body(Scheme::HubspotV3, &body) else {
            panic!("a batch should parse")
        };
        let ids: Vec<&str> = list.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["10", "11"]);
        assert!(
            parse_body(Scheme::HubspotV3, &json!({ "eventId": 1 })).is_err(),
            "HubSpot sends an array"
        );
        assert!(
            parse_body(
                Scheme::HubspotV3,
                &json!([{ "subscriptionType": "x", "occurredAt": 1 }])
            )
            .is_err(),
            "an event without eventId is malformed"
        );
    }

    #[test]
    fn standard_webhooks_take_the_id_header_and_the_payload_time() {
        let h = Headers::from_iter([("webhook-id", "msg_1"), ("webhook-timestamp", "1674087231")]);
        let body = br#"{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81"}}"#;
        let Ok(Parsed::Events(list)) = parse(
            Scheme::StandardWebhooks,
            &Delivery {
                method: "POST",
                uri: "u",
                headers: &h,
                body,
            },
        ) else {
            panic!("should parse")
        };
        assert_eq!(
            (
                list[0].id.as_str(),
                list[0].event_type.as_str(),
                list[0].occurred_at_ms
            ),
            ("msg_1", "contact.created", 1_667_507_170_344)
        );
    }
}
