//! `switchboard-bench workday`: an agent's inbox triage through the gateway — for each of
//! `--messages` Gmail messages, read it, look its sender up in HubSpot, and label it — against
//! simulated providers that enforce their documented limits in sliding windows: Gmail's quota
//! units per user per minute (6,000; `messages.get` and `messages.modify` cost 5, `messages.list`
//! 5) and HubSpot's 100 requests per 10 s.
//!
//! A real gateway runs in this process (real SQLite, the real OS keychain, HTTP on loopback);
//! Gmail is connected through its OAuth consent page, HubSpot with a private-app token; one agent
//! holds read on both and write on Gmail, and `--workers` of its calls run at once over the agent
//! REST API. The ideal is set by the slower provider at its documented sustained rate:
//! `min_s = max(Gmail units ÷ 100 per s, HubSpot calls ÷ 10 per s)`. Figures: wall time,
//! `min_s`, their ratio (target ≤ 1.10) and the 429s both providers sent (target 0).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_api::grants::GrantRequest;
use switchboard_api::{App, AppOptions};
use switchboard_core::{Sensitive, Tier};
use switchboard_sandbox::gmail::{self, GmailConfig, GmailSandbox};
use switchboard_sandbox::hubspot::{HubSpotConfig, HubSpotSandbox, PRIVATE_APP_TOKEN};

#[derive(clap::Args)]
pub struct Args {
    /// Inbox messages to triage.
    #[arg(long, default_value_t = 500)]
    messages: usize,
    /// Messages the agent works on at once.
    #[arg(long, default_value_t = 24)]
    workers: usize,
}

/// Gmail's per-user quota for projects new from 2026-05-01 (the catalog's first bucket).
const GMAIL_UNITS_PER_MINUTE: f64 = 6_000.0;
/// What `messages.list`, `messages.get` and `messages.modify` cost (Google's published table).
const LIST_UNITS: u64 = 5;
const GET_UNITS: u64 = 5;
const MODIFY_UNITS: u64 = 5;
/// HubSpot's documented private-app limit (Free/Starter).
const HUBSPOT_PER_10S: f64 = 100.0;
/// Gmail's largest page.
const PAGE: usize = 500;
const LEADS_LABEL: &str = "Label_1";
const FOLLOW_UP_LABEL: &str = "Label_5";

pub fn run(args: &Args) -> Result<(), String> {
    if args.messages == 0 || args.workers == 0 {
        return Err("--messages and --workers must be at least 1".into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(run_async(args))
}

/// Senders: every other one is a seeded HubSpot contact (found), the rest are strangers.
fn senders(n: usize) -> Vec<String> {
    let contacts = switchboard_sandbox::hubspot::contact_emails();
    (0..n)
        .map(|i| if i.is_multiple_of(2) { contacts[(i / 2) % contacts.len()].clone() } else { format!("stranger{i}@unknown.example") })
        .collect()
}

async fn run_async(args: &Args) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut opts = AppOptions::new(dir.path().join("data"));
    opts.sandbox = true;
    let gmail_config = GmailConfig { bulk_inbox: senders(args.messages), ..GmailConfig::default() };
    opts.sandbox_providers = Some(vec![Box::new(GmailSandbox::new(gmail_config)), Box::new(HubSpotSandbox::new(HubSpotConfig::default()))]);
    let app = App::start(opts).await.map_err(|e| format!("the gateway did not start ({}): {}", e.code, e.message))?;
    let result = drive(&app, args).await;
    app.shutdown("benchmark over").await;
    result
}

async fn connect_gmail(app: &App, http: &reqwest::Client) -> Result<String, String> {
    let err = |e: switchboard_core::ApiError| format!("{}: {}", e.code, e.message);
    let scopes = vec!["https://www.googleapis.com/auth/gmail.modify".to_string(), "https://www.googleapis.com/auth/gmail.readonly".to_string()];
    let started = app.oauth_start("bench", "gmail-sandbox", Some("Bench inbox"), Some(&scopes), false).await.map_err(err)?;
    let html = http.get(&started.authorize_url).send().await.map_err(|e| format!("consent page: {e}"))?.text().await.map_err(|e| format!("consent page: {e}"))?;
    let request = html.split("name=\"request\" value=\"").nth(1).and_then(|r| r.split('"').next()).ok_or("the consent page has no request field")?.to_string();
    let decide = reqwest::Url::parse(&started.authorize_url).and_then(|u| u.join(gmail::DECISION_PATH)).map_err(|e| format!("decision url: {e}"))?;
    let resp = http.post(decide).form(&[("request", request.as_str()), ("decision", "approve")]).send().await.map_err(|e| format!("consent: {e}"))?;
    let back = resp.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("the consent did not redirect back")?.to_string();
    http.get(&back).send().await.map_err(|e| format!("loopback callback: {e}"))?;
    let done = app.oauth_wait(&started.flow_id, Duration::from_secs(10)).await.map_err(err)?;
    match done {
        switchboard_api::oauth::OAuthFlowStatus::Connected { connection } => Ok(connection.id),
        other => Err(format!("the Gmail sign-in did not connect: {other:?}")),
    }
}

async fn drive(app: &App, args: &Args) -> Result<(), String> {
    let listener = switchboard_server::bind(0).await.map_err(|e| format!("bind: {}", e.message))?;
    let server = switchboard_server::serve(app.clone(), listener, None).await.map_err(|e| format!("serve: {}", e.message))?;
    let url = server.url();
    let err = |e: switchboard_core::ApiError| format!("{}: {}", e.code, e.message);
    let http = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(300)).build().map_err(|e| format!("http client: {e}"))?;

    let gmail_conn = connect_gmail(app, &http).await?;
    let hubspot = app.connection_add_key("bench", "hubspot-sandbox", Some("Bench CRM"), None, Sensitive::new(PRIVATE_APP_TOKEN.to_string())).await.map_err(err)?;
    let agent = app.agent_add("bench", "triage-bot").await.map_err(err)?;
    for (connection, tier) in [(&gmail_conn, Tier::Read), (&gmail_conn, Tier::Write), (&hubspot.id, Tier::Read)] {
        app.grant_set("bench", GrantRequest { agent: "triage-bot".into(), connection: connection.clone(), tier, actions: None, expires_at_ms: None }).await.map_err(err)?;
    }
    let token = agent.token;
    let call = {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        move |tool: &'static str, input: Value| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            async move {
                let r = http.post(format!("{url}/api/agent/v1/tools/{tool}")).bearer_auth(&token).json(&json!({ "input": input })).send().await.map_err(|e| format!("gateway unreachable: {e}"))?;
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or_default();
                if status == 200 { Ok(body["result"].clone()) } else { Err(format!("{tool}: HTTP {status} {}", body["code"].as_str().unwrap_or("?"))) }
            }
        }
    };

    println!(
        "workday: triage {} Gmail messages (read, look the sender up in HubSpot, label) with {} in flight, through the gateway's agent API, against gmail-sandbox ({} quota units/min) and hubspot-sandbox ({} requests/10 s), both in sliding windows",
        args.messages, args.workers, GMAIL_UNITS_PER_MINUTE, HUBSPOT_PER_10S
    );
    let started = Instant::now();
    // 1. The unread inbox, page by page.
    let mut ids = Vec::new();
    let mut list_calls = 0u64;
    let mut page_token: Option<String> = None;
    while ids.len() < args.messages {
        let mut input = json!({ "q": "is:unread in:inbox", "max_results": PAGE });
        if let Some(t) = &page_token {
            input["page_token"] = json!(t);
        }
        let page = call("gmail_search_messages", input).await?;
        list_calls += 1;
        ids.extend(page["messages"].as_array().into_iter().flatten().filter_map(|m| m["id"].as_str().map(str::to_string)));
        page_token = page["nextPageToken"].as_str().map(str::to_string);
        if page_token.is_none() {
            break;
        }
    }
    ids.truncate(args.messages);
    if ids.len() < args.messages {
        return Err(format!("the inbox held {} unread messages, fewer than --messages {}", ids.len(), args.messages));
    }

    // 2. Each message: read, look up, label.
    let ids = Arc::new(ids);
    let next = Arc::new(AtomicUsize::new(0));
    let (known, unknown) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for _ in 0..args.workers {
        let (ids, next, known, unknown, failures, call) = (ids.clone(), next.clone(), known.clone(), unknown.clone(), failures.clone(), call.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(id) = ids.get(i) else { break };
                let outcome: Result<(), String> = async {
                    let msg = call("gmail_get_message", json!({ "id": id, "format": "metadata" })).await?;
                    let from = msg["payload"]["headers"]
                        .as_array()
                        .and_then(|h| h.iter().find(|x| x["name"] == "From"))
                        .and_then(|x| x["value"].as_str())
                        .ok_or("a message without a From header")?
                        .to_string();
                    let email = from.rsplit_once('<').map_or(from.as_str(), |(_, e)| e.trim_end_matches('>')).trim().to_string();
                    let found = match call("hubspot_get_contact", json!({ "email": email, "properties": ["email", "lifecyclestage"] })).await {
                        Ok(_) => true,
                        Err(e) if e.contains("HTTP 502") => false, // HubSpot's 404: not a contact
                        Err(e) => return Err(e),
                    };
                    let label = if found { LEADS_LABEL } else { FOLLOW_UP_LABEL };
                    call("gmail_modify_labels", json!({ "id": id, "add_label_ids": [label], "remove_label_ids": ["UNREAD"] })).await?;
                    if found { known.fetch_add(1, Ordering::SeqCst) } else { unknown.fetch_add(1, Ordering::SeqCst) };
                    Ok(())
                }
                .await;
                if let Err(e) = outcome {
                    failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(e);
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("a worker failed: {e}"))?;
    }
    let wall_s = started.elapsed().as_secs_f64();
    let http_429 = app.sandbox_rate_limited("gmail-sandbox").unwrap_or(0) + app.sandbox_rate_limited("hubspot-sandbox").unwrap_or(0);
    server.shutdown("benchmark over").await;

    let n = args.messages as u64;
    let gmail_units = list_calls * LIST_UNITS + n * (GET_UNITS + MODIFY_UNITS);
    let gmail_min = gmail_units as f64 / (GMAIL_UNITS_PER_MINUTE / 60.0);
    let hubspot_min = n as f64 / (HUBSPOT_PER_10S / 10.0);
    let min_s = gmail_min.max(hubspot_min);
    let ratio = wall_s / min_s;
    let failures = failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    println!(
        "  Gmail: {gmail_units} quota units ({list_calls} list, {n} get, {n} modify) → {gmail_min:.1} s at best; HubSpot: {n} lookups → {hubspot_min:.1} s at best"
    );
    println!("  senders found in HubSpot: {}, not found: {}", known.load(Ordering::SeqCst), unknown.load(Ordering::SeqCst));
    println!("  wall time {wall_s:.1} s; ratio to the ideal {ratio:.3} (target ≤ 1.10); 429s sent by the providers: {http_429} (target 0)");
    for f in failures.iter().take(5) {
        println!("  failed: {f}");
    }
    println!(
        "{}",
        json!({ "bench": "workday", "wall_s": round(wall_s, 2), "min_s": round(min_s, 2), "ratio": round(ratio, 3), "http_429": http_429 })
    );
    if !failures.is_empty() {
        return Err(format!("{} messages failed; the figures above do not describe a clean run", failures.len()));
    }
    Ok(())
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}
