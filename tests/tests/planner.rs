//! Journey: the rollout planner over the control API reads the real state. Collections starts
//! with nothing ticked; connecting the simulated Stripe with the scopes it needs ticks
//! "connected" and "scopes held"; a read grant alone is not enough, read and write are; the
//! agent's first successful `stripe_list_invoices` ticks "tried"; revoking the agent unticks
//! the grant. Support triage says its support desk cannot be connected yet, and an unknown
//! workflow is a clear `not_found`.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::stripe::BILLING_KEY;
use switchboard_tests::Gateway;

/// The Stripe integration of the Collections plan, as the gateway reports it now.
async fn stripe_step(gw: &Gateway) -> Value {
    let (status, plan) = gw.control(Method::GET, "/planner/collections", None).await;
    assert_eq!(status, 200, "reading the Collections plan failed: {plan}");
    plan["integrations"]
        .as_array()
        .expect("integrations")
        .iter()
        .find(|i| i["provider"] == "stripe")
        .cloned()
        .expect("Collections needs Stripe")
}

fn ticks(i: &Value) -> [bool; 4] {
    ["connected", "scopes_held", "granted", "tried"].map(|k| {
        i[k].as_bool()
            .unwrap_or_else(|| panic!("the plan has no {k}: {i}"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planner_ticks_each_step_from_the_real_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;

    let (status, all) = gw.control(Method::GET, "/planner", None).await;
    assert_eq!(status, 200, "{all}");
    let ids: Vec<&str> = all["workflows"]
        .as_array()
        .expect("workflows")
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "lead-follow-up",
            "inbox-triage",
            "support-triage",
            "collections",
            "feedback-routing"
        ],
        "the planner offers the five workflows"
    );

    let (_, support) = gw
        .control(Method::GET, "/planner/support-triage", None)
        .await;
    assert_eq!(
        support["can_connect"], false,
        "support triage needs a support desk that cannot be connected yet: {support}"
    );
    assert_eq!(support["integrations"][0]["can_connect"], false);

    let (status, body) = gw.control(Method::GET, "/planner/payroll", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "an unknown workflow: {body}"
    );

    let stripe = stripe_step(&gw).await;
    assert_eq!(
        ticks(&stripe),
        [false; 4],
        "nothing is done on a fresh data dir: {stripe}"
    );
    assert_eq!(
        stripe["connect_ids"],
        json!(["stripe", "stripe-sandbox"]),
        "with --sandbox the simulated Stripe can be connected too"
    );

    let scopes = ["invoice_read", "customer_read", "invoice_write"];
    let (status, conn) = gw
        .control(Method::POST, "/connections", Some(json!({ "provider": "stripe-sandbox", "label": "Billing", "api_key": BILLING_KEY, "scopes": scopes })))
        .await;
    assert_eq!(
        status, 200,
        "connecting the simulated Stripe failed: {conn}"
    );
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let stripe = stripe_step(&gw).await;
    assert_eq!(
        ticks(&stripe),
        [true, true, false, false],
        "connected with every scope, nothing granted yet: {stripe}"
    );
    assert_eq!(stripe["connection"], conn_id.as_str());

    let (_, agent) = gw
        .control(
            Method::POST,
            "/agents",
            Some(json!({ "name": "collections-bot" })),
        )
        .await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    gw.control(
        Method::POST,
        "/grants",
        Some(json!({ "agent": "collections-bot", "connection": conn_id, "tier": "read" })),
    )
    .await;
    assert!(
        !stripe_step(&gw).await["granted"]
            .as_bool()
            .expect("granted"),
        "read alone does not cover send_invoice"
    );
    gw.control(
        Method::POST,
        "/grants",
        Some(json!({ "agent": "collections-bot", "connection": conn_id, "tier": "write" })),
    )
    .await;
    let stripe = stripe_step(&gw).await;
    assert_eq!(ticks(&stripe), [true, true, true, false], "{stripe}");
    assert_eq!(stripe["agents"], json!(["collections-bot"]));

    let (status, body) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/stripe_list_invoices",
            Some(json!({ "connection": conn_id, "input": {} })),
        )
        .await;
    assert_eq!(status, 200, "the agent's first call failed: {body}");
    let stripe = stripe_step(&gw).await;
    assert_eq!(
        ticks(&stripe),
        [true, true, true, true],
        "the agent's successful call ticks tried: {stripe}"
    );

    let (status, _) = gw
        .control(Method::DELETE, "/agents/collections-bot", None)
        .await;
    assert_eq!(status, 200);
    let stripe = stripe_step(&gw).await;
    assert_eq!(
        ticks(&stripe),
        [true, true, false, true],
        "a revoked agent's grants no longer count: {stripe}"
    );
    gw.stop().await;
}
