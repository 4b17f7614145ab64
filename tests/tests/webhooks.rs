//! Journeys: provider events reach agents by webhook and by pull.
//!
//! 1. The simulated Stripe, Slack and HubSpot deliver signed webhooks to a real gateway's `/hooks/{id}`
//!    over loopback: each event is verified, stored once, audited, and readable by an agent
//!    holding a read grant; Slack's `url_verification` handshake is answered. Forged, stale,
//!    replayed, body-altered, header-less, malformed and oversized deliveries change nothing but
//!    the audit log, which says why each was refused.
//! 2. Pulls: Stripe's event list, Slack channel history, Gmail's history and HubSpot's recently
//!    modified contacts are pulled from their cursors; the gateway stops, more happens at the providers, a new gateway on the same data dir
//!    resumes from the persisted cursors with no duplicate and no gap. Gmail's expired history is
//!    resynced from the profile and the audit says so; a periodic pull picks up new events by
//!    itself. The audit chain verifies throughout.
//!
//! Real keychain, real SQLite, real HTTP over 127.0.0.1.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::SimulatedProvider;
use switchboard_sandbox::gmail::{self, GmailSandbox};
use switchboard_sandbox::hubspot::{self, HubSpotSandbox, PRIVATE_APP_TOKEN};
use switchboard_sandbox::slack::{
    self, BOT_TOKEN, CUSTOMER_FEEDBACK, SIGNING_SECRET, SlackSandbox,
};
use switchboard_sandbox::stripe::{self, BILLING_KEY, StripeSandbox, WEBHOOK_SECRET};
use switchboard_tests::{Gateway, client};

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

fn now_s() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("secs")
}

async fn connect_key(gw: &Gateway, provider: &str, key: &str, scopes: &[&str]) -> String {
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

/// Connects the simulated Gmail read-only through its consent page, like a browser.
async fn connect_gmail(gw: &Gateway) -> String {
    let (status, started) = gw.control(Method::POST, "/connections/oauth", Some(json!({ "provider": "gmail-sandbox", "scopes": [gmail::READONLY], "open_browser": false }))).await;
    assert_eq!(
        status, 200,
        "starting the Gmail sign-in should work: {started}"
    );
    let authorize = started["authorize_url"]
        .as_str()
        .expect("authorize url")
        .to_string();
    let http = client();
    let html = http
        .get(&authorize)
        .send()
        .await
        .expect("consent page")
        .text()
        .await
        .expect("html");
    let request = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("consent form")
        .to_string();
    let decide = reqwest::Url::parse(&authorize)
        .expect("url")
        .join(gmail::DECISION_PATH)
        .expect("decision url");
    let resp = http
        .post(decide)
        .form(&[("request", request.as_str()), ("decision", "approve")])
        .send()
        .await
        .expect("approve");
    let back = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_eq!(
        http.get(&back)
            .send()
            .await
            .expect("callback")
            .status()
            .as_u16(),
        200,
        "the loopback callback connects"
    );
    let (_, done) = gw
        .control(
            Method::GET,
            &format!(
                "/connections/oauth/{}?wait=5",
                started["flow_id"].as_str().expect("flow")
            ),
            None,
        )
        .await;
    assert_eq!(done["status"], "connected", "{done}");
    done["connection"]["id"].as_str().expect("id").to_string()
}

/// `POST /hooks/{id}` with these headers and body: (status, JSON answer).
async fn deliver(
    gw: &Gateway,
    conn: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Value) {
    let mut req = client()
        .post(format!("{}/hooks/{conn}", gw.url))
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.expect("the gateway answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn events(gw: &Gateway, conn: &str) -> Vec<Value> {
    let (status, page) = gw
        .control(
            Method::GET,
            &format!("/connections/{conn}/events?limit=500"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().expect("events").clone()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect()
}

async fn audit(gw: &Gateway, text: &str) -> Vec<Value> {
    let (_, page) = gw
        .control(Method::GET, &format!("/audit?text={text}&limit=200"), None)
        .await;
    page["rows"].as_array().expect("rows").clone()
}

async fn verify_chain(gw: &Gateway) {
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(
        verify["intact"], true,
        "the audit chain should verify: {verify}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_are_verified_stored_once_audited_and_read_by_a_granted_agent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stripe_sb = StripeSandbox::default();
    let slack_sb = SlackSandbox::default();
    let hubspot_sb = HubSpotSandbox::default();
    let (stripe_sim, slack_sim, hubspot_sim) = (
        stripe_sb.simulator(),
        slack_sb.simulator(),
        hubspot_sb.simulator(),
    );
    let gw = Gateway::start_with(&dir.path().join("data"), |o| {
        o.sandbox = true;
        let sims: Vec<Box<dyn SimulatedProvider>> = vec![
            Box::new(stripe_sb.clone()),
            Box::new(slack_sb.clone()),
            Box::new(hubspot_sb.clone()),
        ];
        o.sandbox_providers = Some(sims);
    })
    .await;
    let stripe_conn = connect_key(
        &gw,
        "stripe-sandbox",
        BILLING_KEY,
        &["customer_read", "event_read"],
    )
    .await;
    let slack_conn = connect_key(
        &gw,
        "slack-sandbox",
        BOT_TOKEN,
        &["channels:read", "channels:history"],
    )
    .await;

    // Before its secret is set, a connection's deliveries are refused and audited.
    stripe_sim.subscribe(&format!("{}/hooks/{stripe_conn}", gw.url));
    stripe_sim.create_customer("Early Bird", "early@example.com");
    assert!(
        stripe_sim.outbox().settle(Duration::from_secs(10)).await,
        "the delivery finishes"
    );
    assert_eq!(
        stripe_sim.outbox().deliveries()[0].status,
        Some(400),
        "without a secret the gateway refuses: {:?}",
        stripe_sim.outbox().deliveries()
    );
    assert!(
        events(&gw, &stripe_conn).await.is_empty(),
        "nothing is stored without a verified signature"
    );

    let (status, setup) = gw
        .control(
            Method::PUT,
            &format!("/connections/{stripe_conn}/webhook-secret"),
            Some(json!({ "secret": WEBHOOK_SECRET })),
        )
        .await;
    assert_eq!(
        status, 200,
        "setting the webhook secret should work: {setup}"
    );
    assert_eq!(
        (setup["scheme"].as_str(), setup["url"].as_str()),
        (
            Some("stripe_v1"),
            Some(format!("{}/hooks/{stripe_conn}", gw.url).as_str())
        )
    );
    let (status, body) = gw
        .control(
            Method::PUT,
            &format!("/connections/{stripe_conn}/webhook-secret"),
            Some(json!({ "secret": " " })),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "bad_request"),
        "an empty secret is refused: {body}"
    );

    // The simulated account changes; Stripe delivers each event, signed, in the background.
    let ada = stripe_sim.create_customer("Ada Lovelace", "ada@analytical.example");
    let grace = stripe_sim.create_customer("Grace Hopper", "grace@cobol.example");
    assert!(
        stripe_sim.outbox().settle(Duration::from_secs(10)).await,
        "the deliveries finish"
    );
    let statuses: Vec<Option<u16>> = stripe_sim
        .outbox()
        .deliveries()
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(
        statuses,
        vec![Some(400), Some(200), Some(200)],
        "both signed deliveries are accepted"
    );
    let stored = events(&gw, &stripe_conn).await;
    assert_eq!(stored.len(), 2, "two events stored: {stored:?}");
    // Deliveries run in parallel, as a provider's do: stored in arrival order.
    let objects: BTreeSet<&str> = stored
        .iter()
        .filter_map(|e| e["payload"]["data"]["object"]["id"].as_str())
        .collect();
    assert_eq!(
        objects,
        [
            ada["id"].as_str().expect("id"),
            grace["id"].as_str().expect("id")
        ]
        .into(),
        "both customers' events"
    );
    assert!(
        stored.iter().all(|e| e["source"] == "webhook"
            && e["type"] == "customer.created"
            && e["connection"] == stripe_conn.as_str()),
        "{stored:?}"
    );

    // An agent needs a read grant on the connection to read its events.
    let (_, agent) = gw
        .control(
            Method::POST,
            "/agents",
            Some(json!({ "name": "billing-watch" })),
        )
        .await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let path = format!("/events?connection={stripe_conn}");
    let (status, body) = gw.agent(&token, Method::GET, &path, None).await;
    assert_eq!(
        (status, code(&body)),
        (403, "not_granted"),
        "a new agent reads nothing: {body}"
    );
    gw.control(
        Method::POST,
        "/grants",
        Some(json!({ "agent": "billing-watch", "connection": stripe_conn, "tier": "read" })),
    )
    .await;
    let (status, page) = gw.agent(&token, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        ids(page["events"].as_array().expect("events")),
        ids(&stored),
        "the agent sees the same events"
    );
    let first = stored[0]["seq"].as_i64().expect("seq");
    let (_, newer) = gw
        .agent(&token, Method::GET, &format!("{path}&after={first}"), None)
        .await;
    assert_eq!(
        ids(newer["events"].as_array().expect("events")),
        vec![ids(&stored)[1].clone()],
        "`after` reads only newer events"
    );
    let (status, body) = gw
        .agent(
            &token,
            Method::GET,
            &format!("/events?connection={slack_conn}"),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (403, "not_granted"),
        "a grant on one connection does not open another: {body}"
    );

    // Deliveries that must change nothing.
    let event = stripe_sim.events().last().cloned().expect("an event");
    let body = event.to_string().into_bytes();
    let sig = |secret: &str, t: i64, b: &[u8]| {
        vec![
            ("content-type", "application/json".to_string()),
            ("stripe-signature", stripe::sign_event(secret, t, b)),
        ]
    };
    let (status, answer) = deliver(
        &gw,
        &stripe_conn,
        &sig(WEBHOOK_SECRET, now_s(), &body),
        &body,
    )
    .await;
    assert_eq!(
        (
            status,
            answer["stored"].as_u64(),
            answer["duplicates"].as_u64()
        ),
        (200, Some(0), Some(1)),
        "a replay is answered 2xx but stored once: {answer}"
    );
    let (status, answer) = deliver(
        &gw,
        &stripe_conn,
        &sig("whsec_forged", now_s(), &body),
        &body,
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (401, "unauthorized"),
        "a forged signature is refused: {answer}"
    );
    let (status, answer) = deliver(
        &gw,
        &stripe_conn,
        &sig(WEBHOOK_SECRET, now_s() - 301, &body),
        &body,
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (401, "unauthorized"),
        "a delivery signed 301 s ago is stale: {answer}"
    );
    let mut altered: Value = event.clone();
    altered["id"] = json!("evt_SbxForgedEvent001");
    altered["type"] = json!("invoice.paid");
    let (status, answer) = deliver(
        &gw,
        &stripe_conn,
        &sig(WEBHOOK_SECRET, now_s(), &body),
        altered.to_string().as_bytes(),
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (401, "unauthorized"),
        "a body altered after signing is refused: {answer}"
    );
    let (status, answer) = deliver(
        &gw,
        &stripe_conn,
        &[("content-type", "application/json".to_string())],
        &body,
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (400, "bad_request"),
        "no signature header: {answer}"
    );
    let (status, answer) = deliver(
        &gw,
        &stripe_conn,
        &[("stripe-signature", "t=yesterday,v1=zz".to_string())],
        &body,
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (400, "bad_request"),
        "a malformed signature header: {answer}"
    );
    let huge = vec![b'x'; 2 * 1024 * 1024];
    let (status, answer) = deliver(
        &gw,
        &stripe_conn,
        &sig(WEBHOOK_SECRET, now_s(), &huge),
        &huge,
    )
    .await;
    assert_eq!(
        (status, code(&answer)),
        (413, "payload_too_large"),
        "an oversized body is refused unread: {answer}"
    );
    let (status, answer) = deliver(
        &gw,
        "stripe-sandbox-404",
        &sig(WEBHOOK_SECRET, now_s(), &body),
        &body,
    )
    .await;
    assert_eq!((status, code(&answer)), (404, "not_found"), "{answer}");
    let (status, answer) = deliver(
        &gw,
        &stripe_conn,
        &[("origin", "https://evil.example".to_string())],
        &body,
    )
    .await;
    assert_eq!(
        status, 400,
        "a webhook is judged by its signature, not its Origin: {answer}"
    );
    assert_eq!(
        events(&gw, &stripe_conn).await.len(),
        2,
        "none of that stored or changed an event"
    );

    let rejected = audit(&gw, "webhook.rejected").await;
    let reasons: BTreeSet<&str> = rejected
        .iter()
        .filter_map(|r| r["outcome"].as_str())
        .collect();
    for reason in [
        "no_webhook_secret",
        "forged",
        "stale",
        "missing_header",
        "malformed_header",
        "too_large",
        "unknown_connection",
    ] {
        assert!(
            reasons.contains(reason),
            "the refusal '{reason}' should be audited: {reasons:?}"
        );
    }
    assert!(
        rejected
            .iter()
            .all(|r| r["actor_kind"] == "webhook" && r["decision"] == "deny"),
        "refusals are the webhook actor's, denied"
    );
    let replay_id = event["id"].as_str().expect("id");
    let rows = audit(&gw, "webhook.received").await;
    let of_replayed: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r["correlation_id"] == replay_id)
        .map(|r| {
            (
                r["decision"].as_str().unwrap_or(""),
                r["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        of_replayed,
        vec![("deny", "duplicate"), ("allow", "stored")],
        "the event was stored once, its replay audited as a duplicate (newest first)"
    );
    assert!(
        rows.iter()
            .filter(|r| r["outcome"] == "stored")
            .all(|r| r["trigger"].as_str()
                == Some(&format!(
                    "event:{}",
                    r["correlation_id"].as_str().unwrap_or("")
                ))),
        "stored events are the trigger of their row"
    );

    // Slack: the request URL passes the handshake only once the gateway can verify it.
    let hook = format!("{}/hooks/{slack_conn}", gw.url);
    let e = slack_sim
        .set_request_url(&hook)
        .await
        .expect_err("without the signing secret the handshake cannot be answered");
    assert!(e.contains(slack::URL_VERIFICATION_FAILED), "{e}");
    let (status, setup) = gw
        .control(
            Method::PUT,
            &format!("/connections/{slack_conn}/webhook-secret"),
            Some(json!({ "secret": SIGNING_SECRET })),
        )
        .await;
    assert_eq!(
        (status, setup["scheme"].as_str()),
        (200, Some("slack_v0")),
        "{setup}"
    );
    slack_sim
        .set_request_url(&hook)
        .await
        .expect("the gateway answers Slack's url_verification challenge");
    let ts = slack_sim
        .post_as(
            "U05SBX0003",
            CUSTOMER_FEEDBACK,
            "Katherine's invoices show the wrong tax rate again",
        )
        .expect("a person posts");
    assert!(slack_sim.outbox().settle(Duration::from_secs(10)).await);
    let slack_events = events(&gw, &slack_conn).await;
    assert_eq!(
        ids(&slack_events),
        vec![format!("message:{CUSTOMER_FEEDBACK}:{ts}")],
        "the message is stored under its channel and ts"
    );
    assert_eq!(
        slack_events[0]["payload"]["text"],
        "Katherine's invoices show the wrong tax rate again"
    );
    assert!(
        !audit(&gw, "webhook.url_verification").await.is_empty(),
        "the handshake is audited"
    );

    // HubSpot: batches signed v3 with the app's client secret over method, URL, body and time.
    let hubspot_conn = connect_key(
        &gw,
        "hubspot-sandbox",
        PRIVATE_APP_TOKEN,
        &["crm.objects.contacts.read"],
    )
    .await;
    let (status, setup) = gw
        .control(
            Method::PUT,
            &format!("/connections/{hubspot_conn}/webhook-secret"),
            Some(json!({ "secret": hubspot::CLIENT_SECRET })),
        )
        .await;
    assert_eq!(
        (status, setup["scheme"].as_str()),
        (200, Some("hubspot_v3")),
        "{setup}"
    );
    let hook = format!("{}/hooks/{hubspot_conn}", gw.url);
    hubspot_sim.set_target_url(&hook);
    let contact =
        hubspot_sim.create_contact(&[("email", "radia@perlman.example"), ("firstname", "Radia")]);
    assert!(
        hubspot_sim.update_contact(
            &contact,
            &[("lifecyclestage", "lead"), ("jobtitle", "Engineer")]
        ),
        "the contact exists"
    );
    assert!(hubspot_sim.outbox().settle(Duration::from_secs(10)).await);
    let statuses: Vec<Option<u16>> = hubspot_sim
        .outbox()
        .deliveries()
        .iter()
        .map(|d| d.status)
        .collect();
    assert_eq!(
        statuses,
        vec![Some(200), Some(200)],
        "two signed batches accepted"
    );
    let hs_events = events(&gw, &hubspot_conn).await;
    let mut types: Vec<&str> = hs_events
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    types.sort_unstable();
    assert_eq!(
        types,
        vec![
            "contact.creation",
            "contact.propertyChange",
            "contact.propertyChange"
        ],
        "one event per HubSpot event in the batches: {hs_events:?}"
    );
    assert!(
        hs_events
            .iter()
            .all(|e| e["payload"]["objectId"].as_u64() == contact.parse().ok()),
        "{hs_events:?}"
    );
    let batch = json!([{ "eventId": 1, "subscriptionType": "contact.deletion", "occurredAt": now_s() * 1000, "objectId": 101 }]).to_string();
    let ts = (now_s() * 1000).to_string();
    let forged = [
        ("x-hubspot-request-timestamp", ts.clone()),
        (
            "x-hubspot-signature-v3",
            hubspot::sign_v3(
                "not-the-client-secret",
                "POST",
                &hook,
                batch.as_bytes(),
                now_s() * 1000,
            ),
        ),
    ];
    let (status, answer) = deliver(&gw, &hubspot_conn, &forged, batch.as_bytes()).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "unauthorized"),
        "a batch signed with another secret is refused: {answer}"
    );
    let elsewhere = [
        ("x-hubspot-request-timestamp", ts),
        (
            "x-hubspot-signature-v3",
            hubspot::sign_v3(
                hubspot::CLIENT_SECRET,
                "POST",
                &format!("{}/hooks/other", gw.url),
                batch.as_bytes(),
                now_s() * 1000,
            ),
        ),
    ];
    let (status, answer) = deliver(&gw, &hubspot_conn, &elsewhere, batch.as_bytes()).await;
    assert_eq!(
        (status, code(&answer)),
        (401, "unauthorized"),
        "a batch signed for another URL is refused: {answer}"
    );
    assert_eq!(
        events(&gw, &hubspot_conn).await.len(),
        3,
        "the refused batches stored nothing"
    );

    verify_chain(&gw).await;
    gw.stop().await;
    // No secret reached the database.
    for entry in std::fs::read_dir(dir.path().join("data")).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read");
            for secret in [
                WEBHOOK_SECRET,
                SIGNING_SECRET,
                BILLING_KEY,
                hubspot::CLIENT_SECRET,
                PRIVATE_APP_TOKEN,
            ] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "a secret was found in {}",
                    path.display()
                );
            }
        }
    }
}

async fn pull(gw: &Gateway, conn: &str) -> Value {
    let (status, report) = gw
        .control(
            Method::POST,
            &format!("/connections/{conn}/events/pull"),
            None,
        )
        .await;
    assert_eq!(status, 200, "pulling {conn} should work: {report}");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulls_resume_from_their_cursor_after_a_restart_with_no_gap_and_no_duplicate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let stripe_sb = StripeSandbox::default();
    let slack_sb = SlackSandbox::default();
    let gmail_sb = GmailSandbox::default();
    let hubspot_sb = HubSpotSandbox::default();
    let (stripe_sim, slack_sim, gmail_sim, hubspot_sim) = (
        stripe_sb.simulator(),
        slack_sb.simulator(),
        gmail_sb.simulator(),
        hubspot_sb.simulator(),
    );
    // Each gateway starts its own servers for the same simulated accounts (new ports, same state).
    let all = || -> Vec<Box<dyn SimulatedProvider>> {
        vec![
            Box::new(stripe_sb.clone()),
            Box::new(slack_sb.clone()),
            Box::new(gmail_sb.clone()),
            Box::new(hubspot_sb.clone()),
        ]
    };
    let gw = Gateway::start_with(&data, |o| {
        o.sandbox = true;
        o.sandbox_providers = Some(all());
    })
    .await;
    let stripe_conn = connect_key(
        &gw,
        "stripe-sandbox",
        BILLING_KEY,
        &["customer_read", "event_read"],
    )
    .await;
    let slack_conn = connect_key(
        &gw,
        "slack-sandbox",
        BOT_TOKEN,
        &["channels:read", "channels:history"],
    )
    .await;
    let gmail_conn = connect_gmail(&gw).await;
    let hubspot_conn = connect_key(
        &gw,
        "hubspot-sandbox",
        PRIVATE_APP_TOKEN,
        &["crm.objects.contacts.read"],
    )
    .await;

    // Gmail's first pull starts watching from the mailbox's current history id.
    let report = pull(&gw, &gmail_conn).await;
    assert_eq!(report["stored"], 0, "{report}");
    assert!(
        report["streams"][0]["note"]
            .as_str()
            .unwrap_or_default()
            .contains("watching"),
        "{report}"
    );

    // Things happen at the providers; each pull stores them once.
    stripe_sim.create_customer("Ada Lovelace", "ada@analytical.example");
    stripe_sim.create_customer("Grace Hopper", "grace@cobol.example");
    let ts1 = slack_sim
        .post_as("U05SBX0003", CUSTOMER_FEEDBACK, "first complaint")
        .expect("post");
    let ts2 = slack_sim
        .post_as("U05SBX0007", slack::GENERAL, "all hands at 4")
        .expect("post");
    gmail_sim.receive(
        "Ada Lovelace <ada.lovelace@example.com>",
        "Contract",
        "Signed.",
    );
    gmail_sim.receive(
        "Alan Turing <alan.turing@example.com>",
        "Seats",
        "Five more please.",
    );
    let radia =
        hubspot_sim.create_contact(&[("email", "radia@perlman.example"), ("firstname", "Radia")]);
    hubspot_sim.create_contact(&[("email", "hedy@lamarr.example"), ("firstname", "Hedy")]);
    let report = pull(&gw, &hubspot_conn).await;
    assert_eq!(
        report["stored"], 2,
        "the two contacts made since the connection: {report}"
    );
    // HubSpot's cursor is inclusive (a contact changed in the cursor's own millisecond is not
    // missed), so the newest contact is read again and skipped as a duplicate.
    let again = pull(&gw, &hubspot_conn).await;
    assert_eq!(again["stored"], 0, "nothing new: {again}");
    for (conn, expect) in [(&stripe_conn, 2), (&slack_conn, 2), (&gmail_conn, 2)] {
        let report = pull(&gw, conn).await;
        assert_eq!(report["stored"], expect, "{conn}: {report}");
        let again = pull(&gw, conn).await;
        assert_eq!(
            (again["stored"].as_u64(), again["duplicates"].as_u64()),
            (Some(0), Some(0)),
            "{conn}: a second pull reads from the moved cursor: {again}"
        );
    }
    let slack_ids: BTreeSet<String> = ids(&events(&gw, &slack_conn).await).into_iter().collect();
    let expected: BTreeSet<String> = [
        format!("message:{CUSTOMER_FEEDBACK}:{ts1}"),
        format!("message:{}:{ts2}", slack::GENERAL),
    ]
    .into();
    assert_eq!(
        slack_ids, expected,
        "the messages since the connection was made, from every channel the bot is in"
    );
    let rows = audit(&gw, "pull.received").await;
    assert_eq!(rows.len(), 8, "one audit row per pulled event");
    assert!(
        rows.iter().all(|r| r["trigger"]
            .as_str()
            .is_some_and(|t| t.starts_with("event:"))
            && r["actor_kind"] == "user"),
        "{rows:?}"
    );

    // The gateway stops; the providers go on.
    gw.stop().await;
    stripe_sim.create_customer("Alan Turing", "alan@bletchley.example");
    stripe_sim.create_customer("Katherine Johnson", "katherine@orbit.example");
    let ts3 = slack_sim
        .post_as("U05SBX0003", CUSTOMER_FEEDBACK, "second complaint")
        .expect("post");
    let ts4 = slack_sim
        .post_as("U05SBX0001", CUSTOMER_FEEDBACK, "escalated")
        .expect("post");
    gmail_sim.receive(
        "Grace Hopper <grace.hopper@example.com>",
        "Renewal",
        "Call me.",
    );
    gmail_sim.receive(
        "Linus Torvalds <linus.torvalds@example.com>",
        "Thanks",
        "Works now.",
    );
    assert!(
        hubspot_sim.update_contact(&radia, &[("lifecyclestage", "customer")]),
        "Radia exists"
    );
    hubspot_sim.create_contact(&[
        ("email", "barbara@liskov.example"),
        ("firstname", "Barbara"),
    ]);

    let gw = Gateway::start_with(&data, |o| {
        o.sandbox = true;
        o.sandbox_providers = Some(all());
    })
    .await;
    for conn in [&stripe_conn, &slack_conn, &gmail_conn] {
        let report = pull(&gw, conn).await;
        assert_eq!(
            (report["stored"].as_u64(), report["duplicates"].as_u64()),
            (Some(2), Some(0)),
            "{conn}: exactly what happened while it was down: {report}"
        );
    }
    let report = pull(&gw, &hubspot_conn).await;
    assert_eq!(
        report["stored"], 2,
        "Radia's change and Barbara's creation, made while the gateway was down: {report}"
    );
    let hs = events(&gw, &hubspot_conn).await;
    let kinds: Vec<&str> = hs.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "contact.creation",
            "contact.creation",
            "contact.propertyChange",
            "contact.creation"
        ],
        "{hs:?}"
    );
    assert_eq!(
        hs.iter()
            .map(|e| e["id"].as_str().unwrap_or(""))
            .collect::<BTreeSet<_>>()
            .len(),
        4,
        "no HubSpot change twice"
    );
    // No gap and no duplicate: the stored Stripe events are exactly the account's events.
    let stored = ids(&events(&gw, &stripe_conn).await);
    let at_stripe: Vec<String> = stripe_sim
        .events()
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(stored, at_stripe, "every Stripe event once, in order");
    let slack_ids = ids(&events(&gw, &slack_conn).await);
    assert_eq!(slack_ids.len(), 4, "{slack_ids:?}");
    assert_eq!(
        slack_ids[2..],
        [
            format!("message:{CUSTOMER_FEEDBACK}:{ts3}"),
            format!("message:{CUSTOMER_FEEDBACK}:{ts4}")
        ],
        "the new messages follow the old ones"
    );
    let gmail_events = events(&gw, &gmail_conn).await;
    assert_eq!(gmail_events.len(), 4, "{gmail_events:?}");
    assert_eq!(
        gmail_events
            .iter()
            .map(|e| e["id"].as_str().unwrap_or(""))
            .collect::<BTreeSet<_>>()
            .len(),
        4,
        "no Gmail event twice"
    );

    // Gmail forgets old history: a message arrives, then the history up to it expires before
    // the next pull; the pull resyncs from the profile and says so.
    gmail_sim.receive(
        "Hedy Lamarr <hedy.lamarr@example.com>",
        "Lost",
        "This one arrives during the gap.",
    );
    gmail_sim.expire_history();
    let report = pull(&gw, &gmail_conn).await;
    assert_eq!(
        (
            report["streams"][0]["resynced"].as_bool(),
            report["stored"].as_u64()
        ),
        (Some(true), Some(0)),
        "{report}"
    );
    assert!(
        report["streams"][0]["note"]
            .as_str()
            .unwrap_or_default()
            .contains("no longer keeps"),
        "the report says why: {report}"
    );
    let resync_rows: Vec<Value> = audit(&gw, "events.pull")
        .await
        .into_iter()
        .filter(|r| r["outcome"] == "resynced")
        .collect();
    assert_eq!(resync_rows.len(), 1, "the resync is in the audit log");
    assert!(
        resync_rows[0]["summary"]
            .to_string()
            .contains("no longer keeps"),
        "{}",
        resync_rows[0]
    );
    gmail_sim.receive(
        "Frances Allen <frances.allen@example.com>",
        "After",
        "Pulled again.",
    );
    assert_eq!(
        pull(&gw, &gmail_conn).await["stored"],
        1,
        "after the resync the pull goes on from the new history id"
    );

    // The periodic pull, switched on, picks up a new event by itself.
    let (status, body) = gw
        .control(
            Method::PUT,
            &format!("/connections/{stripe_conn}/events/pull-schedule"),
            Some(json!({ "enabled": true, "every_seconds": 5 })),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "bad_request"),
        "intervals under 15 s are refused: {body}"
    );
    let barbara = stripe_sim.create_customer("Barbara Liskov", "barbara@clu.example");
    let (status, schedule) = gw
        .control(
            Method::PUT,
            &format!("/connections/{stripe_conn}/events/pull-schedule"),
            Some(json!({ "enabled": true, "every_seconds": 15 })),
        )
        .await;
    assert_eq!(
        (status, schedule["every_seconds"].as_i64()),
        (200, Some(15)),
        "{schedule}"
    );
    let mut found = false;
    for _ in 0..100 {
        if events(&gw, &stripe_conn)
            .await
            .iter()
            .any(|e| e["payload"]["data"]["object"]["id"] == barbara["id"])
        {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        found,
        "the periodic pull should have stored the new customer's event"
    );
    assert!(
        audit(&gw, "pull-schedule")
            .await
            .iter()
            .any(|r| r["action"] == "events.pull" && r["actor_kind"] == "system"),
        "the scheduled pull is the system's"
    );
    let (_, schedule) = gw
        .control(
            Method::GET,
            &format!("/connections/{stripe_conn}/events/pull-schedule"),
            None,
        )
        .await;
    assert_eq!(schedule["enabled"], true, "{schedule}");

    verify_chain(&gw).await;
    tokio::time::timeout(Duration::from_secs(30), gw.stop())
        .await
        .expect("the gateway stops cleanly with a periodic pull switched on");
}
