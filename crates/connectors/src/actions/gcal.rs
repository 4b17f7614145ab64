//! Google Calendar v3 actions, below `https://www.googleapis.com/calendar/v3`: list and read
//! events, free/busy for a window, and booking, changing and cancelling events (the calendar
//! sends invitations and updates to the attendees, so writes are outbound).
//!
//! Scopes are the narrowest the discovery document allows for each method: `events.list` /
//! `events.get` with `calendar.events.readonly`, `freebusy.query` with `calendar.freebusy`
//! (`calendar.events.readonly` does not cover it), and writes with `calendar.events`.
//!
//! Cancelling an event is the `delete` tier: it removes a meeting from every attendee's
//! calendar and emails them, which cannot be undone by another call; `calendar.events` unlocks
//! it in the catalog, so no broader scope is needed.
//!
//! Times are RFC 3339 with an offset (`2026-03-02T14:00:00-03:00` or `…Z`), checked here so an
//! agent learns of a bad time before anything is sent; `time_zone` is the IANA name Google shows.

use serde_json::{Map, Value, json};
use switchboard_core::Tier;

use super::{ActionSpec, PreviewKind, HttpCall, object, opt_string, refuse_unknown};

const READ: &str = "https://www.googleapis.com/auth/calendar.events.readonly";
const FREEBUSY: &str = "https://www.googleapis.com/auth/calendar.freebusy";
const WRITE: &str = "https://www.googleapis.com/auth/calendar.events";

/// Fields an event write takes.
const EVENT_FIELDS: &[&str] = &["calendar_id", "summary", "description", "location", "start", "end", "time_zone", "attendees", "send_updates", "add_meet_link"];

/// Days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// An RFC 3339 date-time with an offset → seconds since the epoch (UTC).
pub(crate) fn rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, m, d) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    let (h, mi, se) = (num(&s[11..13])?, num(&s[14..16])?, num(&s[17..19])?);
    if d == 0 || d > dim || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(f) = rest.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &f[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && matches!(o.as_bytes()[0], b'+' | b'-') && &o[3..4] == ":" => {
            let (oh, om) = (num(&o[1..3])?, num(&o[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let v = i64::from(oh * 60 + om) * 60;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    Some(days_from_civil(i64::from(y), m, d) * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(se) - offset)
}

fn time(o: &Map<String, Value>, field: &str, required: bool) -> Result<Option<(String, i64)>, String> {
    match o.get(field) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(s)) => match rfc3339(s) {
            Some(t) => Ok(Some((s.clone(), t))),
            None => Err(format!("'{field}' must be an RFC 3339 time with an offset, such as \"2026-03-02T14:00:00-03:00\" or \"2026-03-02T17:00:00Z\"")),
        },
        _ => Err(format!("'{field}' is required: an RFC 3339 time with an offset, such as \"2026-03-02T14:00:00-03:00\"")),
    }
}

/// A pair of times whose end is after its start.
fn window(o: &Map<String, Value>, from: &str, to: &str, required: bool) -> Result<(Option<String>, Option<String>), String> {
    let a = time(o, from, required)?;
    let b = time(o, to, required)?;
    if let (Some((_, x)), Some((_, y))) = (&a, &b)
        && y <= x
    {
        return Err(format!("'{to}' must be after '{from}'"));
    }
    Ok((a.map(|v| v.0), b.map(|v| v.0)))
}

fn valid_calendar(s: &str) -> bool {
    s == "primary" || (s.len() <= 254 && s.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.')) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._%+-@".contains(&b)))
}

/// A calendar id (`primary` or the calendar's address), safe as a path segment; `@` is sent encoded.
fn calendar(o: &Map<String, Value>) -> Result<String, String> {
    match o.get("calendar_id") {
        None | Some(Value::Null) => Ok("primary".into()),
        Some(Value::String(s)) if valid_calendar(s) => Ok(s.replace('%', "%25").replace('+', "%2B").replace('@', "%40")),
        Some(_) => Err("'calendar_id' must be \"primary\" or a calendar's address such as \"team@example.com\"".into()),
    }
}

/// An event id: letters, digits, `_` and `-` (Google's ids, and recurring instances' `{id}_{time}`).
fn event_id(o: &Map<String, Value>) -> Result<String, String> {
    match o.get("event_id") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 1024 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') => Ok(s.clone()),
        None | Some(Value::Null) => Err("'event_id' is required: the event's id from list_events".into()),
        Some(_) => Err("'event_id' must be an event id from list_events (letters, digits, '_' and '-')".into()),
    }
}

fn send_updates(o: &Map<String, Value>) -> Result<String, String> {
    match o.get("send_updates") {
        None | Some(Value::Null) => Ok("all".into()),
        Some(Value::String(s)) if matches!(s.as_str(), "all" | "externalOnly" | "none") => Ok(s.clone()),
        Some(_) => Err("'send_updates' must be \"all\", \"externalOnly\" or \"none\"".into()),
    }
}

fn email_ok(e: &str) -> bool {
    e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@')) && !e.contains(char::is_whitespace)
}

/// The event body of a create (`required`) or a patch.
fn event_body(o: &Map<String, Value>, required: bool) -> Result<(Value, bool), String> {
    let mut body = Map::new();
    match o.get("summary") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            body.insert("summary".into(), json!(s));
        }
        None | Some(Value::Null) if !required => {}
        None | Some(Value::Null) => return Err("'summary' is required: the meeting's title".into()),
        Some(_) => return Err("'summary' must be a non-empty string".into()),
    }
    for f in ["description", "location"] {
        if let Some(v) = opt_string(o, f)? {
            body.insert(f.into(), json!(v));
        }
    }
    let tz = opt_string(o, "time_zone")?;
    if let Some(z) = &tz
        && !z.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
    {
        return Err("'time_zone' must be an IANA time zone name such as \"America/Sao_Paulo\"".into());
    }
    let (start, end) = window(o, "start", "end", required)?;
    for (f, v) in [("start", start), ("end", end)] {
        if let Some(v) = v {
            let mut t = json!({ "dateTime": v });
            if let Some(z) = &tz {
                t["timeZone"] = json!(z);
            }
            body.insert(f.into(), t);
        }
    }
    if tz.is_some() && !body.contains_key("start") && !body.contains_key("end") {
        return Err("'time_zone' applies to 'start' and 'end'; give them too".into());
    }
    match o.get("attendees") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) if list.len() <= 100 => {
            let mut out = Vec::new();
            for v in list {
                match v.as_str() {
                    Some(e) if email_ok(e) => out.push(json!({ "email": e })),
                    _ => return Err(format!("'attendees' must be a list of email addresses; {v} is not one")),
                }
            }
            body.insert("attendees".into(), Value::Array(out));
        }
        Some(_) => return Err("'attendees' must be a list of at most 100 email addresses".into()),
    }
    let meet = match o.get("add_meet_link") {
        None | Some(Value::Null | Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err("'add_meet_link' must be true or false".into()),
    };
    if body.is_empty() {
        return Err("give at least one field to change: summary, description, location, start, end or attendees".into());
    }
    Ok((Value::Object(body), meet))
}

fn schema_calendar() -> Value {
    json!({ "type": "string", "description": "\"primary\" (the default: the connected user's calendar) or a calendar's address such as \"team@example.com\"." })
}

fn schema_time(what: &str) -> Value {
    json!({ "type": "string", "format": "date-time", "description": format!("{what}, RFC 3339 with an offset, e.g. \"2026-03-02T14:00:00-03:00\".") })
}

fn schema_event_id() -> Value {
    json!({ "type": "string", "description": "The event's id (from list_events or create_event)." })
}

fn schema_send_updates() -> Value {
    json!({ "type": "string", "enum": ["all", "externalOnly", "none"], "description": "Who Google emails about the change (default \"all\" attendees)." })
}

fn event_schema(required: &[&str], with_id: bool) -> Value {
    let mut props = json!({
        "calendar_id": schema_calendar(),
        "summary": { "type": "string", "description": "The meeting's title." },
        "description": { "type": "string", "description": "Notes shown in the invitation." },
        "location": { "type": "string", "description": "Where it takes place (an address or a room)." },
        "start": schema_time("Start"),
        "end": schema_time("End, after the start"),
        "time_zone": { "type": "string", "description": "IANA zone the event is shown in, e.g. \"America/Sao_Paulo\" (default: the calendar's)." },
        "attendees": { "type": "array", "maxItems": 100, "items": { "type": "string", "format": "email" }, "description": "Email addresses to invite; the list replaces the current attendees on update." },
        "send_updates": schema_send_updates(),
        "add_meet_link": { "type": "boolean", "description": "Attach a Google Meet link." },
    });
    if with_id {
        props["event_id"] = schema_event_id();
    }
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": props })
}

pub(super) const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        provider: "google-calendar",
        name: "list_events",
        description: "List a calendar's events in a time window, recurring meetings expanded into single occurrences, ordered by start time; pass nextPageToken as `page_token` for the next page.",
        tier: Tier::Read,
        scopes: &[READ],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CalendarEvent,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "calendar_id": schema_calendar(),
                "time_min": schema_time("Only events ending after this time"),
                "time_max": schema_time("Only events starting before this time"),
                "q": { "type": "string", "description": "Free-text search in titles, descriptions, locations and attendees." },
                "max_results": { "type": "integer", "minimum": 1, "maximum": 2500, "description": "Events per page (Google's default 250)." },
                "page_token": { "type": "string", "description": "nextPageToken from the previous page." },
                "show_deleted": { "type": "boolean", "description": "Include cancelled events." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["calendar_id", "time_min", "time_max", "q", "max_results", "page_token", "show_deleted"])?;
            let cal = calendar(o)?;
            let (min, max) = window(o, "time_min", "time_max", false)?;
            let mut q = vec![("singleEvents".to_string(), "true".to_string()), ("orderBy".to_string(), "startTime".to_string())];
            let mut push = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    q.push((k.to_string(), v));
                }
            };
            push("timeMin", min);
            push("timeMax", max);
            push("q", opt_string(o, "q")?);
            let max_results = match o.get("max_results") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=2500).contains(&n)) => Some(n.to_string()),
                Some(_) => return Err("'max_results' must be a whole number from 1 to 2500".into()),
            };
            push("maxResults", max_results);
            push("pageToken", opt_string(o, "page_token")?);
            let deleted = match o.get("show_deleted") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(b.to_string()),
                Some(_) => return Err("'show_deleted' must be true or false".into()),
            };
            push("showDeleted", deleted);
            Ok(HttpCall { method: "GET", path: format!("/calendars/{cal}/events"), query: q, ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "google-calendar",
        name: "get_event",
        description: "Read one event: times, attendees and their responses, description, Meet link and status.",
        tier: Tier::Read,
        scopes: &[READ],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CalendarEvent,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["event_id"], "properties": {
                "calendar_id": schema_calendar(),
                "event_id": schema_event_id(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["calendar_id", "event_id"])?;
            Ok(HttpCall { method: "GET", path: format!("/calendars/{}/events/{}", calendar(o)?, event_id(o)?), ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "google-calendar",
        name: "free_busy",
        description: "Busy intervals (UTC) of one or more calendars in a window, to find a free slot before booking; calendars default to the user's own.",
        tier: Tier::Read,
        scopes: &[FREEBUSY],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::CalendarEvent,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["time_min", "time_max"], "properties": {
                "time_min": schema_time("Window start"),
                "time_max": schema_time("Window end, after the start"),
                "calendars": { "type": "array", "minItems": 1, "maxItems": 50, "items": { "type": "string" }, "description": "Calendar ids (\"primary\" or addresses); default [\"primary\"]." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["time_min", "time_max", "calendars"])?;
            let (min, max) = window(o, "time_min", "time_max", true)?;
            let ids: Vec<String> = match o.get("calendars") {
                None | Some(Value::Null) => vec!["primary".into()],
                Some(Value::Array(list)) if !list.is_empty() && list.len() <= 50 => list
                    .iter()
                    .map(|v| v.as_str().filter(|s| valid_calendar(s)).map(str::to_string))
                    .collect::<Option<_>>()
                    .ok_or("'calendars' must list calendar ids: \"primary\" or addresses such as \"team@example.com\"")?,
                Some(_) => return Err("'calendars' must be a list of 1 to 50 calendar ids".into()),
            };
            let items: Vec<Value> = ids.into_iter().map(|id| json!({ "id": id })).collect();
            Ok(HttpCall { method: "POST", path: "/freeBusy".into(), json: Some(json!({ "timeMin": min, "timeMax": max, "items": items })), ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "google-calendar",
        name: "create_event",
        description: "Book a meeting on a calendar; Google emails an invitation to every attendee (send_updates, default all).",
        tier: Tier::Write,
        scopes: &[WRITE],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::CalendarEvent,
        input_schema: || event_schema(&["summary", "start", "end"], false),
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, EVENT_FIELDS)?;
            let cal = calendar(o)?;
            let (mut body, meet) = event_body(o, true)?;
            let mut query = vec![("sendUpdates".to_string(), send_updates(o)?)];
            if meet {
                query.push(("conferenceDataVersion".into(), "1".into()));
                body["conferenceData"] = json!({ "createRequest": { "requestId": format!("sb-{}", body["start"]["dateTime"].as_str().unwrap_or_default().replace([':', '+'], "")), "conferenceSolutionKey": { "type": "hangoutsMeet" } } });
            }
            Ok(HttpCall { method: "POST", path: format!("/calendars/{cal}/events"), query, json: Some(body), ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "google-calendar",
        name: "update_event",
        description: "Change an event (only the fields given; attendees replaces the list); Google emails the attendees about it (send_updates, default all).",
        tier: Tier::Write,
        scopes: &[WRITE],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::CalendarEvent,
        input_schema: || event_schema(&["event_id"], true),
        build: |input| {
            let o = object(input)?;
            let mut known = EVENT_FIELDS.to_vec();
            known.push("event_id");
            refuse_unknown(o, &known)?;
            let cal = calendar(o)?;
            let id = event_id(o)?;
            let (mut body, meet) = event_body(o, false)?;
            let mut query = vec![("sendUpdates".to_string(), send_updates(o)?)];
            if meet {
                query.push(("conferenceDataVersion".into(), "1".into()));
                body["conferenceData"] = json!({ "createRequest": { "requestId": format!("sb-{id}"), "conferenceSolutionKey": { "type": "hangoutsMeet" } } });
            }
            Ok(HttpCall { method: "PATCH", path: format!("/calendars/{cal}/events/{id}"), query, json: Some(body), ..HttpCall::default() })
        },
    },
    ActionSpec {
        provider: "google-calendar",
        name: "cancel_event",
        description: "Cancel a meeting: it disappears from every attendee's calendar and Google emails them the cancellation (send_updates, default all).",
        tier: Tier::Delete,
        scopes: &[WRITE],
        outbound: true,
        idempotent: true,
        preview: PreviewKind::CalendarEvent,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["event_id"], "properties": {
                "calendar_id": schema_calendar(),
                "event_id": schema_event_id(),
                "send_updates": schema_send_updates(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["calendar_id", "event_id", "send_updates"])?;
            Ok(HttpCall {
                method: "DELETE",
                path: format!("/calendars/{}/events/{}", calendar(o)?, event_id(o)?),
                query: vec![("sendUpdates".into(), send_updates(o)?)],
                ..HttpCall::default()
            })
        },
    },
];

#[cfg(test)]
mod tests {
    use super::super::action;
    use super::*;

    fn build(tool: &str, input: Value) -> Result<HttpCall, String> {
        (action(tool).unwrap_or_else(|| panic!("{tool} exists")).build)(&input)
    }

    #[test]
    fn rfc3339_needs_an_offset_and_a_real_date() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339("2026-03-02T14:00:00-03:00"), rfc3339("2026-03-02T17:00:00.000Z"));
        for bad in ["2026-03-02T14:00:00", "2026-03-02", "2026-02-30T10:00:00Z", "2026-03-02 14:00:00Z", "tomorrow at 3", "2026-03-02T24:00:00Z", "2026-03-02T14:00:00+3:00"] {
            assert!(rfc3339(bad).is_none(), "{bad} must be refused");
        }
    }

    #[test]
    fn reads_become_calendar_v3_requests() {
        let call = build("google-calendar_list_events", json!({ "time_min": "2026-03-02T09:00:00-03:00", "time_max": "2026-03-02T18:00:00-03:00", "q": "Ada", "max_results": 10 })).expect("valid");
        assert_eq!((call.method, call.path.as_str()), ("GET", "/calendars/primary/events"));
        assert!(call.query.contains(&("singleEvents".into(), "true".into())) && call.query.contains(&("orderBy".into(), "startTime".into())));
        assert!(call.query.contains(&("timeMin".into(), "2026-03-02T09:00:00-03:00".into())) && call.query.contains(&("maxResults".into(), "10".into())));
        let call = build("google-calendar_list_events", json!({ "calendar_id": "team@example.com" })).expect("valid");
        assert_eq!(call.path, "/calendars/team%40example.com/events");
        let call = build("google-calendar_free_busy", json!({ "time_min": "2026-03-02T12:00:00Z", "time_max": "2026-03-02T21:00:00Z", "calendars": ["primary", "team@example.com"] })).expect("valid");
        assert_eq!((call.method, call.path.as_str()), ("POST", "/freeBusy"));
        assert_eq!(call.json, Some(json!({ "timeMin": "2026-03-02T12:00:00Z", "timeMax": "2026-03-02T21:00:00Z", "items": [{ "id": "primary" }, { "id": "team@example.com" }] })));
        let call = build("google-calendar_get_event", json!({ "event_id": "evt0daily0standup_20260302T123000Z" })).expect("instance ids");
        assert_eq!(call.path, "/calendars/primary/events/evt0daily0standup_20260302T123000Z");
    }

    #[test]
    fn writes_carry_send_updates_and_checked_times() {
        let call = build(
            "google-calendar_create_event",
            json!({ "summary": "Demo", "start": "2026-03-02T14:00:00-03:00", "end": "2026-03-02T15:00:00-03:00", "time_zone": "America/Sao_Paulo", "attendees": ["ada@example.com"], "add_meet_link": true }),
        )
        .expect("valid");
        assert_eq!((call.method, call.path.as_str()), ("POST", "/calendars/primary/events"));
        assert_eq!(call.query, vec![("sendUpdates".into(), "all".into()), ("conferenceDataVersion".into(), "1".into())]);
        let body = call.json.expect("body");
        assert_eq!(body["start"], json!({ "dateTime": "2026-03-02T14:00:00-03:00", "timeZone": "America/Sao_Paulo" }));
        assert_eq!(body["attendees"], json!([{ "email": "ada@example.com" }]));
        let call = build("google-calendar_update_event", json!({ "event_id": "abc123", "summary": "Renamed", "send_updates": "none" })).expect("valid");
        assert_eq!((call.method, call.path.as_str(), call.json), ("PATCH", "/calendars/primary/events/abc123", Some(json!({ "summary": "Renamed" }))));
        assert_eq!(call.query, vec![("sendUpdates".into(), "none".into())]);
        let call = build("google-calendar_cancel_event", json!({ "event_id": "abc123" })).expect("valid");
        assert_eq!((call.method, call.path.as_str()), ("DELETE", "/calendars/primary/events/abc123"));
        assert_eq!(action("google-calendar_cancel_event").map(|a| a.tier), Some(Tier::Delete));
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let ok = json!({ "summary": "Demo", "start": "2026-03-02T14:00:00-03:00", "end": "2026-03-02T15:00:00-03:00" });
        let with = |k: &str, v: Value| {
            let mut x = ok.clone();
            x[k] = v;
            x
        };
        let create = |v: Value| build("google-calendar_create_event", v).expect_err("refused");
        assert!(create(with("end", json!("2026-03-02T13:00:00-03:00"))).contains("'end' must be after 'start'"));
        assert!(create(with("end", json!("2026-03-02T14:00:00-03:00"))).contains("after"), "a zero-length meeting is refused");
        assert!(create(with("start", json!("2026-03-02T14:00:00"))).contains("'start'"), "a time without an offset is ambiguous");
        assert!(create(with("attendees", json!(["not an email"]))).contains("attendees"));
        assert!(create(with("send_updates", json!("everyone"))).contains("send_updates"));
        assert!(create(with("calendar_id", json!("../../users/me"))).contains("calendar_id"), "a calendar id must not change the path");
        assert!(create(with("calendar_id", json!("a@b.com/events?x=1"))).contains("calendar_id"));
        assert!(create(json!({ "start": "2026-03-02T14:00:00Z", "end": "2026-03-02T15:00:00Z" })).contains("summary"));
        assert!(create(with("color", json!("red"))).contains("color"));
        for bad in ["../x", "a/b", "a?b", "a#b", ""] {
            let e = build("google-calendar_cancel_event", json!({ "event_id": bad })).expect_err("bad id");
            assert!(e.contains("event_id"), "{bad}: {e}");
        }
        let e = build("google-calendar_update_event", json!({ "event_id": "abc123" })).expect_err("nothing to change");
        assert!(e.contains("at least one field"), "{e}");
        let e = build("google-calendar_free_busy", json!({ "time_min": "2026-03-02T12:00:00Z" })).expect_err("missing");
        assert!(e.contains("time_max"), "{e}");
        let e = build("google-calendar_list_events", json!({ "time_min": "2026-03-02T12:00:00Z", "time_max": "2026-03-01T12:00:00Z" })).expect_err("order");
        assert!(e.contains("time_max"), "{e}");
    }
}
