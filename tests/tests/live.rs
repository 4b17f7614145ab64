//! Journey: live updates and the Audit timeline over real HTTP. A browser-like client holds the
//! control API's Server-Sent Events stream open while an agent drafts a Slack message: the stream
//! announces the draft with the new pending count, then its approval and its send; pausing is
//! announced too, and a gateway stop ends the stream. A grant that lapses is announced when it
//! lapses, with no person acting. The audit list narrows by agent,
//! connection, tier, outcome and time, and refuses bad filters clearly; the export streams every
//! row with its count. Real keychain, real SQLite, the simulated Slack over loopback.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::slack::{BOT_TOKEN, CUSTOMER_FEEDBACK};
use switchboard_core::{Clock, SystemClock};
use switchboard_tests::{Gateway, client};

/// An open `GET /live` stream, read event by event.
struct Live {
    resp: reqwest::Response,
    buf: String,
}

impl Live {
    async fn open(gw: &Gateway) -> Self {
        let resp = client()
            .get(format!("{}/api/control/v1/live", gw.url))
            .bearer_auth(gw.control_token())
            .send()
            .await
            .expect("the gateway answers the live stream");
        assert_eq!(
            resp.status(),
            200,
            "the live stream should open for the control token"
        );
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            ctype.starts_with("text/event-stream"),
            "the live stream should be Server-Sent Events, got {ctype}"
        );
        let mut live = Self {
            resp,
            buf: String::new(),
        };
        let (name, _) = live
            .next(Duration::from_secs(5))
            .await
            .expect("the stream should say it is ready at once");
        assert_eq!(name, "ready", "the first event should be `ready`");
        live
    }

    /// The next `(event name, JSON data)`, skipping keep-alive comments; `None` when the stream
    /// ended or nothing came within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<(String, Value)> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Some((
                    name,
                    serde_json::from_str(&data).expect("each live event's data is JSON"),
                ));
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    /// Reads until an event satisfies `want`, failing with `what` after 20 s.
    async fn until(&mut self, what: &str, want: impl Fn(&str, &Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.next(left).await {
                Some((name, data)) if want(&name, &data) => return data,
                Some((name, data)) => seen.push(format!("{name} {data}")),
                None => break,
            }
        }
        panic!("the live stream never announced {what}; it sent: {seen:#?}");
    }
}

/// Connects the simulated Slack with its bot token; returns the connection id.
async fn connect_slack(gw: &Gateway) -> String {
    let (status, conn) = gw
        .control(
            Method::POST,
            "/connections",
            Some(json!({ "provider": "slack-sandbox", "label": "Acme", "api_key": BOT_TOKEN })),
        )
        .await;
    assert_eq!(status, 200, "connecting the Slack sandbox should work: {conn}");
    conn["id"].as_str().expect("connection id").to_string()
}

async fn rows(gw: &Gateway, query: &str) -> Vec<Value> {
    let (status, page) = gw
        .control(Method::GET, &format!("/audit?{query}"), None)
        .await;
    assert_eq!(status, 200, "the audit list should accept {query}: {page}");
    page["rows"].as_array().expect("rows").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_stream_announces_drafts_decisions_and_sends_and_the_audit_list_filters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;

    // Without credentials the stream is refused like every control route.
    let resp = client()
        .get(format!("{}/api/control/v1/live", gw.url))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        resp.status(),
        401,
        "the live stream must need the control token or a session"
    );

    let conn_id = connect_slack(&gw).await;
    gw.control(
        Method::PUT,
        &format!("/connections/{conn_id}/scopes"),
        Some(json!({ "scopes": ["channels:read", "channels:history", "chat:write"] })),
    )
    .await;
    let (_, agent) = gw
        .control(
            Method::POST,
            "/agents",
            Some(json!({ "name": "feedback-bot" })),
        )
        .await;
    let token = agent["token"].as_str().expect("agent token").to_string();

    let mut live = Live::open(&gw).await;
    let (status, g) = gw
        .control(
            Method::POST,
            "/grants",
            Some(json!({ "agent": "feedback-bot", "connection": conn_id, "tier": "write" })),
        )
        .await;
    assert_eq!(status, 200, "{g}");
    live.until("the grant change", |n, d| {
        n == "grants" && d["agent"] == "feedback-bot"
    })
    .await;

    // The agent's draft is announced with the new pending count.
    let body = json!({ "input": { "channel": CUSTOMER_FEEDBACK, "text": "Thanks Grace, the export fix ships Friday." } });
    let (status, queued) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/slack_post_message",
            Some(body),
        )
        .await;
    assert_eq!(
        status, 202,
        "an outbound message must wait for approval: {queued}"
    );
    let approval = queued["approval_id"]
        .as_str()
        .expect("approval id")
        .to_string();
    let created = live
        .until("the new draft", |n, d| {
            n == "approval" && d["change"] == "created"
        })
        .await;
    assert_eq!(
        created["approval_id"],
        approval.as_str(),
        "the event should name the agent's draft: {created}"
    );
    assert_eq!(
        created["pending"], 1,
        "one draft waits after the agent's call: {created}"
    );
    let audit = live
        .until("the draft's audit row", |n, _| n == "audit")
        .await;
    assert!(
        audit["seq"].as_i64().unwrap_or(0) > 0,
        "the audit event should carry the newest row's id: {audit}"
    );

    // Approving it is announced as decided, then executed, with nothing left waiting.
    let (status, approved) = gw
        .control(
            Method::POST,
            &format!("/approvals/{approval}/approve"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    let decided = live
        .until("the approval", |n, d| {
            n == "approval" && d["change"] == "decided"
        })
        .await;
    assert_eq!(
        (decided["approval_id"].as_str(), decided["pending"].as_u64()),
        (Some(approval.as_str()), Some(0)),
        "{decided}"
    );
    let executed = live
        .until("the send", |n, d| {
            n == "approval" && d["change"] == "executed"
        })
        .await;
    assert_eq!(executed["approval_id"], approval.as_str(), "{executed}");
    live.until("the connection's pacing change", |n, d| {
        n == "rate_limit" && d["connection"] == conn_id.as_str()
    })
    .await;
    assert_eq!(
        gw.settled_approval(&approval).await["status"],
        "executed",
        "the approved draft should have been sent"
    );

    // Pausing is announced.
    let (status, _) = gw.control_post("/pause").await;
    assert_eq!(status, 200);
    live.until("the pause", |n, d| n == "pause" && d["paused"] == true)
        .await;
    gw.control_post("/resume").await;
    live.until("the resume", |n, d| n == "pause" && d["paused"] == false)
        .await;

    // The audit list narrows by agent, connection, tier, outcome and time.
    let by_agent = rows(&gw, "agent=feedback-bot&limit=500").await;
    assert!(!by_agent.is_empty(), "the agent's rows should be found");
    assert!(
        by_agent
            .iter()
            .all(|r| r["actor_kind"] == "agent" && r["actor_id"] == "feedback-bot"),
        "agent= should keep only that agent's rows: {by_agent:#?}"
    );
    let held = rows(
        &gw,
        &format!("agent=feedback-bot&connection={conn_id}&tier=write&outcome=pending_approval"),
    )
    .await;
    assert_eq!(
        held.len(),
        1,
        "exactly one of the agent's write calls on the connection was held: {held:#?}"
    );
    assert_eq!(
        held[0]["summary"]["approval_id"],
        approval.as_str(),
        "the held row belongs to the draft"
    );
    let everything = rows(&gw, "limit=500").await;
    let by_conn = rows(&gw, &format!("connection={conn_id}&limit=500")).await;
    assert!(
        by_conn
            .iter()
            .all(|r| r["connection_id"] == conn_id.as_str()),
        "connection= should keep only that connection's rows"
    );
    assert!(
        by_conn.len() < everything.len(),
        "connection= should leave out the gateway's own rows"
    );
    let reads = rows(&gw, "tier=read&limit=500").await;
    assert!(
        reads.iter().all(|r| r["tier"] == "read"),
        "tier=read should keep only read rows: {reads:#?}"
    );
    let future = everything[0]["ts_ms"].as_i64().expect("ts") + 60_000;
    assert!(
        rows(&gw, &format!("since_ms={future}")).await.is_empty(),
        "nothing happened after a time in the future"
    );
    let all_until_now = rows(&gw, &format!("until_ms={future}&limit=500")).await;
    assert_eq!(
        all_until_now.len(),
        everything.len(),
        "until a time in the future is every row"
    );
    let searched = rows(&gw, "text=slack_post_message&outcome=pending_approval").await;
    assert_eq!(
        searched.len(),
        1,
        "text search and filters combine: {searched:#?}"
    );
    for (bad, needle) in [("tier=admin", "tier"), ("since_ms=yesterday", "since_ms")] {
        let (status, body) = gw
            .control(Method::GET, &format!("/audit?{bad}"), None)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{bad} should be refused: {body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains(needle),
            "the refusal of {bad} should name {needle}: {body}"
        );
    }

    // The export streams every row and says how many.
    let resp = client()
        .get(format!(
            "{}/api/control/v1/audit/export?format=jsonl",
            gw.url
        ))
        .bearer_auth(gw.control_token())
        .send()
        .await
        .expect("export");
    assert_eq!(resp.status(), 200);
    let promised: usize = resp
        .headers()
        .get("x-audit-rows")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("the export says how many rows it holds");
    let text = resp.text().await.expect("export body");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each export line is a JSON row"))
        .collect();
    assert!(
        lines.len() >= promised && promised > 0,
        "the export should hold at least the {promised} rows it announced, got {}",
        lines.len()
    );
    assert!(
        lines.windows(2).all(|w| w[0]["hash"] == w[1]["prev_hash"]),
        "exported rows should chain oldest first"
    );

    // Stopping the gateway ends the stream instead of hanging the shutdown.
    let stopped = tokio::time::timeout(Duration::from_secs(20), gw.stop()).await;
    assert!(
        stopped.is_ok(),
        "the gateway should stop within 20 s with a live stream open"
    );
    // Events announced before the stop may still be buffered; after them the stream ends.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        // A stream that stays open makes this wait past the outer 5 s.
        while live.next(Duration::from_secs(30)).await.is_some() {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the live stream should end when the gateway stops"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_that_lapses_is_announced_on_the_live_stream() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let conn_id = connect_slack(&gw).await;
    let (status, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "temp-bot" }))).await;
    assert_eq!(status, 200, "{agent}");

    let mut live = Live::open(&gw).await;
    let expires_at_ms = gw.grant_expiring("temp-bot", &conn_id, "read", 2_000).await;
    live.until("the grant being set", |n, d| n == "grants" && d["agent"] == "temp-bot").await;
    live.until("the grant lapsing", |n, d| n == "grants" && d["agent"] == "temp-bot").await;
    assert!(
        SystemClock.now_ms() >= expires_at_ms,
        "a second grants event came before the grant lapsed, so it announced something else"
    );
    let (_, grants) = gw.control(Method::GET, "/grants?agent=temp-bot", None).await;
    assert_eq!(
        grants[0]["expired"], true,
        "once announced, the grant should read as expired: {grants}"
    );
    gw.stop().await;
}
