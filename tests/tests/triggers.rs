//! Journey: an agent acts on a webhook. Stripe's simulated account delivers a signed
//! `customer.created`; the agent, which may read the Stripe connection, posts to Slack naming that
//! event as `trigger_event_id`; the call's audit rows carry `event:<id>` as their trigger and its
//! causal chain (by call id or by draft id) starts with the `webhook.received` row. An unknown
//! event, or one from a connection the agent may not read, is refused as `bad_request` and
//! audited; nothing is drafted. Real keychain, real SQLite, real HTTP over loopback.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::SimulatedProvider;
use switchboard_sandbox::slack::{BOT_TOKEN, CUSTOMER_FEEDBACK, SlackSandbox};
use switchboard_sandbox::stripe::{BILLING_KEY, StripeSandbox, WEBHOOK_SECRET};
use switchboard_tests::Gateway;

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

async fn connect(gw: &Gateway, provider: &str, key: &str, scopes: &[&str]) -> String {
    let (status, conn) = gw
        .control(
            Method::POST,
            "/connections",
            Some(json!({ "provider": provider, "api_key": key, "scopes": scopes })),
        )
        .await;
    assert_eq!(status, 200, "connecting {provider} should work: {conn}");
    conn["id"].as_str().expect("connection id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_call_names_the_webhook_that_triggered_it_and_its_chain_starts_there() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stripe_sb = StripeSandbox::default();
    let stripe = stripe_sb.simulator();
    let gw = Gateway::start_with(&dir.path().join("data"), |o| {
        o.sandbox = true;
        let sims: Vec<Box<dyn SimulatedProvider>> = vec![
            Box::new(stripe_sb.clone()),
            Box::new(SlackSandbox::default()),
        ];
        o.sandbox_providers = Some(sims);
    })
    .await;
    let stripe_conn = connect(
        &gw,
        "stripe-sandbox",
        BILLING_KEY,
        &["customer_read", "event_read"],
    )
    .await;
    let slack_conn = connect(
        &gw,
        "slack-sandbox",
        BOT_TOKEN,
        &["channels:read", "channels:history", "chat:write"],
    )
    .await;
    let (status, body) = gw
        .control(
            Method::PUT,
            &format!("/connections/{stripe_conn}/webhook-secret"),
            Some(json!({ "secret": WEBHOOK_SECRET })),
        )
        .await;
    assert_eq!(
        status, 200,
        "setting the webhook secret should work: {body}"
    );
    stripe.subscribe(&format!("{}/hooks/{stripe_conn}", gw.url));
    stripe.create_customer("Ada Lovelace", "ada@analytical.example");
    assert!(
        stripe.outbox().settle(Duration::from_secs(10)).await,
        "Stripe's delivery should finish"
    );
    let (_, page) = gw
        .control(
            Method::GET,
            &format!("/connections/{stripe_conn}/events?limit=50"),
            None,
        )
        .await;
    let event_id = page["events"]
        .as_array()
        .and_then(|e| e.first())
        .and_then(|e| e["id"].as_str())
        .expect("the delivered event is stored")
        .to_string();

    let (_, agent) = gw
        .control(
            Method::POST,
            "/agents",
            Some(json!({ "name": "welcome-bot" })),
        )
        .await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    for tier in ["read", "write"] {
        let (status, g) = gw
            .control(
                Method::POST,
                "/grants",
                Some(json!({ "agent": "welcome-bot", "connection": slack_conn, "tier": tier })),
            )
            .await;
        assert_eq!(status, 200, "{g}");
    }
    let post = |trigger: &str| json!({ "connection": slack_conn, "input": { "channel": CUSTOMER_FEEDBACK, "text": "Welcome Ada!" }, "trigger_event_id": trigger });

    // Without a read grant on Stripe the event is not the agent's to name.
    let (status, body) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/slack_post_message",
            Some(post(&event_id)),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "bad_request"),
        "an event of a connection the agent may not read must be refused: {body}"
    );
    let (status, body) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/slack_post_message",
            Some(post("evt_made_up")),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "bad_request"),
        "an event that was never stored must be refused: {body}"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("evt_made_up")),
        "the refusal names the event: {body}"
    );
    let (_, count) = gw.control(Method::GET, "/approvals/count", None).await;
    assert_eq!(
        count["pending"], 0,
        "a refused trigger must not leave a draft: {count}"
    );
    let (_, denied) = gw
        .control(
            Method::GET,
            "/audit?decision=deny&actor_kind=agent&limit=50",
            None,
        )
        .await;
    let refusals = denied["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["action"] == "slack.post_message" && r["outcome"] == "bad_request")
        .count();
    assert_eq!(refusals, 2, "both refusals are audited: {denied}");

    // With read on Stripe, the call names the webhook as its trigger.
    let (status, g) = gw
        .control(
            Method::POST,
            "/grants",
            Some(json!({ "agent": "welcome-bot", "connection": stripe_conn, "tier": "read" })),
        )
        .await;
    assert_eq!(status, 200, "{g}");
    let (status, queued) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/slack_post_message",
            Some(post(&event_id)),
        )
        .await;
    assert_eq!(
        status, 202,
        "the post waits for a person as usual: {queued}"
    );
    let approval = queued["approval_id"]
        .as_str()
        .expect("approval id")
        .to_string();
    let call_id = queued["call_id"].as_str().expect("call id").to_string();
    let (status, body) = gw
        .control(
            Method::POST,
            &format!("/approvals/{approval}/approve"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        gw.settled_approval(&approval).await["status"],
        "executed",
        "the approved post should go out"
    );

    let (status, chain) = gw
        .control(Method::GET, &format!("/audit/chain/{call_id}"), None)
        .await;
    assert_eq!(status, 200, "{chain}");
    let rows = chain.as_array().expect("rows");
    let first = &rows[0];
    assert_eq!(
        (
            first["action"].as_str(),
            first["correlation_id"].as_str(),
            first["connection_id"].as_str()
        ),
        (
            Some("webhook.received"),
            Some(event_id.as_str()),
            Some(stripe_conn.as_str())
        ),
        "the call's chain must start with the webhook that triggered it: {chain}"
    );
    let actions: Vec<&str> = rows
        .iter()
        .map(|r| r["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        actions,
        [
            "webhook.received",
            "slack.post_message",
            "approval.approved",
            "slack.post_message",
            "slack.post_message"
        ],
        "the whole chain, trigger first"
    );
    let decision = &rows[1];
    assert_eq!(
        decision["trigger"],
        format!("event:{event_id}"),
        "the agent's decision row carries the event as its trigger: {decision}"
    );
    let (_, by_draft) = gw
        .control(Method::GET, &format!("/audit/chain/{approval}"), None)
        .await;
    assert_eq!(by_draft, chain, "the chain is the same by draft id");
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(
        verify["intact"], true,
        "the audit chain should verify: {verify}"
    );
    gw.stop().await;
}
