//! The pull fallback's pages, in the same [`Event`] shape as webhooks.
//!
//! Each function reads one page a provider answered and returns its events in the page's order;
//! the caller decides the order it stores them in and where its cursor moves.
//!
//! - Stripe `GET /v1/events`: each item is the very event a webhook would carry (same `evt_…` id).
//! - Gmail `users.history.list`: one event per message added (`messageAdded:{message id}`, stable
//!   across pulls) or deleted, and per label change (`labelAdded:{history id}:{message id}`).
//! - Slack `conversations.history`: one event per message, `message:{channel}:{ts}` as for the
//!   Events API.
//! - HubSpot contacts search: one event per (contact, modification time):
//!   `contact:{id}:{updatedAt}`; `contact.creation` when the contact was created at that time,
//!   otherwise `contact.propertyChange`. HubSpot's webhooks report one event per changed property
//!   with their own `eventId`s, so the two paths do not de-duplicate against each other.

use serde_json::{Value, json};

use crate::Event;
use crate::events::{checked_id, rfc3339_ms, slack_message, stripe_event};

fn list<'a>(page: &'a Value, field: &str, what: &str) -> Result<&'a [Value], String> {
    match page.get(field) {
        Some(Value::Array(a)) => Ok(a),
        // Gmail leaves `history` out when nothing changed.
        None if field == "history" => Ok(&[]),
        _ => Err(format!("the {what} page has no '{field}' list")),
    }
}

/// Events of one `GET /v1/events` page (newest first, as Stripe lists them).
pub fn stripe_events(page: &Value) -> Result<Vec<Event>, String> {
    list(page, "data", "Stripe events")?
        .iter()
        .map(stripe_event)
        .collect()
}

/// Events of one `users.history.list` page, oldest first. A message without `internalDate`
/// (Gmail's history records carry only ids) is dated `now_ms`.
pub fn gmail_history(page: &Value, now_ms: i64) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    for record in list(page, "history", "Gmail history")? {
        let history_id = record
            .get("id")
            .and_then(Value::as_str)
            .ok_or("a Gmail history record has no id")?;
        for (field, kind, per_record) in [
            ("messagesAdded", "messageAdded", false),
            ("messagesDeleted", "messageDeleted", false),
            ("labelsAdded", "labelAdded", true),
            ("labelsRemoved", "labelRemoved", true),
        ] {
            for change in record
                .get(field)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let message = change
                    .get("message")
                    .filter(|m| m.is_object())
                    .ok_or_else(|| format!("a Gmail {field} entry has no message"))?;
                let message_id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or("a Gmail history message has no id")?;
                let id = if per_record {
                    format!("{kind}:{history_id}:{message_id}")
                } else {
                    format!("{kind}:{message_id}")
                };
                let at = message
                    .get("internalDate")
                    .and_then(Value::as_str)
                    .and_then(|d| d.parse::<i64>().ok())
                    .unwrap_or(now_ms);
                let mut payload = json!({ "historyId": history_id, "message": message });
                if let Some(labels) = change.get("labelIds") {
                    payload["labelIds"] = labels.clone();
                }
                out.push(Event {
                    id: checked_id(&id, "event id")?,
                    event_type: kind.to_string(),
                    occurred_at_ms: at,
                    payload,
                });
            }
        }
    }
    Ok(out)
}

/// Events of one `conversations.history` page of `channel` (newest first, as Slack lists them).
pub fn slack_messages(channel: &str, page: &Value) -> Result<Vec<Event>, String> {
    list(page, "messages", "Slack history")?
        .iter()
        .map(|m| slack_message(channel, m))
        .collect()
}

/// Events of one contacts search page (oldest modification first, as the pull sorts it).
pub fn hubspot_contacts(page: &Value) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    for contact in list(page, "results", "HubSpot search")? {
        let id = contact
            .get("id")
            .and_then(Value::as_str)
            .ok_or("a HubSpot contact has no id")?;
        let updated = contact
            .get("updatedAt")
            .and_then(Value::as_str)
            .or_else(|| {
                contact
                    .pointer("/properties/lastmodifieddate")
                    .and_then(Value::as_str)
            })
            .ok_or("a HubSpot contact has no modification time")?;
        let at = rfc3339_ms(updated)
            .ok_or("a HubSpot contact's modification time is not an RFC 3339 time")?;
        let created = contact
            .get("createdAt")
            .and_then(Value::as_str)
            .and_then(rfc3339_ms);
        let kind = if created == Some(at) {
            "contact.creation"
        } else {
            "contact.propertyChange"
        };
        out.push(Event {
            id: checked_id(&format!("contact:{id}:{at}"), "event id")?,
            event_type: kind.into(),
            occurred_at_ms: at,
            payload: contact.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_pages_hold_the_same_events_as_webhooks() {
        let page = json!({ "object": "list", "has_more": false, "data": [
            { "id": "evt_2", "object": "event", "type": "invoice.paid", "created": 2, "data": { "object": { "id": "in_1" } } },
            { "id": "evt_1", "object": "event", "type": "customer.created", "created": 1, "data": { "object": { "id": "cus_1" } } },
        ]});
        let ids: Vec<String> = stripe_events(&page)
            .expect("page")
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, vec!["evt_2", "evt_1"]);
        assert!(
            stripe_events(&json!({ "object": "list" })).is_err(),
            "a page without data is malformed"
        );
    }

    #[test]
    fn gmail_history_records_become_stable_events() {
        let page = json!({ "historyId": "100010", "history": [
            { "id": "100008", "messages": [{ "id": "a1" }], "messagesAdded": [{ "message": { "id": "a1", "threadId": "a1", "labelIds": ["INBOX"] } }] },
            { "id": "100009", "labelsRemoved": [{ "message": { "id": "a1" }, "labelIds": ["UNREAD"] }] },
        ]});
        let events = gmail_history(&page, 42).expect("page");
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["messageAdded:a1", "labelRemoved:100009:a1"]);
        assert_eq!(
            (
                events[0].occurred_at_ms,
                events[1].payload["labelIds"][0].as_str()
            ),
            (42, Some("UNREAD"))
        );
        assert!(
            gmail_history(&json!({ "historyId": "1" }), 0)
                .expect("empty")
                .is_empty(),
            "no changes is an empty page, not an error"
        );
    }

    #[test]
    fn hubspot_contacts_are_events_per_modification() {
        let page = json!({ "results": [
            { "id": "101", "createdAt": "2024-01-01T09:30:00.000Z", "updatedAt": "2024-01-01T09:30:00.000Z", "properties": {} },
            { "id": "102", "createdAt": "2024-01-01T09:30:00.000Z", "updatedAt": "2024-02-01T16:45:00.000Z", "properties": {} },
        ]});
        let events = hubspot_contacts(&page).expect("page");
        assert_eq!(events[0].event_type, "contact.creation");
        assert_eq!(
            (events[1].event_type.as_str(), events[1].id.as_str()),
            ("contact.propertyChange", "contact:102:1706805900000")
        );
    }
}
