//! The Stripe sandbox over real HTTP on loopback: list shapes and cursors, the email filter,
//! several subscriptions per customer, Stripe's error bodies for unknown, missing and
//! wrongly typed parameters, the restricted-key 403, idempotent replay and conflict, the
//! test-mode 429 under a burst, the invoice lifecycle and refund limits, the event log with its
//! filters and paging, and webhook endpoints receiving events signed as Stripe signs them.

mod common;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use switchboard_sandbox::stripe::{
    BILLING_KEY, CUSTOMERS_ONLY_KEY, MULTI_SUB_CUSTOMER, OVERDUE_CUSTOMER, OVERDUE_EMAIL, OVERDUE_INVOICE, READ_ONLY_KEY,
    REFUNDABLE_CHARGE, SECRET_KEY, SEEDED_CUSTOMERS, StripeConfig, StripeSandbox,
};
use switchboard_sandbox::{SandboxHandle, SandboxServer};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().expect("client")
}

async fn start() -> SandboxHandle {
    // A roomy limit so only the burst test meets Stripe's 25 per second.
    SandboxServer::start(StripeSandbox::new(StripeConfig::default().with_rate_limit(10_000, Duration::from_secs(1)))).await.expect("start")
}

async fn get(h: &SandboxHandle, key: &str, path: &str) -> (StatusCode, Value) {
    let r = client().get(format!("{}/v1{path}", h.url())).bearer_auth(key).send().await.expect("send");
    let s = r.status();
    (s, r.json().await.expect("json"))
}

async fn post(h: &SandboxHandle, key: &str, path: &str, form: &[(&str, &str)], idem: Option<&str>) -> (StatusCode, Value, Option<String>) {
    let mut req = client().post(format!("{}/v1{path}", h.url())).bearer_auth(key).form(form);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    let r = req.send().await.expect("send");
    let s = r.status();
    let replayed = r.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()).map(str::to_string);
    (s, r.json().await.expect("json"), replayed)
}

fn ids(list: &Value) -> Vec<String> {
    list["data"].as_array().expect("data").iter().filter_map(|v| v["id"].as_str().map(str::to_string)).collect()
}

#[tokio::test]
async fn lists_page_with_cursors_and_filter_by_email() {
    let h = start().await;
    let (s, first) = get(&h, SECRET_KEY, "/customers?limit=4").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((first["object"].as_str(), first["url"].as_str(), first["has_more"].as_bool()), (Some("list"), Some("/v1/customers"), Some(true)));
    let mut all = ids(&first);
    let mut last = all.last().cloned().expect("a first page");
    loop {
        let (_, page) = get(&h, SECRET_KEY, &format!("/customers?limit=4&starting_after={last}")).await;
        all.extend(ids(&page));
        last = all.last().cloned().expect("id");
        if page["has_more"] == false {
            break;
        }
    }
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((all.len(), unique.len()), (SEEDED_CUSTOMERS, SEEDED_CUSTOMERS), "cursor paging must visit every customer once");
    let (_, back) = get(&h, SECRET_KEY, &format!("/customers?limit=2&ending_before={}", all[4])).await;
    assert_eq!(ids(&back), all[2..4].to_vec(), "ending_before returns the page just before the cursor");

    let (_, found) = get(&h, READ_ONLY_KEY, &format!("/customers?email={OVERDUE_EMAIL}")).await;
    assert_eq!(ids(&found), vec![OVERDUE_CUSTOMER.to_string()]);
    let (_, invoices) = get(&h, READ_ONLY_KEY, &format!("/invoices?customer={OVERDUE_CUSTOMER}&status=open")).await;
    assert_eq!(ids(&invoices), vec![OVERDUE_INVOICE.to_string()]);
    assert!(invoices["data"][0]["due_date"].as_i64().expect("due date") < time_now(), "the open invoice is past its due date");

    // Stripe hides canceled subscriptions unless status=all is asked for.
    let (_, default) = get(&h, READ_ONLY_KEY, &format!("/subscriptions?customer={MULTI_SUB_CUSTOMER}")).await;
    let (_, every) = get(&h, READ_ONLY_KEY, &format!("/subscriptions?customer={MULTI_SUB_CUSTOMER}&status=all")).await;
    let statuses = |l: &Value| -> Vec<String> { l["data"].as_array().expect("data").iter().filter_map(|s| s["status"].as_str().map(str::to_string)).collect() };
    assert_eq!(statuses(&default).len(), 2);
    let mut all_statuses = statuses(&every);
    all_statuses.sort();
    assert_eq!(all_statuses, vec!["active", "canceled", "past_due"]);
    assert!(every["data"][0]["current_period_end"].is_i64() && every["data"][0]["items"]["data"][0]["price"]["unit_amount"].is_i64() && every["data"][0]["latest_invoice"].is_string());
    let (_, failed) = get(&h, READ_ONLY_KEY, &format!("/charges?customer={MULTI_SUB_CUSTOMER}")).await;
    assert_eq!(failed["data"].as_array().expect("charges").iter().filter(|c| c["status"] == "failed").count(), 2, "recent payment failures are visible");
    let (s, pis) = get(&h, READ_ONLY_KEY, "/payment_intents?limit=100").await;
    assert_eq!((s, pis["data"].as_array().map(Vec::len)), (StatusCode::OK, Some(5)));
}

fn time_now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()).expect("secs")
}

#[tokio::test]
async fn bad_requests_get_stripes_error_bodies() {
    let h = start().await;
    let (s, e) = get(&h, SECRET_KEY, "/customers?colour=blue").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!((e["error"]["type"].as_str(), e["error"]["code"].as_str(), e["error"]["param"].as_str()), (Some("invalid_request_error"), Some("parameter_unknown"), Some("colour")));
    assert_eq!(e["error"]["message"], "Received unknown parameter: colour");
    let (s, e) = get(&h, SECRET_KEY, "/customers?limit=abc").await;
    assert_eq!((s, e["error"]["code"].as_str(), e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("parameter_invalid_integer"), Some("limit")));
    let (s, e) = get(&h, SECRET_KEY, "/customers?limit=101").await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")));
    let (s, e, _) = post(&h, SECRET_KEY, "/invoices", &[("collection_method", "send_invoice")], None).await;
    assert_eq!((s, e["error"]["code"].as_str(), e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("parameter_missing"), Some("customer")));
    let (s, e, _) = post(&h, SECRET_KEY, "/invoiceitems", &[("customer", OVERDUE_CUSTOMER), ("amount", "ten"), ("currency", "usd")], None).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("parameter_invalid_integer")));
    let (s, e) = get(&h, SECRET_KEY, "/customers/cus_nope").await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("resource_missing")));
    let (s, e) = get(&h, SECRET_KEY, "/widgets").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(e["error"]["message"].as_str().expect("message").starts_with("Unrecognized request URL"));
    // Bracket syntax reaches metadata.
    let (s, inv, _) = post(&h, SECRET_KEY, "/invoices", &[("customer", OVERDUE_CUSTOMER), ("collection_method", "send_invoice"), ("days_until_due", "14"), ("metadata[order]", "A-1")], None).await;
    assert_eq!((s, inv["metadata"]["order"].as_str(), inv["status"].as_str()), (StatusCode::OK, Some("A-1"), Some("draft")));
}

#[tokio::test]
async fn keys_are_checked_and_restricted_keys_limited() {
    let h = start().await;
    let r = client().get(format!("{}/v1/customers", h.url())).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (s, e) = get(&h, "sk_test_wrong0000000000000000000", "/customers").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let msg = e["error"]["message"].as_str().expect("message");
    assert!(msg.starts_with("Invalid API Key provided: sk_test_") && !msg.contains("wrong"), "the key is masked: {msg}");
    let (s, _) = get(&h, CUSTOMERS_ONLY_KEY, "/customers?limit=1").await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = get(&h, CUSTOMERS_ONLY_KEY, "/invoices").await;
    assert_eq!((s, e["error"]["type"].as_str()), (StatusCode::FORBIDDEN, Some("invalid_request_error")));
    assert!(e["error"]["message"].as_str().expect("message").contains("Having the 'rak_invoice_read' permission would allow this request to continue."), "{e}");
    let (s, e, _) = post(&h, READ_ONLY_KEY, "/refunds", &[("charge", REFUNDABLE_CHARGE)], Some("k-ro")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a read-only key cannot refund: {e}");
    let (_, ch) = get(&h, SECRET_KEY, &format!("/charges/{REFUNDABLE_CHARGE}")).await;
    assert_eq!(ch["amount_refunded"], 0, "nothing was refunded");
}

#[tokio::test]
async fn idempotency_keys_replay_and_conflict() {
    let h = start().await;
    let form = [("charge", REFUNDABLE_CHARGE), ("amount", "1000")];
    let (s, first, replayed) = post(&h, BILLING_KEY, "/refunds", &form, Some("refund-1")).await;
    assert_eq!((s, replayed), (StatusCode::OK, None));
    assert!(first["id"].as_str().expect("id").starts_with("re_"));
    let (s, again, replayed) = post(&h, BILLING_KEY, "/refunds", &form, Some("refund-1")).await;
    assert_eq!((s, replayed.as_deref()), (StatusCode::OK, Some("true")));
    assert_eq!(again, first, "the same key and parameters replay the first answer");
    let (_, ch) = get(&h, BILLING_KEY, &format!("/charges/{REFUNDABLE_CHARGE}")).await;
    assert_eq!(ch["amount_refunded"], 1000, "a replay refunds nothing more");
    let (s, e, _) = post(&h, BILLING_KEY, "/refunds", &[("charge", REFUNDABLE_CHARGE), ("amount", "2000")], Some("refund-1")).await;
    assert_eq!((s, e["error"]["type"].as_str()), (StatusCode::BAD_REQUEST, Some("idempotency_error")));
    // A validation failure is not saved: the key can be used again with good parameters.
    let (s, _, _) = post(&h, BILLING_KEY, "/refunds", &[("charge", REFUNDABLE_CHARGE), ("amount", "x")], Some("refund-2")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, replayed) = post(&h, BILLING_KEY, "/refunds", &[("charge", REFUNDABLE_CHARGE), ("amount", "500")], Some("refund-2")).await;
    assert_eq!((s, replayed), (StatusCode::OK, None));
}

#[tokio::test]
async fn a_lost_answer_is_recovered_by_retrying_with_the_same_key() {
    let config = StripeConfig { lose_first_answer_on: vec!["/v1/refunds".into()], ..StripeConfig::default() };
    let h = SandboxServer::start(StripeSandbox::new(config)).await.expect("start");
    let form = [("charge", REFUNDABLE_CHARGE), ("amount", "700")];
    let (s, e, _) = post(&h, SECRET_KEY, "/refunds", &form, Some("lost-1")).await;
    assert_eq!((s, e["error"]["type"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("api_error")));
    let (s, r, replayed) = post(&h, SECRET_KEY, "/refunds", &form, Some("lost-1")).await;
    assert_eq!((s, replayed.as_deref(), r["amount"].as_i64()), (StatusCode::OK, Some("true"), Some(700)));
    let (_, ch) = get(&h, SECRET_KEY, &format!("/charges/{REFUNDABLE_CHARGE}")).await;
    assert_eq!(ch["amount_refunded"], 700, "the write was applied once");
}

#[tokio::test]
async fn refunds_never_exceed_what_is_refundable() {
    let h = start().await;
    let (s, e, _) = post(&h, SECRET_KEY, "/refunds", &[("charge", REFUNDABLE_CHARGE), ("amount", "5001")], None).await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("amount")));
    assert!(e["error"]["message"].as_str().expect("message").contains("greater than unrefunded amount"));
    let (s, r, _) = post(&h, SECRET_KEY, "/refunds", &[("payment_intent", "pi_SbxAlanRefundable"), ("amount", "3000")], None).await;
    assert_eq!((s, r["charge"].as_str()), (StatusCode::OK, Some(REFUNDABLE_CHARGE)), "a payment intent refunds its charge");
    let (s, r, _) = post(&h, SECRET_KEY, "/refunds", &[("charge", REFUNDABLE_CHARGE)], None).await;
    assert_eq!((s, r["amount"].as_i64()), (StatusCode::OK, Some(2000)), "no amount refunds what is left");
    let (s, e, _) = post(&h, SECRET_KEY, "/refunds", &[("charge", REFUNDABLE_CHARGE)], None).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("charge_already_refunded")));
    let (_, ch) = get(&h, SECRET_KEY, &format!("/charges/{REFUNDABLE_CHARGE}")).await;
    assert_eq!((ch["refunded"].as_bool(), ch["amount_refunded"].as_i64()), (Some(true), Some(5000)));
    let (s, _, _) = post(&h, SECRET_KEY, "/refunds", &[("charge", "ch_SbxAdaSeatsFail1")], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a failed charge cannot be refunded");
}

#[tokio::test]
async fn an_invoice_is_created_filled_finalized_and_sent() {
    let h = start().await;
    let (s, inv, _) = post(&h, BILLING_KEY, "/invoices", &[("customer", OVERDUE_CUSTOMER), ("collection_method", "send_invoice"), ("days_until_due", "30"), ("currency", "usd")], Some("inv-1")).await;
    assert_eq!(s, StatusCode::OK, "{inv}");
    let id = inv["id"].as_str().expect("id").to_string();
    let (s, e, _) = post(&h, BILLING_KEY, &format!("/invoices/{id}/send"), &[], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a draft cannot be sent: {e}");
    let (s, item, _) = post(&h, BILLING_KEY, "/invoiceitems", &[("customer", OVERDUE_CUSTOMER), ("invoice", &id), ("amount", "15000"), ("currency", "usd"), ("description", "Extra training day")], Some("ii-1")).await;
    assert_eq!((s, item["invoice"].as_str()), (StatusCode::OK, Some(id.as_str())), "{item}");
    let (s, fin, _) = post(&h, BILLING_KEY, &format!("/invoices/{id}/finalize"), &[], Some("fin-1")).await;
    assert_eq!((s, fin["status"].as_str(), fin["amount_due"].as_i64()), (StatusCode::OK, Some("open"), Some(15000)), "{fin}");
    assert!(fin["due_date"].as_i64().expect("due") > time_now() + 29 * 86_400 && fin["number"].is_string());
    let (s, _, _) = post(&h, BILLING_KEY, &format!("/invoices/{id}/finalize"), &[], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "finalizing twice is refused");
    let (s, sent, _) = post(&h, BILLING_KEY, &format!("/invoices/{id}/send"), &[], Some("send-1")).await;
    assert_eq!((s, sent["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
    let (s, txn, _) = post(&h, BILLING_KEY, &format!("/customers/{OVERDUE_CUSTOMER}/balance_transactions"), &[("amount", "-2500"), ("currency", "usd"), ("description", "Goodwill credit")], Some("credit-1")).await;
    assert_eq!((s, txn["ending_balance"].as_i64(), txn["object"].as_str()), (StatusCode::OK, Some(-2500), Some("customer_balance_transaction")));
    let (_, events) = get(&h, SECRET_KEY, "/events?limit=100").await;
    let types: Vec<&str> = events["data"].as_array().expect("events").iter().filter_map(|e| e["type"].as_str()).collect();
    for t in ["invoice.created", "invoiceitem.created", "invoice.finalized", "invoice.sent", "customer.updated"] {
        assert!(types.contains(&t), "{t} should be in the event log: {types:?}");
    }
}

#[tokio::test]
async fn a_burst_past_the_test_mode_limit_gets_stripes_429() {
    let h = SandboxServer::start(StripeSandbox::default()).await.expect("start");
    let c = client();
    // Sent back to back over loopback: far more than 25 within one second.
    let mut answers = Vec::new();
    for _ in 0..40 {
        answers.push(c.get(format!("{}/v1/customers?limit=1", h.url())).bearer_auth(SECRET_KEY).send().await.expect("send"));
    }
    let mut limited = 0;
    for r in answers {
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers().get("stripe-rate-limited-reason").and_then(|v| v.to_str().ok()), Some("global-rate"));
            let body: Value = r.json().await.expect("json");
            assert_eq!((body["error"]["type"].as_str(), body["error"]["code"].as_str()), (Some("invalid_request_error"), Some("rate_limit")));
            limited += 1;
        }
    }
    assert_eq!(limited, 15, "25 per second are admitted, the rest refused");
    assert_eq!(h.rate_limited_count(), 15);
}

/// Creates a customer, and drafts, finalizes and pays an invoice for it: five events.
async fn invoice_events(h: &SandboxHandle) -> (String, String) {
    let (s, c, _) = post(h, SECRET_KEY, "/customers", &[("email", "ellen@orbit.example"), ("name", "Ellen Ochoa")], Some("cus-1")).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let cus = c["id"].as_str().expect("customer id").to_string();
    let (_, inv, _) = post(h, SECRET_KEY, "/invoices", &[("customer", &cus), ("collection_method", "send_invoice"), ("days_until_due", "30")], None).await;
    let inv_id = inv["id"].as_str().expect("invoice id").to_string();
    post(h, SECRET_KEY, "/invoiceitems", &[("customer", &cus), ("invoice", &inv_id), ("amount", "4200"), ("currency", "usd")], None).await;
    let (s, fin, _) = post(h, SECRET_KEY, &format!("/invoices/{inv_id}/finalize"), &[], None).await;
    assert_eq!((s, fin["status"].as_str()), (StatusCode::OK, Some("open")), "{fin}");
    let (s, paid, _) = post(h, SECRET_KEY, &format!("/invoices/{inv_id}/pay"), &[("paid_out_of_band", "true")], None).await;
    assert_eq!((s, paid["status"].as_str(), paid["amount_remaining"].as_i64()), (StatusCode::OK, Some("paid"), Some(0)), "{paid}");
    let (s, again, _) = post(h, SECRET_KEY, &format!("/invoices/{inv_id}/pay"), &[], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a paid invoice cannot be paid again: {again}");
    (cus, inv_id)
}

#[tokio::test]
async fn the_event_log_lists_newest_first_with_stripes_filters_and_cursors() {
    let h = start().await;
    invoice_events(&h).await;
    let (s, all) = get(&h, READ_ONLY_KEY, "/events?limit=100").await;
    assert_eq!(s, StatusCode::OK, "event_read is in the read-only key: {all}");
    let types: Vec<&str> = all["data"].as_array().expect("data").iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        vec!["invoice.paid", "invoice.payment_succeeded", "invoice.finalized", "invoiceitem.created", "invoice.created", "customer.created"],
        "newest first"
    );
    let (_, only) = get(&h, SECRET_KEY, "/events?types[]=invoice.paid&types[]=customer.created").await;
    assert_eq!(ids(&only).len(), 2, "types[] keeps the listed types: {only}");
    let (_, wild) = get(&h, SECRET_KEY, "/events?type=invoice.*").await;
    assert_eq!(ids(&wild).len(), 4, "a type ending in .* matches the family: {wild}");
    let (s, both) = get(&h, SECRET_KEY, "/events?type=invoice.paid&types[]=invoice.paid").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "type and types together are refused: {both}");
    let newest = all["data"][0]["created"].as_i64().expect("created");
    let (_, none) = get(&h, SECRET_KEY, &format!("/events?created[gt]={newest}")).await;
    assert!(ids(&none).is_empty(), "nothing is newer than the newest: {none}");
    let (_, some) = get(&h, SECRET_KEY, &format!("/events?created[gte]={newest}")).await;
    assert!(!ids(&some).is_empty());
    // ending_before walks toward newer events: from the oldest, two at a time, nearest first.
    let oldest = ids(&all).last().cloned().expect("oldest");
    let (_, newer) = get(&h, SECRET_KEY, &format!("/events?limit=2&ending_before={oldest}")).await;
    assert_eq!(ids(&newer), ids(&all)[3..5].to_vec(), "the two events right after the oldest: {newer}");
    assert_eq!(newer["has_more"], true, "more newer events remain");
    let (s, body) = get(&h, CUSTOMERS_ONLY_KEY, "/events").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "events need event_read: {body}");
    let one = &all["data"][0];
    let (_, got) = get(&h, SECRET_KEY, &format!("/events/{}", one["id"].as_str().expect("id"))).await;
    assert_eq!(&got, one, "an event reads back by id");
}

#[tokio::test]
async fn webhook_endpoints_receive_every_event_signed_with_their_secret() {
    let h = start().await;
    let hook = common::Subscriber::start(false).await;
    let (s, body, _) = post(&h, BILLING_KEY, "/webhook_endpoints", &[("url", &hook.url), ("enabled_events[]", "*")], None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a restricted key cannot add webhook endpoints: {body}");
    let (s, body, _) = post(&h, SECRET_KEY, "/webhook_endpoints", &[("url", "not a url"), ("enabled_events[]", "*")], None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, endpoint, _) = post(&h, SECRET_KEY, "/webhook_endpoints", &[("url", &hook.url), ("enabled_events[]", "invoice.paid"), ("enabled_events[]", "customer.created")], None).await;
    assert_eq!(s, StatusCode::OK, "{endpoint}");
    let secret = endpoint["secret"].as_str().expect("the endpoint secret is shown once").to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let (_, listed) = get(&h, SECRET_KEY, "/webhook_endpoints").await;
    assert!(listed["data"][0].get("secret").is_none(), "the secret is not listed again: {listed}");

    invoice_events(&h).await;
    let mut got = Vec::new();
    for _ in 0..100 {
        got = hook.received();
        if got.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let types: Vec<String> = got.iter().map(|r| r.json()["type"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(types, vec!["customer.created", "invoice.paid"], "only the enabled events are delivered, in order");
    for r in &got {
        let header = r.header("stripe-signature").expect("a Stripe-Signature header");
        let t = header.split(',').find_map(|p| p.strip_prefix("t=")).expect("t=");
        let v1 = header.split(',').find_map(|p| p.strip_prefix("v1=")).expect("v1=");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
        assert!(t.parse::<u64>().expect("unix seconds").abs_diff(now) < 60, "signed just now: {header}");
        assert_eq!(v1, common::hmac_hex(&secret, &[t.as_bytes(), b".", &r.body]), "HMAC-SHA256 of \"t.body\" under the endpoint secret");
    }
    let gone = client().delete(format!("{}/v1/webhook_endpoints/{}", h.url(), endpoint["id"].as_str().expect("id"))).bearer_auth(SECRET_KEY).send().await.expect("delete");
    assert_eq!(gone.status(), StatusCode::OK, "the endpoint can be deleted");
    post(&h, SECRET_KEY, "/customers", &[("email", "later@orbit.example")], None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hook.received().len(), 2, "a deleted endpoint receives nothing more");
}

#[tokio::test]
async fn clones_share_one_account_across_servers() {
    let stripe = StripeSandbox::default();
    let sim = stripe.simulator();
    let first = SandboxServer::start(stripe.clone()).await.expect("start");
    let (_, c, _) = post(&first, SECRET_KEY, "/customers", &[("email", "one@example.com")], None).await;
    first.shutdown().await;
    sim.create_customer("Two", "two@example.com");
    let second = SandboxServer::start(stripe).await.expect("restart");
    let (_, events) = get(&second, SECRET_KEY, "/events?types[]=customer.created").await;
    assert_eq!(events["data"].as_array().map(Vec::len), Some(2), "both customers' events are in the account: {events}");
    assert_eq!(events["data"][1]["data"]["object"]["id"], c["id"]);
}

fn code(e: &Value) -> (&str, &str) {
    (e["error"]["code"].as_str().unwrap_or("<no code>"), e["error"]["param"].as_str().unwrap_or("<no param>"))
}

#[tokio::test]
async fn credit_notes_follow_stripes_rules_on_open_and_paid_invoices() {
    let h = start().await;
    // The overdue invoice is open with 1,200.00 remaining.
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("amount", "500")], None).await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, ("parameter_missing", "invoice")), "{e}");
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE)], None).await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, ("parameter_missing", "amount")), "amount or lines is needed: {e}");
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("amount", "five")], None).await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, ("parameter_invalid_integer", "amount")), "{e}");
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("amount", "5"), ("colour", "red")], None).await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, ("parameter_unknown", "colour")), "{e}");
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("lines[0][amount]", "5")], None).await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, ("parameter_missing", "lines[0][type]")), "{e}");
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("amount", "120001")], None).await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("amount")), "more than remains is refused: {e}");
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("amount", "500"), ("credit_amount", "500")], None).await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("credit_amount")), "credit_amount is for paid invoices: {e}");
    let (s, e, _) = post(&h, READ_ONLY_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("amount", "500")], None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a read-only key cannot issue credit notes: {e}");

    let (s, cn, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("amount", "20000"), ("reason", "order_change"), ("memo", "Two days cancelled"), ("metadata[ticket]", "T-7")], Some("cn-1")).await;
    assert_eq!(s, StatusCode::OK, "{cn}");
    assert_eq!((cn["object"].as_str(), cn["type"].as_str(), cn["status"].as_str(), cn["total"].as_i64()), (Some("credit_note"), Some("pre_payment"), Some("issued"), Some(20000)), "{cn}");
    assert_eq!((cn["metadata"]["ticket"].as_str(), cn["memo"].as_str()), (Some("T-7"), Some("Two days cancelled")));
    let (_, inv) = get(&h, BILLING_KEY, &format!("/invoices/{OVERDUE_INVOICE}")).await;
    assert_eq!((inv["amount_remaining"].as_i64(), inv["pre_payment_credit_notes_amount"].as_i64(), inv["status"].as_str()), (Some(100_000), Some(20000), Some("open")), "{inv}");
    let (_, again, replayed) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("amount", "20000"), ("reason", "order_change"), ("memo", "Two days cancelled"), ("metadata[ticket]", "T-7")], Some("cn-1")).await;
    assert_eq!((again["id"].clone(), replayed.as_deref()), (cn["id"].clone(), Some("true")), "a retried credit note is applied once");
    // Crediting the rest pays the invoice.
    let (s, rest, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", OVERDUE_INVOICE), ("amount", "100000")], None).await;
    assert_eq!(s, StatusCode::OK, "{rest}");
    let (_, inv) = get(&h, BILLING_KEY, &format!("/invoices/{OVERDUE_INVOICE}")).await;
    assert_eq!((inv["amount_remaining"].as_i64(), inv["status"].as_str()), (Some(0), Some("paid")), "{inv}");

    // A paid invoice: the total must be split into credit, refund and outside-Stripe amounts.
    let paid = "in_SbxAdaProPaid01";
    let (_, pinv) = get(&h, BILLING_KEY, &format!("/invoices/{paid}")).await;
    let line = pinv["lines"]["data"][0]["id"].as_str().expect("a line").to_string();
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", paid), ("amount", "900")], None).await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("credit_amount")), "the split must equal the total: {e}");
    let form = [("invoice", paid), ("lines[0][type]", "invoice_line_item"), ("lines[0][invoice_line_item]", line.as_str()), ("lines[0][amount]", "900"), ("lines[1][type]", "custom_line_item"), ("lines[1][description]", "Goodwill"), ("lines[1][unit_amount]", "100"), ("lines[1][quantity]", "1"), ("credit_amount", "600"), ("refund_amount", "400")];
    let (s, cn, _) = post(&h, BILLING_KEY, "/credit_notes", &form, None).await;
    assert_eq!((s, cn["type"].as_str(), cn["total"].as_i64(), cn["lines"]["data"].as_array().map(Vec::len)), (StatusCode::OK, Some("post_payment"), Some(1000), Some(2)), "{cn}");
    assert!(cn["refund"].as_str().is_some_and(|r| r.starts_with("re_")) && cn["customer_balance_transaction"].as_str().is_some_and(|t| t.starts_with("cbtxn_")), "{cn}");
    let (_, cus) = get(&h, BILLING_KEY, &format!("/customers/{MULTI_SUB_CUSTOMER}")).await;
    assert_eq!(cus["balance"].as_i64(), Some(-600), "the credit went to the customer's balance: {cus}");
    let (_, charge) = get(&h, BILLING_KEY, "/charges/ch_SbxAdaProPaid01").await;
    assert_eq!(charge["amount_refunded"].as_i64(), Some(400), "the refund went back to the card: {charge}");
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", paid), ("amount", "3901"), ("out_of_band_amount", "3901")], None).await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("amount")), "no more than was paid and not yet credited: {e}");

    // A draft cannot be credited.
    let (_, draft, _) = post(&h, BILLING_KEY, "/invoices", &[("customer", OVERDUE_CUSTOMER), ("collection_method", "send_invoice"), ("days_until_due", "30")], None).await;
    let (s, e, _) = post(&h, BILLING_KEY, "/credit_notes", &[("invoice", draft["id"].as_str().expect("draft")), ("amount", "1")], None).await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("invoice")), "{e}");

    let (s, list) = get(&h, BILLING_KEY, &format!("/credit_notes?customer={OVERDUE_CUSTOMER}")).await;
    assert_eq!((s, list["data"].as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "{list}");
    let (_, list) = get(&h, BILLING_KEY, &format!("/credit_notes?invoice={paid}")).await;
    assert_eq!(ids(&list), vec![cn["id"].as_str().expect("id").to_string()]);
}

#[tokio::test]
async fn expand_puts_the_objects_inline() {
    let h = start().await;
    let (s, subs) = get(&h, READ_ONLY_KEY, &format!("/subscriptions?customer={MULTI_SUB_CUSTOMER}&status=past_due&expand[]=data.latest_invoice.payment_intent")).await;
    assert_eq!(s, StatusCode::OK, "{subs}");
    let pi = &subs["data"][0]["latest_invoice"]["payment_intent"];
    assert_eq!((pi["object"].as_str(), pi["last_payment_error"]["code"].as_str()), (Some("payment_intent"), Some("card_declined")), "the failed payment shows inline: {subs}");
    let (_, inv) = get(&h, READ_ONLY_KEY, &format!("/invoices/{OVERDUE_INVOICE}?expand[]=customer")).await;
    assert_eq!(inv["customer"]["email"].as_str(), Some(OVERDUE_EMAIL), "{inv}");
    let (s, e) = get(&h, READ_ONLY_KEY, &format!("/invoices/{OVERDUE_INVOICE}?expand[]=description")).await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("expand")), "a field without an id cannot be expanded: {e}");
}
