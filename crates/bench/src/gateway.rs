//! `switchboard-bench gateway`: what the gateway adds to one sandbox read, by path.
//!
//! A real gateway runs in this process (real SQLite with its audit rows, the real OS keychain,
//! HTTP on loopback) in front of the simulated HubSpot. The same read (list one contact) is
//! called four ways: directly at the sandbox (the baseline), through the agent REST API,
//! through `/mcp` (an rmcp Streamable HTTP client per agent) and through stdio (one
//! `switchboard mcp` bridge process per agent, when the `switchboard` binary sits beside this
//! one), each at 1 and at 8 concurrent agents. Every agent has its own token and read grant.
//!
//! The provider's documented rate limit would make every path wait in the pacing queue, which
//! is not what this measures: the bench connects a copy of the sandbox HubSpot catalog entry
//! whose limits are raised out of reach, against a sandbox that enforces none.
//!
//! Each path and concurrency is measured twice:
//! - **flat out** (closed loop): every agent sends its next call as soon as the last one
//!   answered. This gives the most calls per second the machine sustains. At 8 agents its
//!   latency is mostly waiting in line: with 8 calls always outstanding, latency is 8 divided by
//!   the throughput (Little's law), whatever the gateway adds.
//! - **at a steady load** (open loop, 8 agents only): the agents together send `--steady-rate`
//!   calls per second on a fixed schedule, below saturation, which is how a team's agents
//!   load the gateway. Latency counts from when each call was due, so a call held up behind
//!   a slow one is charged for the wait.
//!
//! Printed per path: p50/p99 latency, the added p50/p99 over the direct call measured the same
//! way, and calls per second. The JSON line reports `/mcp`: the larger added p50 and p99 of
//! 1 agent (flat out) and 8 agents (steady load), and the calls per second at 8 agents flat
//! out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rmcp::RoleClient;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::json;
use switchboard_api::grants::GrantRequest;
use switchboard_api::{App, AppOptions};
use switchboard_core::{Sensitive, Tier};
use switchboard_sandbox::SandboxServer;
use switchboard_sandbox::hubspot::{HubSpotConfig, HubSpotSandbox, PRIVATE_APP_TOKEN};

#[derive(clap::Args)]
pub struct Args {
    /// Measured calls per path and concurrency (after the warm-up).
    #[arg(long, default_value_t = 2000)]
    calls: usize,
    /// Warm-up calls per agent before measuring.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Skip the stdio path even when the `switchboard` binary is present.
    #[arg(long)]
    no_stdio: bool,
    /// Measure only these paths (comma-separated: rest, mcp, stdio); the direct call is always
    /// measured, as the baseline.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Measure only these concurrencies (comma-separated agent counts, each 1 to 8).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 8])]
    agents: Vec<usize>,
    /// Calls per second the 8 agents send together in the steady-load run (0 skips it).
    #[arg(long, default_value_t = 1000)]
    steady_rate: u32,
}

const TOOL: &str = "hubspot_list_contacts";
const AGENTS: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    Direct,
    Rest,
    Mcp,
    Stdio,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Direct => "direct",
            Path::Rest => "REST",
            Path::Mcp => "/mcp",
            Path::Stdio => "stdio",
        }
    }
}

/// One agent's way of making the call.
enum Caller {
    Http {
        client: reqwest::Client,
        url: String,
        token: String,
        body: Option<serde_json::Value>,
    },
    Mcp(RunningService<RoleClient, ()>),
}

impl Caller {
    async fn call(&self) -> Result<(), String> {
        match self {
            Caller::Http {
                client,
                url,
                token,
                body,
            } => {
                let req = match body {
                    Some(b) => client.post(url).json(b),
                    None => client.get(url),
                };
                let resp = req
                    .bearer_auth(token)
                    .send()
                    .await
                    .map_err(|e| format!("request: {e}"))?;
                let status = resp.status();
                let _ = resp.bytes().await.map_err(|e| format!("body: {e}"))?;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("HTTP {status}"))
                }
            }
            Caller::Mcp(client) => {
                let args = json!({ "limit": 1 })
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let r = client
                    .call_tool(CallToolRequestParams::new(TOOL).with_arguments(args))
                    .await
                    .map_err(|e| format!("tools/call: {e}"))?;
                if r.is_error == Some(true) {
                    Err(format!("tool error: {:?}", r.structured_content))
                } else {
                    Ok(())
                }
            }
        }
    }
}

struct Figures {
    p50_ms: f64,
    p99_ms: f64,
    calls_per_s: f64,
}

/// Sends `total` calls from `callers` (after `warmup` calls each) and sorts their latencies.
/// Flat out (`steady` is `None`): each agent sends its next call when the last one answered,
/// and a call's latency is its own round trip. At a steady load (`Some(rate)`): the agents
/// together send `rate` calls per second, each on its own fixed schedule, and a call's latency
/// counts from when it was due, so a call held up behind a slow one is charged for the wait.
async fn measure(
    callers: &[Arc<Caller>],
    total: usize,
    warmup: usize,
    steady: Option<u32>,
) -> Result<Figures, String> {
    for c in callers {
        for _ in 0..warmup {
            c.call().await?;
        }
    }
    let per = total.div_ceil(callers.len());
    let interval =
        steady.map(|rate| Duration::from_secs_f64(callers.len() as f64 / f64::from(rate)));
    let agents = callers.len() as f64;
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for (i, c) in callers.iter().enumerate() {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            for n in 0..per {
                let from = match interval {
                    None => tokio::time::Instant::now(),
                    Some(every) => {
                        // Agents start spread over one interval, not all at once.
                        let offset = every.mul_f64(i as f64 / agents);
                        let due = started + offset + every * u32::try_from(n).unwrap_or(u32::MAX);
                        tokio::time::sleep_until(due).await;
                        due
                    }
                };
                c.call().await?;
                lat.push(from.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all = Vec::with_capacity(per * callers.len());
    for t in tasks {
        all.extend(t.await.map_err(|e| format!("worker: {e}"))??);
    }
    let wall = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Ok(Figures {
        p50_ms: percentile(&all, 0.5),
        p99_ms: percentile(&all, 0.99),
        calls_per_s: all.len() as f64 / wall,
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub fn run(args: &Args) -> Result<(), String> {
    if args.calls == 0 {
        return Err("--calls must be at least 1".into());
    }
    if let Some(bad) = args.agents.iter().find(|&&a| a == 0 || a > AGENTS) {
        return Err(format!(
            "--agents {bad}: each concurrency must be 1 to {AGENTS}"
        ));
    }
    if let Some(bad) = args
        .only
        .iter()
        .find(|o| !["rest", "mcp", "stdio"].contains(&o.to_ascii_lowercase().as_str()))
    {
        return Err(format!("--only {bad}: the paths are rest, mcp and stdio"));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(run_async(args))
}

fn switchboard_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe
        .parent()?
        .join(format!("switchboard{}", std::env::consts::EXE_SUFFIX));
    bin.exists().then_some(bin)
}

async fn run_async(args: &Args) -> Result<(), String> {
    let sandbox = SandboxServer::start(HubSpotSandbox::new(
        HubSpotConfig::default().with_rate_limit(u32::MAX, Duration::from_secs(1)),
    ))
    .await
    .map_err(|e| format!("sandbox: {e}"))?;
    let mut entry = switchboard_connectors::catalog()
        .providers
        .iter()
        .find(|p| p.id == "hubspot")
        .ok_or("the catalog has no hubspot entry")?
        .sandboxed(&sandbox.url());
    for limit in &mut entry.rate_limits {
        limit.requests = u64::from(u32::MAX);
    }
    entry.concurrency = None;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let data = dir.path().join("data");
    let mut opts = AppOptions::new(data.clone());
    opts.extra_providers = vec![entry];
    let app = App::start(opts)
        .await
        .map_err(|e| format!("the gateway did not start ({}): {}", e.code, e.message))?;
    let result = drive(&app, &data, &sandbox.url(), args).await;
    app.shutdown("benchmark over").await;
    sandbox.shutdown().await;
    result
}

async fn drive(
    app: &App,
    data: &std::path::Path,
    sandbox_url: &str,
    args: &Args,
) -> Result<(), String> {
    let listener = switchboard_server::bind(0)
        .await
        .map_err(|e| format!("bind: {}", e.message))?;
    let server = switchboard_server::serve(app.clone(), listener, None)
        .await
        .map_err(|e| format!("serve: {}", e.message))?;
    let url = server.url();
    let err = |e: switchboard_core::ApiError| format!("{}: {}", e.code, e.message);
    let conn = app
        .connection_add_key(
            "bench",
            "hubspot-sandbox",
            Some("Bench"),
            None,
            Sensitive::new(PRIVATE_APP_TOKEN.to_string()),
        )
        .await
        .map_err(err)?;
    let mut tokens = Vec::new();
    for i in 0..AGENTS {
        let name = format!("bench-agent-{i}");
        let added = app.agent_add("bench", &name).await.map_err(err)?;
        app.grant_set(
            "bench",
            GrantRequest {
                agent: name,
                connection: conn.id.clone(),
                tier: Tier::Read,
                actions: None,
                expires_at_ms: None,
            },
        )
        .await
        .map_err(err)?;
        tokens.push(added.token);
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .build()
        .map_err(|e| format!("http client: {e}"))?;
    let stdio_bin = if args.no_stdio {
        None
    } else {
        switchboard_bin()
    };
    println!(
        "gateway: {} calls of {TOOL} (limit 1) per path and concurrency, after {} warm-up calls per agent; sandbox HubSpot on loopback, pacing limits raised out of reach",
        args.calls, args.warmup
    );
    if stdio_bin.is_none() && !args.no_stdio {
        println!(
            "  (stdio skipped: no `switchboard` binary beside this one; `cargo build --release -p switchboard-cli`)"
        );
    }

    let mut paths = vec![Path::Direct, Path::Rest, Path::Mcp];
    if stdio_bin.is_some() {
        paths.push(Path::Stdio);
    }
    let wanted = |p: Path| {
        p == Path::Direct
            || args.only.is_empty()
            || args
                .only
                .iter()
                .any(|o| o.eq_ignore_ascii_case(p.name().trim_start_matches('/')))
    };
    paths.retain(|p| wanted(*p));
    let mut mcp_added_p50: f64 = 0.0;
    let mut mcp_added_p99: f64 = 0.0;
    let mut mcp_rate_8 = 0.0;
    println!(
        "  {:<7} {:>6} {:<13} {:>9} {:>9} {:>12} {:>12} {:>9}",
        "path", "agents", "load", "p50 ms", "p99 ms", "added p50", "added p99", "calls/s"
    );
    // (agents, steady rate): flat out at each concurrency, then 8 agents at a steady load.
    let mut runs: Vec<(usize, Option<u32>)> = args.agents.iter().map(|&a| (a, None)).collect();
    if args.steady_rate > 0 && args.agents.contains(&AGENTS) {
        runs.push((AGENTS, Some(args.steady_rate)));
    }
    for (agents, steady) in runs {
        let load = match steady {
            None => "flat out".to_string(),
            Some(r) => format!("steady {r}/s"),
        };
        let mut baseline: Option<(f64, f64)> = None;
        for &path in &paths {
            let mut callers = Vec::new();
            let mut children = Vec::new();
            for token in tokens.iter().take(agents) {
                let caller = match path {
                    Path::Direct => Caller::Http {
                        client: http.clone(),
                        url: format!("{sandbox_url}/crm/v3/objects/contacts?limit=1"),
                        token: PRIVATE_APP_TOKEN.to_string(),
                        body: None,
                    },
                    Path::Rest => Caller::Http {
                        client: http.clone(),
                        url: format!("{url}/api/agent/v1/tools/{TOOL}"),
                        token: token.clone(),
                        body: Some(json!({ "input": { "limit": 1 } })),
                    },
                    Path::Mcp => {
                        let config =
                            StreamableHttpClientTransportConfig::with_uri(format!("{url}/mcp"))
                                .auth_header(token.clone());
                        // The pooled client real MCP clients use (keep-alive), not rmcp's
                        // default, which opens a connection per message.
                        let client = ()
                            .serve(StreamableHttpClientTransport::with_client(
                                http.clone(),
                                config,
                            ))
                            .await
                            .map_err(|e| format!("MCP initialize: {e}"))?;
                        Caller::Mcp(client)
                    }
                    Path::Stdio => {
                        let Some(bin) = &stdio_bin else { continue };
                        let mut cmd = tokio::process::Command::new(bin);
                        cmd.arg("--data-dir")
                            .arg(data)
                            .args(["mcp", "--token-env", "SWITCHBOARD_BENCH_TOKEN"])
                            .env("SWITCHBOARD_BENCH_TOKEN", token);
                        let transport = TokioChildProcess::new(cmd)
                            .map_err(|e| format!("spawn switchboard mcp: {e}"))?;
                        let client =
                            ().serve(transport)
                                .await
                                .map_err(|e| format!("stdio initialize: {e}"))?;
                        Caller::Mcp(client)
                    }
                };
                callers.push(Arc::new(caller));
            }
            let f = measure(&callers, args.calls, args.warmup, steady).await?;
            let (added_p50, added_p99) = match baseline {
                None => {
                    baseline = Some((f.p50_ms, f.p99_ms));
                    (0.0, 0.0)
                }
                Some((b50, b99)) => (f.p50_ms - b50, f.p99_ms - b99),
            };
            if path == Path::Mcp {
                // Latency: 1 agent flat out, and 8 agents at the steady load (flat out at 8 it is
                // queueing, see the module docs). Throughput: 8 agents flat out.
                if agents == 1 || steady.is_some() {
                    mcp_added_p50 = mcp_added_p50.max(added_p50);
                    mcp_added_p99 = mcp_added_p99.max(added_p99);
                }
                if agents == AGENTS && steady.is_none() {
                    mcp_rate_8 = f.calls_per_s;
                }
            }
            let added = |v: f64| {
                if path == Path::Direct {
                    "-".to_string()
                } else {
                    format!("{v:+.3}")
                }
            };
            println!(
                "  {:<7} {:>6} {:<13} {:>9.3} {:>9.3} {:>12} {:>12} {:>9.0}",
                path.name(),
                agents,
                load,
                f.p50_ms,
                f.p99_ms,
                added(added_p50),
                added(added_p99),
                f.calls_per_s
            );
            for c in callers {
                if let Ok(Caller::Mcp(client)) = Arc::try_unwrap(c) {
                    children.push(client);
                }
            }
            for client in children {
                let _ = client.cancel().await;
            }
        }
    }
    println!(
        "  targets (2 cores): added p50 <= 1 ms, p99 <= 5 ms (1 agent flat out; 8 agents at the steady load), >= 2000 calls/s through /mcp (8 agents flat out)"
    );
    server.shutdown("benchmark over").await;
    println!(
        "{}",
        json!({ "bench": "gateway", "added_p50_ms": round3(mcp_added_p50), "added_p99_ms": round3(mcp_added_p99), "calls_per_s": mcp_rate_8.round() })
    );
    Ok(())
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
