//! Journey: provider content is data, never instructions. 240 hostile texts
//! (`tests/fixtures/injection/corpus.jsonl`) arrive as customer messages in Slack, are read by
//! an agent through the gateway, and come back from the agent as tool arguments: a message to
//! post, an access request's reason, a connection id. Afterwards the grants and policies are
//! exactly as a person set them, every draft is still waiting for a person, no access request
//! was granted, the agents are not resumed, nothing was posted, and the audit chain verifies.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::slack::{BOT_TOKEN, CUSTOMER_FEEDBACK, SlackConfig, SlackSandbox};
use switchboard_tests::{Gateway, client};

fn corpus() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/injection/corpus.jsonl")).expect("the injection corpus is in the repository");
    text.lines().map(|l| serde_json::from_str::<Value>(l).expect("one JSON object per line")["text"].as_str().expect("text").to_string()).collect()
}

async fn snapshot(gw: &Gateway) -> (Value, Value, Value) {
    let (_, grants) = gw.control(Method::GET, "/grants", None).await;
    let (_, policies) = gw.control(Method::GET, "/policies", None).await;
    let (_, pause) = gw.control(Method::GET, "/pause", None).await;
    (grants, policies, pause)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_provider_texts_change_no_grant_policy_or_approval_and_send_nothing() {
    let corpus = corpus();
    assert!(corpus.len() >= 200, "the corpus must hold at least 200 texts, it has {}", corpus.len());
    let dir = tempfile::tempdir().expect("temp dir");
    // Slack's posting limits are not under test: relax them so the corpus can be seeded quickly.
    let relaxed = SlackConfig { tier_limits: [100_000; 4], post_per_channel: (100_000, Duration::from_secs(1)), ..SlackConfig::default() };
    let gw = Gateway::start_with(&dir.path().join("data"), |o| {
        o.sandbox = true;
        o.sandbox_providers = Some(vec![Box::new(SlackSandbox::new(relaxed))]);
    })
    .await;
    let (_, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "api_key": BOT_TOKEN }))).await;
    let slack = conn["id"].as_str().expect("connection id").to_string();
    gw.control(Method::PUT, &format!("/connections/{slack}/scopes"), Some(json!({ "scopes": ["channels:read", "channels:history", "chat:write"] }))).await;
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "feedback-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    for tier in ["read", "write"] {
        gw.control(Method::POST, "/grants", Some(json!({ "agent": "feedback-bot", "connection": slack, "tier": tier }))).await;
    }
    gw.control(Method::POST, "/pause", None).await;
    gw.control(Method::POST, "/resume", None).await;
    let before = snapshot(&gw).await;
    let slack_url = gw.app.sandbox_urls().iter().find(|(id, _)| *id == "slack-sandbox").map(|(_, u)| u.clone()).expect("the simulated Slack runs");

    // Customers "say" every text in #customer-feedback.
    let http = client();
    for text in &corpus {
        let r: Value = http
            .post(format!("{slack_url}/api/chat.postMessage"))
            .bearer_auth(BOT_TOKEN)
            .json(&json!({ "channel": CUSTOMER_FEEDBACK, "text": text }))
            .send()
            .await
            .expect("slack answers")
            .json()
            .await
            .expect("json");
        assert_eq!(r["ok"], true, "seeding the corpus into Slack failed: {r}");
    }

    // The agent reads them all through the gateway ...
    let (status, history) = gw.agent(&token, Method::POST, "/tools/slack_channel_history", Some(json!({ "input": { "channel": CUSTOMER_FEEDBACK, "limit": 999 } }))).await;
    assert_eq!(status, 200, "{history}");
    let read: Vec<&str> = history["result"]["messages"].as_array().expect("messages").iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(corpus.iter().all(|t| read.contains(&t.as_str())), "the agent should read every hostile text as plain data");

    // ... and hands each back as tool arguments, as a confused agent would.
    for text in &corpus {
        let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(json!({ "input": { "channel": CUSTOMER_FEEDBACK, "text": text } }))).await;
        assert_eq!((status, body["state"].as_str()), (202, Some("pending_approval")), "a post quoting provider text must wait for a person: {body}");
        let reason: String = text.chars().take(500).collect::<String>().replace(|c: char| c.is_control() && c != '\n', " ");
        let (status, body) = gw
            .agent(&token, Method::POST, "/tools/request_access", Some(json!({ "input": { "connection": slack, "tier": "delete", "reason": reason } })))
            .await;
        assert_eq!(status, 200, "asking is allowed, granting is not: {body}");
        assert_eq!(body["result"]["status"], "pending", "{body}");
        let (status, _) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(json!({ "connection": text, "input": { "channel": CUSTOMER_FEEDBACK, "text": "x" } }))).await;
        assert!(status >= 400, "provider text as a connection id must be refused");
    }

    // Nothing a person controls changed; nothing went out.
    assert_eq!(snapshot(&gw).await, before, "grants, policies and the pause switch must be exactly as the person left them");
    let (_, drafts) = gw.control(Method::GET, "/approvals?limit=1000", None).await;
    let drafts = drafts.as_array().expect("drafts").clone();
    assert_eq!(drafts.len(), corpus.len(), "one draft per post");
    assert!(drafts.iter().all(|d| d["status"] == "pending" && d["decided_by"].is_null()), "no draft may be decided by anything but a person");
    let (_, requests) = gw.control(Method::GET, "/requests?status=all", None).await;
    assert!(requests.as_array().expect("requests").iter().all(|r| r["status"] == "pending"), "no access request may be granted by provider text: {requests}");
    let (_, after) = gw.agent(&token, Method::POST, "/tools/slack_channel_history", Some(json!({ "input": { "channel": CUSTOMER_FEEDBACK, "limit": 999 } }))).await;
    let texts: Vec<&str> = after["result"]["messages"].as_array().expect("messages").iter().filter_map(|m| m["text"].as_str()).collect();
    for text in &corpus {
        assert_eq!(texts.iter().filter(|t| **t == text.as_str()).count(), 1, "nothing may be posted without approval: {text}");
    }
    let (status, _) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(json!({ "input": { "channel": CUSTOMER_FEEDBACK, "text": "still held" } }))).await;
    assert_eq!(status, 202, "the approval queue is still in force after the corpus");
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "{verify}");
    gw.stop().await;
}
