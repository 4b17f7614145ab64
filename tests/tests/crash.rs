//! Journey: the gateway is killed with SIGKILL at every step between a person's approval and
//! the recorded result, many times, and nothing is lost or done twice.
//!
//! The simulated Slack and Stripe run in this test process, so they outlive every kill and
//! count each effect: Slack messages by their text (Slack has no idempotency key), Stripe
//! customer credits by their description (Stripe de-duplicates by `Idempotency-Key`). The
//! gateway is a separate process (`crash_gateway`) on one data dir; `SWITCHBOARD_FAILPOINT`
//! names the step at which it kills itself: `approve.committed`, `outbox.claimed`,
//! `outbox.sent`, `outbox.recorded`. For each run: an agent drafts, a person approves, the
//! process dies at the step; a fresh process starts on the same data dir and settles the draft.
//! A draft whose outcome the gateway cannot know (Slack, killed after the request may have
//! left) must come back as `needs_confirmation`, never re-sent on its own; the test then plays
//! the person: it looks in the channel and confirms "sent" or "not sent". After every restart:
//! the approval is not lost, the effect exists exactly once, and the audit chain verifies.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::SandboxServer;
use switchboard_sandbox::slack::{BOT_TOKEN, CUSTOMER_FEEDBACK, SlackConfig, SlackSandbox};
use switchboard_sandbox::stripe::{MULTI_SUB_CUSTOMER, SECRET_KEY, StripeSandbox};
use switchboard_secrets::{KeychainStore, SecretStore, keys};
use switchboard_tests::client;

const POINTS: [&str; 4] = ["approve.committed", "outbox.claimed", "outbox.sent", "outbox.recorded"];

/// Runs per crash point (half against Slack, half against Stripe). The issue asks for at least
/// 50 per step and 200 in all; `SWITCHBOARD_CRASH_RUNS` may raise it.
fn runs_per_point() -> usize {
    std::env::var("SWITCHBOARD_CRASH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(50).max(50)
}

struct Proc {
    child: Child,
    url: String,
}

fn start(data_dir: &Path, slack: &str, stripe: &str, failpoint: Option<&str>) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crash_gateway"));
    cmd.args([data_dir.to_str().expect("utf-8 path"), slack, stripe]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    match failpoint {
        Some(p) => cmd.env("SWITCHBOARD_FAILPOINT", p),
        None => cmd.env_remove("SWITCHBOARD_FAILPOINT"),
    };
    let mut child = cmd.spawn().expect("start crash_gateway");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read the gateway's first line");
    let url = line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("the gateway did not start: {line:?}")).to_string();
    Proc { child, url }
}

fn wait_killed(p: &mut Proc, point: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = p.child.try_wait().expect("wait") {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "the gateway should die by SIGKILL at {point}, it ended with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "the gateway never reached crash point {point}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn stop(mut p: Proc) {
    drop(p.child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(30);
    while p.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the gateway did not stop when asked");
        std::thread::sleep(Duration::from_millis(10));
    }
}

async fn call(url: &str, token: &str, method: Method, path: &str, body: Option<Value>) -> Result<(u16, Value), reqwest::Error> {
    let mut req = client().request(method, format!("{url}{path}")).bearer_auth(token).timeout(Duration::from_secs(60));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

async fn control(url: &str, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    call(url, token, method, &format!("/api/control/v1{path}"), body).await.expect("the gateway answers")
}

/// Waits until the draft leaves pending/approved.
async fn settled(url: &str, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, a) = control(url, token, Method::GET, &format!("/approvals/{id}"), None).await;
        match a["status"].as_str() {
            Some("pending") => panic!("an approved draft came back pending: the approval was lost: {a}"),
            Some("approved") => {}
            Some(_) => return a,
            None => panic!("draft {id} is unreadable: {a}"),
        }
        assert!(Instant::now() < deadline, "draft {id} was not settled within 60 s: {a}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_gateway_at_any_step_loses_no_approval_and_repeats_no_effect() {
    // The providers' own rate limits are not under test here: raise them so runs are not paced.
    let relaxed = SlackConfig { tier_limits: [10_000; 4], post_per_channel: (10_000, Duration::from_secs(1)), ..SlackConfig::default() };
    let slack = SandboxServer::start(SlackSandbox::new(relaxed)).await.expect("slack sandbox");
    let stripe = SandboxServer::start(StripeSandbox::default()).await.expect("stripe sandbox");
    let (slack_url, stripe_url) = (slack.url(), stripe.url());
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");

    // Set-up on a clean process: connections, scopes, an agent with write grants.
    let p = start(&data, &slack_url, &stripe_url, None);
    let ctl = KeychainStore::open(&data).expect("keychain").get(keys::CONTROL_TOKEN).expect("keychain get").expect("control token").expose().clone();
    let (s, slack_conn) = control(&p.url, &ctl, Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "api_key": BOT_TOKEN }))).await;
    assert_eq!(s, 200, "{slack_conn}");
    let slack_conn = slack_conn["id"].as_str().expect("id").to_string();
    control(&p.url, &ctl, Method::PUT, &format!("/connections/{slack_conn}/scopes"), Some(json!({ "scopes": ["channels:read", "channels:history", "chat:write"] }))).await;
    let (s, stripe_conn) = control(&p.url, &ctl, Method::POST, "/connections", Some(json!({ "provider": "stripe-sandbox", "api_key": SECRET_KEY }))).await;
    assert_eq!(s, 200, "{stripe_conn}");
    let stripe_conn = stripe_conn["id"].as_str().expect("id").to_string();
    let (_, scopes) = control(&p.url, &ctl, Method::GET, "/providers", None).await;
    let stripe_scopes: Vec<Value> = scopes["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .find(|e| e["id"] == "stripe-sandbox")
        .and_then(|e| e["scopes"].as_array())
        .map(|s| s.iter().map(|x| x["scope"].clone()).collect())
        .expect("stripe scopes");
    control(&p.url, &ctl, Method::PUT, &format!("/connections/{stripe_conn}/scopes"), Some(json!({ "scopes": stripe_scopes }))).await;
    let (_, agent) = control(&p.url, &ctl, Method::POST, "/agents", Some(json!({ "name": "ops-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    for (conn, tier) in [(&slack_conn, "read"), (&slack_conn, "write"), (&stripe_conn, "read"), (&stripe_conn, "write")] {
        let (s, g) = control(&p.url, &ctl, Method::POST, "/grants", Some(json!({ "agent": "ops-bot", "connection": conn, "tier": tier }))).await;
        assert_eq!(s, 200, "{g}");
    }
    stop(p);

    let mut kills = 0;
    let mut confirmations = 0;
    for point in POINTS {
        for run in 0..runs_per_point() {
            let on_stripe = run % 2 == 1;
            let marker = format!("crash {point} run {run}");
            let (tool, input) = if on_stripe {
                ("stripe_credit_customer_balance", json!({ "customer_id": MULTI_SUB_CUSTOMER, "amount": 100 + run, "currency": "usd", "description": marker }))
            } else {
                ("slack_post_message", json!({ "channel": CUSTOMER_FEEDBACK, "text": marker }))
            };

            let mut p = start(&data, &slack_url, &stripe_url, Some(point));
            let (s, queued) = call(&p.url, &token, Method::POST, &format!("/api/agent/v1/tools/{tool}"), Some(json!({ "input": input })))
                .await
                .expect("the gateway answers the agent");
            assert_eq!(s, 202, "{point} run {run}: the draft should be queued: {queued}");
            let id = queued["approval_id"].as_str().expect("approval id").to_string();
            // The approval itself may be the last thing the process does.
            let _ = call(&p.url, &ctl, Method::POST, &format!("/api/control/v1/approvals/{id}/approve"), None).await;
            wait_killed(&mut p, point);
            kills += 1;

            let p = start(&data, &slack_url, &stripe_url, None);
            let mut a = settled(&p.url, &ctl, &id).await;
            if a["status"] == "needs_confirmation" {
                assert!(!on_stripe, "{point} run {run}: a Stripe write carries an idempotency key and must be resumed, not left to a person: {a}");
                // The person checks the channel and says what they found.
                let found = slack_count(&slack_url, &marker).await;
                let (s, body) = control(&p.url, &ctl, Method::POST, &format!("/approvals/{id}/confirm"), Some(json!({ "sent": found == 1 }))).await;
                assert_eq!(s, 200, "{body}");
                a = settled(&p.url, &ctl, &id).await;
                confirmations += 1;
            }
            assert_eq!(a["status"], "executed", "{point} run {run}: the approved action must end executed: {a}");
            let effects = if on_stripe { stripe_count(&stripe_url, &marker).await } else { slack_count(&slack_url, &marker).await };
            assert_eq!(effects, 1, "{point} run {run}: the approved {tool} must take effect exactly once, found {effects}");
            let (_, verify) = control(&p.url, &ctl, Method::POST, "/audit/verify", None).await;
            assert_eq!(verify["intact"], true, "{point} run {run}: the audit chain must verify after the restart: {verify}");
            stop(p);
        }
    }
    assert!(kills >= 200, "at least 200 kills in all, got {kills}");
    assert!(confirmations > 0, "some Slack runs should have needed a person's confirmation");
    println!("crash journey: {kills} kills over {} steps, {confirmations} outcomes confirmed by a person, 0 lost, 0 duplicated", POINTS.len());
    slack.shutdown().await;
    stripe.shutdown().await;
}

/// How many messages in #customer-feedback carry `text`, read straight from the simulated
/// Slack (as the person checking the channel would).
async fn slack_count(slack_url: &str, text: &str) -> usize {
    let resp = client()
        .post(format!("{slack_url}/api/conversations.history"))
        .bearer_auth(BOT_TOKEN)
        .form(&[("channel", CUSTOMER_FEEDBACK), ("limit", "999")])
        .send()
        .await
        .expect("slack answers");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["ok"], true, "reading the channel should work: {body}");
    body["messages"].as_array().expect("messages").iter().filter(|m| m["text"] == text).count()
}

/// How many of the customer's balance transactions carry `description`, read straight from the
/// simulated Stripe.
async fn stripe_count(stripe_url: &str, description: &str) -> usize {
    let resp = client()
        .get(format!("{stripe_url}/v1/customers/{MULTI_SUB_CUSTOMER}/balance_transactions?limit=100"))
        .bearer_auth(SECRET_KEY)
        .send()
        .await
        .expect("stripe answers");
    let body: Value = resp.json().await.expect("json");
    body["data"].as_array().expect("data").iter().filter(|t| t["description"] == description).count()
}
