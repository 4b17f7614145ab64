//! Journey: customer-feedback routing on the simulated Slack. A person connects the workspace's
//! bot token, grants an agent read; the agent reads `#customer-feedback` page by page (a cursor
//! whenever more remain), a thread and who wrote it. With write granted and the scopes ticked it
//! replies in the thread, corrects its reply and DMs the account owner; Slack's `ok: false`
//! answers (channel not found, bot not in the channel) reach it as `provider_error` with Slack's
//! code; deleting needs the delete grant.
//!
//! A second journey: Slack limits each method on its own, so the gateway paces each method under
//! its tier and posts per channel: a burst of Tier 2 calls is spread out without a 429, while a
//! Tier 4 call and a post to another channel go straight through.
//!
//! Real keychain, real SQLite, real HTTP to the sandbox over loopback.

use reqwest::Method;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_sandbox::slack::{BOT_TOKEN, CUSTOMER_FEEDBACK, GENERAL, SALES, SlackConfig, SlackSandbox};
use switchboard_tests::Gateway;

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_routes_customer_feedback_in_slack_within_its_grants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;

    // A wrong token is refused at connect time, though Slack answers it with HTTP 200.
    let (status, body) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "api_key": "slack-sandbox-wrong-token" }))).await;
    assert_eq!(status, 400, "a bot token Slack calls invalid_auth must not be saved: {body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("invalid_auth"), "Slack's reason should be shown: {body}");

    let (status, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "label": "Acme", "api_key": BOT_TOKEN }))).await;
    assert_eq!(status, 200, "connecting the sandbox with its bot token should work: {conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "feedback-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let call = |tool: &str, input: Value| {
        let (gw, token, tool) = (&gw, token.clone(), tool.to_string());
        async move { gw.agent(&token, Method::POST, &format!("/tools/{tool}"), Some(json!({ "input": input }))).await }
    };

    // Read: the feedback channel's history and one thread.
    let (status, body) = call("slack_channel_history", json!({ "channel": CUSTOMER_FEEDBACK })).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "a new agent holds nothing: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "feedback-bot", "connection": conn_id, "tier": "read" }))).await;
    let (status, body) = call("slack_list_channels", json!({ "limit": 2 })).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["result"]["response_metadata"]["next_cursor"].as_str().unwrap_or_default().is_empty(), "a cursor is returned when more channels exist: {body}");
    let (status, body) = call("slack_channel_history", json!({ "channel": CUSTOMER_FEEDBACK, "limit": 50 })).await;
    assert_eq!(status, 200, "a granted read should reach the sandbox: {body}");
    let history_call = body["call_id"].as_str().expect("call id").to_string();
    let messages = body["result"]["messages"].as_array().expect("messages").clone();
    let parent = messages.iter().find(|m| m["text"].as_str().is_some_and(|t| t.contains("CSV export"))).expect("Grace's complaint is in the channel");
    let parent_ts = parent["ts"].as_str().expect("ts").to_string();
    // More than one page: each page but the last carries a cursor, and together they hold every message.
    let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let mut input = json!({ "channel": CUSTOMER_FEEDBACK, "limit": 5 });
        if let Some(c) = &cursor {
            input["cursor"] = json!(c);
        }
        let (status, body) = call("slack_channel_history", input).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        seen.extend(body["result"]["messages"].as_array().expect("messages").iter().filter_map(|m| m["ts"].as_str().map(str::to_string)));
        match body["result"]["response_metadata"]["next_cursor"].as_str().filter(|c| !c.is_empty()) {
            Some(c) => {
                assert_eq!(body["result"]["has_more"], true, "a cursor means more remain: {body}");
                cursor = Some(c.to_string());
            }
            None => break,
        }
        assert!(pages < 10, "paging never ended");
    }
    assert!(pages > 1 && seen.len() == messages.len(), "paging by 5 should give the same {} messages as one page of 50: {pages} pages, {} messages", messages.len(), seen.len());
    let author = parent["user"].as_str().expect("author").to_string();
    let (status, body) = call("slack_get_user", json!({ "user": author })).await;
    assert_eq!((status, body["result"]["user"]["real_name"].as_str()), (200, Some("Priya Natarajan")), "who posted the complaint: {body}");
    let (status, body) = call("slack_thread_replies", json!({ "channel": CUSTOMER_FEEDBACK, "ts": parent_ts })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["messages"].as_array().map(Vec::len), Some(4), "the parent and its three replies: {body}");

    // An ok:false answer is an error for the agent, with Slack's code.
    let (status, body) = call("slack_channel_history", json!({ "channel": "C0NOSUCH00" })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "Slack's HTTP 200 ok:false must not look like success: {body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("channel_not_found"), "Slack's error code should reach the agent: {body}");
    let (status, body) = call("slack_channel_history", json!({ "channel": SALES })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("not_in_channel"), "the bot is not in #sales, and the agent is told so: {body}");

    // The email lookup needs a scope nobody ticked yet.
    let (status, body) = call("slack_lookup_user_by_email", json!({ "email": "omar.haddad@acme-demo.example" })).await;
    assert_eq!((status, code(&body)), (403, "scope_not_granted"), "users:read.email was not ticked: {body}");

    // Write: a separate grant, and the scopes ticked on the connection.
    let reply = json!({ "channel": CUSTOMER_FEEDBACK, "thread_ts": parent_ts, "text": "Logged to the CRM and routed to the account owner." });
    let (status, body) = call("slack_reply_in_thread", reply.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "read must not imply write: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "feedback-bot", "connection": conn_id, "tier": "write" }))).await;
    let (status, body) = call("slack_reply_in_thread", reply.clone()).await;
    assert_eq!((status, code(&body)), (403, "scope_not_granted"), "chat:write was not ticked: {body}");
    let scopes = ["channels:read", "channels:history", "users:read", "users:read.email", "chat:write", "im:write"];
    let (status, c) = gw.control(Method::PUT, &format!("/connections/{conn_id}/scopes"), Some(json!({ "scopes": scopes }))).await;
    assert_eq!(status, 200, "ticking scopes should work: {c}");
    let (status, body) = call("slack_reply_in_thread", reply).await;
    assert_eq!(status, 200, "with the grant and the scope the reply should be posted: {body}");
    let reply_ts = body["result"]["ts"].as_str().expect("reply ts").to_string();
    assert_eq!(body["result"]["message"]["thread_ts"], parent_ts.as_str(), "the reply is in the thread: {body}");
    let (_, body) = call("slack_thread_replies", json!({ "channel": CUSTOMER_FEEDBACK, "ts": parent_ts })).await;
    assert_eq!(body["result"]["messages"].as_array().map(Vec::len), Some(5), "the thread now has the bot's reply: {body}");
    let (status, body) = call("slack_update_message", json!({ "channel": CUSTOMER_FEEDBACK, "ts": reply_ts, "text": "Logged to the CRM; Omar owns the follow-up." })).await;
    assert_eq!((status, body["result"]["message"]["text"].as_str()), (200, Some("Logged to the CRM; Omar owns the follow-up.")), "the bot corrects its own reply: {body}");
    let (status, body) = call("slack_update_message", json!({ "channel": CUSTOMER_FEEDBACK, "ts": parent_ts, "text": "rewritten" })).await;
    assert!(status == 502 && body["message"].as_str().unwrap_or_default().contains("cant_update_message"), "a customer's message is not the bot's to change: {body}");

    // DM the owner: look them up, open the DM, send.
    let (status, body) = call("slack_lookup_user_by_email", json!({ "email": "omar.haddad@acme-demo.example" })).await;
    assert_eq!(status, 200, "{body}");
    let owner = body["result"]["user"]["id"].as_str().expect("user id").to_string();
    let (status, body) = call("slack_open_direct_message", json!({ "user": owner })).await;
    assert_eq!(status, 200, "{body}");
    let dm = body["result"]["channel"]["id"].as_str().expect("dm id").to_string();
    let (status, body) = call("slack_send_direct_message", json!({ "channel": dm, "text": "Grace Hopper (renewal next month) is unhappy about CSV export timeouts." })).await;
    assert_eq!(status, 200, "{body}");

    // Delete is its own tier (chat:write unlocks it at Slack).
    let delete = json!({ "channel": CUSTOMER_FEEDBACK, "ts": reply_ts });
    let (status, body) = call("slack_delete_message", delete.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "write must not imply delete: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "feedback-bot", "connection": conn_id, "tier": "delete" }))).await;
    let (status, body) = call("slack_delete_message", json!({ "channel": CUSTOMER_FEEDBACK, "ts": parent_ts })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "the bot may not delete a customer's message: {body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("cant_delete_message"), "{body}");
    let (status, body) = call("slack_delete_message", delete).await;
    assert_eq!(status, 200, "the bot may delete its own reply with the delete grant: {body}");

    // Audit: the read's decision and outcome share its call id; the ok:false answer is recorded
    // as a provider error, not as a success.
    let (_, page) = gw.control(Method::GET, &format!("/audit?text={history_call}&limit=10"), None).await;
    let rows: Vec<(&str, &str)> = page["rows"].as_array().expect("rows").iter().map(|r| (r["decision"].as_str().unwrap_or(""), r["outcome"].as_str().unwrap_or(""))).collect();
    assert!(rows.contains(&("allow", "started")) && rows.contains(&("none", "ok")), "{rows:?}");
    let (_, page) = gw.control(Method::GET, "/audit?text=channel_not_found&limit=10", None).await;
    assert!(
        page["rows"].as_array().expect("rows").iter().any(|r| r["outcome"] == "provider_error" && r["action"] == "slack.channel_history"),
        "the refused history read should be audited as a provider error: {page}"
    );
    let (_, page) = gw.control(Method::GET, "/audit?decision=deny&limit=50", None).await;
    let outcomes: Vec<&str> = page["rows"].as_array().expect("rows").iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert!(outcomes.contains(&"not_granted") && outcomes.contains(&"scope_not_granted"), "{outcomes:?}");
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "the audit chain should verify after the journey: {verify}");

    let (_, conns) = gw.control(Method::GET, "/connections", None).await;
    let mine = conns.as_array().expect("connections").iter().find(|c| c["id"] == conn_id.as_str()).cloned().unwrap_or_default();
    assert_ne!(mine["status"], "reconnect_needed", "a Slack error about one request must not mark the connection broken: {mine}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_slack_method_is_paced_under_its_own_tier_and_posts_per_channel() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Slack's Tier 2 allows 20 calls a minute; this workspace counts Tier 2 in 10-second windows
    // of 4, the most the gateway's pacing of 20 a minute ever sends in 10 s, so any burst the
    // gateway let through unpaced would meet a 429 here. The other tiers keep Slack's figures.
    let mut config = SlackConfig::default();
    config.tier_limits[1] = 4;
    config.tier_interval = Duration::from_secs(10);
    config.tier_limits[2] = 50;
    config.tier_limits[3] = 100;
    let gw = Gateway::start_with(&dir.path().join("data"), |o| {
        o.sandbox = true;
        o.sandbox_providers = Some(vec![Box::new(SlackSandbox::new(config))]);
    })
    .await;
    let (status, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "label": "Acme", "api_key": BOT_TOKEN, "scopes": ["channels:read", "users:read", "chat:write"] }))).await;
    assert_eq!(status, 200, "{conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "burst-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    for tier in ["read", "write"] {
        gw.control(Method::POST, "/grants", Some(json!({ "agent": "burst-bot", "connection": conn_id, "tier": tier }))).await;
    }
    let call = |tool: &'static str, input: Value| {
        let (gw, token) = (&gw, token.clone());
        async move {
            let started = Instant::now();
            let (status, body) = gw.agent(&token, Method::POST, &format!("/tools/{tool}"), Some(json!({ "input": input }))).await;
            (status, body, started.elapsed())
        }
    };

    // Six Tier 2 calls at once, a Tier 4 call and two posts in different channels beside them.
    let list = || call("slack_list_channels", json!({ "limit": 1 }));
    let (l1, l2, l3, l4, l5, l6, user, general, feedback) = tokio::join!(
        list(),
        list(),
        list(),
        list(),
        list(),
        list(),
        call("slack_get_user", json!({ "user": "U05SBX0002" })),
        call("slack_post_message", json!({ "channel": GENERAL, "text": "first in #general" })),
        call("slack_post_message", json!({ "channel": CUSTOMER_FEEDBACK, "text": "first in #customer-feedback" })),
    );
    let burst = [l1, l2, l3, l4, l5, l6, user, general, feedback];
    for (status, body, _) in &burst {
        assert_eq!(*status, 200, "every call should succeed: {body}");
    }
    let mut tier2: Vec<Duration> = burst[..6].iter().map(|r| r.2).collect();
    tier2.sort();
    assert!(tier2[5] >= Duration::from_secs(12), "six conversations.list calls at 20 a minute take over 12 s, one every ~3.2 s: {tier2:?}");
    assert!(burst[6].2 < Duration::from_secs(3), "users.info (Tier 4) must not wait behind conversations.list: {:?}", burst[6].2);
    assert!(burst[7].2 < Duration::from_secs(3) && burst[8].2 < Duration::from_secs(3), "posts to two channels go at once: {:?} {:?}", burst[7].2, burst[8].2);

    // Three posts to one channel: about one a second, and Slack never had to refuse one.
    let started = Instant::now();
    let post = |text: &'static str| call("slack_post_message", json!({ "channel": GENERAL, "text": text }));
    let (one, two, three) = tokio::join!(post("one"), post("two"), post("three"));
    let posts = [one, two, three];
    assert!(posts.iter().all(|p| p.0 == 200), "{:?}", posts.iter().map(|p| &p.1).collect::<Vec<_>>());
    assert!(started.elapsed() >= Duration::from_secs(2), "three posts in one channel are spaced about a second apart: {:?}", started.elapsed());
    assert_eq!(gw.app.sandbox_rate_limited("slack-sandbox"), Some(0), "paced per method and per channel, the calls never met Slack's 429");

    let (_, limits) = gw.control(Method::GET, &format!("/rate-limits/{conn_id}"), None).await;
    let sent: u64 = limits["history"].as_array().expect("history").iter().filter_map(|b| b["calls_sent"].as_u64()).sum();
    assert_eq!(sent, 13, "the connection's status counts every method's calls (the key check and twelve agent calls): {limits}");
    gw.stop().await;
}

