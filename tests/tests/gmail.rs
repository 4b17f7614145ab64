//! Journey: lead follow-up in Gmail. A person connects the simulated Gmail through Google's
//! OAuth consent page (read-only first) and grants an agent read; the agent lists the labels,
//! pages through a search (a page token whenever more remain), finds the lead's meeting request
//! and reads the thread with its attachment metadata (bytes only when asked; an attachment of a
//! type nobody handles is still described); a draft without the compose scope or the write grant
//! is refused. The person then connects again with compose, send and modify and grants write; the
//! agent drafts a reply in the thread, revises it and sends it (sending it again is Google's
//! `notFound`), sends a new message, and files the lead's mail (labels); trashing needs the delete
//! grant. Real keychain, real SQLite, real HTTP over loopback.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::gmail;
use switchboard_tests::{Gateway, client};

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

/// Starts an OAuth connection of `gmail-sandbox` with `scopes`, approves it on the consent page
/// like a browser, follows the loopback callback, and returns the new connection.
async fn connect(gw: &Gateway, label: &str, scopes: &[&str]) -> Value {
    let (status, started) = gw.control(Method::POST, "/connections/oauth", Some(json!({ "provider": "gmail-sandbox", "label": label, "scopes": scopes, "open_browser": false }))).await;
    assert_eq!(status, 200, "starting the OAuth connection should work: {started}");
    let authorize = started["authorize_url"].as_str().expect("authorize url").to_string();
    assert!(authorize.contains("/o/oauth2/v2/auth?"), "Google's authorize path on the sandbox: {authorize}");
    let http = client();
    let html = http.get(&authorize).send().await.expect("consent page").text().await.expect("html");
    let request = html.split("name=\"request\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("consent page: {html}")).to_string();
    let decide = reqwest::Url::parse(&authorize).expect("url").join(gmail::DECISION_PATH).expect("decision url");
    let resp = http.post(decide).form(&[("request", request.as_str()), ("decision", "approve")]).send().await.expect("approve");
    assert!(resp.status().is_redirection(), "the consent sends the browser back: {}", resp.status());
    let back = resp.headers()["location"].to_str().expect("location").to_string();
    let page = http.get(&back).send().await.expect("loopback callback");
    assert_eq!(page.status().as_u16(), 200, "the callback connects: {}", page.text().await.unwrap_or_default());
    let flow = started["flow_id"].as_str().expect("flow id");
    let (_, done) = gw.control(Method::GET, &format!("/connections/oauth/{flow}?wait=5"), None).await;
    assert_eq!(done["status"], "connected", "{done}");
    done["connection"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_a_leads_meeting_request_within_its_grants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;

    let conn = connect(&gw, "Inbox (read)", &[gmail::READONLY]).await;
    assert_eq!(conn["granted_scopes"], json!([gmail::READONLY]), "only the read scope was granted: {conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "inbox-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let call = |tool: &str, connection: &str, input: Value| {
        let (gw, token, tool, connection) = (&gw, token.clone(), tool.to_string(), connection.to_string());
        async move { gw.agent(&token, Method::POST, &format!("/tools/{tool}"), Some(json!({ "connection": connection, "input": input }))).await }
    };

    let search = json!({ "q": format!("from:{} subject:meeting", gmail::LEAD_EMAIL) });
    let (status, body) = call("gmail_search_messages", &conn_id, search.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "a new agent holds nothing: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "inbox-bot", "connection": conn_id, "tier": "read" }))).await;

    let (status, body) = call("gmail_list_labels", &conn_id, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let labels: Vec<&str> = body["result"]["labels"].as_array().expect("labels").iter().filter_map(|l| l["id"].as_str()).collect();
    assert!(labels.contains(&"INBOX") && labels.contains(&"SENT") && labels.iter().any(|l| l.starts_with("Label_")), "system and user labels: {labels:?}");
    // A search past one page: a token for the next page, and no message twice.
    let (status, first) = call("gmail_search_messages", &conn_id, json!({ "q": "newer_than:60d", "max_results": 10 })).await;
    assert_eq!(status, 200, "{first}");
    let token = first["result"]["nextPageToken"].as_str().expect("more than ten messages: a page token").to_string();
    let (_, second) = call("gmail_search_messages", &conn_id, json!({ "q": "newer_than:60d", "max_results": 10, "page_token": token })).await;
    let ids = |v: &Value| v["result"]["messages"].as_array().map(|m| m.iter().filter_map(|x| x["id"].as_str().map(str::to_string)).collect::<Vec<_>>()).unwrap_or_default();
    let (a, b) = (ids(&first), ids(&second));
    assert!(a.len() == 10 && !b.is_empty() && b.iter().all(|id| !a.contains(id)), "the second page continues the first: {a:?} {b:?}");
    // An attachment of a type nobody handles is described like any other, without its bytes.
    let (_, found) = call("gmail_search_messages", &conn_id, json!({ "q": "filename:p7m" })).await;
    let sealed = found["result"]["messages"][0]["id"].as_str().expect("the mail with the sealed attachment").to_string();
    let (status, body) = call("gmail_get_message", &conn_id, json!({ "id": sealed })).await;
    assert_eq!(status, 200, "{body}");
    let part = body["result"]["payload"]["parts"].as_array().expect("parts").iter().find(|p| p["filename"] == "dpa-signed.p7m").cloned().expect("the attachment part");
    assert_eq!(part["mimeType"], "application/x-unknown-sealed-archive", "{part}");
    assert!(part["body"]["attachmentId"].is_string() && part["body"]["size"].as_u64().is_some_and(|n| n > 0) && part["body"].get("data").is_none(), "metadata only: {part}");

    // Find the lead's thread and read it, attachments as metadata only.
    let (status, body) = call("gmail_list_threads", &conn_id, search).await;
    assert_eq!(status, 200, "a granted read reaches the sandbox: {body}");
    let thread_id = body["result"]["threads"][0]["id"].as_str().expect("the lead's thread").to_string();
    let (status, body) = call("gmail_get_thread", &conn_id, json!({ "id": thread_id })).await;
    assert_eq!(status, 200, "{body}");
    let messages = body["result"]["messages"].as_array().expect("messages").clone();
    assert_eq!(messages.len(), 3, "the request, our answer and the lead's reply");
    let last = messages.last().expect("last message");
    let header = |m: &Value, name: &str| {
        m["payload"]["headers"].as_array().and_then(|hs| hs.iter().find(|h| h["name"] == name)).and_then(|h| h["value"].as_str()).unwrap_or_default().to_string()
    };
    assert!(header(last, "From").contains(gmail::LEAD_EMAIL));
    let last_id = last["id"].as_str().expect("message id").to_string();
    let message_id_header = header(last, "Message-ID");
    let (status, body) = call("gmail_get_message", &conn_id, json!({ "id": last_id })).await;
    assert_eq!(status, 200, "{body}");
    let parts = body["result"]["payload"]["parts"].as_array().expect("parts").clone();
    let files: Vec<(&str, &str)> = parts.iter().filter(|p| p["filename"].as_str().is_some_and(|f| !f.is_empty())).map(|p| (p["filename"].as_str().unwrap_or_default(), p["mimeType"].as_str().unwrap_or_default())).collect();
    assert_eq!(files, vec![("requirements.pdf", "application/pdf"), ("current-setup.png", "image/png")], "attachment metadata: {parts:?}");
    assert!(parts[1]["body"].get("data").is_none() && parts[1]["body"]["attachmentId"].is_string(), "no bytes unless asked: {}", parts[1]);
    let att = parts[1]["body"]["attachmentId"].as_str().expect("attachment id");
    let (status, body) = call("gmail_get_attachment", &conn_id, json!({ "message_id": last_id, "attachment_id": att })).await;
    assert_eq!(status, 200, "asked for, the bytes come back: {body}");
    assert_eq!(body["result"]["size"], parts[1]["body"]["size"]);

    // Writing needs the grant and the scope.
    let reply = json!({ "to": gmail::LEAD_EMAIL, "subject": format!("Re: {}", gmail::LEAD_SUBJECT), "text": "Hi Ada, Tuesday at 3 pm works. I will send an invite.\n\nAlex",
        "in_reply_to": message_id_header, "thread_id": thread_id });
    let (status, body) = call("gmail_create_draft", &conn_id, reply.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "read does not imply write: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "inbox-bot", "connection": conn_id, "tier": "write" }))).await;
    let (status, body) = call("gmail_create_draft", &conn_id, reply.clone()).await;
    assert_eq!((status, code(&body)), (403, "scope_not_granted"), "the read-only connection lacks gmail.compose: {body}");

    // Connect again with compose and send; grant write on the new connection.
    let writer = connect(&gw, "Inbox (compose)", &[gmail::READONLY, gmail::COMPOSE, gmail::SEND, gmail::MODIFY]).await;
    let w_id = writer["id"].as_str().expect("connection id").to_string();
    for tier in ["read", "write"] {
        gw.control(Method::POST, "/grants", Some(json!({ "agent": "inbox-bot", "connection": w_id, "tier": tier }))).await;
    }
    let mut injected = reply.clone();
    injected["subject"] = json!("Re: hi\r\nBcc: everyone@example.com");
    let (status, body) = call("gmail_create_draft", &w_id, injected).await;
    assert_eq!(status, 400, "a line break in a header is refused before anything is sent: {body}");
    let (status, body) = call("gmail_create_draft", &w_id, reply.clone()).await;
    assert_eq!(status, 200, "with the grant and the scope the draft is created: {body}");
    let draft_id = body["result"]["id"].as_str().expect("draft id").to_string();
    assert_eq!(body["result"]["message"]["threadId"], thread_id.as_str(), "the draft is a reply in the thread");
    let mut revised = reply.clone();
    revised["draft_id"] = json!(draft_id);
    revised["text"] = json!("Hi Ada, Tuesday at 3 pm works, or Wednesday at 10. I will send an invite.\n\nAlex");
    revised["html"] = json!("<p>Hi Ada, Tuesday at 3 pm works, or Wednesday at 10.</p>");
    let (status, body) = call("gmail_update_draft", &w_id, revised).await;
    assert_eq!((status, body["result"]["id"].as_str()), (200, Some(draft_id.as_str())), "the draft is revised in place: {body}");
    let (status, body) = call("gmail_send_draft", &w_id, json!({ "draft_id": draft_id })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["labelIds"], json!(["SENT"]), "{body}");
    let sent_id = body["result"]["id"].as_str().expect("sent id").to_string();
    let (status, body) = call("gmail_send_draft", &w_id, json!({ "draft_id": draft_id })).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "a draft already sent is a provider error: {body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("notFound"), "with Google's reason, so the agent knows the draft is gone: {body}");
    let (status, body) = call("gmail_send_message", &w_id, json!({ "to": gmail::LEAD_EMAIL, "subject": "Agenda for Tuesday", "text": "The agenda will follow." })).await;
    assert_eq!((status, body["result"]["labelIds"].clone()), (200, json!(["SENT"])), "a new message is sent at once: {body}");
    let (status, body) = call("gmail_modify_labels", &w_id, json!({ "id": last_id, "add_label_ids": ["STARRED"], "remove_label_ids": ["UNREAD", "INBOX"] })).await;
    assert_eq!(status, 200, "{body}");
    let now: Vec<&str> = body["result"]["labelIds"].as_array().expect("labels").iter().filter_map(Value::as_str).collect();
    assert!(now.contains(&"STARRED") && !now.contains(&"UNREAD") && !now.contains(&"INBOX"), "read, starred and archived: {now:?}");

    let (status, body) = call("gmail_search_messages", &w_id, json!({ "label_ids": ["SENT"], "q": "invite" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["messages"][0]["id"], sent_id.as_str(), "the sent reply is in SENT: {body}");
    let (_, body) = call("gmail_get_thread", &w_id, json!({ "id": thread_id, "format": "minimal" })).await;
    assert_eq!(body["result"]["messages"].as_array().map(Vec::len), Some(4), "the thread now holds the reply: {body}");

    // Trash needs the delete grant.
    let (status, body) = call("gmail_trash_message", &w_id, json!({ "id": last_id })).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "{body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "inbox-bot", "connection": w_id, "tier": "delete" }))).await;
    let (status, body) = call("gmail_trash_message", &w_id, json!({ "id": last_id })).await;
    assert!(status == 200 && body["result"]["labelIds"].as_array().is_some_and(|l| l.iter().any(|x| x == "TRASH")), "with the delete grant the message is in the trash: {body}");

    let audit = gw.app.audit_list(switchboard_core::AuditQuery { text: Some("gmail_send_draft".into()), ..Default::default() }).await.expect("audit");
    assert!(!audit.rows.is_empty(), "the send is audited");
    let audit = gw.app.audit_list(switchboard_core::AuditQuery { text: Some("gmail_create_draft".into()), ..Default::default() }).await.expect("audit");
    assert!(audit.rows.len() >= 2, "refused and allowed drafts are audited: {}", audit.rows.len());
    gw.stop().await;
}
