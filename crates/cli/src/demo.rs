//! `switchboard demo lead-follow-up [--auto-approve]`: a scripted agent (no model) that walks
//! the lead follow-up workflow against the simulated providers, as any agent would: over `/mcp`
//! with its own agent token, within exactly the grants the workflow needs.
//!
//! It starts `switchboard serve --sandbox` for the data dir when no gateway runs (and stops it
//! again at the end), or joins the running one if that one has the sandbox providers. Through
//! the control API it connects the sandbox HubSpot, Gmail, Google Calendar and Slack when they
//! are not connected yet, adds an agent and grants it only the tools below. Then the agent reads
//! the newest lead, finds two free slots, drafts and sends a follow-up offering them, moves the
//! deal one stage on and posts a summary to Slack. Each outbound step waits in the approval
//! queue for a person (`switchboard approvals approve ID`), or, with `--auto-approve`, is
//! approved as a separate control-plane step. It ends by printing the audit chain of each
//! approved action.
//!
//! This is a client of the gateway, like any agent: it holds no business logic.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, RoleClient};
use serde_json::{Value, json};
use switchboard_core::{ApiError, ErrorCode};
use switchboard_sandbox::{gcal, gmail, hubspot, slack};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client;

const AGENT: &str = "demo-agent";
const HUBSPOT_SCOPES: &[&str] = &[
    "crm.objects.contacts.read",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
];
const SLACK_SCOPES: &[&str] = &["channels:read", "channels:history", "chat:write"];
const FREEBUSY: &str = "https://www.googleapis.com/auth/calendar.freebusy";
/// How long to wait for a person to decide on a draft before giving up.
const APPROVAL_WAIT: Duration = Duration::from_secs(30 * 60);

/// The MCP client side of the scripted agent; it needs no notifications.
#[derive(Clone, Default)]
struct DemoClient;

impl ClientHandler for DemoClient {}

type Session = RunningService<RoleClient, DemoClient>;

/// One connection the workflow needs and the tools the agent is granted on it.
struct Need {
    provider: &'static str,
    label: &'static str,
    scopes: &'static [&'static str],
    read: &'static [&'static str],
    write: &'static [&'static str],
}

const NEEDS: &[Need] = &[
    Need {
        provider: "hubspot-sandbox",
        label: "Sales (demo)",
        scopes: HUBSPOT_SCOPES,
        read: &["hubspot_search_contacts", "hubspot_search_deals"],
        write: &["hubspot_update_deal_stage"],
    },
    Need {
        provider: "google-calendar-sandbox",
        label: "Calendar (demo)",
        scopes: &[FREEBUSY],
        read: &["google-calendar_free_busy"],
        write: &[],
    },
    Need {
        provider: "gmail-sandbox",
        label: "Inbox (demo)",
        scopes: &[gmail::READONLY, gmail::COMPOSE],
        read: &[],
        write: &["gmail_create_draft", "gmail_send_draft"],
    },
    Need {
        provider: "slack-sandbox",
        label: "Team (demo)",
        scopes: SLACK_SCOPES,
        read: &[],
        write: &["slack_post_message"],
    },
];

pub async fn lead_follow_up(data_dir: &Path, auto_approve: bool) -> Result<(), ApiError> {
    let started = ensure_gateway(data_dir).await?;
    let outcome = run(data_dir, auto_approve).await;
    if let Some(child) = started {
        stop_gateway(child).await;
    }
    outcome
}

async fn run(data_dir: &Path, auto_approve: bool) -> Result<(), ApiError> {
    let rt = client::running_url(data_dir)?;
    let mut connections = Vec::new();
    for need in NEEDS {
        connections.push(connect(data_dir, need).await?);
    }
    let (agent, token) = add_agent(data_dir).await?;
    for (need, conn) in NEEDS.iter().zip(&connections) {
        for (tier, tools) in [("read", need.read), ("write", need.write)] {
            if tools.is_empty() {
                continue;
            }
            let _: Value = client::control_post_json(
                data_dir,
                "/grants",
                json!({ "agent": agent, "connection": conn, "tier": tier, "actions": tools }),
            )
            .await?;
        }
    }
    println!(
        "Agent '{agent}' may use only: {}.",
        NEEDS
            .iter()
            .flat_map(|n| n.read.iter().chain(n.write))
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    );

    let transport = StreamableHttpClientTransport::with_client(
        switchboard_mcp::bridge::loopback_client()?,
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", rt.url)).auth_header(token),
    );
    let mcp = DemoClient
        .serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
        .await
        .map_err(|e| {
            ApiError::new(
                ErrorCode::ProviderUnreachable,
                format!(
                    "cannot open an MCP session with the gateway at {}/mcp: {e}",
                    rt.url
                ),
            )
        })?;
    println!("Connected to {}/mcp as '{agent}'.\n", rt.url);
    let outcome = workflow(data_dir, &mcp, auto_approve, &connections).await;
    let _ = mcp.cancel().await;
    let approvals = outcome?;

    println!("\nAudit chain of the run's actions:");
    for (what, approval) in [
        ("email", &approvals[0]),
        ("deal stage", &approvals[1]),
        ("Slack summary", &approvals[2]),
    ] {
        let rows: Vec<Value> = client::control_get(
            data_dir,
            &format!("/audit/chain/{}", client::encode_segment(approval)),
        )
        .await?;
        println!("  {what} ({approval}):");
        for r in &rows {
            println!(
                "    #{} {} {}:{} {} decision={} outcome={} hash={}",
                r["id"],
                crate::output::time(r["ts_ms"].as_i64().unwrap_or(0)),
                r["actor_kind"].as_str().unwrap_or("?"),
                r["actor_id"].as_str().unwrap_or("?"),
                r["action"].as_str().unwrap_or("?"),
                r["decision"].as_str().unwrap_or("?"),
                r["outcome"].as_str().unwrap_or("?"),
                r["hash"].as_str().map_or("?", |h| &h[..h.len().min(12)]),
            );
        }
    }
    println!("\nDone: one email sent, one deal moved, one Slack post, each approved and audited.");
    Ok(())
}

/// The agent's six steps; returns the approval ids of the email, the deal move and the post.
async fn workflow(
    data_dir: &Path,
    mcp: &Session,
    auto_approve: bool,
    connections: &[String],
) -> Result<[String; 3], ApiError> {
    let [hubspot_conn, calendar_conn, gmail_conn, slack_conn] = connections else {
        return Err(ApiError::internal("the demo needs four connections"));
    };

    // 1. The newest lead and its deal.
    println!("1. Reading the newest lead in HubSpot.");
    let leads = call(
        mcp,
        "read the newest lead",
        "hubspot_search_contacts",
        json!({
            "connection": hubspot_conn,
            "filters": [{ "property": "lifecyclestage", "operator": "EQ", "value": "lead" }],
            "sorts": [{ "property": "createdate", "direction": "DESCENDING" }],
            "properties": ["email", "firstname", "lastname", "company"],
            "limit": 1,
        }),
    )
    .await?;
    let lead = leads["results"].get(0).cloned().ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "HubSpot holds no contact in the lead stage; there is nobody to follow up",
        )
    })?;
    let contact_id = text(&lead["id"], "the lead's id")?;
    let email = text(&lead["properties"]["email"], "the lead's email")?;
    let first = lead["properties"]["firstname"]
        .as_str()
        .unwrap_or("there")
        .to_string();
    let name = format!(
        "{first} {}",
        lead["properties"]["lastname"].as_str().unwrap_or("")
    )
    .trim()
    .to_string();
    let deals = call(mcp, "find the lead's deal", "hubspot_search_deals", json!({
        "connection": hubspot_conn,
        "filters": [{ "property": "associations.contact", "operator": "EQ", "value": contact_id }],
        "properties": ["dealname", "dealstage", "pipeline"],
        "limit": 1,
    }))
    .await?;
    let deal = deals["results"].get(0).cloned().ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("the lead {name} <{email}> has no deal in HubSpot to move on"),
        )
    })?;
    let deal_id = text(&deal["id"], "the deal's id")?;
    let deal_name = deal["properties"]["dealname"]
        .as_str()
        .unwrap_or("the deal")
        .to_string();
    let stage = text(&deal["properties"]["dealstage"], "the deal's stage")?;
    let next = hubspot::DEAL_STAGES
        .iter()
        .position(|(id, _, _)| *id == stage)
        .and_then(|i| hubspot::DEAL_STAGES.get(i + 1))
        .filter(|(id, _, _)| !id.starts_with("closed"))
        .ok_or_else(|| ApiError::bad_request(format!("the deal '{deal_name}' is at stage '{stage}', which has no open stage after it to move to")))?;
    println!("   Newest lead: {name} <{email}>, deal '{deal_name}' (stage {stage}).");

    // 2. Two free half-hour slots tomorrow.
    println!("2. Looking for free time tomorrow in Google Calendar (free/busy).");
    let day = (OffsetDateTime::now_utc() + time::Duration::days(1))
        .replace_time(time::macros::time!(9:00));
    let (open, close) = (day, day + time::Duration::hours(8));
    let busy = call(mcp, "find free slots", "google-calendar_free_busy", json!({
        "connection": calendar_conn, "time_min": rfc3339(open)?, "time_max": rfc3339(close)?, "calendars": ["primary"],
    }))
    .await?;
    let slots = free_slots(&busy, open, close)?;
    let offered: Vec<String> = slots.iter().map(|s| human(*s)).collect();
    for o in &offered {
        println!("   offered: {o}");
    }

    // 3. Draft the follow-up, then ask to send it (a person approves outbound mail).
    println!("3. Drafting the follow-up email in Gmail, offering both times.");
    let subject = format!("Following up: {deal_name}");
    let body = format!(
        "Hi {first},\n\nThanks for your interest. Could we talk for half an hour? Either of these works for me:\n\n- {}\n- {}\n\nJust reply with the one that suits you.\n\nBest regards,\nAlex",
        offered[0], offered[1]
    );
    let draft = call(
        mcp,
        "draft the email",
        "gmail_create_draft",
        json!({ "connection": gmail_conn, "to": email, "subject": subject, "text": body }),
    )
    .await?;
    let draft_id = text(&draft["id"], "the draft's id")?;
    println!("   Draft {draft_id} saved (not sent).");
    println!("4. Asking to send it: outbound mail waits for a person.");
    let sent = queued_then_done(
        data_dir,
        mcp,
        auto_approve,
        "send the email",
        "gmail_send_draft",
        json!({ "connection": gmail_conn, "draft_id": draft_id }),
    )
    .await?;
    println!(
        "   Sent to {email} (Gmail message {}).",
        sent.0["id"].as_str().unwrap_or("?")
    );

    // 5. Move the deal on.
    println!(
        "5. Moving the deal '{deal_name}' from {stage} to {}.",
        next.0
    );
    let moved = queued_then_done(
        data_dir,
        mcp,
        auto_approve,
        "move the deal stage",
        "hubspot_update_deal_stage",
        json!({ "connection": hubspot_conn, "deal_id": deal_id, "stage": next.0 }),
    )
    .await?;
    println!(
        "   The deal is now at {}.",
        moved.0["properties"]["dealstage"]
            .as_str()
            .unwrap_or(next.0)
    );

    // 6. Tell the team.
    println!("6. Posting a summary to Slack.");
    let summary = format!(
        "Followed up with {name} <{email}> on '{deal_name}': offered {} or {}; the deal moved to {}.",
        offered[0], offered[1], next.1
    );
    let posted = queued_then_done(
        data_dir,
        mcp,
        auto_approve,
        "post the summary",
        "slack_post_message",
        json!({ "connection": slack_conn, "channel": slack::GENERAL, "text": summary }),
    )
    .await?;
    println!(
        "   Posted to #general (ts {}).",
        posted.0["ts"].as_str().unwrap_or("?")
    );
    Ok([sent.1, moved.1, posted.1])
}

/// Starts `switchboard serve --sandbox` for the data dir unless a gateway already runs there
/// (which must then offer the sandbox providers). Returns the child it started.
async fn ensure_gateway(data_dir: &Path) -> Result<Option<tokio::process::Child>, ApiError> {
    if client::running_url(data_dir).is_ok() {
        let providers: Value = client::control_get(data_dir, "/providers").await?;
        if !providers.to_string().contains("\"hubspot-sandbox\"") {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "the gateway running for {} has no sandbox providers; stop it, or run the demo with another --data-dir (it starts `switchboard serve --sandbox` there)",
                    data_dir.display()
                ),
            ));
        }
        println!(
            "Joining the sandbox gateway already running for {}.",
            data_dir.display()
        );
        return Ok(None);
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ApiError::internal(format!(
            "cannot create the data dir {}: {e}",
            data_dir.display()
        ))
    })?;
    let log_path = data_dir.join("demo-gateway.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", log_path.display())))?;
    let exe = std::env::current_exe()
        .map_err(|e| ApiError::internal(format!("cannot find this program's path: {e}")))?;
    let mut child = tokio::process::Command::new(exe)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--sandbox"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            ApiError::internal(format!("cannot start `switchboard serve --sandbox`: {e}"))
        })?;
    println!("Starting a sandbox gateway for {} ...", data_dir.display());
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| ApiError::internal(format!("cannot build the HTTP client: {e}")))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(gateway_failed(&log_path, &format!("it exited ({status})")));
        }
        if let Ok(rt) = client::running_url(data_dir)
            && http
                .get(format!("{}/healthz", rt.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        {
            println!("Sandbox gateway running at {}.", rt.url);
            return Ok(Some(child));
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill().await;
            return Err(gateway_failed(
                &log_path,
                "it did not answer within 60 seconds",
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn gateway_failed(log: &PathBuf, why: &str) -> ApiError {
    let tail = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = tail
        .lines()
        .rev()
        .take(5)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    ApiError::new(
        ErrorCode::ProviderUnreachable,
        format!(
            "no sandbox gateway could start: {why}. Its last words ({}):\n{}",
            log.display(),
            tail.join("\n")
        ),
    )
}

/// Stops the gateway this demo started, gracefully (SIGTERM), as `serve` expects.
async fn stop_gateway(mut child: tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child
        .id()
        .and_then(|p| rustix::process::Pid::from_raw(p as i32))
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        if tokio::time::timeout(Duration::from_secs(15), child.wait())
            .await
            .is_ok()
        {
            println!("Stopped the sandbox gateway this demo started.");
            return;
        }
    }
    let _ = child.kill().await;
}

/// The id of a healthy connection of the provider holding the scopes, or a new one.
async fn connect(data_dir: &Path, need: &Need) -> Result<String, ApiError> {
    let existing: Vec<Value> = client::control_get(data_dir, "/connections").await?;
    let fits = existing.iter().find(|c| {
        c["provider"] == need.provider
            && c["status"] == "healthy"
            && need.scopes.iter().all(|s| {
                c["granted_scopes"]
                    .as_array()
                    .is_some_and(|g| g.iter().any(|x| x == s))
            })
    });
    if let Some(c) = fits {
        let id = text(&c["id"], "the connection id")?;
        println!("Using connection {id} ({}).", need.provider);
        return Ok(id);
    }
    let conn: Value = if need.provider.starts_with("hubspot") || need.provider.starts_with("slack")
    {
        let key = if need.provider.starts_with("hubspot") {
            hubspot::PRIVATE_APP_TOKEN
        } else {
            slack::BOT_TOKEN
        };
        client::control_post_json(data_dir, "/connections", json!({ "provider": need.provider, "label": need.label, "api_key": key, "scopes": need.scopes })).await?
    } else {
        oauth_consent(data_dir, need).await?
    };
    let id = text(&conn["id"], "the new connection's id")?;
    println!("Connected {} as {id}.", need.provider);
    Ok(id)
}

/// Connects a sandbox Google account: starts the OAuth flow, approves on the sandbox's consent
/// page as a person would in the browser, and waits for the gateway to finish.
async fn oauth_consent(data_dir: &Path, need: &Need) -> Result<Value, ApiError> {
    let started: Value = client::control_post_json(data_dir, "/connections/oauth", json!({ "provider": need.provider, "label": need.label, "scopes": need.scopes, "open_browser": false })).await?;
    let authorize = text(&started["authorize_url"], "the consent URL")?;
    let flow = text(&started["flow_id"], "the OAuth flow id")?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| ApiError::internal(format!("cannot build the HTTP client: {e}")))?;
    let fail = |e: String| {
        ApiError::new(
            ErrorCode::ProviderUnreachable,
            format!("the sandbox consent for {} failed: {e}", need.provider),
        )
    };
    let html = http
        .get(&authorize)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?
        .text()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let request = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| fail("the consent page has no request to approve".into()))?;
    let decision_path = if need.provider.starts_with("gmail") {
        gmail::DECISION_PATH
    } else {
        gcal::DECISION_PATH
    };
    let decide = reqwest::Url::parse(&authorize)
        .and_then(|u| u.join(decision_path))
        .map_err(|e| fail(e.to_string()))?;
    let resp = http
        .post(decide)
        .form(&[("request", request), ("decision", "approve")])
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!(
            "the loopback callback answered HTTP {}",
            resp.status()
        )));
    }
    let done: Value = client::control_get(
        data_dir,
        &format!(
            "/connections/oauth/{}?wait=10",
            client::encode_segment(&flow)
        ),
    )
    .await?;
    if done["status"] != "connected" {
        return Err(fail(format!("the flow ended as {}", done["status"])));
    }
    Ok(done["connection"].clone())
}

/// Adds the demo agent (or, when that name is taken from an earlier run, revokes the old one and
/// adds `demo-agent-N`) and returns its name and token.
async fn add_agent(data_dir: &Path) -> Result<(String, String), ApiError> {
    for n in 1..=100 {
        let name = if n == 1 {
            AGENT.to_string()
        } else {
            format!("{AGENT}-{n}")
        };
        match client::control_post_json::<Value>(data_dir, "/agents", json!({ "name": name })).await
        {
            Ok(a) => return Ok((name, text(&a["token"], "the agent token")?)),
            Err(e) if e.code == ErrorCode::Conflict => {
                let _: Result<Value, _> = client::control_delete(
                    data_dir,
                    &format!("/agents/{}", client::encode_segment(&name)),
                )
                .await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        format!("agent names {AGENT} to {AGENT}-100 are all taken; use a fresh --data-dir"),
    ))
}

/// Calls a tool; a refusal or failure ends the demo, naming the step.
async fn call(mcp: &Session, step: &str, tool: &str, args: Value) -> Result<Value, ApiError> {
    let r = call_raw(mcp, step, tool, args).await?;
    let body = structured(&r);
    if r.is_error == Some(true) {
        let code = serde_json::from_value(body["code"].clone()).unwrap_or(ErrorCode::ProviderError);
        return Err(ApiError::new(
            code,
            format!(
                "could not {step}: {tool} was refused: {}",
                body["message"].as_str().unwrap_or("no reason given")
            ),
        ));
    }
    Ok(body)
}

async fn call_raw(
    mcp: &Session,
    step: &str,
    tool: &str,
    args: Value,
) -> Result<CallToolResult, ApiError> {
    let Value::Object(args) = args else {
        return Err(ApiError::internal("tool arguments must be an object"));
    };
    mcp.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .map_err(|e| {
            ApiError::new(
                ErrorCode::ProviderUnreachable,
                format!("could not {step}: the gateway did not answer {tool}: {e}"),
            )
        })
}

fn structured(r: &CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

/// Calls an outbound tool, which waits for a person: prints the approval id, approves it with
/// `--auto-approve`, and follows `approval_status` until it has run. Returns the provider's
/// answer and the approval id.
async fn queued_then_done(
    data_dir: &Path,
    mcp: &Session,
    auto_approve: bool,
    step: &str,
    tool: &str,
    args: Value,
) -> Result<(Value, String), ApiError> {
    let body = call(mcp, step, tool, args).await?;
    if body["state"] != "pending_approval" {
        // An auto-send policy let it go at once.
        println!("   It went without approval (an auto-send policy covers it).");
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "could not {step}: {tool} ran without an approval, so the demo cannot show the queue; remove the auto-send policy that covers it"
            ),
        ));
    }
    let id = text(&body["approval_id"], "the approval id")?;
    println!(
        "   Queued as approval {id}; waiting for a person: switchboard approvals approve {id}"
    );
    if auto_approve {
        let _: Value = client::control_post_json(
            data_dir,
            &format!("/approvals/{}/approve", client::encode_segment(&id)),
            json!({}),
        )
        .await?;
        println!("   Approved {id} (--auto-approve, through the control API).");
    }
    let deadline = tokio::time::Instant::now() + APPROVAL_WAIT;
    loop {
        let status = call(mcp, step, "approval_status", json!({ "approval_id": id })).await?;
        match status["status"].as_str().unwrap_or("") {
            "executed" => return Ok((status["result"].clone(), id)),
            "rejected" => {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "could not {step}: a person rejected {id}: {}",
                        status["reason"].as_str().unwrap_or("no reason given")
                    ),
                ));
            }
            "expired" => {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("could not {step}: approval {id} expired before anyone decided"),
                ));
            }
            "failed" => {
                return Err(ApiError::new(
                    ErrorCode::ProviderError,
                    format!(
                        "could not {step}: approval {id} was approved but the provider refused it: {}",
                        status["error"]
                    ),
                ));
            }
            "needs_confirmation" => {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!(
                        "could not {step}: whether {id} went out is unknown; settle it with `switchboard approvals confirm {id}`"
                    ),
                ));
            }
            _ => {}
        }
        if tokio::time::Instant::now() > deadline {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("could not {step}: nobody decided on {id} within 30 minutes"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn text(v: &Value, what: &str) -> Result<String, ApiError> {
    match v {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(ApiError::new(
            ErrorCode::ProviderError,
            format!("{what} is missing from the answer (got {other})"),
        )),
    }
}

fn rfc3339(t: OffsetDateTime) -> Result<String, ApiError> {
    t.format(&Rfc3339)
        .map_err(|e| ApiError::internal(format!("formatting a time: {e}")))
}

fn human(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:long] [day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
    );
    t.format(&f).unwrap_or_else(|_| t.to_string())
}

/// The first two half-hour slots on the half hour between `open` and `close` that overlap no
/// busy interval of any calendar in a free/busy answer.
fn free_slots(
    answer: &Value,
    open: OffsetDateTime,
    close: OffsetDateTime,
) -> Result<Vec<OffsetDateTime>, ApiError> {
    let mut busy = Vec::new();
    let calendars = answer["calendars"].as_object().ok_or_else(|| {
        ApiError::new(
            ErrorCode::ProviderError,
            format!("the free/busy answer lists no calendars: {answer}"),
        )
    })?;
    for (cal, v) in calendars {
        for b in v["busy"].as_array().into_iter().flatten() {
            let parse = |k: &str| {
                b[k].as_str()
                    .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                    .ok_or_else(|| {
                        ApiError::new(
                            ErrorCode::ProviderError,
                            format!(
                                "calendar {cal} has a busy interval without a readable {k}: {b}"
                            ),
                        )
                    })
            };
            busy.push((parse("start")?, parse("end")?));
        }
    }
    let half = time::Duration::minutes(30);
    let mut slots = Vec::new();
    let mut t = open;
    while t + half <= close && slots.len() < 2 {
        if busy.iter().all(|(s, e)| t + half <= *s || t >= *e) {
            slots.push(t);
        }
        t += half;
    }
    if slots.len() < 2 {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "the calendar has fewer than two free half hours tomorrow between 09:00 and 17:00 UTC",
        ));
    }
    Ok(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &Rfc3339).expect("time")
    }

    #[test]
    fn free_slots_skip_every_busy_interval() {
        let answer = json!({ "calendars": {
            "primary": { "busy": [{ "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T10:15:00Z" }] },
            "team": { "busy": [{ "start": "2026-03-02T10:30:00Z", "end": "2026-03-02T11:00:00Z" }] },
        }});
        let slots = free_slots(
            &answer,
            at("2026-03-02T09:00:00Z"),
            at("2026-03-02T17:00:00Z"),
        )
        .expect("two slots");
        assert_eq!(
            slots,
            vec![at("2026-03-02T11:00:00Z"), at("2026-03-02T11:30:00Z")],
            "10:00-10:30 overlaps the first meeting and 10:30 the second"
        );
    }

    #[test]
    fn a_full_day_is_a_clear_error() {
        let answer = json!({ "calendars": { "primary": { "busy": [{ "start": "2026-03-02T09:00:00Z", "end": "2026-03-02T16:45:00Z" }] } } });
        let err = free_slots(
            &answer,
            at("2026-03-02T09:00:00Z"),
            at("2026-03-02T17:00:00Z"),
        )
        .expect_err("one half hour is not two");
        assert!(
            err.message.contains("fewer than two free half hours"),
            "{}",
            err.message
        );
    }
}
