//! Journey: least privilege in practice. A new agent is denied and told which grant would allow
//! the call; it asks with `request_access`, which changes nothing until a person grants it.
//! An auto-send policy lets a narrow class of Slack posts go without approval — only in its
//! channel allowlist and under its hourly cap; everything else still waits for a person. A
//! refund never goes alone. Every decision's rule is in the audit. Real keychain, SQLite and
//! HTTP to the simulated Slack and Stripe over loopback.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::slack::{BOT_TOKEN, CUSTOMER_FEEDBACK, GENERAL};
use switchboard_sandbox::stripe::{REFUNDABLE_CHARGE, SECRET_KEY};
use switchboard_tests::Gateway;

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_are_asked_for_and_policies_let_only_narrow_classes_go_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let (_, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "api_key": BOT_TOKEN }))).await;
    let slack = conn["id"].as_str().expect("connection id").to_string();
    gw.control(Method::PUT, &format!("/connections/{slack}/scopes"), Some(json!({ "scopes": ["channels:read", "channels:history", "chat:write"] }))).await;
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "digest-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let post = |text: &str| json!({ "input": { "channel": CUSTOMER_FEEDBACK, "text": text } });

    // A new agent holds nothing, but it sees the two tools everyone has.
    let (_, tools) = gw.agent(&token, Method::GET, "/tools", None).await;
    let names: Vec<&str> = tools.as_array().expect("tools").iter().filter_map(|t| t["tool"].as_str()).collect();
    assert_eq!(names, ["request_access", "approval_status"], "a new agent holds nothing but may ask: {tools}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post("Weekly digest"))).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("grants set digest-bot"), "the denial names the grant that would allow it: {body}");

    // It asks; nothing changes until a person decides.
    let ask = json!({ "input": { "connection": slack, "tier": "write", "actions": ["slack_post_message"], "reason": "Post the weekly feedback digest to #customer-feedback." } });
    let (status, req) = gw.agent(&token, Method::POST, "/tools/request_access", Some(ask.clone())).await;
    assert_eq!(status, 200, "{req}");
    let req_id = req["result"]["id"].as_str().expect("request id").to_string();
    let (_, again) = gw.agent(&token, Method::POST, "/tools/request_access", Some(ask)).await;
    assert_eq!(again["result"]["id"], req_id.as_str(), "asking twice makes one request: {again}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post("Weekly digest"))).await;
    assert_eq!(status, 403, "a request alone must grant nothing: {body}");
    let (status, bad) = gw
        .agent(&token, Method::POST, "/tools/request_access", Some(json!({ "input": { "connection": slack, "tier": "admin", "reason": "x" } })))
        .await;
    assert_eq!((status, code(&bad)), (400, "bad_request"), "{bad}");
    let (_, pending) = gw.control(Method::GET, "/requests?status=pending", None).await;
    assert_eq!(pending.as_array().map(Vec::len), Some(1), "{pending}");
    assert_eq!(pending[0]["reason"], "Post the weekly feedback digest to #customer-feedback.", "the person reads the agent's reason: {pending}");
    let (status, granted) = gw.control(Method::POST, &format!("/requests/{req_id}/grant"), None).await;
    assert_eq!((status, granted["status"].as_str()), (200, Some("granted")), "{granted}");
    let (status, body) = gw.control(Method::POST, &format!("/requests/{req_id}/dismiss"), None).await;
    assert_eq!((status, code(&body)), (409, "conflict"), "a decided request cannot be decided again: {body}");
    let (_, grants) = gw.control(Method::GET, "/grants?agent=digest-bot", None).await;
    assert_eq!(grants[0]["actions"], json!(["slack_post_message"]), "the grant is exactly what was asked: {grants}");

    // Granted, the post waits for approval: outbound goes to a person by default.
    let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post("Weekly digest 1"))).await;
    assert_eq!((status, body["state"].as_str()), (202, Some("pending_approval")), "{body}");

    // A policy: this agent may post to #customer-feedback alone, at most 2 an hour.
    let policy = format!(
        "id = \"digest\"\nname = \"Weekly digest\"\nagent = \"digest-bot\"\nactions = [\"slack_post_message\"]\n\n[conditions]\nchannels = [\"{CUSTOMER_FEEDBACK}\"]\n\n[caps]\nper_hour = 2\nper_day = 10\n"
    );
    let (status, body) = gw.control(Method::POST, "/policies", Some(json!({ "format": "toml", "text": "id = \"x\"\nagent = \"digest-bot\"\nactions = [\"slack_post_message\"]\nsurprise = 1\n" }))).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "an unknown field in a policy file must be refused: {body}");
    let (status, body) = gw.control(Method::POST, "/policies", Some(json!({ "format": "toml", "text": policy.replace("slack_post_message", "stripe_refund") }))).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "a policy may not let a refund go alone: {body}");
    let (status, added) = gw.control(Method::POST, "/policies", Some(json!({ "format": "toml", "text": policy }))).await;
    assert_eq!(status, 200, "{added}");

    for n in 2..=3 {
        let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post(&format!("Weekly digest {n}")))).await;
        assert_eq!((status, body["state"].as_str()), (200, Some("done")), "the policy lets this post go alone: {body}");
        assert_eq!(body["result"]["ok"], true, "{body}");
    }
    let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post("Weekly digest 4"))).await;
    assert_eq!(status, 202, "past the hourly cap the post waits for a person again: {body}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(json!({ "input": { "channel": GENERAL, "text": "off-list" } }))).await;
    assert_eq!(status, 202, "a channel outside the allowlist waits for a person: {body}");
    let (_, listed) = gw.control(Method::GET, "/policies", None).await;
    assert_eq!(listed[0]["usage"]["last_hour"], 2, "the policy's use is counted: {listed}");

    // The checklist shows chat:write used, channels:read held but unused, and the write grant used.
    let (status, list) = gw.control(Method::GET, &format!("/connections/{slack}/scopes"), None).await;
    assert_eq!(status, 200, "{list}");
    let scope = |name: &str| list["scopes"].as_array().expect("scopes").iter().find(|s| s["scope"] == name).cloned().unwrap_or_default();
    assert_eq!((scope("chat:write")["granted"].as_bool(), scope("chat:write")["used_last_30_days"].as_bool()), (Some(true), Some(true)), "{list}");
    assert!(scope("chat:write")["actions"].as_array().is_some_and(|a| a.iter().any(|t| t == "slack_post_message")), "the checklist names the actions a scope serves: {list}");
    assert_eq!(scope("channels:read")["unused"], true, "a scope held but not used in 30 days is flagged: {list}");
    assert_eq!(scope("im:write")["granted"], false, "{list}");
    let write = list["grants"].as_array().expect("grants").iter().find(|g| g["agent"] == "digest-bot" && g["tier"] == "write").cloned().unwrap_or_default();
    assert_eq!(write["used_last_30_days"], true, "the write grant was used: {list}");

    // The audit says which rule let each post go.
    let (_, page) = gw.control(Method::GET, "/audit?text=policy%3Adigest&limit=20", None).await;
    let allowed = page["rows"].as_array().expect("rows").iter().filter(|r| r["decision"] == "allow" && r["summary"]["rule"] == "policy:digest").count();
    assert_eq!(allowed, 2, "each auto-sent post names its policy in the audit: {page}");

    // Removing the policy puts every post back in front of a person.
    let (status, _) = gw.control(Method::DELETE, "/policies/digest", None).await;
    assert_eq!(status, 200);
    let (status, _) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post("Weekly digest 5"))).await;
    assert_eq!(status, 202, "without the policy the post waits again");

    // A refund never goes alone, whatever grants say.
    let (_, stripe) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "stripe-sandbox", "api_key": SECRET_KEY }))).await;
    let stripe = stripe["id"].as_str().expect("stripe id").to_string();
    let (status, c) = gw.control(Method::PUT, &format!("/connections/{stripe}/scopes"), Some(json!({ "scopes": ["charge_write"] }))).await;
    assert_eq!(status, 200, "{c}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "digest-bot", "connection": stripe, "tier": "write" }))).await;
    let (status, body) = gw.agent(&token, Method::POST, "/tools/stripe_refund", Some(json!({ "input": { "charge_id": REFUNDABLE_CHARGE, "amount": 100 } }))).await;
    assert_eq!(status, 202, "a refund must wait for a person: {body}");
    let (_, shown) = gw.control(Method::GET, &format!("/approvals/{}", body["approval_id"].as_str().unwrap_or_default()), None).await;
    assert_eq!((shown["rule"].as_str(), shown["preview"]["kind"].as_str()), (Some("default:destructive-queues"), Some("refund")), "{shown}");
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "{verify}");
    gw.stop().await;
}
