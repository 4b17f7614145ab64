//! Owners (`/crm/v3/owners`) and sales sequences (`/automation/v4/sequences`): listing them,
//! and enrolling a contact, with HubSpot's refusals — an unknown sequence or contact, a sender
//! that is not the user's connected inbox, a contact with no email, and a contact that is
//! already in a sequence (HubSpot lets a contact be in one sequence at a time).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::model::{Obj, now_iso};
use super::seed::{OWNERS, Owner, SEED_TIME, SEQUENCES, Sequence};
use super::{St, admit, bad_request, error, json_body, lock, with_rate};

macro_rules! attempt {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return *r,
        }
    };
}

fn owner_json(o: &Owner) -> Value {
    json!({
        "id": o.id,
        "email": o.email,
        "type": "PERSON",
        "firstName": o.first,
        "lastName": o.last,
        "userId": o.user_id,
        "userIdIncludingInactive": o.user_id,
        "createdAt": SEED_TIME,
        "updatedAt": SEED_TIME,
        "archived": false,
        "teams": [{ "id": "3100001", "name": "Sales", "primary": true }],
    })
}

/// `limit` (default `default`, at most `max`) and the `after` offset of a list request.
fn page_params(
    q: &HashMap<String, String>,
    default: usize,
    max: usize,
) -> Result<(usize, usize), Box<Response>> {
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => default,
        Some(Ok(n)) if (1..=max).contains(&n) => n,
        Some(_) => {
            return Err(Box::new(bad_request(&format!(
                "limit must be an integer between 1 and {max}"
            ))));
        }
    };
    let after = match q.get("after").map(|a| a.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return Err(Box::new(bad_request(
                "after must be a paging cursor returned by a previous call",
            )));
        }
    };
    Ok((limit, after))
}

fn page(items: Vec<Value>, limit: usize, after: usize, with_total: bool) -> Value {
    let total = items.len();
    let end = after.saturating_add(limit).min(total);
    let results: Vec<Value> = items.get(after..end).unwrap_or_default().to_vec();
    let mut body = json!({ "results": results });
    if with_total {
        body["total"] = json!(total);
    }
    if end < total {
        body["paging"] = json!({ "next": { "after": end.to_string() } });
    }
    body
}

pub(super) async fn list_owners(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let rate = attempt!(admit(&s, &headers, "crm.objects.owners.read"));
    let (limit, after) = match page_params(&q, 100, 500) {
        Ok(p) => p,
        Err(r) => return with_rate(*r, rate),
    };
    let email = q.get("email").map(|e| e.to_lowercase());
    let owners: Vec<Value> = OWNERS
        .iter()
        .filter(|o| email.as_deref().is_none_or(|e| o.email == e))
        .map(owner_json)
        .collect();
    with_rate(
        Json(page(owners, limit, after, false)).into_response(),
        rate,
    )
}

pub(super) async fn get_owner(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let rate = attempt!(admit(&s, &headers, "crm.objects.owners.read"));
    let resp = match OWNERS.iter().find(|o| o.id == id) {
        Some(o) => Json(owner_json(o)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            &format!("Owner {id} was not found"),
        ),
    };
    with_rate(resp, rate)
}

/// The user named by the required `userId` query parameter.
fn user(q: &HashMap<String, String>) -> Result<&'static Owner, Box<Response>> {
    let Some(raw) = q.get("userId").filter(|u| !u.is_empty()) else {
        return Err(Box::new(bad_request(
            "userId is required: the id of the HubSpot user whose sequences these are",
        )));
    };
    OWNERS
        .iter()
        .find(|o| o.user_id.to_string() == *raw)
        .ok_or_else(|| {
            Box::new(bad_request(&format!(
                "userId {raw} is not a user of this HubSpot account"
            )))
        })
}

fn sequence_lite(seq: &Sequence) -> Value {
    json!({
        "id": seq.id,
        "name": seq.name,
        "userId": seq.user_id.to_string(),
        "folderId": "2200001",
        "createdAt": SEED_TIME,
        "updatedAt": SEED_TIME,
    })
}

fn sequence_full(seq: &Sequence) -> Value {
    let mut v = sequence_lite(seq);
    let steps: Vec<Value> = seq
        .steps
        .iter()
        .enumerate()
        .map(|(i, (action, delay))| {
            json!({
                "id": format!("{}{:02}", seq.id, i + 1),
                "stepOrder": i,
                "actionType": action,
                "delayMillis": delay,
                "createdAt": SEED_TIME,
                "updatedAt": SEED_TIME,
            })
        })
        .collect();
    v["steps"] = json!(steps);
    v["dependencies"] = json!([]);
    v["settings"] = json!({
        "id": format!("{}-settings", seq.id),
        "eligibleFollowUpDays": "BUSINESS_DAYS",
        "individualTaskRemindersEnabled": true,
        "sellingStrategy": "LEAD_BASED",
        "sendWindowStartMinute": 480,
        "sendWindowEndMinute": 1080,
        "taskReminderMinute": 480,
        "createdAt": SEED_TIME,
        "updatedAt": SEED_TIME,
    });
    v
}

/// Every sequence of the account is shared, so each user sees them all.
pub(super) async fn list_sequences(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let rate = attempt!(admit(&s, &headers, "automation.sequences.read"));
    if let Err(r) = user(&q) {
        return with_rate(*r, rate);
    }
    let (limit, after) = match page_params(&q, 10, 100) {
        Ok(p) => p,
        Err(r) => return with_rate(*r, rate),
    };
    let name = q.get("name").map(|n| n.to_lowercase());
    let found: Vec<Value> = SEQUENCES
        .iter()
        .filter(|seq| {
            name.as_deref()
                .is_none_or(|n| seq.name.to_lowercase().contains(n))
        })
        .map(sequence_lite)
        .collect();
    with_rate(Json(page(found, limit, after, true)).into_response(), rate)
}

fn unknown_sequence(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        &format!("Sequence {id} does not exist"),
    )
}

pub(super) async fn get_sequence(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let rate = attempt!(admit(&s, &headers, "automation.sequences.read"));
    if let Err(r) = user(&q) {
        return with_rate(*r, rate);
    }
    let resp = match SEQUENCES.iter().find(|seq| seq.id == id) {
        Some(seq) => Json(sequence_full(seq)).into_response(),
        None => unknown_sequence(&id),
    };
    with_rate(resp, rate)
}

fn field(body: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    match body.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) async fn enroll(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let rate = attempt!(admit(
        &s,
        &headers,
        "automation.sequences.enrollments.write"
    ));
    let result = (|| -> Result<Value, Box<Response>> {
        let sender_user = user(&q)?;
        let body = json_body(&body)?;
        let missing: Vec<&str> = ["contactId", "sequenceId", "senderEmail"]
            .into_iter()
            .filter(|f| field(&body, f).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(Box::new(bad_request(&format!(
                "Missing required fields: {}",
                missing.join(", ")
            ))));
        }
        let (contact_id, sequence_id, sender) = (
            field(&body, "contactId").unwrap_or_default(),
            field(&body, "sequenceId").unwrap_or_default(),
            field(&body, "senderEmail").unwrap_or_default(),
        );
        let seq = SEQUENCES
            .iter()
            .find(|x| x.id == sequence_id)
            .ok_or_else(|| Box::new(unknown_sequence(&sequence_id)))?;
        if !sender.eq_ignore_ascii_case(sender_user.email) {
            return Err(Box::new(bad_request(&format!(
                "senderEmail {sender} is not a connected inbox of user {}; use the user's own email ({})",
                sender_user.user_id, sender_user.email
            ))));
        }
        let mut crm = lock(&s.crm);
        let Some(contact) = crm.get(Obj::Contacts, &contact_id) else {
            return Err(Box::new(error(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                &format!("Contact {contact_id} does not exist"),
            )));
        };
        let Some(to_email) = contact["properties"]["email"]
            .as_str()
            .filter(|e| !e.is_empty())
            .map(str::to_string)
        else {
            return Err(Box::new(bad_request(&format!(
                "Contact {contact_id} has no email address, so it cannot be enrolled in a sequence"
            ))));
        };
        if let Some(existing) = crm
            .enrollments
            .iter()
            .find(|e| e["contactId"] == contact_id.as_str())
        {
            return Err(Box::new(error(
                StatusCode::CONFLICT,
                "CONFLICT",
                &format!(
                    "Contact {contact_id} is already enrolled in the sequence \"{}\"; a contact can be in one sequence at a time",
                    existing["sequenceName"].as_str().unwrap_or_default()
                ),
            )));
        }
        let now = now_iso();
        let id = (77_000_001 + crm.enrollments.len()).to_string();
        crm.enrollments.push(json!({
            "id": id,
            "toEmail": to_email,
            "enrolledAt": now,
            "updatedAt": now,
            "sequenceId": seq.id,
            "sequenceName": seq.name,
            "enrolledBy": sender_user.user_id.to_string(),
            "enrolledByEmail": sender_user.email,
            "contactId": contact_id,
        }));
        crm.touch(
            Obj::Contacts,
            &contact_id,
            &[("hs_sequences_is_enrolled", "true".into())],
        );
        Ok(json!({ "id": id, "toEmail": to_email, "enrolledAt": now, "updatedAt": now }))
    })();
    match result {
        Ok(v) => with_rate(Json(v).into_response(), rate),
        Err(r) => with_rate(*r, rate),
    }
}

pub(super) async fn contact_enrollment(
    State(s): St,
    headers: HeaderMap,
    Path(contact_id): Path<String>,
) -> Response {
    let rate = attempt!(admit(&s, &headers, "automation.sequences.read"));
    let found = lock(&s.crm)
        .enrollments
        .iter()
        .find(|e| e["contactId"] == contact_id.as_str())
        .cloned();
    let resp = match found {
        Some(mut e) => {
            if let Some(o) = e.as_object_mut() {
                o.remove("contactId");
            }
            Json(e).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            &format!("Contact {contact_id} is not enrolled in a sequence"),
        ),
    };
    with_rate(resp, rate)
}
