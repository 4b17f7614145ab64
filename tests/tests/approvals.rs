//! Journey: an agent's outbound Slack message waits for a person. The draft shows what will be
//! posted; a repeated request under the agent's client_request_id finds the same draft; the
//! approver edits it and the edited text is what Slack receives, once; a rejection reaches the
//! agent with its reason and posts nothing; while agents are paused an approved draft is held;
//! the audit rows of one action share its call id from decision to result. Real keychain, real
//! SQLite, real HTTP to the simulated Slack over loopback.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::slack::{BOT_TOKEN, CUSTOMER_FEEDBACK};
use switchboard_tests::Gateway;

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

async fn channel_texts(gw: &Gateway, token: &str) -> Vec<String> {
    let (status, body) = gw
        .agent(token, Method::POST, "/tools/slack_channel_history", Some(json!({ "input": { "channel": CUSTOMER_FEEDBACK, "limit": 200 } })))
        .await;
    assert_eq!(status, 200, "reading the channel should work: {body}");
    body["result"]["messages"].as_array().expect("messages").iter().filter_map(|m| m["text"].as_str().map(str::to_string)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_messages_wait_for_a_person_and_run_once_as_approved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let (status, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "label": "Acme", "api_key": BOT_TOKEN }))).await;
    assert_eq!(status, 200, "{conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let scopes = ["channels:read", "channels:history", "users:read", "chat:write"];
    gw.control(Method::PUT, &format!("/connections/{conn_id}/scopes"), Some(json!({ "scopes": scopes }))).await;
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "feedback-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let (_, other) = gw.control(Method::POST, "/agents", Some(json!({ "name": "other-bot" }))).await;
    let other_token = other["token"].as_str().expect("agent token").to_string();
    for tier in ["read", "write", "delete"] {
        let (status, g) = gw.control(Method::POST, "/grants", Some(json!({ "agent": "feedback-bot", "connection": conn_id, "tier": tier }))).await;
        assert_eq!(status, 200, "{g}");
    }
    let post = |text: &str, client_request_id: Option<&str>| {
        let mut body = json!({ "input": { "channel": CUSTOMER_FEEDBACK, "text": text } });
        if let Some(id) = client_request_id {
            body["client_request_id"] = id.into();
        }
        body
    };

    // The agent's post becomes a draft; nothing reaches Slack.
    let draft_text = "Thanks Grace, we are on the CSV export timeouts.";
    let (status, queued) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post(draft_text, Some("feedback-42")))).await;
    assert_eq!(status, 202, "an outbound message must wait for approval: {queued}");
    assert_eq!(queued["state"], "pending_approval", "{queued}");
    let approval = queued["approval_id"].as_str().expect("approval id").to_string();
    let call_id = queued["call_id"].as_str().expect("call id").to_string();
    assert!(!channel_texts(&gw, &token).await.contains(&draft_text.to_string()), "nothing may be posted before a person approves");

    // A retry under the same client_request_id finds the same draft; another input under it is refused.
    let (status, again) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post(draft_text, Some("feedback-42")))).await;
    assert_eq!((status, again["approval_id"].as_str()), (202, Some(approval.as_str())), "a retried request must not create a second draft: {again}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post("something else", Some("feedback-42")))).await;
    assert_eq!((status, code(&body)), (409, "conflict"), "reusing a client_request_id for another request must be refused: {body}");

    // The agent sees its own draft; another agent does not.
    let (status, st) = gw.agent(&token, Method::GET, &format!("/approvals/{approval}"), None).await;
    assert_eq!((status, st["status"].as_str()), (200, Some("pending")), "{st}");
    let (status, body) = gw.agent(&other_token, Method::GET, &format!("/approvals/{approval}"), None).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "another agent must not see this draft: {body}");

    // The approver sees it as a Slack message in its channel.
    let (_, count) = gw.control(Method::GET, "/approvals/count", None).await;
    assert_eq!(count["pending"], 1, "exactly one draft waits: {count}");
    let (status, shown) = gw.control(Method::GET, &format!("/approvals/{approval}"), None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["preview"]["kind"], "chat_message", "{shown}");
    assert_eq!(shown["preview"]["text"], draft_text, "the preview shows the message as it will be posted: {shown}");
    assert_eq!(shown["rule"], "default:outbound-queues", "the draft names the rule that held it: {shown}");

    // A broken edit is refused and the draft stays pending; a good edit is what Slack receives.
    let (status, body) = gw
        .control(Method::POST, &format!("/approvals/{approval}/approve"), Some(json!({ "edit": { "channel": CUSTOMER_FEEDBACK } })))
        .await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "an edit without text must be refused: {body}");
    let edited_text = "Thanks Grace, a fix for the CSV export timeouts ships Friday.";
    let (status, body) = gw
        .control(Method::POST, &format!("/approvals/{approval}/approve"), Some(json!({ "edit": { "channel": CUSTOMER_FEEDBACK, "text": edited_text } })))
        .await;
    assert_eq!(status, 200, "approving with an edit should work: {body}");
    assert!(body["decided_by"].as_str().is_some_and(|d| d.starts_with("cli")), "the approval records who decided: {body}");
    let settled = gw.settled_approval(&approval).await;
    assert_eq!(settled["status"], "executed", "the approved message should be posted: {settled}");
    let texts = channel_texts(&gw, &token).await;
    assert_eq!(texts.iter().filter(|t| *t == edited_text).count(), 1, "the edited message is posted exactly once: {texts:?}");
    assert!(!texts.contains(&draft_text.to_string()), "the agent's unedited text must not be posted");
    let (_, st) = gw.agent(&token, Method::GET, &format!("/approvals/{approval}"), None).await;
    assert_eq!((st["status"].as_str(), st["edited"].as_bool()), (Some("executed"), Some(true)), "{st}");
    assert!(st["result"]["ts"].as_str().is_some(), "the agent gets Slack's answer: {st}");
    let (status, body) = gw.control(Method::POST, &format!("/approvals/{approval}/approve"), None).await;
    assert_eq!((status, code(&body)), (409, "conflict"), "a decided draft cannot be approved again: {body}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post(draft_text, Some("feedback-42")))).await;
    assert_eq!((status, body["approval_id"].as_str()), (202, Some(approval.as_str())), "a late retry still names the same draft: {body}");
    assert_eq!(texts.len(), channel_texts(&gw, &token).await.len(), "a late retry must not post again");

    // A rejection reaches the agent with its reason; nothing is posted.
    let (_, queued) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post("We will refund everyone!", None))).await;
    let rejected = queued["approval_id"].as_str().expect("approval id").to_string();
    let (status, body) = gw.control(Method::POST, &format!("/approvals/{rejected}/reject"), Some(json!({ "reason": "  " }))).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "a rejection needs a reason: {body}");
    let (status, body) = gw.control(Method::POST, &format!("/approvals/{rejected}/reject"), Some(json!({ "reason": "We do not promise refunds in public." }))).await;
    assert_eq!(status, 200, "{body}");
    let (_, st) = gw.agent(&token, Method::GET, &format!("/approvals/{rejected}"), None).await;
    assert_eq!((st["status"].as_str(), st["reason"].as_str()), (Some("rejected"), Some("We do not promise refunds in public.")), "{st}");
    assert!(!channel_texts(&gw, &token).await.contains(&"We will refund everyone!".to_string()), "a rejected draft must not be posted");

    // While agents are paused an approved draft is held; it goes out after resume.
    let (_, queued) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(post("Held while paused.", None))).await;
    let held = queued["approval_id"].as_str().expect("approval id").to_string();
    gw.control(Method::POST, "/pause", None).await;
    let (status, body) = gw.control(Method::POST, &format!("/approvals/{held}/approve"), None).await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, shown) = gw.control(Method::GET, &format!("/approvals/{held}"), None).await;
    assert_eq!(shown["status"], "approved", "an approved draft must be held while agents are paused: {shown}");
    gw.control(Method::POST, "/resume", None).await;
    assert_eq!(gw.settled_approval(&held).await["status"], "executed", "after resume the held draft goes out");

    // Deleting waits for a person too.
    let ts = st_ts(&gw, &token, edited_text).await;
    let (status, body) = gw.agent(&token, Method::POST, "/tools/slack_delete_message", Some(json!({ "input": { "channel": CUSTOMER_FEEDBACK, "ts": ts } }))).await;
    assert_eq!((status, body["result"]["status"].as_str()), (202, Some("pending")), "a delete must wait for approval: {body}");
    let (_, shown) = gw.control(Method::GET, &format!("/approvals/{}", body["approval_id"].as_str().unwrap_or_default()), None).await;
    assert_eq!(shown["rule"], "default:destructive-queues", "{shown}");

    // One action's rows share its call id: decision → approval → provider request → result;
    // the control API returns the chain by call id or by approval id.
    let (status, chain) = gw.control(Method::GET, &format!("/audit/chain/{approval}"), None).await;
    assert_eq!(status, 200, "{chain}");
    let rows: Vec<Value> = chain.as_array().expect("rows").clone();
    let got: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (r["action"].as_str().unwrap_or(""), r["decision"].as_str().unwrap_or(""), r["outcome"].as_str().unwrap_or(""))).collect();
    let expected = [
        ("slack.post_message", "queue", "pending_approval"),
        ("approval.approved", "none", "approved"),
        ("slack.post_message", "allow", "started"),
        ("slack.post_message", "none", "ok"),
    ];
    assert_eq!(got, expected, "the causal chain of the approved message");
    let (_, by_call) = gw.control(Method::GET, &format!("/audit/chain/{call_id}"), None).await;
    assert_eq!(by_call, chain, "the chain is the same by call id");
    let approved_row = rows.iter().find(|r| r["action"] == "approval.approved").expect("approval row");
    assert_eq!(approved_row["summary"]["original_input"]["text"], draft_text, "both versions are audited: {approved_row}");
    assert_eq!(approved_row["summary"]["edited_input"]["text"], edited_text, "both versions are audited: {approved_row}");
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "the audit chain should verify: {verify}");
    gw.stop().await;
}

async fn st_ts(gw: &Gateway, token: &str, text: &str) -> String {
    let (_, body) = gw
        .agent(token, Method::POST, "/tools/slack_channel_history", Some(json!({ "input": { "channel": CUSTOMER_FEEDBACK, "limit": 200 } })))
        .await;
    body["result"]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["text"] == text)
        .and_then(|m| m["ts"].as_str())
        .expect("the posted message is in the channel")
        .to_string()
}

/// `METHOD /api/control/v1{path}` as a logged-in browser: the session cookie and our `Origin`.
async fn as_browser(gw: &Gateway, cookie: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = switchboard_tests::client().request(method, format!("{}/api/control/v1{path}", gw.url)).header("cookie", cookie).header("origin", &gw.url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("the gateway answers");
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_login_decides_under_the_name_it_gave_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let (status, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "slack-sandbox", "label": "Acme", "api_key": BOT_TOKEN }))).await;
    assert_eq!(status, 200, "{conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    gw.control(Method::PUT, &format!("/connections/{conn_id}/scopes"), Some(json!({ "scopes": ["channels:read", "channels:history", "chat:write"] }))).await;
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "feedback-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    for tier in ["read", "write"] {
        gw.control(Method::POST, "/grants", Some(json!({ "agent": "feedback-bot", "connection": conn_id, "tier": tier }))).await;
    }
    let draft = |text: &str| json!({ "input": { "channel": CUSTOMER_FEEDBACK, "text": text } });
    let (_, queued) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(draft("Named approvers only."))).await;
    let approval = queued["approval_id"].as_str().expect("approval id").to_string();

    // Log in with a login URL, as a person would.
    let login = gw.app.issue_login_url(switchboard_core::ActorKind::User, "cli").await.expect("login url");
    let resp = switchboard_tests::client().get(&login.url).send().await.expect("login");
    let cookie = resp.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("a session cookie").split(';').next().expect("cookie pair").to_string();

    let (status, session) = as_browser(&gw, &cookie, Method::GET, "/session", None).await;
    assert_eq!((status, session.clone()), (200, json!({ "name": null, "kind": "browser" })), "a fresh login has no name yet: {session}");
    let (status, body) = as_browser(&gw, &cookie, Method::POST, &format!("/approvals/{approval}/approve"), None).await;
    assert_eq!((status, code(&body)), (428, "approver_name_required"), "a browser login must give its name before deciding: {body}");
    let (_, still) = gw.control(Method::GET, &format!("/approvals/{approval}"), None).await;
    assert_eq!(still["status"], "pending", "a refused decision must leave the draft pending: {still}");
    let (status, body) = as_browser(&gw, &cookie, Method::POST, "/grants", Some(json!({ "agent": "feedback-bot", "connection": conn_id, "tier": "delete" }))).await;
    assert_eq!((status, code(&body)), (428, "approver_name_required"), "granting from an unnamed browser login must ask for the name too: {body}");

    for bad in ["   ", "robin:admin"] {
        let (status, body) = as_browser(&gw, &cookie, Method::PUT, "/session/name", Some(json!({ "name": bad }))).await;
        assert_eq!((status, code(&body)), (400, "bad_request"), "the name {bad:?} must be refused: {body}");
    }
    let (status, session) = as_browser(&gw, &cookie, Method::PUT, "/session/name", Some(json!({ "name": "  Robin Ortiz " }))).await;
    assert_eq!((status, session.clone()), (200, json!({ "name": "Robin Ortiz", "kind": "browser" })), "the name should be kept, trimmed: {session}");
    let (_, session) = as_browser(&gw, &cookie, Method::GET, "/session", None).await;
    assert_eq!(session["name"], "Robin Ortiz", "the session should remember the name: {session}");

    let (status, body) = as_browser(&gw, &cookie, Method::POST, &format!("/approvals/{approval}/approve"), None).await;
    assert_eq!((status, body["decided_by"].as_str()), (200, Some("browser:Robin Ortiz")), "the approval should name the browser's approver: {body}");
    assert_eq!(gw.settled_approval(&approval).await["status"], "executed", "the named approval should run");
    let (_, queued) = gw.agent(&token, Method::POST, "/tools/slack_post_message", Some(draft("Reject me."))).await;
    let rejected = queued["approval_id"].as_str().expect("approval id").to_string();
    let (status, body) = as_browser(&gw, &cookie, Method::POST, &format!("/approvals/{rejected}/reject"), Some(json!({ "reason": "no" }))).await;
    assert_eq!((status, body["decided_by"].as_str()), (200, Some("browser:Robin Ortiz")), "the rejection should name the browser's approver: {body}");
    let (status, body) = as_browser(&gw, &cookie, Method::POST, "/grants", Some(json!({ "agent": "feedback-bot", "connection": conn_id, "tier": "delete" }))).await;
    assert_eq!(status, 200, "a named browser login may grant: {body}");

    // The audit log names the person for each decision, and the naming itself.
    let (_, chain) = gw.control(Method::GET, &format!("/audit/chain/{approval}"), None).await;
    let approved = chain.as_array().expect("rows").iter().find(|r| r["action"] == "approval.approved").cloned().expect("an approval row");
    assert_eq!(approved["actor_id"], "browser:Robin Ortiz", "the approval's audit row must name who decided: {approved}");
    let (_, page) = gw.control(Method::GET, "/audit?limit=200", None).await;
    let rows = page["rows"].as_array().expect("rows");
    let by = |action: &str| rows.iter().find(|r| r["action"] == action).map(|r| r["actor_id"].as_str().unwrap_or("").to_string());
    assert_eq!(by("control.session_named").as_deref(), Some("browser:Robin Ortiz"), "giving the name is audited");
    assert!(rows.iter().any(|r| r["action"].as_str().is_some_and(|a| a.starts_with("grant")) && r["actor_id"] == "browser:Robin Ortiz"), "the grant's audit row must name who granted");

    // The CLI has no browser session to name.
    let (status, body) = gw.control(Method::GET, "/session", None).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "the control token has no session: {body}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_update_waits_as_old_to_new_read_from_the_record_itself() {
    use switchboard_sandbox::hubspot::{NEW_LEAD_CONTACT, NEW_LEAD_DEAL, PRIVATE_APP_TOKEN};
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let scopes = ["crm.objects.contacts.read", "crm.objects.deals.read", "crm.objects.contacts.write", "crm.objects.deals.write"];
    let (status, conn) = gw.control(Method::POST, "/connections", Some(json!({ "provider": "hubspot-sandbox", "label": "Sales", "api_key": PRIVATE_APP_TOKEN, "scopes": scopes }))).await;
    assert_eq!(status, 200, "{conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "crm-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    for tier in ["read", "write"] {
        let (status, g) = gw.control(Method::POST, "/grants", Some(json!({ "agent": "crm-bot", "connection": conn_id, "tier": tier }))).await;
        assert_eq!(status, 200, "{g}");
    }
    let call = |tool: &str, input: Value| {
        let (gw, token) = (&gw, &token);
        let path = format!("/tools/hubspot_{tool}");
        async move { gw.agent(token, Method::POST, &path, Some(json!({ "input": input }))).await }
    };
    let (status, contact) = call("get_contact", json!({ "contact_id": NEW_LEAD_CONTACT, "properties": ["lifecyclestage", "jobtitle"] })).await;
    assert_eq!(status, 200, "{contact}");
    let old_stage = contact["result"]["properties"]["lifecyclestage"].as_str().map(str::to_string);
    let old_title = contact["result"]["properties"]["jobtitle"].as_str().map(str::to_string);
    assert_ne!(old_stage.as_deref(), Some("customer"), "the seeded lead should not be a customer yet");

    // A contact update: each property it changes, with the value the record holds now.
    let (status, queued) = call("update_contact", json!({ "contact_id": NEW_LEAD_CONTACT, "properties": { "lifecyclestage": "customer", "jobtitle": "Head of Ops" } })).await;
    assert_eq!(status, 202, "a CRM change waits for a person: {queued}");
    let approval = queued["approval_id"].as_str().expect("approval id").to_string();
    let (_, shown) = gw.control(Method::GET, &format!("/approvals/{approval}"), None).await;
    assert_eq!(shown["preview"]["kind"], "crm_change", "{shown}");
    let mut changes = shown["preview"]["changes"].as_array().expect("changes").clone();
    changes.sort_by(|a, b| a["property"].as_str().cmp(&b["property"].as_str()));
    assert_eq!(
        changes,
        vec![
            json!({ "property": "jobtitle", "old": old_title, "old_known": true, "new": "Head of Ops" }),
            json!({ "property": "lifecyclestage", "old": old_stage, "old_known": true, "new": "customer" }),
        ],
        "the draft must show each property as it is now → as it will be: {shown}"
    );
    assert_eq!(shown["preview"]["old_unknown"], Value::Null, "{shown}");
    let (_, chain) = gw.control(Method::GET, &format!("/audit/chain/{approval}"), None).await;
    let lookup = chain.as_array().expect("rows").iter().find(|r| r["action"] == "approval.lookup").cloned().expect("the read of the record is audited");
    assert_eq!((lookup["outcome"].as_str(), lookup["summary"]["looked_up"].as_str()), (Some("ok"), Some("hubspot_get_contact")), "{lookup}");
    let (status, body) = gw.control(Method::POST, &format!("/approvals/{approval}/approve"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(gw.settled_approval(&approval).await["status"], "executed", "the approved change should be written");
    let (_, after) = call("get_contact", json!({ "contact_id": NEW_LEAD_CONTACT, "properties": ["lifecyclestage"] })).await;
    assert_eq!(after["result"]["properties"]["lifecyclestage"], "customer", "the approved change reached HubSpot: {after}");

    // A deal stage move reads the deal's stage (HubSpot's `dealstage`).
    let (_, deal) = call("get_deal", json!({ "deal_id": NEW_LEAD_DEAL, "properties": ["dealstage"] })).await;
    let old_deal_stage = deal["result"]["properties"]["dealstage"].as_str().expect("the deal has a stage").to_string();
    let (status, queued) = call("update_deal_stage", json!({ "deal_id": NEW_LEAD_DEAL, "stage": "qualifiedtobuy" })).await;
    assert_eq!(status, 202, "{queued}");
    let (_, shown) = gw.control(Method::GET, &format!("/approvals/{}", queued["approval_id"].as_str().unwrap_or_default()), None).await;
    assert_eq!(
        shown["preview"]["changes"],
        json!([{ "property": "dealstage", "old": old_deal_stage, "old_known": true, "new": "qualifiedtobuy" }]),
        "a stage move shows the stage now → after: {shown}"
    );

    // A record that cannot be read: the old values are unknown, and the draft says why.
    let (status, queued) = call("update_contact", json!({ "contact_id": "987654", "properties": { "jobtitle": "Nobody" } })).await;
    assert_eq!(status, 202, "{queued}");
    let (_, shown) = gw.control(Method::GET, &format!("/approvals/{}", queued["approval_id"].as_str().unwrap_or_default()), None).await;
    assert_eq!(
        shown["preview"]["changes"],
        json!([{ "property": "jobtitle", "old": null, "old_known": false, "new": "Nobody" }]),
        "an unread old value must be marked unknown, never shown as empty: {shown}"
    );
    assert!(shown["preview"]["old_unknown"].as_str().is_some_and(|m| m.contains("404")), "the draft says why the old values are unknown: {shown}");
    gw.stop().await;
}
