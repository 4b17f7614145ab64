//! Gmail API v1 actions (`https://gmail.googleapis.com/gmail/v1`, `userId` is always `me`).
//!
//! Drafts and sends carry a whole RFC 2822 message, base64url-encoded in `raw`, as Gmail takes
//! it: `build` writes the message from typed fields (recipients, subject, text and optional HTML
//! body, reply headers) and refuses anything that could add a header (a CR or LF in a subject,
//! an address or a message id). Bodies are base64 in the MIME parts, so no body line can end
//! the message or a part early.
//!
//! Gmail counts quota units per method; [`quota_method`] names each action's method so the
//! gateway paces a connection in units (a send costs 100, a read 5).

use serde_json::{Map, Value, json};
use switchboard_core::Tier;

use super::{ActionSpec, PreviewKind, HttpCall, object, opt_string, refuse_unknown};

const READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
const COMPOSE: &str = "https://www.googleapis.com/auth/gmail.compose";
const SEND: &str = "https://www.googleapis.com/auth/gmail.send";
const MODIFY: &str = "https://www.googleapis.com/auth/gmail.modify";

/// The largest attachment `get_attachment` returns (bytes); larger ones are refused.
pub const MAX_ATTACHMENT_BYTES: u64 = 5 * 1024 * 1024;

/// Gmail's quota-table method for a Gmail action.
pub(super) fn quota_method(name: &str) -> Option<&'static str> {
    Some(match name {
        "search_messages" => "messages.list",
        "get_message" => "messages.get",
        "get_attachment" => "messages.attachments.get",
        "list_threads" => "threads.list",
        "get_thread" => "threads.get",
        "list_labels" => "labels.list",
        "modify_labels" => "messages.modify",
        "create_draft" => "drafts.create",
        "update_draft" => "drafts.update",
        "send_draft" => "drafts.send",
        "send_message" => "messages.send",
        "trash_message" => "messages.trash",
        "get_profile" => "getProfile",
        "list_history" => "history.list",
        _ => return None,
    })
}

/// An attachment answer larger than [`MAX_ATTACHMENT_BYTES`] is reported as a failure rather
/// than handed to the agent.
pub(super) fn failure(body: &[u8]) -> Option<super::ProviderFailure> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let size = v.get("size")?.as_u64()?;
    (v.get("attachmentId").is_some() || v.get("data").is_some()).then_some(())?;
    (size > MAX_ATTACHMENT_BYTES).then(|| super::ProviderFailure {
        code: "attachment_too_large".into(),
        message: format!("attachment_too_large: the attachment is {size} bytes; the limit is {MAX_ATTACHMENT_BYTES} bytes"),
        credential_refused: false,
    })
}

fn gmail_id(o: &Map<String, Value>, field: &str) -> Result<String, String> {
    match o.get(field) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(s.clone()),
        None | Some(Value::Null) => Err(format!("'{field}' is required: a Gmail id such as \"18c2a5f0e1b2c3d4\"")),
        Some(_) => Err(format!("'{field}' must be a Gmail id of hexadecimal digits such as \"18c2a5f0e1b2c3d4\"")),
    }
}

/// Draft and attachment ids: letters, digits, `-` and `_` only (never `/`, `?` or `#`).
fn token_id(o: &Map<String, Value>, field: &str, example: &str) -> Result<String, String> {
    match o.get(field) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 1024 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => Ok(s.clone()),
        None | Some(Value::Null) => Err(format!("'{field}' is required, e.g. \"{example}\"")),
        Some(_) => Err(format!("'{field}' must be an id of letters, digits, '-' and '_', e.g. \"{example}\"")),
    }
}

fn label_list(o: &Map<String, Value>, field: &str) -> Result<Vec<String>, String> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().filter(|s| !s.is_empty() && s.len() <= 100 && !s.contains(['\r', '\n'])).map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("'{field}' must be a list of label ids such as [\"INBOX\", \"Label_1\"]")),
        Some(_) => Err(format!("'{field}' must be a list of label ids such as [\"INBOX\", \"Label_1\"]")),
    }
}

fn max_results(o: &Map<String, Value>) -> Result<Option<String>, String> {
    match o.get("max_results") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=500).contains(&n)) => Ok(Some(n.to_string())),
        Some(_) => Err("'max_results' must be a whole number from 1 to 500".into()),
    }
}

fn path(rest: &str) -> String {
    format!("/users/me/{rest}")
}

fn list_query(o: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let mut q = Vec::new();
    if let Some(s) = opt_string(o, "q")? {
        q.push(("q".into(), s));
    }
    for l in label_list(o, "label_ids")? {
        q.push(("labelIds".into(), l));
    }
    if let Some(m) = max_results(o)? {
        q.push(("maxResults".into(), m));
    }
    if let Some(t) = opt_string(o, "page_token")? {
        q.push(("pageToken".into(), t));
    }
    Ok(q)
}

fn format(o: &Map<String, Value>, allowed: &[&str]) -> Result<Option<String>, String> {
    match o.get("format") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        Some(_) => Err(format!("'format' must be one of: {}", allowed.join(", "))),
    }
}

fn get_call(p: String, query: Vec<(String, String)>) -> HttpCall {
    HttpCall { method: "GET", path: p, query, ..HttpCall::default() }
}

fn post(p: String, body: Value) -> HttpCall {
    HttpCall { method: "POST", path: p, json: Some(body), ..HttpCall::default() }
}

// ---- RFC 2822

fn no_breaks(field: &str, s: &str) -> Result<(), String> {
    if s.contains(['\r', '\n', '\0']) {
        return Err(format!("'{field}' must not contain a line break (it would add a header to the message)"));
    }
    Ok(())
}

fn valid_address(a: &str) -> bool {
    let addr = match (a.rfind('<'), a.ends_with('>')) {
        (Some(i), true) => &a[i + 1..a.len() - 1],
        _ => a,
    };
    let Some((local, domain)) = addr.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && addr.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b',' | b';' | b'"' | b'(' | b')'))
}

/// One address or a list of them, each `a@b.example` or `Name <a@b.example>`.
fn addresses(o: &Map<String, Value>, field: &str, required: bool) -> Result<Vec<String>, String> {
    let list: Vec<&Value> = match o.get(field) {
        None | Some(Value::Null) if required => return Err(format!("'{field}' is required: an address or a list of addresses")),
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
    };
    let mut out = Vec::new();
    for v in list {
        let s = v.as_str().ok_or_else(|| format!("'{field}' must be an address or a list of addresses"))?.trim();
        no_breaks(field, s)?;
        if !valid_address(s) {
            return Err(format!("'{field}' has an invalid address {s:?}; use name@example.com or \"Name <name@example.com>\""));
        }
        out.push(s.to_string());
    }
    if required && out.is_empty() {
        return Err(format!("'{field}' must name at least one address"));
    }
    Ok(out)
}

/// RFC 2047 encoded-word for non-ASCII header text.
fn header_text(s: &str) -> String {
    if s.is_ascii() {
        s.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", b64(s.as_bytes(), STD))
    }
}

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 with `=` padding over `alphabet`.
fn b64(data: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn wrapped(data: &str) -> String {
    let b = b64(data.as_bytes(), STD);
    b.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\r\n")
}

fn message_id(o: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match opt_string(o, field)? {
        None => Ok(None),
        Some(s) => {
            no_breaks(field, &s)?;
            if !(s.starts_with('<') && s.ends_with('>') && s.contains('@') && !s.contains(' ')) {
                return Err(format!("'{field}' must be a Message-ID such as \"<abc@mail.example.com>\" (the Message-ID header of the message replied to)"));
            }
            Ok(Some(s))
        }
    }
}

const MESSAGE_FIELDS: &[&str] = &["to", "cc", "bcc", "subject", "text", "html", "in_reply_to", "thread_id"];

/// The RFC 2822 message from the typed fields, and the thread id if one is given.
fn rfc2822(o: &Map<String, Value>, require_to: bool) -> Result<(String, Option<String>), String> {
    let to = addresses(o, "to", require_to)?;
    let cc = addresses(o, "cc", false)?;
    let bcc = addresses(o, "bcc", false)?;
    let subject = match o.get("subject") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => return Err("'subject' must be a string".into()),
    };
    no_breaks("subject", &subject)?;
    if subject.chars().count() > 998 {
        return Err("'subject' is too long (at most 998 characters)".into());
    }
    let text = match o.get("text") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        None | Some(Value::Null) => return Err("'text' is required: the plain-text body".into()),
        Some(_) => return Err("'text' must be a non-empty string".into()),
    };
    let html = opt_string(o, "html")?;
    let in_reply_to = message_id(o, "in_reply_to")?;
    let thread_id = match o.get("thread_id") {
        None | Some(Value::Null) => None,
        Some(_) => Some(gmail_id(o, "thread_id")?),
    };
    let mut m = String::new();
    for (name, list) in [("To", &to), ("Cc", &cc), ("Bcc", &bcc)] {
        if !list.is_empty() {
            m.push_str(&format!("{name}: {}\r\n", list.join(", ")));
        }
    }
    m.push_str(&format!("Subject: {}\r\n", header_text(&subject)));
    if let Some(r) = &in_reply_to {
        m.push_str(&format!("In-Reply-To: {r}\r\nReferences: {r}\r\n"));
    }
    m.push_str("MIME-Version: 1.0\r\n");
    let part = |mime: &str, body: &str| format!("Content-Type: {mime}; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n", wrapped(body));
    match &html {
        None => m.push_str(&part("text/plain", &text)),
        Some(h) => {
            // The boundary has characters base64 never produces, so no body line can match it.
            let b = "=_switchboard_alt_=";
            m.push_str(&format!("Content-Type: multipart/alternative; boundary=\"{b}\"\r\n\r\n"));
            m.push_str(&format!("--{b}\r\n{}--{b}\r\n{}--{b}--\r\n", part("text/plain", &text), part("text/html", h)));
        }
    }
    Ok((m, thread_id))
}

fn message_object(o: &Map<String, Value>, require_to: bool) -> Result<Value, String> {
    let (m, thread) = rfc2822(o, require_to)?;
    let mut msg = json!({ "raw": b64(m.as_bytes(), URL).trim_end_matches('=') });
    if let Some(t) = thread {
        msg["threadId"] = json!(t);
    }
    Ok(msg)
}

// ---- builders

fn search_messages(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["q", "label_ids", "max_results", "page_token"])?;
    Ok(get_call(path("messages"), list_query(o)?))
}

fn list_threads(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["q", "label_ids", "max_results", "page_token"])?;
    Ok(get_call(path("threads"), list_query(o)?))
}

fn get_message(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["id", "format"])?;
    let id = gmail_id(o, "id")?;
    let q = format(o, &["full", "metadata", "minimal"])?.map(|f| vec![("format".to_string(), f)]).unwrap_or_default();
    Ok(get_call(path(&format!("messages/{id}")), q))
}

fn get_thread(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["id", "format"])?;
    let id = gmail_id(o, "id")?;
    let q = format(o, &["full", "metadata", "minimal"])?.map(|f| vec![("format".to_string(), f)]).unwrap_or_default();
    Ok(get_call(path(&format!("threads/{id}")), q))
}

fn get_attachment(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["message_id", "attachment_id"])?;
    let mid = gmail_id(o, "message_id")?;
    let aid = token_id(o, "attachment_id", "ANGjdJ8…")?;
    Ok(get_call(path(&format!("messages/{mid}/attachments/{aid}")), vec![]))
}

fn list_labels(input: &Value) -> Result<HttpCall, String> {
    refuse_unknown(object(input)?, &[])?;
    Ok(get_call(path("labels"), vec![]))
}

fn get_profile(input: &Value) -> Result<HttpCall, String> {
    refuse_unknown(object(input)?, &[])?;
    Ok(get_call(path("profile"), vec![]))
}

/// `history.list` from `start_history_id` (a `historyId` from `get_profile` or a previous page).
fn list_history(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["start_history_id", "max_results", "page_token", "label_id", "history_types"])?;
    let start = match o.get("start_history_id") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        None | Some(Value::Null) => return Err("'start_history_id' is required: a historyId such as \"100000\" (from get_profile)".into()),
        Some(_) => return Err("'start_history_id' must be a historyId of digits such as \"100000\"".into()),
    };
    let mut q = vec![("startHistoryId".to_string(), start)];
    if let Some(m) = max_results(o)? {
        q.push(("maxResults".into(), m));
    }
    if let Some(t) = opt_string(o, "page_token")? {
        q.push(("pageToken".into(), t));
    }
    if let Some(l) = opt_string(o, "label_id")? {
        q.push(("labelId".into(), l));
    }
    for t in label_list(o, "history_types")? {
        if !["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"].contains(&t.as_str()) {
            return Err("'history_types' must list messageAdded, messageDeleted, labelAdded or labelRemoved".into());
        }
        q.push(("historyTypes".into(), t));
    }
    Ok(get_call(path("history"), q))
}

fn modify_labels(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["id", "add_label_ids", "remove_label_ids"])?;
    let id = gmail_id(o, "id")?;
    let add = label_list(o, "add_label_ids")?;
    let remove = label_list(o, "remove_label_ids")?;
    if add.is_empty() && remove.is_empty() {
        return Err("give 'add_label_ids' or 'remove_label_ids' (or both)".into());
    }
    Ok(post(path(&format!("messages/{id}/modify")), json!({ "addLabelIds": add, "removeLabelIds": remove })))
}

fn create_draft(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, MESSAGE_FIELDS)?;
    Ok(post(path("drafts"), json!({ "message": message_object(o, false)? })))
}

fn update_draft(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    let mut known = MESSAGE_FIELDS.to_vec();
    known.push("draft_id");
    refuse_unknown(o, &known)?;
    let id = token_id(o, "draft_id", "r-1234567890")?;
    Ok(HttpCall { method: "PUT", path: path(&format!("drafts/{id}")), json: Some(json!({ "id": id, "message": message_object(o, false)? })), ..HttpCall::default() })
}

fn send_draft(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["draft_id"])?;
    let id = token_id(o, "draft_id", "r-1234567890")?;
    Ok(post(path("drafts/send"), json!({ "id": id })))
}

fn send_message(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, MESSAGE_FIELDS)?;
    Ok(post(path("messages/send"), message_object(o, true)?))
}

fn trash_message(input: &Value) -> Result<HttpCall, String> {
    let o = object(input)?;
    refuse_unknown(o, &["id"])?;
    let id = gmail_id(o, "id")?;
    Ok(HttpCall { method: "POST", path: path(&format!("messages/{id}/trash")), ..HttpCall::default() })
}

// ---- schemas

fn s_id(what: &str) -> Value {
    json!({ "type": "string", "pattern": "^[0-9a-f]+$", "description": format!("{what} id, e.g. \"18c2a5f0e1b2c3d4\" (from search_messages or list_threads).") })
}

fn list_schema(what: &str) -> Value {
    json!({ "type": "object", "additionalProperties": false, "properties": {
        "q": { "type": "string", "description": format!("Gmail search, e.g. \"from:ada@example.com is:unread has:attachment newer_than:7d\"; finds {what}.") },
        "label_ids": { "type": "array", "items": { "type": "string" }, "description": "Only items with all these label ids (e.g. [\"INBOX\", \"UNREAD\"])." },
        "max_results": { "type": "integer", "minimum": 1, "maximum": 500, "description": "Page size (default 100)." },
        "page_token": { "type": "string", "description": "nextPageToken from the previous page." },
    }})
}

fn get_schema(what: &str) -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": ["id"], "properties": {
        "id": s_id(what),
        "format": { "type": "string", "enum": ["full", "metadata", "minimal"], "description": "full (headers, text and HTML bodies base64url, attachment metadata), metadata (headers only) or minimal (ids and labels)." },
    }})
}

fn message_schema(extra: &[(&str, Value)], required: &[&str]) -> Value {
    let addr = |what: &str| json!({ "oneOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }], "description": format!("{what}: an address or a list, each name@example.com or \"Name <name@example.com>\".") });
    let mut props = json!({
        "to": addr("Recipients"), "cc": addr("Copy recipients"), "bcc": addr("Blind copy recipients"),
        "subject": { "type": "string", "maxLength": 998, "description": "Subject line (no line breaks)." },
        "text": { "type": "string", "minLength": 1, "description": "Plain-text body." },
        "html": { "type": "string", "description": "Optional HTML body, sent alongside the text." },
        "in_reply_to": { "type": "string", "description": "Message-ID header of the message replied to, e.g. \"<abc@mail.example.com>\"." },
        "thread_id": { "type": "string", "pattern": "^[0-9a-f]+$", "description": "Thread to put the message in (a reply)." },
    });
    for (k, v) in extra {
        props[*k] = v.clone();
    }
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": props })
}

fn s_search() -> Value {
    list_schema("messages")
}
fn s_threads() -> Value {
    list_schema("threads")
}
fn s_get_message() -> Value {
    get_schema("Message")
}
fn s_get_thread() -> Value {
    get_schema("Thread")
}
fn s_attachment() -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": ["message_id", "attachment_id"], "properties": {
        "message_id": s_id("Message"),
        "attachment_id": { "type": "string", "description": format!("body.attachmentId of the attachment part in get_message. Attachments over {MAX_ATTACHMENT_BYTES} bytes are refused.") },
    }})
}
fn s_labels() -> Value {
    json!({ "type": "object", "additionalProperties": false, "properties": {} })
}
fn s_profile() -> Value {
    json!({ "type": "object", "additionalProperties": false, "properties": {} })
}
fn s_history() -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": ["start_history_id"], "properties": {
        "start_history_id": { "type": "string", "pattern": "^[0-9]+$", "description": "List changes after this historyId (from get_profile, or the historyId of the last page)." },
        "max_results": { "type": "integer", "minimum": 1, "maximum": 500, "description": "History records per page (Gmail's default 100)." },
        "page_token": { "type": "string", "description": "nextPageToken from the previous page." },
        "label_id": { "type": "string", "description": "Only changes to messages with this label id." },
        "history_types": { "type": "array", "items": { "type": "string", "enum": ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"] }, "description": "Only these kinds of change." },
    }})
}
fn s_modify() -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": ["id"], "properties": {
        "id": s_id("Message"),
        "add_label_ids": { "type": "array", "items": { "type": "string" }, "description": "Label ids to add (from list_labels), e.g. [\"Label_5\", \"STARRED\"]." },
        "remove_label_ids": { "type": "array", "items": { "type": "string" }, "description": "Label ids to remove, e.g. [\"UNREAD\", \"INBOX\"] to mark read and archive." },
    }})
}
fn s_create_draft() -> Value {
    message_schema(&[], &["text"])
}
fn s_update_draft() -> Value {
    message_schema(&[("draft_id", json!({ "type": "string", "description": "Draft id from create_draft, e.g. \"r-1234567890\"." }))], &["draft_id", "text"])
}
fn s_send_draft() -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": ["draft_id"], "properties": {
        "draft_id": { "type": "string", "description": "Draft id from create_draft, e.g. \"r-1234567890\"." },
    }})
}
fn s_send_message() -> Value {
    message_schema(&[], &["to", "text"])
}
fn s_trash() -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": ["id"], "properties": { "id": s_id("Message") } })
}

// One line per action reads better than a struct literal per action here.
#[allow(clippy::too_many_arguments)]
const fn spec(name: &'static str, description: &'static str, tier: Tier, scopes: &'static [&'static str], outbound: bool, idempotent: bool, input_schema: fn() -> Value, build: fn(&Value) -> Result<HttpCall, String>) -> ActionSpec {
    ActionSpec { provider: "gmail", name, description, tier, scopes, outbound, idempotent, preview: PreviewKind::Email, input_schema, build }
}

pub(super) const ACTIONS: &[ActionSpec] = &[
    spec("search_messages", "Search messages with Gmail search (from:, to:, subject:, is:unread, label:, has:attachment, newer_than:, words); returns ids, a page token and an estimate.", Tier::Read, &[READONLY], false, true, s_search, search_messages),
    spec("get_message", "Get one message: headers, text and HTML bodies, and attachment metadata (name, type, size, attachmentId) without the bytes.", Tier::Read, &[READONLY], false, true, s_get_message, get_message),
    spec("get_attachment", "Get one attachment's bytes (base64url), refused when larger than the size cap.", Tier::Read, &[READONLY], false, true, s_attachment, get_attachment),
    spec("list_threads", "Search conversations (threads) with Gmail search; returns thread ids with a snippet and a page token.", Tier::Read, &[READONLY], false, true, s_threads, list_threads),
    spec("get_thread", "Get every message of one conversation, oldest first.", Tier::Read, &[READONLY], false, true, s_get_thread, get_thread),
    spec("list_labels", "List the mailbox's labels (system and the user's own) with their ids.", Tier::Read, &[READONLY], false, true, s_labels, list_labels),
    spec("get_profile", "The mailbox's address, message and thread counts, and its current historyId (the start for list_history).", Tier::Read, &[READONLY], false, true, s_profile, get_profile),
    spec("list_history", "What changed in the mailbox after a historyId (messages added or deleted, labels changed), oldest first; an expired start answers 404: take a fresh historyId from get_profile.", Tier::Read, &[READONLY], false, true, s_history, list_history),
    spec("modify_labels", "Add or remove labels on a message (triage: mark read, archive, star, file under a label). Nothing is sent.", Tier::Write, &[MODIFY], false, true, s_modify, modify_labels),
    spec("create_draft", "Create a draft (or a draft reply in a thread); it is not sent.", Tier::Write, &[COMPOSE], false, false, s_create_draft, create_draft),
    spec("update_draft", "Replace a draft's recipients, subject and body; it is not sent.", Tier::Write, &[COMPOSE], false, true, s_update_draft, update_draft),
    spec("send_draft", "Send an existing draft to its recipients.", Tier::Write, &[COMPOSE], true, false, s_send_draft, send_draft),
    spec("send_message", "Send a new email (or a reply in a thread) right away.", Tier::Write, &[SEND], true, false, s_send_message, send_message),
    spec("trash_message", "Move a message to the trash (Gmail deletes it for good after 30 days).", Tier::Delete, &[MODIFY], false, true, s_trash, trash_message),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn unb64(s: &str) -> String {
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.bytes().filter(|c| *c != b'=') {
            let v = URL.iter().position(|x| *x == c).expect("base64url alphabet") as u32;
            bits = (bits << 6) | v;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
                bits &= (1 << n) - 1;
            }
        }
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(b64(i.as_bytes(), STD), o);
        }
        assert_eq!(b64(&[0xfb, 0xff], URL), "-_8=");
    }

    #[test]
    fn a_reply_draft_is_an_rfc2822_message_in_the_thread() {
        let call = create_draft(&json!({
            "to": "Ada Lovelace <ada.lovelace@example.com>", "cc": ["ops@acme-demo.example"],
            "subject": "Re: Meeting — next week", "text": "Tuesday 3 pm works.", "html": "<p>Tuesday 3 pm works.</p>",
            "in_reply_to": "<abc.1@mail.example.com>", "thread_id": "18f0000000010357",
        }))
        .expect("valid draft");
        assert_eq!((call.method, call.path.as_str()), ("POST", "/users/me/drafts"));
        let msg = &call.json.as_ref().expect("body")["message"];
        assert_eq!(msg["threadId"], "18f0000000010357");
        let raw = unb64(msg["raw"].as_str().expect("raw"));
        assert!(raw.starts_with("To: Ada Lovelace <ada.lovelace@example.com>\r\nCc: ops@acme-demo.example\r\n"), "{raw}");
        assert!(raw.contains("Subject: =?UTF-8?B?"), "a non-ASCII subject is RFC 2047 encoded: {raw}");
        assert!(raw.contains("In-Reply-To: <abc.1@mail.example.com>\r\nReferences: <abc.1@mail.example.com>\r\n"));
        assert!(raw.contains("Content-Type: multipart/alternative; boundary=\"=_switchboard_alt_=\""));
        assert!(raw.contains(&wrapped("Tuesday 3 pm works.")) && raw.contains(&wrapped("<p>Tuesday 3 pm works.</p>")));
        assert!(raw.ends_with("--=_switchboard_alt_=--\r\n"));
        assert!(!msg["raw"].as_str().unwrap_or_default().contains(['+', '/', '=']), "raw is unpadded base64url");
    }

    #[test]
    fn header_injection_is_refused() {
        let base = json!({ "to": "a@example.com", "subject": "Hi", "text": "x" });
        for (field, value) in [
            ("subject", json!("Hi\r\nBcc: evil@example.com")),
            ("subject", json!("Hi\nBcc: evil@example.com")),
            ("to", json!("a@example.com\r\nBcc: evil@example.com")),
            ("cc", json!(["b@example.com\nX: y"])),
            ("in_reply_to", json!("<a@b.c>\r\nBcc: evil@example.com")),
        ] {
            let mut input = base.clone();
            input[field] = value;
            let err = send_message(&input).expect_err("a line break must be refused");
            assert!(err.contains(field), "the error should name {field}: {err}");
        }
        assert!(send_message(&json!({ "to": "not an address", "text": "x" })).expect_err("bad address").contains("to"));
        assert!(send_message(&json!({ "text": "x" })).expect_err("no recipient").contains("to"));
        assert!(create_draft(&json!({ "to": "a@example.com" })).expect_err("no body").contains("text"));
        // A body may hold anything: it is base64 in the message.
        let call = send_message(&json!({ "to": "a@example.com", "text": "line\r\n.\r\nBcc: x@example.com" })).expect("body is free text");
        let raw = unb64(call.json.as_ref().expect("body")["raw"].as_str().expect("raw"));
        assert!(!raw.contains("Bcc:"), "{raw}");
    }

    #[test]
    fn reads_build_gmail_requests_and_ids_cannot_change_the_path() {
        let c = search_messages(&json!({ "q": "from:ada is:unread", "label_ids": ["INBOX"], "max_results": 10, "page_token": "00000000000000000010" })).expect("search");
        assert_eq!(c.path, "/users/me/messages");
        assert_eq!(c.query, vec![("q".into(), "from:ada is:unread".into()), ("labelIds".into(), "INBOX".into()), ("maxResults".into(), "10".into()), ("pageToken".into(), "00000000000000000010".into())]);
        let c = get_message(&json!({ "id": "18f0000000010357", "format": "metadata" })).expect("get");
        assert_eq!((c.path.as_str(), c.query.clone()), ("/users/me/messages/18f0000000010357", vec![("format".into(), "metadata".into())]));
        assert!(get_message(&json!({ "id": "../drafts" })).expect_err("path").contains("id"));
        assert!(get_message(&json!({ "id": "abc", "format": "raw" })).expect_err("raw").contains("format"));
        assert!(get_attachment(&json!({ "message_id": "abc", "attachment_id": "x/y" })).expect_err("path").contains("attachment_id"));
        assert_eq!(get_attachment(&json!({ "message_id": "abc", "attachment_id": "ANGjdJ_x-1" })).expect("att").path, "/users/me/messages/abc/attachments/ANGjdJ_x-1");
        assert!(search_messages(&json!({ "max_results": 501 })).expect_err("max").contains("max_results"));
        assert!(modify_labels(&json!({ "id": "abc" })).is_err(), "a modify must change something");
        let m = modify_labels(&json!({ "id": "abc", "remove_label_ids": ["UNREAD"] })).expect("modify");
        assert_eq!(m.json, Some(json!({ "addLabelIds": [], "removeLabelIds": ["UNREAD"] })));
        assert_eq!(send_draft(&json!({ "draft_id": "r-123" })).expect("send").json, Some(json!({ "id": "r-123" })));
        assert!(send_draft(&json!({ "draft_id": "r/1" })).is_err());
        assert_eq!(update_draft(&json!({ "draft_id": "r-123", "text": "x" })).expect("update").method, "PUT");
        assert_eq!(trash_message(&json!({ "id": "abc" })).expect("trash").path, "/users/me/messages/abc/trash");
        let h = list_history(&json!({ "start_history_id": "100012", "max_results": 50, "history_types": ["messageAdded"] })).expect("history");
        assert_eq!((h.path.as_str(), h.query.clone()), ("/users/me/history", vec![("startHistoryId".into(), "100012".into()), ("maxResults".into(), "50".into()), ("historyTypes".into(), "messageAdded".into())]));
        assert!(list_history(&json!({})).expect_err("no start").contains("start_history_id"));
        assert!(list_history(&json!({ "start_history_id": "12&x=1" })).expect_err("bad start").contains("start_history_id"));
        assert!(list_history(&json!({ "start_history_id": "1", "history_types": ["everything"] })).expect_err("bad type").contains("history_types"));
        assert_eq!(get_profile(&json!({})).expect("profile").path, "/users/me/profile");
    }

    #[test]
    fn every_action_has_a_quota_method_and_big_attachments_are_refused() {
        for a in ACTIONS {
            assert!(quota_method(a.name).is_some(), "{} has no quota method", a.name);
        }
        assert!(failure(br#"{"attachmentId":"a","size":99999999,"data":""}"#).is_some_and(|f| f.code == "attachment_too_large"));
        assert!(failure(br#"{"attachmentId":"a","size":10,"data":"AAAA"}"#).is_none());
        assert!(failure(br#"{"id":"m","sizeEstimate":99999999}"#).is_none(), "only attachment answers are capped");
    }
}
