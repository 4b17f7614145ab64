//! Journey: an agent that launches MCP servers as commands runs `switchboard mcp --token-env
//! VAR`, which bridges stdio to the running gateway's `/mcp`. Driven by an independent rmcp
//! client spawning the real binary; the gateway, keychain, SQLite and sandbox are real.

use reqwest::Method;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use rmcp::service::NotificationContext;
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::json;
use switchboard_tests::{Gateway, switchboard_bin};

const TOKEN: &str = "pat-sandbox-na1-00000000-0000-4000-8000-000000000001";

/// An MCP client that counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
struct Watcher(Arc<tokio::sync::Notify>);

impl ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.0.notify_one();
    }
}

fn bridge(data_dir: &std::path::Path, token: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(switchboard_bin());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(["mcp", "--token-env", "SB_TEST_AGENT_TOKEN"])
        .env("SB_TEST_AGENT_TOKEN", token);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reaches_its_tools_through_the_stdio_bridge() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let gw = Gateway::start_sandbox(&data).await;
    let (status, conn) = gw
        .control(
            Method::POST,
            "/connections",
            Some(json!({ "provider": "hubspot-sandbox", "api_key": TOKEN })),
        )
        .await;
    assert_eq!(status, 200, "connecting the sandbox HubSpot failed: {conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let (_, agent) = gw
        .control(Method::POST, "/agents", Some(json!({ "name": "desk-bot" })))
        .await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let (status, g) = gw
        .control(
            Method::POST,
            "/grants",
            Some(json!({ "agent": "desk-bot", "connection": conn_id, "tier": "read" })),
        )
        .await;
    assert_eq!(status, 200, "granting read failed: {g}");

    let transport = TokioChildProcess::new(bridge(&data, &token)).expect("spawn switchboard mcp");
    let watcher = Watcher::default();
    let changed = watcher.0.clone();
    let client = watcher
        .serve(transport)
        .await
        .expect("the stdio bridge did not complete initialize");
    let info = client
        .peer_info()
        .expect("the bridge answered initialize with server info");
    assert!(
        info.capabilities.tools.is_some(),
        "the bridge does not offer tools: {info:?}"
    );

    let tools = client
        .list_all_tools()
        .await
        .expect("tools/list through the bridge");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"hubspot_list_contacts"),
        "the agent's read tool is missing through stdio: {names:?}"
    );
    assert!(
        !names.contains(&"hubspot_create_contact"),
        "a write tool shows without a write grant: {names:?}"
    );

    let args = json!({ "limit": 3 }).as_object().cloned().expect("object");
    let result = client
        .call_tool(CallToolRequestParams::new("hubspot_list_contacts").with_arguments(args))
        .await
        .expect("tools/call through the bridge");
    assert_ne!(
        result.is_error,
        Some(true),
        "the read failed through stdio: {result:?}"
    );
    let body = result
        .structured_content
        .clone()
        .expect("the read returned structured data");
    assert_eq!(
        body["results"].as_array().map(Vec::len),
        Some(3),
        "three sandbox contacts were asked for: {body}"
    );
    assert!(
        body["results"][0]["id"].is_string(),
        "the sandbox contacts have no ids: {body}"
    );

    // A person grants more: the gateway's tools/list_changed reaches the agent through stdio.
    let (status, g) = gw
        .control(
            Method::POST,
            "/grants",
            Some(json!({ "agent": "desk-bot", "connection": conn_id, "tier": "write" })),
        )
        .await;
    assert_eq!(status, 200, "granting write failed: {g}");
    let notified = tokio::time::timeout(Duration::from_secs(10), changed.notified()).await;
    assert!(
        notified.is_ok(),
        "no tools/list_changed reached the agent through the stdio bridge within 10 s of a new grant"
    );
    let after = client
        .list_all_tools()
        .await
        .expect("tools/list after the grant");
    assert!(
        after.len() > tools.len(),
        "the tool list did not grow after a write grant: {} then {}",
        tools.len(),
        after.len()
    );

    client.cancel().await.expect("close the bridge");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_or_no_gateway_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");

    // No gateway for this data dir: exit 1 saying how to start one.
    let out = bridge(&data, "sb_agent_whatever")
        .output()
        .await
        .expect("run switchboard mcp");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "with no gateway the bridge must exit 1: {err}"
    );
    assert!(
        err.contains("switchboard serve") && err.contains("desktop app"),
        "the error does not say how to start a gateway: {err}"
    );

    let gw = Gateway::start_sandbox(&data).await;
    let out = bridge(&data, "sb_agent_not-a-real-token")
        .output()
        .await
        .expect("run switchboard mcp");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a wrong token must exit 1: {err}"
    );
    assert!(
        err.contains("refused the agent token"),
        "the error does not say the token was refused: {err}"
    );
    assert!(
        !err.contains("not-a-real-token"),
        "the error echoes the token: {err}"
    );

    // The token comes from the environment only.
    let mut cmd = tokio::process::Command::new(switchboard_bin());
    let out = cmd
        .arg("--data-dir")
        .arg(&data)
        .args(["mcp", "--token-env", "SB_TEST_UNSET_VAR"])
        .env_remove("SB_TEST_UNSET_VAR")
        .output()
        .await
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unset token variable must exit 1: {err}"
    );
    assert!(
        err.contains("SB_TEST_UNSET_VAR is not set"),
        "the error does not name the unset variable: {err}"
    );
    gw.stop().await;
}
