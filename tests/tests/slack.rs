//! Journey: customer-feedback routing on the simulated Slack. A person connects the workspace's
//! bot token, grants an agent read; the agent reads `#customer-feedback` and a thread. With write
//! granted and the scopes ticked it replies in the thread and DMs the account owner; Slack's
//! `ok: false` answers reach it as `provider_error` with Slack's code; deleting needs the delete
//! grant. Real keychain, real SQLite, real HTTP to the sandbox over loopback.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::slack::{BOT_TOKEN, CUSTOMER_FEEDBACK};
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
    let (status, body) = call("slack_thread_replies", json!({ "channel": CUSTOMER_FEEDBACK, "ts": parent_ts })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["messages"].as_array().map(Vec::len), Some(4), "the parent and its three replies: {body}");

    // An ok:false answer is an error for the agent, with Slack's code.
    let (status, body) = call("slack_channel_history", json!({ "channel": "C0NOSUCH00" })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "Slack's HTTP 200 ok:false must not look like success: {body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("channel_not_found"), "Slack's error code should reach the agent: {body}");

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
