//! Journey: `switchboard demo lead-follow-up --auto-approve`, the built binary, as a person runs
//! it. Against a sandbox gateway already running for a fresh data dir, the demo joins it,
//! connects the simulated HubSpot, Google Calendar, Gmail and Slack, and its scripted agent
//! follows up the newest lead over `/mcp`. Another agent, granted read only, then checks the
//! effects at the sandbox: exactly one email sent to the lead offering the two times the demo
//! narrated, the lead's deal one stage on, one summary in Slack; the printed audit chain holds
//! each action queued, approved and run. With no gateway running, the demo starts
//! `switchboard serve --sandbox` itself and stops it again; a gateway without the sandbox
//! providers is a clear refusal (exit 1).
//!
//! Real keychain, real SQLite, real HTTP over loopback; nothing calls a real provider.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::hubspot::{NEW_LEAD_DEAL, NEW_LEAD_EMAIL};
use switchboard_sandbox::slack::GENERAL;
use switchboard_tests::{Gateway, switchboard_bin};

async fn demo(data_dir: &std::path::Path) -> (bool, String, String) {
    let out = tokio::process::Command::new(switchboard_bin())
        .arg("--data-dir")
        .arg(data_dir)
        .args(["demo", "lead-follow-up", "--auto-approve"])
        .output()
        .await
        .expect("the switchboard binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn connection(conns: &Value, provider: &str) -> String {
    let found: Vec<&Value> = conns
        .as_array()
        .expect("connections")
        .iter()
        .filter(|c| c["provider"] == provider)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "the demo should connect {provider} exactly once: {conns}"
    );
    found[0]["id"].as_str().expect("connection id").to_string()
}

/// Every base64url body in a Gmail message payload, decoded and joined.
fn body_text(payload: &Value) -> String {
    let mut out = String::new();
    if let Some(data) = payload["body"]["data"].as_str() {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(data.trim_end_matches('='))
            .expect("a base64url body");
        out.push_str(&String::from_utf8_lossy(&bytes));
    }
    for part in payload["parts"].as_array().into_iter().flatten() {
        out.push_str(&body_text(part));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_follows_up_the_newest_lead_through_the_approval_queue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let gw = Gateway::start_sandbox(&data).await;

    let (ok, stdout, stderr) = demo(&data).await;
    assert!(
        ok,
        "the demo should finish (exit 0) against a running sandbox gateway:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("Joining the sandbox gateway"),
        "it joins the running gateway instead of starting another:\n{stdout}"
    );
    let offered: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("offered: ").map(str::to_string))
        .collect();
    assert_eq!(
        offered.len(),
        2,
        "the demo narrates the two times it offers:\n{stdout}"
    );
    let approvals: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Queued as approval "))
        .filter_map(|l| l.split(';').next())
        .collect();
    assert_eq!(
        approvals.len(),
        3,
        "the email, the deal move and the Slack post each wait for a person:\n{stdout}"
    );
    assert!(
        stdout.contains("waiting for a person: switchboard approvals approve apr_"),
        "it tells a person how to approve:\n{stdout}"
    );

    // The printed chain: each action queued for the agent, approved by a person, then run.
    let chain = stdout
        .split("Audit chain of the run's actions:")
        .nth(1)
        .unwrap_or_else(|| panic!("the demo ends with the audit chain:\n{stdout}"));
    for tool in [
        "gmail.send_draft",
        "hubspot.update_deal_stage",
        "slack.post_message",
    ] {
        for step in [
            format!("agent:demo-agent {tool} decision=queue outcome=pending_approval"),
            format!("agent:demo-agent {tool} decision=none outcome=ok"),
        ] {
            assert!(
                chain.contains(&step),
                "the chain should show '{step}':\n{chain}"
            );
        }
    }
    assert_eq!(
        chain
            .matches("approval.approved decision=none outcome=approved")
            .count(),
        3,
        "three approvals in the chain:\n{chain}"
    );
    for id in &approvals {
        let (status, a) = gw
            .control(Method::GET, &format!("/approvals/{id}"), None)
            .await;
        assert_eq!(
            (status, a["status"].as_str()),
            (200, Some("executed")),
            "approval {id} should have run: {a}"
        );
    }

    // The demo agent holds exactly the workflow's tools.
    let (_, grants) = gw
        .control(Method::GET, "/grants?agent=demo-agent", None)
        .await;
    let mut tools: Vec<String> = grants
        .as_array()
        .expect("grants")
        .iter()
        .filter(|g| g["agent"] == "demo-agent")
        .flat_map(|g| {
            g["actions"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| panic!("every demo grant is narrowed to tools: {g}"))
        })
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    tools.sort();
    assert_eq!(
        tools,
        [
            "gmail_create_draft",
            "gmail_send_draft",
            "google-calendar_free_busy",
            "hubspot_search_contacts",
            "hubspot_search_deals",
            "hubspot_update_deal_stage",
            "slack_post_message"
        ],
        "the demo agent should hold only what the workflow needs: {grants}"
    );

    // The effects, as another agent with read grants sees them at the sandbox.
    let (_, conns) = gw.control(Method::GET, "/connections", None).await;
    let (gmail, hubspot, slack) = (
        connection(&conns, "gmail-sandbox"),
        connection(&conns, "hubspot-sandbox"),
        connection(&conns, "slack-sandbox"),
    );
    let (_, checker) = gw
        .control(Method::POST, "/agents", Some(json!({ "name": "checker" })))
        .await;
    let token = checker["token"]
        .as_str()
        .expect("checker token")
        .to_string();
    for conn in [&gmail, &hubspot, &slack] {
        let (status, g) = gw
            .control(
                Method::POST,
                "/grants",
                Some(json!({ "agent": "checker", "connection": conn, "tier": "read" })),
            )
            .await;
        assert_eq!(status, 200, "granting the checker read on {conn}: {g}");
    }
    let read = |tool: &str, connection: &str, input: Value| {
        let (gw, token, tool, connection) =
            (&gw, token.clone(), tool.to_string(), connection.to_string());
        async move {
            let (status, body) = gw
                .agent(
                    &token,
                    Method::POST,
                    &format!("/tools/{tool}"),
                    Some(json!({ "connection": connection, "input": input })),
                )
                .await;
            assert_eq!(status, 200, "{tool} should answer the checker: {body}");
            body["result"].clone()
        }
    };

    let found = read(
        "gmail_search_messages",
        &gmail,
        json!({ "q": format!("to:{NEW_LEAD_EMAIL}"), "max_results": 100 }),
    )
    .await;
    let mut offering = Vec::new();
    for m in found["messages"].as_array().into_iter().flatten() {
        let msg = read("gmail_get_message", &gmail, json!({ "id": m["id"] })).await;
        let text = body_text(&msg["payload"]);
        if offered.iter().all(|t| text.contains(t.as_str())) {
            offering.push(msg);
        }
    }
    assert_eq!(
        offering.len(),
        1,
        "exactly one email to the lead should offer {offered:?}; found {}",
        offering.len()
    );
    let labels = offering[0]["labelIds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        labels.contains(&json!("SENT")) && !labels.contains(&json!("DRAFT")),
        "the follow-up was sent, not left as a draft: {labels:?}"
    );

    let deal = read(
        "hubspot_get_deal",
        &hubspot,
        json!({ "deal_id": NEW_LEAD_DEAL }),
    )
    .await;
    assert_eq!(
        deal["properties"]["dealstage"], "qualifiedtobuy",
        "the lead's deal should have moved one stage on: {deal}"
    );

    let history = read(
        "slack_channel_history",
        &slack,
        json!({ "channel": GENERAL, "limit": 100 }),
    )
    .await;
    let posts: Vec<&Value> = history["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["text"]
                .as_str()
                .is_some_and(|t| t.contains(NEW_LEAD_EMAIL))
        })
        .collect();
    assert_eq!(
        posts.len(),
        1,
        "exactly one summary about the lead in #general: {history}"
    );
    assert!(
        offered.iter().all(|t| posts[0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains(t.as_str())),
        "the summary names the offered times: {}",
        posts[0]
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_gateway_the_demo_starts_one_and_stops_it_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let (ok, stdout, stderr) = demo(&data).await;
    assert!(
        ok,
        "the demo should start its own sandbox gateway and finish:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("Starting a sandbox gateway")
            && stdout.contains("Stopped the sandbox gateway this demo started"),
        "it says it started and stopped the gateway:\n{stdout}"
    );
    assert!(
        stdout.contains("Done: one email sent, one deal moved, one Slack post"),
        "the run completes:\n{stdout}"
    );
    assert!(
        !switchboard_api::datadir::is_locked(&data),
        "no gateway should be left running for the data dir"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_without_the_sandbox_is_a_clear_refusal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let gw = Gateway::start_with(&data, |_| {}).await;
    let (ok, stdout, stderr) = demo(&data).await;
    assert!(
        !ok,
        "the demo must not run against real providers:\n{stdout}"
    );
    assert!(
        stderr.contains("has no sandbox providers"),
        "the refusal says why: {stderr}"
    );
    let (_, conns) = gw.control(Method::GET, "/connections", None).await;
    assert_eq!(conns, json!([]), "nothing was connected: {conns}");
    gw.stop().await;
}
