//! Logging activities on CRM records (calls, emails, notes, tasks as CRM v3 objects created with
//! their `associations` by HubSpot's default association type ids), the owners list, and sales
//! sequences (list, enroll).

use serde_json::{Map, Value, json};

use super::super::{HttpCall, object, opt_string, record_id, refuse_unknown};

/// HubSpot's default association type ids from an activity to a contact, a company and a deal.
fn association_types(activity: &str) -> [u32; 3] {
    match activity {
        "calls" => [194, 182, 206],
        "emails" => [198, 186, 210],
        "meetings" => [200, 188, 212],
        "notes" => [202, 190, 214],
        _ => [204, 192, 216],
    }
}

/// The record fields every activity takes: at least one of them.
pub(super) const RECORD_FIELDS: &[&str] = &["contact_id", "company_id", "deal_id"];

/// `associations` for an activity of type `activity` from `contact_id`, `company_id`, `deal_id`.
fn associations(o: &Map<String, Value>, activity: &str) -> Result<Vec<Value>, String> {
    let types = association_types(activity);
    let mut out = Vec::new();
    for (field, type_id) in RECORD_FIELDS.iter().zip(types) {
        if o.get(*field).is_some_and(|v| !v.is_null()) {
            let id = record_id(o, field)?;
            out.push(json!({ "to": { "id": id }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id }] }));
        }
    }
    if out.is_empty() {
        return Err(
            "name the record this is logged on: 'contact_id', 'company_id' and/or 'deal_id'".into(),
        );
    }
    Ok(out)
}

/// A time as HubSpot takes it: milliseconds since the epoch, or ISO 8601 / RFC 3339.
fn time_value(
    o: &Map<String, Value>,
    field: &str,
    required: bool,
) -> Result<Option<String>, String> {
    let hint = format!(
        "'{field}' must be a time: milliseconds since the epoch or ISO 8601 such as \"2024-05-01T09:00:00Z\""
    );
    let text = match o.get(field) {
        None | Some(Value::Null) if required => {
            return Err(format!(
                "'{field}' is required: a time, as milliseconds since the epoch or ISO 8601 such as \"2024-05-01T09:00:00Z\""
            ));
        }
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(_) => return Err(hint),
    };
    let ok = (!text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_digit()))
        || time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
            .is_ok();
    if ok { Ok(Some(text)) } else { Err(hint) }
}

/// A required non-empty text of at most `max` characters.
fn text(o: &Map<String, Value>, field: &str, max: usize, what: &str) -> Result<String, String> {
    match opt_text(o, field, max)? {
        Some(t) => Ok(t),
        None => Err(format!("'{field}' is required: {what}")),
    }
}

fn opt_text(o: &Map<String, Value>, field: &str, max: usize) -> Result<Option<String>, String> {
    match opt_string(o, field)? {
        Some(t) if t.chars().count() > max => {
            Err(format!("'{field}' must be at most {max} characters"))
        }
        other => Ok(other),
    }
}

fn opt_choice(
    o: &Map<String, Value>,
    field: &str,
    allowed: &[&str],
) -> Result<Option<String>, String> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        Some(_) => Err(format!("'{field}' must be one of {}", allowed.join(", "))),
    }
}

fn email_address(
    o: &Map<String, Value>,
    field: &str,
    required: bool,
) -> Result<Option<String>, String> {
    let v = opt_string(o, field)?;
    match v {
        None if required => Err(format!("'{field}' is required: an email address")),
        None => Ok(None),
        Some(e) => {
            let ok = e.len() <= 254
                && !e.contains(char::is_whitespace)
                && e.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                });
            if ok {
                Ok(Some(e))
            } else {
                Err(format!(
                    "'{field}' must be an email address such as \"pat@example.com\""
                ))
            }
        }
    }
}

fn create(activity: &str, props: Map<String, Value>, assoc: Vec<Value>) -> HttpCall {
    HttpCall {
        method: "POST",
        path: format!("/crm/v3/objects/{activity}"),
        json: Some(json!({ "properties": props, "associations": assoc })),
        ..HttpCall::default()
    }
}

fn put(props: &mut Map<String, Value>, name: &str, v: Option<String>) {
    if let Some(v) = v {
        props.insert(name.into(), Value::String(v));
    }
}

fn owner(o: &Map<String, Value>) -> Result<Option<String>, String> {
    if o.get("owner_id").is_some_and(|v| !v.is_null()) {
        record_id(o, "owner_id").map(Some)
    } else {
        Ok(None)
    }
}

pub(super) const CALL_DIRECTIONS: &[&str] = &["INBOUND", "OUTBOUND"];
pub(super) const CALL_STATUSES: &[&str] = &[
    "BUSY",
    "CALLING_CRM_USER",
    "CANCELED",
    "COMPLETED",
    "CONNECTING",
    "FAILED",
    "IN_PROGRESS",
    "NO_ANSWER",
    "QUEUED",
    "RINGING",
];
pub(super) const EMAIL_DIRECTIONS: &[&str] = &["EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"];
pub(super) const EMAIL_STATUSES: &[&str] = &["BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"];
pub(super) const TASK_STATUSES: &[&str] = &[
    "NOT_STARTED",
    "IN_PROGRESS",
    "WAITING",
    "COMPLETED",
    "DEFERRED",
];
pub(super) const TASK_PRIORITIES: &[&str] = &["NONE", "LOW", "MEDIUM", "HIGH"];
pub(super) const TASK_TYPES: &[&str] = &[
    "CALL",
    "EMAIL",
    "LINKED_IN_CONNECT",
    "LINKED_IN_MESSAGE",
    "MEETING",
    "TODO",
];

/// Longest note, call or email body accepted (HubSpot's limit is 65,536 characters).
const BODY_MAX: usize = 65_536;

pub(super) fn build_log_call(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    let mut known = RECORD_FIELDS.to_vec();
    known.extend([
        "timestamp",
        "body",
        "title",
        "direction",
        "status",
        "duration_ms",
        "owner_id",
    ]);
    refuse_unknown(o, &known)?;
    let assoc = associations(o, "calls")?;
    let mut props = Map::new();
    put(
        &mut props,
        "hs_timestamp",
        time_value(o, "timestamp", true)?,
    );
    put(
        &mut props,
        "hs_call_body",
        Some(text(o, "body", BODY_MAX, "what was said on the call")?),
    );
    put(&mut props, "hs_call_title", opt_text(o, "title", 500)?);
    put(
        &mut props,
        "hs_call_direction",
        opt_choice(o, "direction", CALL_DIRECTIONS)?,
    );
    put(
        &mut props,
        "hs_call_status",
        opt_choice(o, "status", CALL_STATUSES)?,
    );
    let duration = match o.get("duration_ms") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        Some(_) => return Err("'duration_ms' must be a whole number of milliseconds".into()),
    };
    put(&mut props, "hs_call_duration", duration);
    put(&mut props, "hubspot_owner_id", owner(o)?);
    Ok(create("calls", props, assoc))
}

pub(super) fn build_log_email(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    let mut known = RECORD_FIELDS.to_vec();
    known.extend([
        "timestamp",
        "subject",
        "text",
        "direction",
        "status",
        "from_email",
        "to_email",
        "owner_id",
    ]);
    refuse_unknown(o, &known)?;
    let assoc = associations(o, "emails")?;
    let mut props = Map::new();
    put(
        &mut props,
        "hs_timestamp",
        time_value(o, "timestamp", true)?,
    );
    put(
        &mut props,
        "hs_email_subject",
        Some(text(o, "subject", 998, "the email's subject line")?),
    );
    put(
        &mut props,
        "hs_email_text",
        Some(text(o, "text", BODY_MAX, "the email's body as plain text")?),
    );
    let direction = opt_choice(o, "direction", EMAIL_DIRECTIONS)?.unwrap_or_else(|| "EMAIL".into());
    put(&mut props, "hs_email_direction", Some(direction));
    put(
        &mut props,
        "hs_email_status",
        opt_choice(o, "status", EMAIL_STATUSES)?,
    );
    let from = email_address(o, "from_email", false)?;
    let to = email_address(o, "to_email", false)?;
    if from.is_some() || to.is_some() {
        let mut headers = Map::new();
        if let Some(f) = from {
            headers.insert("from".into(), json!({ "email": f }));
        }
        if let Some(t) = to {
            headers.insert("to".into(), json!([{ "email": t }]));
        }
        props.insert(
            "hs_email_headers".into(),
            Value::String(Value::Object(headers).to_string()),
        );
    }
    put(&mut props, "hubspot_owner_id", owner(o)?);
    Ok(create("emails", props, assoc))
}

pub(super) fn build_create_note(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    let mut known = RECORD_FIELDS.to_vec();
    known.extend(["timestamp", "body", "owner_id"]);
    refuse_unknown(o, &known)?;
    let assoc = associations(o, "notes")?;
    let mut props = Map::new();
    put(
        &mut props,
        "hs_timestamp",
        time_value(o, "timestamp", true)?,
    );
    put(
        &mut props,
        "hs_note_body",
        Some(text(o, "body", BODY_MAX, "the note's text")?),
    );
    put(&mut props, "hubspot_owner_id", owner(o)?);
    Ok(create("notes", props, assoc))
}

pub(super) fn build_create_task(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    let mut known = RECORD_FIELDS.to_vec();
    known.extend([
        "subject",
        "body",
        "due_date",
        "owner_id",
        "priority",
        "status",
        "task_type",
    ]);
    refuse_unknown(o, &known)?;
    let assoc = associations(o, "tasks")?;
    let mut props = Map::new();
    put(
        &mut props,
        "hs_task_subject",
        Some(text(
            o,
            "subject",
            500,
            "what the task is, e.g. \"Call back about pricing\"",
        )?),
    );
    put(&mut props, "hs_timestamp", time_value(o, "due_date", true)?);
    put(&mut props, "hs_task_body", opt_text(o, "body", BODY_MAX)?);
    put(
        &mut props,
        "hs_task_priority",
        opt_choice(o, "priority", TASK_PRIORITIES)?,
    );
    put(
        &mut props,
        "hs_task_status",
        opt_choice(o, "status", TASK_STATUSES)?,
    );
    put(
        &mut props,
        "hs_task_type",
        opt_choice(o, "task_type", TASK_TYPES)?,
    );
    put(&mut props, "hubspot_owner_id", owner(o)?);
    Ok(create("tasks", props, assoc))
}

/// The association fields of an activity schema.
pub(super) fn record_schema(props: &mut Map<String, Value>) {
    for (field, what) in RECORD_FIELDS.iter().zip(["contact", "company", "deal"]) {
        props.insert(
            (*field).to_string(),
            json!({ "type": "string", "pattern": "^[0-9]+$", "description": format!("The {what} this is logged on (give at least one of contact_id, company_id, deal_id).") }),
        );
    }
    props.insert("owner_id".into(), json!({ "type": "string", "pattern": "^[0-9]+$", "description": "The HubSpot owner (user) it belongs to, from list_owners." }));
}

fn paging(
    o: &Map<String, Value>,
    max: u64,
    query: &mut Vec<(String, String)>,
) -> Result<(), String> {
    if let Some(l) = super::super::opt_limit(o, max)? {
        query.push(("limit".into(), l.to_string()));
    }
    if let Some(a) = opt_string(o, "after")? {
        if a.len() > 64
            || !a
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(
                "'after' must be the cursor from the previous page's paging.next.after".into(),
            );
        }
        query.push(("after".into(), a));
    }
    Ok(())
}

pub(super) fn build_list_owners(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["email", "limit", "after"])?;
    let mut query = Vec::new();
    if let Some(e) = email_address(o, "email", false)? {
        query.push(("email".into(), e));
    }
    paging(o, 500, &mut query)?;
    Ok(HttpCall {
        method: "GET",
        path: "/crm/v3/owners".into(),
        query,
        ..HttpCall::default()
    })
}

pub(super) fn build_list_sequences(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["user_id", "name", "limit", "after"])?;
    let user = record_id(o, "user_id")?;
    let mut query = vec![("userId".to_string(), user)];
    if let Some(n) = opt_text(o, "name", 200)? {
        query.push(("name".into(), n));
    }
    paging(o, 100, &mut query)?;
    Ok(HttpCall {
        method: "GET",
        path: "/automation/v4/sequences".into(),
        query,
        ..HttpCall::default()
    })
}

pub(super) fn build_enroll(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["sequence_id", "contact_id", "sender_email", "user_id"])?;
    let sequence = record_id(o, "sequence_id")?;
    let contact = record_id(o, "contact_id")?;
    let sender = email_address(o, "sender_email", true)?.unwrap_or_default();
    let user = record_id(o, "user_id")?;
    Ok(HttpCall {
        method: "POST",
        path: "/automation/v4/sequences/enrollments".into(),
        query: vec![("userId".into(), user)],
        json: Some(json!({ "sequenceId": sequence, "contactId": contact, "senderEmail": sender })),
        ..HttpCall::default()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::super::action;

    #[test]
    fn activities_are_created_with_hubspots_association_types() {
        let note = action("hubspot_create_note").expect("create_note");
        assert!(
            note.outbound && !note.idempotent,
            "a note is a CRM write that must not be sent twice"
        );
        let call = (note.build)(&json!({ "contact_id": "150", "deal_id": 316, "body": "Called back", "timestamp": "2024-04-02T10:00:00Z" })).expect("valid");
        assert_eq!(
            (call.method, call.path.as_str()),
            ("POST", "/crm/v3/objects/notes")
        );
        let body = call.json.expect("body");
        assert_eq!(
            body["properties"],
            json!({ "hs_timestamp": "2024-04-02T10:00:00Z", "hs_note_body": "Called back" })
        );
        assert_eq!(
            body["associations"][0],
            json!({ "to": { "id": "150" }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202 }] })
        );
        assert_eq!(
            body["associations"][1]["types"][0]["associationTypeId"], 214,
            "note → deal"
        );

        let task = action("hubspot_create_task").expect("create_task");
        let call = (task.build)(&json!({
            "company_id": "210", "subject": "Send the quote", "body": "40 seats", "due_date": 1_714_550_400_000u64,
            "owner_id": "90001", "priority": "HIGH", "status": "NOT_STARTED", "task_type": "EMAIL",
        }))
        .expect("valid");
        let body = call.json.expect("body");
        assert_eq!(
            body["properties"]["hs_timestamp"], "1714550400000",
            "the due date is hs_timestamp"
        );
        assert_eq!(body["properties"]["hubspot_owner_id"], "90001");
        assert_eq!(
            body["associations"][0]["types"][0]["associationTypeId"], 192,
            "task → company"
        );

        let call = (action("hubspot_log_call").expect("log_call").build)(&json!({ "contact_id": "101", "body": "Left a voicemail", "timestamp": "1714550400000", "direction": "OUTBOUND", "status": "NO_ANSWER", "duration_ms": 30000 })).expect("valid");
        assert_eq!(
            call.json
                .as_ref()
                .map(|b| b["properties"]["hs_call_duration"].clone()),
            Some(json!("30000"))
        );
        assert_eq!(call.path, "/crm/v3/objects/calls");
        let call = (action("hubspot_log_email").expect("log_email").build)(&json!({ "deal_id": "316", "subject": "Quote", "text": "Attached.", "timestamp": "2024-04-02T10:00:00Z", "to_email": "elizabeth.feinler@example.com" })).expect("valid");
        let body = call.json.expect("body");
        assert_eq!(
            body["properties"]["hs_email_direction"], "EMAIL",
            "an email the rep sent, unless told otherwise"
        );
        assert_eq!(
            body["associations"][0]["types"][0]["associationTypeId"], 210,
            "email → deal"
        );
        assert!(
            body["properties"]["hs_email_headers"]
                .as_str()
                .is_some_and(|h| h.contains("elizabeth.feinler@example.com"))
        );
    }

    #[test]
    fn bad_activity_input_is_refused_with_the_field_named() {
        let note = action("hubspot_create_note").expect("create_note");
        let f =
            |a: &str, v: serde_json::Value| (action(a).expect(a).build)(&v).expect_err("refused");
        assert!(
            (note.build)(&json!({ "body": "x", "timestamp": "2024-04-02T10:00:00Z" }))
                .expect_err("no record")
                .contains("contact_id")
        );
        assert!(
            f(
                "hubspot_create_note",
                json!({ "contact_id": "1", "timestamp": "2024-04-02T10:00:00Z" })
            )
            .contains("'body'")
        );
        assert!(
            f(
                "hubspot_create_note",
                json!({ "contact_id": "1", "body": "x" })
            )
            .contains("'timestamp' is required")
        );
        assert!(
            f(
                "hubspot_create_note",
                json!({ "contact_id": "1", "body": "x", "timestamp": "next week" })
            )
            .contains("timestamp")
        );
        assert!(
            f(
                "hubspot_create_note",
                json!({ "contact_id": "../1", "body": "x", "timestamp": "1" })
            )
            .contains("contact_id")
        );
        assert!(f("hubspot_create_task", json!({ "contact_id": "1", "subject": "x", "due_date": "2024-04-02T10:00:00Z", "priority": "URGENT" })).contains("priority"));
        assert!(
            f(
                "hubspot_create_task",
                json!({ "contact_id": "1", "subject": "x" })
            )
            .contains("due_date")
        );
        assert!(
            f(
                "hubspot_create_task",
                json!({ "contact_id": "1", "due_date": "1" })
            )
            .contains("subject")
        );
        assert!(
            f(
                "hubspot_create_task",
                json!({ "contact_id": "1", "subject": "x", "due_date": "1", "owner_id": "me" })
            )
            .contains("owner_id")
        );
        assert!(
            f(
                "hubspot_log_call",
                json!({ "contact_id": "1", "body": "x", "timestamp": "1", "duration_ms": -5 })
            )
            .contains("duration_ms")
        );
        assert!(
            f(
                "hubspot_log_call",
                json!({ "contact_id": "1", "body": "x", "timestamp": "1", "direction": "SIDEWAYS" })
            )
            .contains("direction")
        );
        assert!(f("hubspot_log_email", json!({ "contact_id": "1", "subject": "s", "text": "t", "timestamp": "1", "to_email": "not an email" })).contains("to_email"));
        assert!(
            f(
                "hubspot_log_email",
                json!({ "contact_id": "1", "text": "t", "timestamp": "1" })
            )
            .contains("subject")
        );
        assert!(
            f(
                "hubspot_create_note",
                json!({ "contact_id": "1", "body": "x", "timestamp": "1", "colour": "red" })
            )
            .contains("colour")
        );
    }

    #[test]
    fn owners_and_sequences_become_hubspots_requests() {
        let call = (action("hubspot_list_owners").expect("owners").build)(
            &json!({ "email": "pat@example.com", "limit": 50 }),
        )
        .expect("valid");
        assert_eq!(
            (call.path.as_str(), call.query.clone()),
            (
                "/crm/v3/owners",
                vec![
                    ("email".into(), "pat@example.com".into()),
                    ("limit".into(), "50".into())
                ]
            )
        );
        let call = (action("hubspot_list_sequences").expect("sequences").build)(
            &json!({ "user_id": "5101001" }),
        )
        .expect("valid");
        assert_eq!(
            (call.path.as_str(), call.query.clone()),
            (
                "/automation/v4/sequences",
                vec![("userId".into(), "5101001".into())]
            )
        );
        let enroll = action("hubspot_enroll_in_sequence").expect("enroll");
        assert!(
            enroll.outbound && !enroll.idempotent,
            "enrolling starts emails to the contact"
        );
        let call = (enroll.build)(&json!({ "sequence_id": "10001001", "contact_id": "150", "sender_email": "pat@example.com", "user_id": 5_101_001 })).expect("valid");
        assert_eq!(
            (call.method, call.path.as_str()),
            ("POST", "/automation/v4/sequences/enrollments")
        );
        assert_eq!(call.query, vec![("userId".into(), "5101001".into())]);
        assert_eq!(
            call.json,
            Some(
                json!({ "sequenceId": "10001001", "contactId": "150", "senderEmail": "pat@example.com" })
            )
        );
        let f = |v: serde_json::Value| (enroll.build)(&v).expect_err("refused");
        assert!(
            f(json!({ "contact_id": "150", "sender_email": "pat@example.com", "user_id": "1" }))
                .contains("sequence_id")
        );
        assert!(f(json!({ "sequence_id": "1", "contact_id": "150", "sender_email": "pat", "user_id": "1" })).contains("sender_email"));
        assert!(f(json!({ "sequence_id": "1", "contact_id": "150", "sender_email": "pat@example.com" })).contains("user_id"));
        assert!(
            (action("hubspot_list_sequences").expect("s").build)(&json!({}))
                .expect_err("no user")
                .contains("user_id")
        );
        assert!(
            (action("hubspot_list_owners").expect("o").build)(&json!({ "limit": 501 }))
                .expect_err("limit")
                .contains("limit")
        );
    }
}
