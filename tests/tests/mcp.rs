//! Journey: agents plug in over MCP (Streamable HTTP at `/mcp`) with an independent MCP client
//! (rmcp). A person connects the simulated Slack and adds two agents: one may only read, one may
//! also write. The reader sees only reads (and the two built-ins every agent has), and its
//! attempt to post is a tool result carrying `not_granted`, not a protocol error. The writer's
//! post waits in the approval queue (a tool result with the approval id); a person approves it
//! through the control API, it is posted exactly once, and `approval_status` reports it executed
//! with Slack's answer. Recent events of a readable connection are a resource. A session learns
//! of a new grant through `notifications/tools/list_changed`, on both the session protocol
//! (2025-11-25) and the sessionless one (2026-07-28), and of a grant that lapses the same way.
//!
//! The edge: a foreign `Origin` is refused (403), no token or a wrong, revoked or control token
//! is 401 with `{code, message}`, an agent token on the control API is 403, and a session id
//! opened by one agent is refused to another.
//!
//! Real keychain, real SQLite, real HTTP over loopback to the gateway and the Slack sandbox.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, ProtocolVersion,
    ReadResourceRequestParams, ResourceContents, SubscriptionFilter, Tool,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, RoleClient};
use serde_json::{Value, json};
use switchboard_sandbox::slack::{BOT_TOKEN, GENERAL};
use switchboard_core::{Clock, SystemClock};
use switchboard_tests::{Gateway, client};
use tokio::sync::Notify;

/// A client that counts `notifications/tools/list_changed` it is sent.
#[derive(Clone, Default)]
struct Watcher {
    changed: Arc<Notify>,
}

impl ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changed.notify_one();
    }
}

fn transport(gw: &Gateway, token: &str) -> StreamableHttpClientTransport<reqwest::Client> {
    StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", gw.url)).auth_header(token),
    )
}

/// An MCP session on the session protocol (`initialize`, 2025-11-25).
async fn session(gw: &Gateway, token: &str) -> RunningService<RoleClient, Watcher> {
    Watcher::default()
        .serve_with_lifecycle(transport(gw, token), ClientLifecycleMode::Initialize)
        .await
        .unwrap_or_else(|e| {
            panic!("an MCP client with a valid agent token should connect to /mcp: {e}")
        })
}

async fn call(c: &RunningService<RoleClient, Watcher>, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().expect("arguments are an object");
    c.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| {
            panic!("{tool} should answer with a tool result, not a protocol error: {e}")
        })
}

fn structured(r: &CallToolResult) -> Value {
    r.structured_content
        .clone()
        .unwrap_or_else(|| panic!("a tool result should carry structured content: {r:?}"))
}

fn names(tools: &[Tool]) -> Vec<String> {
    tools.iter().map(|t| t.name.to_string()).collect()
}

async fn connect_slack(gw: &Gateway) -> String {
    let scopes = [
        "channels:read",
        "channels:history",
        "users:read",
        "chat:write",
    ];
    let (status, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "label": "Acme", "api_key": BOT_TOKEN, "scopes": scopes }))).await;
    assert_eq!(
        status, 200,
        "connecting the Slack sandbox should work: {conn}"
    );
    conn["id"].as_str().expect("connection id").to_string()
}

async fn add_agent(gw: &Gateway, name: &str) -> String {
    let (status, agent) = gw
        .control(Method::POST, "/agents", Some(json!({ "name": name })))
        .await;
    assert_eq!(status, 200, "adding agent {name} should work: {agent}");
    agent["token"].as_str().expect("agent token").to_string()
}

async fn grant(gw: &Gateway, agent: &str, connection: &str, tier: &str) {
    let (status, g) = gw
        .control(
            Method::POST,
            "/grants",
            Some(json!({ "agent": agent, "connection": connection, "tier": tier })),
        )
        .await;
    assert_eq!(status, 200, "granting {tier} to {agent} should work: {g}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_their_tools_and_writes_wait_for_a_person() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let conn = connect_slack(&gw).await;
    let reader_token = add_agent(&gw, "reader").await;
    let writer_token = add_agent(&gw, "writer").await;
    grant(&gw, "reader", &conn, "read").await;
    grant(&gw, "writer", &conn, "read").await;
    grant(&gw, "writer", &conn, "write").await;

    // The read-only agent sees reads and the two built-ins, nothing that writes.
    let reader = session(&gw, &reader_token).await;
    let tools = reader.list_all_tools().await.expect("tools/list");
    let seen = names(&tools);
    assert!(
        seen.contains(&"slack_channel_history".to_string()),
        "a read grant shows Slack's reads: {seen:?}"
    );
    assert!(
        seen.contains(&"request_access".to_string())
            && seen.contains(&"approval_status".to_string()),
        "every agent can ask for access and follow drafts: {seen:?}"
    );
    assert!(
        !seen.contains(&"slack_post_message".to_string()),
        "a read-only agent must not see a write tool: {seen:?}"
    );
    for t in &tools {
        let a = t
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no annotations", t.name));
        assert_eq!(
            (a.read_only_hint, a.destructive_hint),
            (Some(true), Some(false)),
            "{} is offered to a read-only agent, so it must be marked read-only",
            t.name
        );
    }
    let history = tools
        .iter()
        .find(|t| t.name == "slack_channel_history")
        .expect("history tool");
    assert!(
        history.input_schema["properties"]["channel"]["description"].is_string(),
        "input fields keep their descriptions: {:?}",
        history.input_schema
    );
    let required = history
        .input_schema
        .get("required")
        .cloned()
        .unwrap_or(json!([]));
    assert!(
        !required
            .as_array()
            .expect("required list")
            .contains(&json!("connection")),
        "one Slack connection: the agent need not name it: {required}"
    );

    // A write it does not hold is a tool result with a code and the grant that would allow it.
    let denied = call(
        &reader,
        "slack_post_message",
        json!({ "channel": GENERAL, "text": "not allowed" }),
    )
    .await;
    assert_eq!(
        denied.is_error,
        Some(true),
        "a denial is an error result: {denied:?}"
    );
    let body = structured(&denied);
    assert_eq!(
        body["code"], "not_granted",
        "the denial carries a machine-readable code: {body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("switchboard grants set reader {conn} write")),
        "the denial names the grant that would allow it: {body}"
    );

    // The write-granted agent's post waits for a person.
    let writer = session(&gw, &writer_token).await;
    let writer_tools = names(&writer.list_all_tools().await.expect("tools/list"));
    assert!(
        writer_tools.contains(&"slack_post_message".to_string()),
        "a write grant shows the post tool: {writer_tools:?}"
    );
    let text = "MCP journey: the Q3 report is ready";
    let queued = call(
        &writer,
        "slack_post_message",
        json!({ "channel": GENERAL, "text": text }),
    )
    .await;
    assert_ne!(
        queued.is_error,
        Some(true),
        "a queued post is not an error: {queued:?}"
    );
    let body = structured(&queued);
    assert_eq!(
        body["state"], "pending_approval",
        "the post waits for a person: {body}"
    );
    let approval = body["approval_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a queued call names its approval: {body}"))
        .to_string();
    let status = structured(
        &call(
            &writer,
            "approval_status",
            json!({ "approval_id": approval }),
        )
        .await,
    );
    assert_eq!(
        status["status"], "pending",
        "nothing ran before a person approved: {status}"
    );

    let (st, approved) = gw
        .control(
            Method::POST,
            &format!("/approvals/{approval}/approve"),
            None,
        )
        .await;
    assert_eq!(st, 200, "a person approves the draft: {approved}");
    let settled = gw.settled_approval(&approval).await;
    assert_eq!(
        settled["status"], "executed",
        "the approved post ran: {settled}"
    );
    let status = structured(
        &call(
            &writer,
            "approval_status",
            json!({ "approval_id": approval }),
        )
        .await,
    );
    assert_eq!(
        status["status"], "executed",
        "approval_status reports it executed: {status}"
    );
    assert_eq!(
        status["result"]["ok"], true,
        "approval_status carries Slack's answer: {status}"
    );

    // Exactly once in the channel, seen through a read over MCP.
    let read = call(
        &reader,
        "slack_channel_history",
        json!({ "channel": GENERAL, "limit": 100 }),
    )
    .await;
    assert_ne!(read.is_error, Some(true), "a granted read runs: {read:?}");
    let messages = structured(&read)["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let posted = messages.iter().filter(|m| m["text"] == text).count();
    assert_eq!(
        posted, 1,
        "the approved post must reach Slack exactly once: {messages:?}"
    );

    // The connection's recent events are a resource for an agent that may read it.
    let resources = reader.list_all_resources().await.expect("resources/list");
    let uri = format!("switchboard://connections/{conn}/events");
    assert!(
        resources.iter().any(|r| r.uri == uri),
        "a readable connection's events are listed: {resources:?}"
    );
    let read = reader
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .expect("resources/read");
    let Some(ResourceContents::TextResourceContents { text, .. }) = read.contents.first() else {
        panic!("the events resource is JSON text: {read:?}")
    };
    let page: Value = serde_json::from_str(text).expect("the events resource is JSON");
    assert!(
        page["events"].is_array(),
        "the resource holds the connection's events: {page}"
    );
    let stranger = add_agent(&gw, "stranger").await;
    let outsider = session(&gw, &stranger).await;
    assert!(
        outsider
            .list_all_resources()
            .await
            .expect("resources/list")
            .is_empty(),
        "an agent without a grant sees no connection's events"
    );
    assert!(
        outsider
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .is_err(),
        "an agent without a read grant cannot read the events"
    );

    for c in [reader, writer, outsider] {
        let _ = c.cancel().await;
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_grant_reaches_connected_sessions_as_tools_list_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let conn = connect_slack(&gw).await;
    let token = add_agent(&gw, "grower").await;

    // Session protocol: the notification comes on the session's stream.
    let watcher = Watcher::default();
    let changed = watcher.changed.clone();
    let legacy = watcher
        .serve_with_lifecycle(transport(&gw, &token), ClientLifecycleMode::Initialize)
        .await
        .expect("session");
    assert_eq!(
        names(&legacy.list_all_tools().await.expect("tools/list")),
        vec!["request_access", "approval_status"],
        "a new agent holds nothing but the built-ins"
    );

    // Sessionless protocol: the client listens for list changes.
    let modern = ClientConfig::default()
        .serve_with_lifecycle(
            transport(&gw, &token),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("a 2026-07-28 client connects");
    let mut listening = modern
        .listen(SubscriptionFilter::builder().tools_list_changed().build())
        .await
        .expect("subscriptions/listen");

    // Let the session's stream open before the change.
    tokio::time::sleep(Duration::from_millis(300)).await;
    grant(&gw, "grower", &conn, "read").await;
    tokio::time::timeout(Duration::from_secs(10), changed.notified())
        .await
        .expect("a session should hear tools/list_changed after a grant");
    let next = tokio::time::timeout(Duration::from_secs(10), listening.next())
        .await
        .expect("a listener should hear of the grant in time");
    assert!(
        matches!(
            next,
            Ok(Some(
                rmcp::model::ServerNotification::ToolListChangedNotification(_)
            ))
        ),
        "a listener should get tools/list_changed after a grant: {next:?}"
    );
    let tools = names(&legacy.list_all_tools().await.expect("tools/list"));
    assert!(
        tools.contains(&"slack_channel_history".to_string()),
        "after the grant the reads are listed: {tools:?}"
    );
    let tools = names(&modern.list_all_tools().await.expect("tools/list"));
    assert!(
        tools.contains(&"slack_channel_history".to_string()),
        "a sessionless client lists the same tools: {tools:?}"
    );

    let _ = listening.cancel().await;
    let _ = legacy.cancel().await;
    let _ = modern.cancel().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_that_lapses_reaches_connected_sessions_as_tools_list_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let conn = connect_slack(&gw).await;
    let token = add_agent(&gw, "temp").await;
    let expires_at_ms = gw.grant_expiring("temp", &conn, "read", 2_000).await;

    let watcher = Watcher::default();
    let changed = watcher.changed.clone();
    let client = watcher
        .serve_with_lifecycle(transport(&gw, &token), ClientLifecycleMode::Initialize)
        .await
        .expect("session");
    let tools = names(&client.list_all_tools().await.expect("tools/list"));
    assert!(
        tools.contains(&"slack_channel_history".to_string()),
        "while the grant lasts its reads are listed: {tools:?}"
    );

    tokio::time::timeout(Duration::from_secs(15), changed.notified())
        .await
        .expect("a session should hear tools/list_changed when its grant lapses, with no person acting");
    assert!(
        SystemClock.now_ms() >= expires_at_ms,
        "tools/list_changed came before the grant lapsed, so it announced something else"
    );
    assert_eq!(
        names(&client.list_all_tools().await.expect("tools/list")),
        vec!["request_access", "approval_status"],
        "once the grant lapsed the agent should see only the built-ins"
    );
    let _ = client.cancel().await;
    gw.stop().await;
}

fn initialize_body() -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "journey", "version": "1" } } })
}

async fn post_mcp(
    gw: &Gateway,
    token: Option<&str>,
    origin: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = client()
        .post(format!("{}/mcp", gw.url))
        .header("accept", "application/json, text/event-stream")
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-11-25");
    }
    req.send().await.expect("the gateway answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_edge_refuses_foreign_origins_bad_tokens_and_borrowed_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let alice = add_agent(&gw, "alice").await;
    let bob = add_agent(&gw, "bob").await;

    let resp = post_mcp(
        &gw,
        Some(&alice),
        Some("http://evil.example"),
        None,
        &initialize_body(),
    )
    .await;
    assert_eq!(
        resp.status().as_u16(),
        403,
        "a foreign Origin must be refused (DNS rebinding)"
    );
    let own = format!(
        "http://127.0.0.1:{}",
        gw.url.rsplit(':').next().expect("port")
    );
    let resp = post_mcp(&gw, Some(&alice), Some(&own), None, &initialize_body()).await;
    assert_eq!(
        resp.status().as_u16(),
        200,
        "the gateway's own Origin is fine"
    );

    for (token, what) in [
        (None, "no token"),
        (Some("sb_agent_not-a-real-token"), "a wrong token"),
        (Some(gw.control_token()), "the control token"),
    ] {
        let resp = post_mcp(&gw, token, None, None, &initialize_body()).await;
        assert_eq!(
            resp.status().as_u16(),
            401,
            "{what} must be refused with 401"
        );
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(
            body["code"], "unauthorized",
            "{what}: the refusal is our {{code, message}}: {body}"
        );
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: the refusal says what to do: {body}"
        );
    }

    // An agent token is not a control credential.
    let (status, body) = {
        let resp = client()
            .get(format!("{}/api/control/v1/agents", gw.url))
            .bearer_auth(&alice)
            .send()
            .await
            .expect("answer");
        (
            resp.status().as_u16(),
            resp.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "an agent token must not open the control API: {body}"
    );

    // A session is bound to the agent that opened it.
    let resp = post_mcp(&gw, Some(&alice), None, None, &initialize_body()).await;
    assert_eq!(resp.status().as_u16(), 200, "alice opens a session");
    let sid = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("a session id")
        .to_string();
    assert!(
        sid.len() >= 32 && sid.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "session ids are long random visible ASCII: {sid}"
    );
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let resp = post_mcp(&gw, Some(&alice), None, Some(&sid), &initialized).await;
    assert!(
        resp.status().is_success(),
        "alice completes her handshake: {}",
        resp.status()
    );
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    let resp = post_mcp(&gw, Some(&bob), None, Some(&sid), &list).await;
    assert_eq!(
        resp.status().as_u16(),
        404,
        "bob must not use alice's session"
    );
    let resp = post_mcp(&gw, Some(&alice), None, Some(&sid), &list).await;
    assert_eq!(resp.status().as_u16(), 200, "alice keeps using her session");
    let text = resp.text().await.expect("body");
    assert!(
        text.contains("request_access"),
        "alice's session lists her tools: {text}"
    );

    // A revoked agent's token stops working on /mcp at once.
    let (status, _) = gw.control(Method::DELETE, "/agents/alice", None).await;
    assert_eq!(status, 200, "revoking alice works");
    let resp = post_mcp(&gw, Some(&alice), None, Some(&sid), &list).await;
    assert_eq!(
        resp.status().as_u16(),
        401,
        "a revoked token must be refused"
    );

    gw.stop().await;
}
