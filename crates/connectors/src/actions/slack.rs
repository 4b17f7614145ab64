//! Slack Web API actions. Every method is `https://slack.com/api/{method}`: reads go as `GET`
//! with query arguments, writes as `POST` with a JSON body, as Slack accepts
//! (docs.slack.dev/apis/web-api). Slack reports failures as HTTP 200 with
//! `{"ok": false, "error": "<code>"}`; [`failure`] turns that into a failure the gateway reports.
//!
//! A direct message takes two actions, because Slack takes two calls: `open_direct_message`
//! (`conversations.open`, which returns the `D…` conversation id and is safe to repeat), then
//! `send_direct_message` (`chat.postMessage` to that id). Keeping them separate keeps "one
//! action, one provider request" and lets each be granted and audited on its own.
//!
//! Channel reads cover public channels (`channels:*` scopes); private channels need the
//! `groups:*` scopes and are not offered as actions yet.

use serde_json::{Map, Value, json};
use switchboard_core::Tier;

use super::{ActionSpec, PreviewKind, HttpCall, ProviderFailure, object, opt_string, refuse_unknown};

/// Errors that mean the token itself is no good (the connection must be reconnected).
const CREDENTIAL_ERRORS: &[&str] = &["not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive", "no_permission"];

/// Slack's `{"ok": false, "error": …}` in a 2xx answer, with `needed`/`provided` for
/// `missing_scope` and the explanation lines of `invalid_arguments`.
pub(super) fn failure(body: &[u8]) -> Option<ProviderFailure> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if v.get("ok").and_then(Value::as_bool) != Some(false) {
        return None;
    }
    let code = v.get("error").and_then(Value::as_str).unwrap_or("unknown_error").to_string();
    let mut message = code.clone();
    if let Some(needed) = v.get("needed").and_then(Value::as_str) {
        message.push_str(&format!(" (needed: {needed}; provided: {})", v.get("provided").and_then(Value::as_str).unwrap_or("none")));
    }
    if let Some(lines) = v.pointer("/response_metadata/messages").and_then(Value::as_array) {
        let lines: Vec<&str> = lines.iter().filter_map(Value::as_str).collect();
        if !lines.is_empty() {
            message.push_str(&format!(" ({})", lines.join("; ")));
        }
    }
    Some(ProviderFailure { credential_refused: CREDENTIAL_ERRORS.contains(&code.as_str()), code, message })
}

fn is_id(s: &str, prefixes: &[char]) -> bool {
    s.len() >= 3 && s.len() <= 24 && s.starts_with(prefixes) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A conversation id (`C…` channel, `D…` direct message, `G…` older private channel).
fn channel(o: &Map<String, Value>, field: &str, prefixes: &[char]) -> Result<String, String> {
    match o.get(field) {
        Some(Value::String(s)) if is_id(s, prefixes) => Ok(s.clone()),
        None | Some(Value::Null) => Err(format!("'{field}' is required: a conversation id such as \"C0123ABCD\" (list_channels gives them)")),
        Some(_) => Err(format!(
            "'{field}' must be a Slack conversation id starting with {} such as \"{}0123ABCD\", not a #name",
            prefixes.iter().map(char::to_string).collect::<Vec<_>>().join(" or "),
            prefixes[0]
        )),
    }
}

/// A user id (`U…`, or `W…` in Enterprise Grid).
fn user_id(o: &Map<String, Value>) -> Result<String, String> {
    match o.get("user") {
        Some(Value::String(u)) if is_id(u, &['U', 'W']) => Ok(u.clone()),
        None | Some(Value::Null) => Err("'user' is required: a user id such as \"U0123ABCD\"".into()),
        Some(_) => Err("'user' must be a Slack user id such as \"U0123ABCD\" (lookup_user_by_email gives it)".into()),
    }
}

/// A message timestamp: `"1712345678.000200"`.
fn ts(o: &Map<String, Value>, field: &str, required: bool) -> Result<Option<String>, String> {
    let valid = |s: &str| {
        let (a, b) = s.split_once('.').unwrap_or((s, ""));
        !a.is_empty() && a.len() <= 12 && a.bytes().all(|c| c.is_ascii_digit()) && b.len() <= 6 && b.bytes().all(|c| c.is_ascii_digit())
    };
    match o.get(field) {
        Some(Value::String(s)) if valid(s) => Ok(Some(s.clone())),
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(format!("'{field}' is required: a message timestamp such as \"1712345678.000200\"")),
        Some(_) => Err(format!("'{field}' must be a message timestamp such as \"1712345678.000200\"")),
    }
}

fn limit(o: &Map<String, Value>, max: u64) -> Result<Option<String>, String> {
    match o.get("limit") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=max).contains(&n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("'limit' must be a whole number from 1 to {max}")),
    }
}

fn flag(o: &Map<String, Value>, field: &str) -> Result<Option<bool>, String> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(format!("'{field}' must be true or false")),
    }
}

/// `text` and optional `blocks`: Slack needs text (it is also the notification fallback).
fn message_body(o: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut body = Map::new();
    match o.get("text") {
        Some(Value::String(t)) if !t.trim().is_empty() && t.chars().count() <= 40_000 => {
            body.insert("text".into(), Value::String(t.clone()));
        }
        Some(Value::String(t)) if !t.trim().is_empty() => return Err("'text' is longer than Slack's 40,000 characters".into()),
        None | Some(Value::Null) => return Err("'text' is required: the message (also the notification text when blocks are given)".into()),
        Some(_) => return Err("'text' must be a non-empty string".into()),
    }
    match o.get("blocks") {
        None | Some(Value::Null) => {}
        Some(Value::Array(b)) if b.len() <= 50 && b.iter().all(|x| x.get("type").is_some_and(Value::is_string)) => {
            body.insert("blocks".into(), Value::Array(b.clone()));
        }
        Some(_) => return Err("'blocks' must be a list of at most 50 Block Kit blocks, each an object with a \"type\"".into()),
    }
    Ok(body)
}

fn read(method: &str, query: Vec<(String, String)>) -> HttpCall {
    HttpCall { method: "GET", path: format!("/{method}"), query, json: None, ..HttpCall::default() }
}

fn write(method: &str, body: Map<String, Value>) -> HttpCall {
    HttpCall { method: "POST", path: format!("/{method}"), query: vec![], json: Some(Value::Object(body)), ..HttpCall::default() }
}

fn push(query: &mut Vec<(String, String)>, name: &str, value: Option<String>) {
    if let Some(v) = value {
        query.push((name.into(), v));
    }
}

fn schema_channel(what: &str) -> Value {
    json!({ "type": "string", "pattern": "^[CG][A-Z0-9]+$", "description": format!("{what} id, e.g. \"C0123ABCD\" (from list_channels; not the #name).") })
}

fn schema_ts(what: &str) -> Value {
    json!({ "type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,6})?$", "description": format!("{what}, a Slack message timestamp such as \"1712345678.000200\".") })
}

fn schema_text() -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": 40000, "description": "The message text (Slack mrkdwn); also the notification text when blocks are given." })
}

fn schema_blocks() -> Value {
    json!({ "type": "array", "maxItems": 50, "items": { "type": "object", "required": ["type"] }, "description": "Optional Block Kit blocks for a richer layout." })
}

fn schema_cursor() -> Value {
    json!({ "type": "string", "description": "Paging cursor: response_metadata.next_cursor from the previous page." })
}

pub(super) const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        provider: "slack",
        name: "list_channels",
        description: "List the workspace's public channels (id, name, whether the bot is a member), a page at a time; pass response_metadata.next_cursor as `cursor` for the next page.",
        tier: Tier::Read,
        scopes: &["channels:read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "limit": { "type": "integer", "minimum": 1, "maximum": 1000, "description": "Channels per page (Slack's default 100)." },
                "cursor": schema_cursor(),
                "exclude_archived": { "type": "boolean", "description": "Leave archived channels out." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["limit", "cursor", "exclude_archived"])?;
            let mut q = vec![("types".to_string(), "public_channel".to_string())];
            push(&mut q, "limit", limit(o, 1000)?);
            push(&mut q, "cursor", opt_string(o, "cursor")?);
            push(&mut q, "exclude_archived", flag(o, "exclude_archived")?.map(|b| b.to_string()));
            Ok(read("conversations.list", q))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "channel_history",
        description: "Read a public channel's messages, newest first (thread replies are read with thread_replies); the bot must be a member.",
        tier: Tier::Read,
        scopes: &["channels:history"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["channel"], "properties": {
                "channel": schema_channel("The channel"),
                "limit": { "type": "integer", "minimum": 1, "maximum": 999, "description": "Messages per page (Slack's default 100)." },
                "cursor": schema_cursor(),
                "oldest": schema_ts("Only messages after this time"),
                "latest": schema_ts("Only messages before this time"),
                "inclusive": { "type": "boolean", "description": "Include messages exactly at `oldest` or `latest`." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["channel", "limit", "cursor", "oldest", "latest", "inclusive"])?;
            let mut q = vec![("channel".to_string(), channel(o, "channel", &['C', 'G'])?)];
            push(&mut q, "limit", limit(o, 999)?);
            push(&mut q, "cursor", opt_string(o, "cursor")?);
            push(&mut q, "oldest", ts(o, "oldest", false)?);
            push(&mut q, "latest", ts(o, "latest", false)?);
            push(&mut q, "inclusive", flag(o, "inclusive")?.map(|b| b.to_string()));
            Ok(read("conversations.history", q))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "thread_replies",
        description: "Read a thread in a public channel: the parent message first, then its replies oldest first.",
        tier: Tier::Read,
        scopes: &["channels:history"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["channel", "ts"], "properties": {
                "channel": schema_channel("The channel"),
                "ts": schema_ts("The thread's parent message"),
                "limit": { "type": "integer", "minimum": 1, "maximum": 1000, "description": "Messages per page." },
                "cursor": schema_cursor(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["channel", "ts", "limit", "cursor"])?;
            let mut q = vec![("channel".to_string(), channel(o, "channel", &['C', 'G'])?)];
            push(&mut q, "ts", ts(o, "ts", true)?);
            push(&mut q, "limit", limit(o, 1000)?);
            push(&mut q, "cursor", opt_string(o, "cursor")?);
            Ok(read("conversations.replies", q))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "lookup_user_by_email",
        description: "Find a person in the workspace by email address (their user id, name and title).",
        tier: Tier::Read,
        scopes: &["users:read.email"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["email"], "properties": {
                "email": { "type": "string", "format": "email", "description": "The person's email address, e.g. \"omar.haddad@acme.example\"." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["email"])?;
            let email = match o.get("email") {
                Some(Value::String(e)) if e.len() <= 254 && e.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.')) && !e.chars().any(char::is_whitespace) => e.clone(),
                None | Some(Value::Null) => return Err("'email' is required".into()),
                Some(_) => return Err("'email' must be an email address such as \"ada@example.com\"".into()),
            };
            Ok(read("users.lookupByEmail", vec![("email".into(), email)]))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "get_user",
        description: "Get a person by user id (the `user` of a message): name, display name, title, time zone and, with users:read.email ticked, their email.",
        tier: Tier::Read,
        scopes: &["users:read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["user"], "properties": {
                "user": { "type": "string", "pattern": "^[UW][A-Z0-9]+$", "description": "The person's user id, e.g. \"U0123ABCD\"." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["user"])?;
            Ok(read("users.info", vec![("user".into(), user_id(o)?)]))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "post_message",
        description: "Post a message to a channel as the bot (the bot must be a member, unless the connection holds chat:write.public for a public channel).",
        tier: Tier::Write,
        scopes: &["chat:write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["channel", "text"], "properties": {
                "channel": schema_channel("The channel"),
                "text": schema_text(),
                "blocks": schema_blocks(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["channel", "text", "blocks"])?;
            let mut body = Map::new();
            body.insert("channel".into(), Value::String(channel(o, "channel", &['C', 'G'])?));
            body.extend(message_body(o)?);
            Ok(write("chat.postMessage", body))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "reply_in_thread",
        description: "Reply in a message's thread as the bot; `broadcast` also shows the reply in the channel.",
        tier: Tier::Write,
        scopes: &["chat:write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["channel", "thread_ts", "text"], "properties": {
                "channel": schema_channel("The channel"),
                "thread_ts": schema_ts("The message to reply to"),
                "text": schema_text(),
                "blocks": schema_blocks(),
                "broadcast": { "type": "boolean", "description": "Also post the reply to the channel (Slack's reply_broadcast)." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["channel", "thread_ts", "text", "blocks", "broadcast"])?;
            let mut body = Map::new();
            body.insert("channel".into(), Value::String(channel(o, "channel", &['C', 'G'])?));
            body.insert("thread_ts".into(), Value::String(ts(o, "thread_ts", true)?.unwrap_or_default()));
            body.extend(message_body(o)?);
            if let Some(b) = flag(o, "broadcast")? {
                body.insert("reply_broadcast".into(), Value::Bool(b));
            }
            Ok(write("chat.postMessage", body))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "open_direct_message",
        description: "Open (or find) the bot's direct-message conversation with a person and return its id (channel.id, \"D…\"); then send with send_direct_message. Nothing is shown to the person until a message is sent.",
        tier: Tier::Write,
        scopes: &["im:write"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["user"], "properties": {
                "user": { "type": "string", "pattern": "^[UW][A-Z0-9]+$", "description": "The person's user id, e.g. \"U0123ABCD\" (lookup_user_by_email gives it)." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["user"])?;
            let mut body = Map::new();
            body.insert("users".into(), Value::String(user_id(o)?));
            Ok(write("conversations.open", body))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "send_direct_message",
        description: "Send a direct message as the bot in a conversation opened with open_direct_message (its \"D…\" id).",
        tier: Tier::Write,
        scopes: &["chat:write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["channel", "text"], "properties": {
                "channel": { "type": "string", "pattern": "^D[A-Z0-9]+$", "description": "The direct-message conversation id, e.g. \"D0123ABCD\", from open_direct_message." },
                "text": schema_text(),
                "blocks": schema_blocks(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["channel", "text", "blocks"])?;
            let mut body = Map::new();
            body.insert("channel".into(), Value::String(channel(o, "channel", &['D'])?));
            body.extend(message_body(o)?);
            Ok(write("chat.postMessage", body))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "update_message",
        description: "Change the text of a message the bot posted (Slack refuses other people's messages with cant_update_message).",
        tier: Tier::Write,
        scopes: &["chat:write"],
        outbound: true,
        idempotent: true,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["channel", "ts", "text"], "properties": {
                "channel": { "type": "string", "pattern": "^[CDG][A-Z0-9]+$", "description": "The conversation id where the message is." },
                "ts": schema_ts("The message to change"),
                "text": schema_text(),
                "blocks": schema_blocks(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["channel", "ts", "text", "blocks"])?;
            let mut body = Map::new();
            body.insert("channel".into(), Value::String(channel(o, "channel", &['C', 'D', 'G'])?));
            body.insert("ts".into(), Value::String(ts(o, "ts", true)?.unwrap_or_default()));
            body.extend(message_body(o)?);
            Ok(write("chat.update", body))
        },
    },
    ActionSpec {
        provider: "slack",
        name: "delete_message",
        description: "Delete a message the bot posted (Slack refuses other people's messages with cant_delete_message; a second delete answers message_not_found).",
        tier: Tier::Delete,
        scopes: &["chat:write"],
        outbound: true,
        idempotent: true,
        preview: PreviewKind::ChatMessage,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["channel", "ts"], "properties": {
                "channel": { "type": "string", "pattern": "^[CDG][A-Z0-9]+$", "description": "The conversation id where the message is." },
                "ts": schema_ts("The message to delete"),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["channel", "ts"])?;
            let mut body = Map::new();
            body.insert("channel".into(), Value::String(channel(o, "channel", &['C', 'D', 'G'])?));
            body.insert("ts".into(), Value::String(ts(o, "ts", true)?.unwrap_or_default()));
            Ok(write("chat.delete", body))
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

    fn q(call: &HttpCall) -> Vec<(&str, &str)> {
        call.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn reads_are_gets_on_slacks_method_paths() {
        let c = build("slack_list_channels", json!({ "limit": 50, "cursor": "abc", "exclude_archived": true })).expect("valid");
        assert_eq!((c.method, c.path.as_str()), ("GET", "/conversations.list"));
        assert_eq!(q(&c), vec![("types", "public_channel"), ("limit", "50"), ("cursor", "abc"), ("exclude_archived", "true")]);
        let c = build("slack_channel_history", json!({ "channel": "C05SBXFDB1", "oldest": "1712345678.000200", "limit": 20 })).expect("valid");
        assert_eq!(c.path, "/conversations.history");
        assert_eq!(q(&c), vec![("channel", "C05SBXFDB1"), ("limit", "20"), ("oldest", "1712345678.000200")]);
        let c = build("slack_thread_replies", json!({ "channel": "C05SBXFDB1", "ts": "1712345678.000200" })).expect("valid");
        assert_eq!((c.path.as_str(), q(&c)), ("/conversations.replies", vec![("channel", "C05SBXFDB1"), ("ts", "1712345678.000200")]));
        let c = build("slack_get_user", json!({ "user": "U05SBX0002" })).expect("valid");
        assert_eq!((c.method, c.path.as_str(), q(&c)), ("GET", "/users.info", vec![("user", "U05SBX0002")]));
        let c = build("slack_lookup_user_by_email", json!({ "email": "maya.chen@acme-demo.example" })).expect("valid");
        assert_eq!((c.path.as_str(), q(&c)), ("/users.lookupByEmail", vec![("email", "maya.chen@acme-demo.example")]));
    }

    #[test]
    fn writes_are_json_posts_with_slacks_argument_names() {
        let c = build("slack_post_message", json!({ "channel": "C05SBXGEN1", "text": "hi", "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": "hi" } }] })).expect("valid");
        assert_eq!((c.method, c.path.as_str()), ("POST", "/chat.postMessage"));
        assert_eq!(c.json.as_ref().map(|j| (j["channel"].clone(), j["text"].clone(), j["blocks"][0]["type"].clone())), Some((json!("C05SBXGEN1"), json!("hi"), json!("section"))));
        let c = build("slack_reply_in_thread", json!({ "channel": "C05SBXFDB1", "thread_ts": "1712345678.000200", "text": "on it", "broadcast": true })).expect("valid");
        assert_eq!(c.json, Some(json!({ "channel": "C05SBXFDB1", "thread_ts": "1712345678.000200", "text": "on it", "reply_broadcast": true })));
        let c = build("slack_open_direct_message", json!({ "user": "U05SBX0002" })).expect("valid");
        assert_eq!((c.path.as_str(), c.json), ("/conversations.open", Some(json!({ "users": "U05SBX0002" }))));
        let c = build("slack_send_direct_message", json!({ "channel": "D05SBXDM01", "text": "hello" })).expect("valid");
        assert_eq!((c.path.as_str(), c.json), ("/chat.postMessage", Some(json!({ "channel": "D05SBXDM01", "text": "hello" }))));
        let c = build("slack_update_message", json!({ "channel": "C05SBXGEN1", "ts": "1712345678.000200", "text": "edited" })).expect("valid");
        assert_eq!((c.path.as_str(), c.json), ("/chat.update", Some(json!({ "channel": "C05SBXGEN1", "ts": "1712345678.000200", "text": "edited" }))));
        let c = build("slack_delete_message", json!({ "channel": "C05SBXGEN1", "ts": "1712345678.000200" })).expect("valid");
        assert_eq!((c.method, c.path.as_str(), c.json), ("POST", "/chat.delete", Some(json!({ "channel": "C05SBXGEN1", "ts": "1712345678.000200" }))));
    }

    #[test]
    fn bad_input_is_refused_naming_the_field() {
        let cases = [
            ("slack_channel_history", json!({}), "channel"),
            ("slack_channel_history", json!({ "channel": "#general" }), "channel"),
            ("slack_channel_history", json!({ "channel": "C05/../x" }), "channel"),
            ("slack_channel_history", json!({ "channel": "C05SBXFDB1", "oldest": "yesterday" }), "oldest"),
            ("slack_channel_history", json!({ "channel": "C05SBXFDB1", "limit": 5000 }), "limit"),
            ("slack_thread_replies", json!({ "channel": "C05SBXFDB1" }), "ts"),
            ("slack_lookup_user_by_email", json!({ "email": "not an email" }), "email"),
            ("slack_post_message", json!({ "channel": "C05SBXGEN1" }), "text"),
            ("slack_post_message", json!({ "channel": "C05SBXGEN1", "text": "x", "thread_ts": "1.2" }), "thread_ts"),
            ("slack_post_message", json!({ "channel": "C05SBXGEN1", "text": "x", "blocks": [1] }), "blocks"),
            ("slack_reply_in_thread", json!({ "channel": "C05SBXGEN1", "text": "x" }), "thread_ts"),
            ("slack_open_direct_message", json!({ "user": "maya" }), "user"),
            ("slack_get_user", json!({}), "user"),
            ("slack_get_user", json!({ "user": "U1/../x" }), "user"),
            ("slack_send_direct_message", json!({ "channel": "C05SBXGEN1", "text": "x" }), "channel"),
            ("slack_delete_message", json!({ "channel": "C05SBXGEN1" }), "ts"),
        ];
        for (tool, input, field) in cases {
            let e = build(tool, input.clone()).expect_err("must be refused");
            assert!(e.contains(field), "{tool} {input}: the error should name '{field}': {e}");
        }
    }

    #[test]
    fn ok_false_bodies_become_failures_and_ok_true_bodies_do_not() {
        assert_eq!(failure(br#"{"ok":true,"channel":"C1"}"#), None);
        assert_eq!(failure(b"not json"), None);
        let f = failure(br#"{"ok":false,"error":"channel_not_found"}"#).expect("a failure");
        assert_eq!((f.code.as_str(), f.message.as_str(), f.credential_refused), ("channel_not_found", "channel_not_found", false));
        let f = failure(br#"{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"channels:read"}"#).expect("a failure");
        assert_eq!(f.message, "missing_scope (needed: chat:write; provided: channels:read)");
        assert!(failure(br#"{"ok":false,"error":"invalid_auth"}"#).expect("a failure").credential_refused, "a refused token needs a reconnect");
    }
}
