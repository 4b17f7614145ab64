//! The Slack sandbox over real HTTP on loopback: bot-token auth, cursor pagination, history and
//! threads, Slack's `ok: false` errors, `missing_scope`, per-method 429s with `Retry-After`, and
//! who may update or delete which message, and Events API deliveries after the request URL's
//! `url_verification` handshake.

mod common;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_sandbox::slack::{
    BOT_TOKEN, CUSTOMER_FEEDBACK, GENERAL, LEADERSHIP, READ_ONLY_BOT_TOKEN, SALES, SEEDED_FEEDBACK_MESSAGES, SlackConfig, SlackSandbox,
};
use switchboard_sandbox::{SandboxHandle, SandboxServer};

async fn start(cfg: SlackConfig) -> SandboxHandle {
    SandboxServer::start(SlackSandbox::new(cfg)).await.expect("the sandbox starts on loopback")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

/// `GET {base}/api/{method}?query` with the token: (status, body, Retry-After).
async fn get(sb: &SandboxHandle, token: &str, method: &str, query: &[(&str, &str)]) -> (StatusCode, Value, Option<String>) {
    let r = client().get(format!("{}/api/{method}", sb.url())).bearer_auth(token).query(query).send().await.expect("request");
    let status = r.status();
    let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, r.json().await.expect("JSON body"), retry)
}

/// `POST {base}/api/{method}` with a JSON body, as Switchboard sends writes.
async fn post(sb: &SandboxHandle, token: &str, method: &str, body: Value) -> (StatusCode, Value) {
    let r = client().post(format!("{}/api/{method}", sb.url())).bearer_auth(token).json(&body).send().await.expect("request");
    (r.status(), r.json().await.expect("JSON body"))
}

#[tokio::test]
async fn bot_tokens_are_checked_and_auth_test_names_the_bot() {
    let sb = start(SlackConfig::default()).await;
    let (s, body, _) = get(&sb, BOT_TOKEN, "auth.test", &[]).await;
    assert_eq!((s, body["ok"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    assert!(body["user_id"].as_str().is_some_and(|u| u.starts_with('U')) && body["team_id"].as_str().is_some_and(|t| t.starts_with('T')), "{body}");
    let (s, body, _) = get(&sb, "slack-sandbox-wrong-token", "auth.test", &[]).await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::OK, Some("invalid_auth")), "Slack answers a bad token with HTTP 200 and ok:false: {body}");
    let r = client().get(format!("{}/api/auth.test", sb.url())).send().await.expect("request");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "not_authed", "no token at all is not_authed: {body}");
}

#[tokio::test]
async fn conversations_list_pages_with_next_cursor_and_hides_what_the_bot_cannot_see() {
    let sb = start(SlackConfig::default()).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let (_, body, _) = get(&sb, BOT_TOKEN, "conversations.list", &[("limit", "2"), ("cursor", &cursor), ("types", "public_channel,private_channel")]).await;
        assert_eq!(body["ok"], true, "{body}");
        let page = body["channels"].as_array().expect("channels");
        assert!(page.len() <= 2, "limit is respected");
        seen.extend(page.iter().filter_map(|c| c["id"].as_str().map(str::to_string)));
        cursor = body["response_metadata"]["next_cursor"].as_str().expect("next_cursor is always present").to_string();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 4, "general, customer-feedback, sales and the archived channel: {seen:?}");
    assert!(seen.iter().any(|c| c == CUSTOMER_FEEDBACK) && seen.iter().any(|c| c == SALES));
    assert!(!seen.iter().any(|c| c == LEADERSHIP), "a private channel the bot is not in must not be listed");
    let (_, body, _) = get(&sb, BOT_TOKEN, "conversations.list", &[("exclude_archived", "true")]).await;
    assert_eq!(body["channels"].as_array().map(Vec::len), Some(3), "exclude_archived drops the archived channel: {body}");
    let (_, body, _) = get(&sb, BOT_TOKEN, "conversations.list", &[("cursor", "bm90LWEtY3Vyc29y")]).await;
    assert_eq!(body["error"], "invalid_cursor", "{body}");
}

#[tokio::test]
async fn history_pages_newest_first_and_threads_come_from_replies() {
    let sb = start(SlackConfig::default()).await;
    let mut all: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, body, _) = get(&sb, BOT_TOKEN, "conversations.history", &[("channel", CUSTOMER_FEEDBACK), ("limit", "5"), ("cursor", &cursor)]).await;
        assert_eq!(body["ok"], true, "{body}");
        all.extend(body["messages"].as_array().expect("messages").iter().cloned());
        if body["has_more"] != true {
            assert!(body.get("response_metadata").is_none() || body["response_metadata"]["next_cursor"] == "", "no cursor on the last page: {body}");
            break;
        }
        cursor = body["response_metadata"]["next_cursor"].as_str().expect("a cursor when has_more").to_string();
    }
    let stamps: Vec<&str> = all.iter().filter_map(|m| m["ts"].as_str()).collect();
    assert!(stamps.windows(2).all(|w| w[0] > w[1]), "history is newest first with no duplicates: {stamps:?}");
    assert!(stamps.iter().all(|t| t.len() == 17 && t.as_bytes()[10] == b'.'), "ts strings look like 1712345678.000200: {stamps:?}");
    let parent = all.iter().find(|m| m["reply_count"] == 3).expect("a thread with three replies");
    let replies_total: u64 = all.iter().filter_map(|m| m["reply_count"].as_u64()).sum();
    assert_eq!(all.len() as u64 + replies_total, SEEDED_FEEDBACK_MESSAGES as u64, "replies stay in their threads, nothing is lost");

    let ts = parent["ts"].as_str().expect("ts");
    let (_, body, _) = get(&sb, BOT_TOKEN, "conversations.replies", &[("channel", CUSTOMER_FEEDBACK), ("ts", ts)]).await;
    let thread = body["messages"].as_array().expect("thread");
    assert_eq!(thread.len(), 4, "parent plus three replies: {body}");
    assert_eq!(thread[0]["ts"], ts, "the parent comes first");
    assert!(thread[1..].iter().all(|m| m["thread_ts"] == ts), "{body}");

    let (_, body, _) = get(&sb, BOT_TOKEN, "conversations.history", &[("channel", CUSTOMER_FEEDBACK), ("oldest", ts)]).await;
    assert!(body["messages"].as_array().expect("messages").iter().all(|m| m["ts"].as_str() > Some(ts)), "oldest is exclusive by default");
    let (_, body, _) = get(&sb, BOT_TOKEN, "conversations.history", &[("channel", CUSTOMER_FEEDBACK), ("latest", "yesterday")]).await;
    assert_eq!(body["error"], "invalid_ts_latest");
}

#[tokio::test]
async fn errors_are_slacks_own_codes() {
    let sb = start(SlackConfig::default()).await;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 6] = [
        ("conversations.history", vec![("channel", "C0NOPE0000")], "channel_not_found"),
        ("conversations.history", vec![("channel", LEADERSHIP)], "channel_not_found"),
        ("conversations.history", vec![("channel", SALES)], "not_in_channel"),
        ("conversations.replies", vec![("channel", CUSTOMER_FEEDBACK), ("ts", "1000000000.000001")], "thread_not_found"),
        ("users.lookupByEmail", vec![("email", "nobody@nowhere.example")], "users_not_found"),
        ("users.lookupByEmail", vec![], "invalid_arguments"),
    ];
    for (method, q, want) in cases {
        let (s, body, _) = get(&sb, BOT_TOKEN, method, &q).await;
        assert_eq!((s, body["ok"].as_bool(), body["error"].as_str()), (StatusCode::OK, Some(false), Some(want)), "{method} {q:?}: {body}");
    }
    let (_, body, _) = get(&sb, BOT_TOKEN, "users.lookupByEmail", &[("email", "Maya.Chen@acme-demo.example")]).await;
    assert_eq!(body["user"]["id"], "U05SBX0001", "email lookup ignores case: {body}");
    let (_, body) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": GENERAL })).await;
    assert_eq!(body["error"], "no_text");
    let (_, body) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": SALES, "text": "hi" })).await;
    assert_eq!(body["ok"], true, "chat:write.public lets the bot post in a public channel it is not in: {body}");
    let r = client().post(format!("{}/api/chat.postMessage", sb.url())).bearer_auth(BOT_TOKEN).header("content-type", "application/json").body("{nope").send().await.expect("request");
    assert_eq!(r.json::<Value>().await.expect("json")["error"], "invalid_json");
}

#[tokio::test]
async fn a_token_without_the_scope_gets_missing_scope_with_needed_and_provided() {
    let sb = start(SlackConfig::default()).await;
    let (_, body) = post(&sb, READ_ONLY_BOT_TOKEN, "chat.postMessage", json!({ "channel": GENERAL, "text": "hello" })).await;
    assert_eq!((body["error"].as_str(), body["needed"].as_str()), (Some("missing_scope"), Some("chat:write")), "{body}");
    assert!(body["provided"].as_str().is_some_and(|p| p.contains("channels:history")), "{body}");
    let (_, body, _) = get(&sb, READ_ONLY_BOT_TOKEN, "users.lookupByEmail", &[("email", "maya.chen@acme-demo.example")]).await;
    assert_eq!(body["needed"], "users:read.email", "{body}");
    let (_, body, _) = get(&sb, READ_ONLY_BOT_TOKEN, "conversations.list", &[("types", "im")]).await;
    assert_eq!(body["needed"], "im:read", "{body}");
    let (_, body, _) = get(&sb, READ_ONLY_BOT_TOKEN, "conversations.history", &[("channel", CUSTOMER_FEEDBACK)]).await;
    assert_eq!(body["ok"], true, "the read-only token may read channel history: {body}");
}

#[tokio::test]
async fn posting_replying_dms_and_who_may_update_or_delete() {
    let sb = start(SlackConfig::default()).await;
    let (_, body) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": CUSTOMER_FEEDBACK, "text": "Logged to the CRM." })).await;
    assert_eq!(body["ok"], true, "{body}");
    let ts = body["ts"].as_str().expect("ts").to_string();
    assert_eq!(body["message"]["bot_id"].as_str().map(|b| b.starts_with('B')), Some(true), "{body}");

    // Reply in the seeded thread (the second feedback message).
    let (_, hist, _) = get(&sb, BOT_TOKEN, "conversations.history", &[("channel", CUSTOMER_FEEDBACK), ("limit", "100")]).await;
    let parent = hist["messages"].as_array().expect("messages").iter().find(|m| m["reply_count"] == 3).expect("thread")["ts"].as_str().expect("ts").to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await; // one post per second per channel
    let (_, body) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": CUSTOMER_FEEDBACK, "text": "Noted in the CRM.", "thread_ts": parent })).await;
    assert_eq!(body["message"]["thread_ts"], parent.as_str(), "{body}");
    let (_, thread, _) = get(&sb, BOT_TOKEN, "conversations.replies", &[("channel", CUSTOMER_FEEDBACK), ("ts", &parent)]).await;
    assert_eq!(thread["messages"].as_array().map(Vec::len), Some(5), "the reply joined the thread: {thread}");

    // Direct message: open, then post.
    let (_, open) = post(&sb, BOT_TOKEN, "conversations.open", json!({ "users": "U05SBX0002" })).await;
    let dm = open["channel"]["id"].as_str().expect("dm id").to_string();
    assert!(dm.starts_with('D'), "{open}");
    let (_, again) = post(&sb, BOT_TOKEN, "conversations.open", json!({ "users": "U05SBX0002" })).await;
    assert_eq!((again["channel"]["id"].as_str(), again["already_open"].as_bool()), (Some(dm.as_str()), Some(true)), "{again}");
    let (_, body) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": dm, "text": "Grace Hopper is unhappy about exports." })).await;
    assert_eq!(body["ok"], true, "{body}");
    let (_, body) = post(&sb, BOT_TOKEN, "conversations.open", json!({ "users": "U0NOBODY00" })).await;
    assert_eq!(body["error"], "user_not_found");

    // Update and delete: only the bot's own messages.
    let (_, body) = post(&sb, BOT_TOKEN, "chat.update", json!({ "channel": CUSTOMER_FEEDBACK, "ts": ts, "text": "Logged to the CRM (note 42)." })).await;
    assert_eq!((body["ok"].as_bool(), body["text"].as_str()), (Some(true), Some("Logged to the CRM (note 42).")), "{body}");
    let human = hist["messages"].as_array().expect("messages").iter().find(|m| m.get("bot_id").is_none()).expect("a person's message")["ts"].as_str().expect("ts");
    let (_, body) = post(&sb, BOT_TOKEN, "chat.update", json!({ "channel": CUSTOMER_FEEDBACK, "ts": human, "text": "x" })).await;
    assert_eq!(body["error"], "cant_update_message");
    let (_, body) = post(&sb, BOT_TOKEN, "chat.delete", json!({ "channel": CUSTOMER_FEEDBACK, "ts": human })).await;
    assert_eq!(body["error"], "cant_delete_message", "the bot may not delete a person's message: {body}");
    let (_, body) = post(&sb, BOT_TOKEN, "chat.delete", json!({ "channel": CUSTOMER_FEEDBACK, "ts": ts })).await;
    assert_eq!(body["ok"], true, "{body}");
    let (_, body) = post(&sb, BOT_TOKEN, "chat.delete", json!({ "channel": CUSTOMER_FEEDBACK, "ts": ts })).await;
    assert_eq!(body["error"], "message_not_found", "a deleted message is gone: {body}");
}

#[tokio::test]
async fn each_method_tier_answers_429_with_retry_after_when_spent() {
    let sb = start(SlackConfig { tier_limits: [1, 3, 5, 100], ..SlackConfig::default() }).await;
    for i in 0..3 {
        let (s, body, _) = get(&sb, BOT_TOKEN, "conversations.list", &[]).await;
        assert_eq!(s, StatusCode::OK, "call {i} is within the Tier 2 budget: {body}");
    }
    let (s, body, retry) = get(&sb, BOT_TOKEN, "conversations.list", &[]).await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("ratelimited")), "{body}");
    let secs: u64 = retry.expect("Retry-After on a 429").parse().expect("Retry-After is whole seconds");
    assert!((1..=60).contains(&secs), "{secs}");
    let (s, _, _) = get(&sb, BOT_TOKEN, "conversations.history", &[("channel", CUSTOMER_FEEDBACK)]).await;
    assert_eq!(s, StatusCode::OK, "limits are per method: history has its own Tier 3 budget");
    assert_eq!(sb.rate_limited_count(), 1);

    // chat.postMessage: about one per second per channel.
    let (s, _) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": GENERAL, "text": "one" })).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": CUSTOMER_FEEDBACK, "text": "other channel" })).await;
    assert_eq!(s, StatusCode::OK, "another channel has its own budget");
    let (s, body) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": GENERAL, "text": "two" })).await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("ratelimited")), "{body}");
    assert_eq!(sb.rate_limited_count(), 2);
}

#[tokio::test]
async fn the_request_url_must_echo_the_challenge_then_gets_signed_message_events() {
    let slack = SlackSandbox::default();
    let sim = slack.simulator();
    let sb = SandboxServer::start(slack).await.expect("start");
    let deaf = common::Subscriber::start(false).await;
    let e = sim.set_request_url(&deaf.url).await.expect_err("a URL that does not echo the challenge is refused");
    assert!(e.contains("challenge"), "{e}");
    let handshake = &deaf.received()[0];
    assert_eq!(handshake.json()["type"], "url_verification", "Slack sends the handshake first");
    let hook = common::Subscriber::start(true).await;
    sim.set_request_url(&hook.url).await.expect("a URL that echoes the challenge is accepted");

    // A person posts in a channel the bot is in, then the bot replies: two message events. A
    // post in #sales (the bot is not a member) is not delivered.
    let ts = sim.post_as("U05SBX0003", CUSTOMER_FEEDBACK, "Ada says the export failed again").expect("post");
    sim.post_as("U05SBX0002", SALES, "pipeline review at 3").expect("post in sales");
    let (_, body) = post(&sb, BOT_TOKEN, "chat.postMessage", json!({ "channel": CUSTOMER_FEEDBACK, "text": "Logged." })).await;
    assert_eq!(body["ok"], true, "{body}");
    assert!(sim.outbox().settle(Duration::from_secs(5)).await, "the deliveries finish");
    let got: Vec<_> = hook.received().into_iter().skip(1).collect();
    assert_eq!(got.len(), 2, "two message events after the handshake: {got:?}");
    let first = got[0].json();
    assert_eq!((first["type"].as_str(), first["event"]["type"].as_str(), first["event"]["ts"].as_str()), (Some("event_callback"), Some("message"), Some(ts.as_str())));
    assert_eq!(got[1].json()["event"]["bot_id"], "B05SBXBOT1", "the bot's own post is delivered with its bot_id");
    for r in &got {
        let t = r.header("x-slack-request-timestamp").expect("timestamp header");
        let sig = r.header("x-slack-signature").expect("signature header");
        assert_eq!(sig, format!("v0={}", common::hmac_hex(switchboard_sandbox::slack::SIGNING_SECRET, &[b"v0:", t.as_bytes(), b":", &r.body])), "v0 HMAC over v0:ts:body");
    }
    assert_ne!(got[0].json()["event_id"], got[1].json()["event_id"], "each event has its own event_id");
}
