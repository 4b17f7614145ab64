//! `switchboard-bench batch`: many agents' read calls through the gateway against a provider
//! that enforces its documented limit.
//!
//! A real gateway runs in this process (real SQLite, the real OS keychain, the HTTP server on
//! loopback) with the simulated HubSpot enforcing 100 requests per sliding 10 s, HubSpot's
//! documented private-app limit that the catalog paces by. `--agents` agents, each with its own
//! token and a read grant, send `--calls` `hubspot_list_contacts` calls in total over the agent
//! REST API, `--workers` at a time each. The ideal is the documented sustained rate:
//! `min_s = calls ÷ (100 / 10 s)`. The figures: wall time, `min_s`, their ratio (target ≤ 1.10)
//! and the 429s the provider sent (target 0). A naive client would send a burst and trip 429s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use switchboard_api::grants::GrantRequest;
use switchboard_api::{App, AppOptions};
use switchboard_core::{Sensitive, Tier};
use switchboard_sandbox::hubspot::{HubSpotConfig, HubSpotSandbox, PRIVATE_APP_TOKEN};

#[derive(clap::Args)]
pub struct Args {
    /// Read calls in total.
    #[arg(long, default_value_t = 500)]
    calls: usize,
    /// Agents sharing the one HubSpot connection.
    #[arg(long, default_value_t = 4)]
    agents: usize,
    /// Calls each agent keeps in flight.
    #[arg(long, default_value_t = 16)]
    workers: usize,
}

/// HubSpot's documented private-app limit (Free/Starter), the catalog's first bucket.
const LIMIT: u32 = 100;
const WINDOW: Duration = Duration::from_secs(10);

pub fn run(args: &Args) -> Result<(), String> {
    if args.calls == 0 || args.agents == 0 || args.workers == 0 {
        return Err("--calls, --agents and --workers must be at least 1".into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(run_async(args))
}

async fn run_async(args: &Args) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut opts = AppOptions::new(dir.path().join("data"));
    opts.sandbox = true;
    opts.sandbox_providers = Some(vec![Box::new(HubSpotSandbox::new(HubSpotConfig::default().with_rate_limit(LIMIT, WINDOW)))]);
    let app = App::start(opts).await.map_err(|e| format!("the gateway did not start ({}): {}", e.code, e.message))?;
    let result = drive(&app, args).await;
    app.shutdown("benchmark over").await;
    result
}

async fn drive(app: &App, args: &Args) -> Result<(), String> {
    let listener = switchboard_server::bind(0).await.map_err(|e| format!("bind: {}", e.message))?;
    let server = switchboard_server::serve(app.clone(), listener, None).await.map_err(|e| format!("serve: {}", e.message))?;
    let url = server.url();
    let err = |e: switchboard_core::ApiError| format!("{}: {}", e.code, e.message);

    let conn = app
        .connection_add_key("bench", "hubspot-sandbox", Some("Bench"), None, Sensitive::new(PRIVATE_APP_TOKEN.to_string()))
        .await
        .map_err(err)?;
    let mut tokens = Vec::new();
    for i in 0..args.agents {
        let name = format!("bench-agent-{i}");
        let added = app.agent_add("bench", &name).await.map_err(err)?;
        app.grant_set("bench", GrantRequest { agent: name, connection: conn.id.clone(), tier: Tier::Read, actions: None, expires_at_ms: None })
            .await
            .map_err(err)?;
        tokens.push(added.token);
    }
    let documented_rate = f64::from(LIMIT) / WINDOW.as_secs_f64();
    let min_s = args.calls as f64 / documented_rate;
    println!(
        "batch: {} read calls by {} agents ({} in flight each) through the gateway's agent API against hubspot-sandbox enforcing {LIMIT} requests per sliding {} s",
        args.calls,
        args.agents,
        args.workers,
        WINDOW.as_secs()
    );
    println!("  the documented sustained rate allows it in {min_s:.1} s at best");

    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(300)).build().map_err(|e| format!("http client: {e}"))?;
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let done_at = Arc::new(std::sync::Mutex::new(Vec::<f64>::with_capacity(args.calls)));
    let failed = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<String, u64>::new()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for token in &tokens {
        for _ in 0..args.workers {
            let (client, next, ok, failed, token, url) = (client.clone(), next.clone(), ok.clone(), failed.clone(), token.clone(), url.clone());
            let done_at = done_at.clone();
            let total = args.calls;
            tasks.push(tokio::spawn(async move {
                while next.fetch_add(1, Ordering::SeqCst) < total {
                    let sent = client
                        .post(format!("{url}/api/agent/v1/tools/hubspot_list_contacts"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "input": { "limit": 10 } }))
                        .send()
                        .await;
                    let code = match sent {
                        Ok(r) if r.status().is_success() => None,
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let body: serde_json::Value = r.json().await.unwrap_or_default();
                            Some(format!("HTTP {status} {}", body["code"].as_str().unwrap_or("?")))
                        }
                        Err(e) => Some(format!("gateway unreachable: {e}")),
                    };
                    match code {
                        None => {
                            ok.fetch_add(1, Ordering::SeqCst);
                            done_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(started.elapsed().as_secs_f64());
                        }
                        Some(c) => *failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(c).or_default() += 1,
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.map_err(|e| format!("a worker failed: {e}"))?;
    }
    let wall_s = started.elapsed().as_secs_f64();
    let http_429 = app.sandbox_rate_limited("hubspot-sandbox").unwrap_or(0);
    let ok = ok.load(Ordering::SeqCst);
    let failed = failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    server.shutdown("benchmark over").await;

    let ratio = wall_s / min_s;
    println!("  wall time {wall_s:.1} s for {ok} successful calls; ratio to the ideal {ratio:.3} (target ≤ 1.10)");
    println!("  429s sent by the provider: {http_429} (target 0)");
    let done = done_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let windows = (wall_s / WINDOW.as_secs_f64()).ceil() as usize;
    let per_window: Vec<String> = (0..windows)
        .map(|w| {
            let (lo, hi) = (w as f64 * WINDOW.as_secs_f64(), (w + 1) as f64 * WINDOW.as_secs_f64());
            done.iter().filter(|t| **t >= lo && **t < hi).count().to_string()
        })
        .collect();
    println!("  calls completed per {} s window: {}", WINDOW.as_secs(), per_window.join(" "));
    for (code, n) in &failed {
        println!("  failed: {n} × {code}");
    }
    println!(
        "{}",
        serde_json::json!({ "bench": "batch", "wall_s": round(wall_s, 2), "min_s": round(min_s, 2), "ratio": round(ratio, 3), "http_429": http_429 })
    );
    if !failed.is_empty() {
        return Err(format!("{} calls failed; the figures above do not describe a clean run", failed.values().sum::<u64>()));
    }
    Ok(())
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}
