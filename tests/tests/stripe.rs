//! Journey: a person connects the simulated Stripe account with a restricted key and grants an
//! agent read; the agent finds the customer with the overdue invoice and everything about their
//! billing (every subscription with its latest payment, failures included). With write granted
//! and the write permissions ticked it drafts, fills, finalizes and sends an invoice, credits a
//! balance, issues a credit note against the overdue invoice, and refunds a charge whose first
//! answer is lost on the way back: the gateway retries with the same Idempotency-Key and the
//! refund is applied once.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::stripe::{
    BILLING_KEY, MULTI_SUB_CUSTOMER, OVERDUE_CUSTOMER, OVERDUE_EMAIL, OVERDUE_INVOICE, REFUNDABLE_CHARGE, StripeConfig, StripeSandbox,
};
use switchboard_tests::Gateway;

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

fn now_s() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()).expect("secs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_billing_agent_collects_an_overdue_invoice_and_refunds_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stripe = StripeSandbox::new(StripeConfig { lose_first_answer_on: vec!["/v1/refunds".into()], ..StripeConfig::default() });
    let gw = Gateway::start_with(&dir.path().join("data"), |o| {
        o.sandbox = true;
        o.sandbox_providers = Some(vec![Box::new(stripe)]);
    })
    .await;

    // A wrong key is refused before anything is saved.
    let (status, body) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "stripe-sandbox", "api_key": "rk_test_not_a_key" }))).await;
    assert_ne!(status, 200, "a key Stripe refuses must not be saved: {body}");

    let reads = ["customer_read", "invoice_read", "subscription_read", "charge_read", "payment_intent_read", "credit_note_read"];
    let (status, conn) = gw
        .control(Method::POST, "/connections", Some(json!({ "provider": "stripe-sandbox", "label": "Billing", "api_key": BILLING_KEY, "scopes": reads })))
        .await;
    assert_eq!(status, 200, "connecting with the restricted key should work: {conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "collections-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let call = |tool: &'static str, input: Value| {
        let gw = &gw;
        let token = token.clone();
        async move { gw.agent_approved(&token, tool, json!({ "input": input })).await }
    };

    let (status, body) = call("stripe_find_customer_by_email", json!({ "email": OVERDUE_EMAIL })).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "nothing before a grant: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "collections-bot", "connection": conn_id, "tier": "read" }))).await;

    // Read: the customer by email, their open invoices, and it is past due.
    let (status, body) = call("stripe_find_customer_by_email", json!({ "email": OVERDUE_EMAIL })).await;
    assert_eq!(status, 200, "{body}");
    let customer = body["result"]["data"][0]["id"].as_str().expect("a customer").to_string();
    assert_eq!(customer, OVERDUE_CUSTOMER);
    let (status, body) = call("stripe_list_invoices", json!({ "customer_id": customer, "status": "open" })).await;
    assert_eq!(status, 200, "{body}");
    let open = body["result"]["data"].as_array().expect("invoices");
    assert_eq!(open.len(), 1, "{body}");
    assert_eq!(open[0]["id"], OVERDUE_INVOICE);
    assert!(open[0]["due_date"].as_i64().expect("due date") < now_s(), "the open invoice is overdue");
    let (status, body) = call("stripe_get_invoice", json!({ "invoice_id": OVERDUE_INVOICE })).await;
    assert_eq!((status, body["result"]["amount_remaining"].as_i64()), (200, Some(120_000)), "{body}");
    // Every invoice status Stripe has: paid, open (past due once due_date has passed), uncollectible.
    for (status_filter, expected) in [("paid", "paid"), ("uncollectible", "uncollectible"), ("open", "open")] {
        let (status, body) = call("stripe_list_invoices", json!({ "status": status_filter, "limit": 100 })).await;
        let list = body["result"]["data"].as_array().cloned().unwrap_or_default();
        assert!(status == 200 && !list.is_empty() && list.iter().all(|i| i["status"] == expected), "invoices with status {status_filter}: {body}");
    }
    // Several subscriptions: all of them, canceled included.
    let (status, body) = call("stripe_list_subscriptions", json!({ "customer_id": MULTI_SUB_CUSTOMER })).await;
    assert_eq!(status, 200, "{body}");
    let mut statuses: Vec<&str> = body["result"]["data"].as_array().expect("subs").iter().filter_map(|s| s["status"].as_str()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, vec!["active", "canceled", "past_due"]);
    let past_due = body["result"]["data"].as_array().expect("subs").iter().find(|s| s["status"] == "past_due").cloned().expect("the past-due subscription");
    assert_eq!(
        past_due["latest_invoice"]["payment_intent"]["last_payment_error"]["code"], "card_declined",
        "the recent payment failure comes with the subscription: {past_due}"
    );
    assert!(past_due["current_period_end"].is_i64() && past_due["items"]["data"][0]["price"]["nickname"].is_string(), "renewal date and plan: {past_due}");
    let (status, body) = call("stripe_list_payment_intents", json!({ "customer_id": MULTI_SUB_CUSTOMER })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call("stripe_get_customer", json!({ "customer_id": "cus_../../refunds" })).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "an id that could change the path is refused: {body}");

    // Write: a separate tier, and the key's write permissions must be ticked too.
    let draft = json!({ "customer_id": customer, "days_until_due": 14, "currency": "usd", "description": "Extra training" });
    let (status, body) = call("stripe_create_invoice", draft.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "read must not imply write: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "collections-bot", "connection": conn_id, "tier": "write" }))).await;
    let (status, body) = call("stripe_create_invoice", draft.clone()).await;
    assert_eq!((status, code(&body)), (403, "scope_not_granted"), "write permissions nobody ticked must not be used: {body}");
    let mut all: Vec<&str> = reads.to_vec();
    all.extend(["invoice_write", "customer_write", "charge_write", "credit_note_write"]);
    let (status, c) = gw.control(Method::PUT, &format!("/connections/{conn_id}/scopes"), Some(json!({ "scopes": all }))).await;
    assert_eq!(status, 200, "ticking the write permissions should work: {c}");

    let (status, body) = call("stripe_create_invoice", draft).await;
    assert_eq!((status, body["result"]["status"].as_str()), (200, Some("draft")), "{body}");
    let invoice = body["result"]["id"].as_str().expect("invoice id").to_string();
    let create_call = body["call_id"].as_str().expect("call id").to_string();
    let (status, body) = call("stripe_create_invoice_item", json!({ "customer_id": customer, "invoice_id": invoice, "description": "Training day", "amount": 15_000 })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call("stripe_finalize_invoice", json!({ "invoice_id": invoice })).await;
    assert_eq!((status, body["result"]["status"].as_str(), body["result"]["amount_due"].as_i64()), (200, Some("open"), Some(15_000)), "{body}");
    // The invoice-delivery preset lets this agent send invoices of at most $200.00 alone; the
    // amount is read from Stripe, since the send names only the invoice.
    let (_, presets) = gw.control(Method::GET, "/policies/presets?agent=collections-bot", None).await;
    let mut delivery = presets.as_array().expect("presets").iter().find(|p| p["key"] == "invoice-delivery").expect("the invoice-delivery preset")["policy"].clone();
    delivery["conditions"]["amount_at_most"] = json!({ "minor_units": 20_000, "currency": "usd" });
    let (status, added) = gw.control(Method::POST, "/policies", Some(json!({ "format": "json", "text": delivery.to_string() }))).await;
    assert_eq!(status, 200, "adding the edited preset should work: {added}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/stripe_send_invoice", Some(json!({ "input": { "invoice_id": invoice } }))).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("done")), "a $150.00 invoice goes out under the policy without waiting: {body}");
    let (_, chain) = gw.control(Method::GET, &format!("/audit/chain/{}", body["call_id"].as_str().unwrap_or_default()), None).await;
    let rows = chain.as_array().expect("rows");
    assert!(rows.iter().any(|r| r["action"] == "policy.lookup" && r["outcome"] == "ok"), "the amount lookup is audited: {chain}");
    assert!(rows.iter().any(|r| r["decision"] == "allow" && r["summary"]["rule"] == "policy:invoice-delivery.collections-bot"), "the allow names the policy: {chain}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/stripe_send_invoice", Some(json!({ "input": { "invoice_id": OVERDUE_INVOICE } }))).await;
    assert_eq!((status, body["state"].as_str()), (202, Some("pending_approval")), "an invoice over the policy's amount waits for a person: {body}");
    let (status, body) = call("stripe_send_invoice", json!({ "invoice_id": "in_doesnotexist" })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "Stripe's refusal reaches the agent: {body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("No such invoice"), "{body}");
    let (status, body) = call("stripe_credit_customer_balance", json!({ "customer_id": customer, "amount": 2_500, "currency": "usd", "description": "Sorry for the delay" })).await;
    assert_eq!((status, body["result"]["ending_balance"].as_i64()), (200, Some(-2_500)), "{body}");

    // A credit note against the overdue invoice lowers what is due; Stripe refuses more than is left.
    let note = json!({ "invoice_id": OVERDUE_INVOICE, "amount": 20_000, "reason": "order_change", "memo": "Two workshop days cancelled", "metadata": { "ticket": "T-1042" } });
    let (status, body) = call("stripe_create_credit_note", note).await;
    assert_eq!((status, body["result"]["type"].as_str(), body["result"]["total"].as_i64()), (200, Some("pre_payment"), Some(20_000)), "{body}");
    assert_eq!(body["result"]["metadata"]["ticket"], "T-1042", "{body}");
    let (status, body) = call("stripe_create_credit_note", json!({ "invoice_id": OVERDUE_INVOICE, "amount": 200_000 })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "more than the invoice has left is Stripe's refusal: {body}");
    let (_, body) = call("stripe_get_invoice", json!({ "invoice_id": OVERDUE_INVOICE })).await;
    assert_eq!(body["result"]["amount_remaining"].as_i64(), Some(100_000), "the credit note lowered the amount due: {body}");
    let (status, body) = call("stripe_list_credit_notes", json!({ "invoice_id": OVERDUE_INVOICE })).await;
    assert_eq!((status, body["result"]["data"].as_array().map(Vec::len)), (200, Some(1)), "{body}");

    // Refund: the sandbox loses the first answer after applying it; the gateway retries with
    // the same Idempotency-Key and gets the saved answer, so the customer is refunded once.
    let (status, body) = call("stripe_refund", json!({ "charge_id": REFUNDABLE_CHARGE, "amount": 1_000, "reason": "requested_by_customer" })).await;
    assert_eq!((status, body["result"]["amount"].as_i64()), (200, Some(1_000)), "the retried refund should succeed: {body}");
    let refund_call = body["call_id"].as_str().expect("call id").to_string();
    let (_, body) = call("stripe_list_charges", json!({ "customer_id": "cus_SbxAlanTuring0", "limit": 100 })).await;
    let charge = body["result"]["data"].as_array().expect("charges").iter().find(|c| c["id"] == REFUNDABLE_CHARGE).cloned().expect("the refunded charge");
    assert_eq!(charge["amount_refunded"], 1_000, "the retry must not refund twice: {charge}");
    assert_eq!(charge["refunds"]["data"].as_array().map(Vec::len), Some(1), "one refund object: {charge}");
    let (status, body) = call("stripe_refund", json!({ "charge_id": REFUNDABLE_CHARGE, "amount": 4_001 })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "more than is left is refused by Stripe: {body}");

    // The audit log has decision and outcome rows for the writes, under their call ids.
    for id in [&create_call, &refund_call] {
        let (_, page) = gw.control(Method::GET, &format!("/audit?text={id}&limit=10"), None).await;
        let rows: Vec<(&str, &str)> = page["rows"].as_array().expect("rows").iter().map(|r| (r["decision"].as_str().unwrap_or(""), r["outcome"].as_str().unwrap_or(""))).collect();
        assert!(rows.contains(&("allow", "started")) && rows.contains(&("none", "ok")), "{id}: {rows:?}");
    }
    let (_, page) = gw.control(Method::GET, "/audit?decision=deny&limit=50", None).await;
    let outcomes: Vec<&str> = page["rows"].as_array().expect("rows").iter().filter_map(|r| r["outcome"].as_str()).collect();
    for expected in ["not_granted", "scope_not_granted", "bad_request"] {
        assert!(outcomes.contains(&expected), "the refusal '{expected}' should be audited: {outcomes:?}");
    }
    // The key check, twenty-one agent calls and three invoice lookups for the delivery policy
    // (one per invoice send) reached Stripe; the refund's lost answer made one more attempt; the
    // send over the policy's amount waits for a person and was not sent.
    let (_, limits) = gw.control(Method::GET, &format!("/rate-limits/{conn_id}"), None).await;
    let sent: u64 = limits["history"].as_array().expect("history").iter().filter_map(|b| b["calls_sent"].as_u64()).sum();
    assert_eq!(sent, 26, "the refund should have been sent twice, every other call once: {limits}");
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "{verify}");
    assert_eq!(gw.app.sandbox_rate_limited("stripe-sandbox"), Some(0), "paced calls never met Stripe's 429");

    // The key never reached SQLite.
    gw.stop().await;
    for entry in std::fs::read_dir(dir.path().join("data")).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read data file");
            assert!(!bytes.windows(BILLING_KEY.len()).any(|w| w == BILLING_KEY.as_bytes()), "the Stripe key was found in {}", path.display());
        }
    }
}
