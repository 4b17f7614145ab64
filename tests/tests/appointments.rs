//! Journey: the appointment-confirmations preset. A person lets an agent send Gmail
//! confirmations alone, but only to recipients who all have a booked meeting and only from the
//! `appointment-confirmation` template. The gateway checks the meeting in the connected Google
//! Calendar (a lookup it audits); a confirmation to the lead with a booked discovery call goes
//! at once, the same message to someone without a meeting, or without the template tag, waits
//! for a person. Real keychain, SQLite and HTTP to the simulated Gmail and Calendar.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::{gcal, gmail};
use switchboard_tests::{Gateway, client};

/// Drives a simulated Google consent page like a browser and returns the new connection.
async fn connect(gw: &Gateway, body: Value) -> Value {
    let (status, started) = gw.control(Method::POST, "/connections/oauth", Some(body)).await;
    assert_eq!(status, 200, "starting the OAuth connection should work: {started}");
    let authorize_url = started["authorize_url"].as_str().expect("authorize_url").to_string();
    let http = client();
    let html = http.get(&authorize_url).send().await.expect("consent page").text().await.expect("page");
    let request = html.split("name=\"request\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("consent page: {html}")).to_string();
    let decide = reqwest::Url::parse(&authorize_url).expect("url").join(gcal::DECISION_PATH).expect("decision url");
    let resp = http.post(decide).form(&[("request", request.as_str()), ("decision", "approve")]).send().await.expect("decision");
    let back = resp.headers().get("location").and_then(|l| l.to_str().ok()).expect("redirect back").to_string();
    assert_eq!(http.get(&back).send().await.expect("loopback").status().as_u16(), 200, "the callback should succeed");
    let flow = started["flow_id"].as_str().expect("flow id");
    let (_, done) = gw.control(Method::GET, &format!("/connections/oauth/{flow}?wait=5"), None).await;
    assert_eq!(done["status"], "connected", "{done}");
    done["connection"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmations_to_booked_recipients_go_alone_and_the_rest_wait() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let mail = connect(&gw, json!({ "provider": "gmail-sandbox", "label": "Alex", "open_browser": false, "scopes": [gmail::READONLY, gmail::SEND] })).await;
    let mail = mail["id"].as_str().expect("id").to_string();
    connect(&gw, json!({ "provider": "google-calendar-sandbox", "label": "Alex", "open_browser": false, "scopes": ["https://www.googleapis.com/auth/calendar.events.readonly"] })).await;
    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "booking-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "booking-bot", "connection": mail, "tier": "write" }))).await;

    let (_, presets) = gw.control(Method::GET, "/policies/presets?agent=booking-bot", None).await;
    let preset = presets.as_array().expect("presets").iter().find(|p| p["key"] == "appointment-confirmations").expect("the preset")["policy"].clone();
    let (status, added) = gw.control(Method::POST, "/policies", Some(json!({ "format": "json", "text": preset.to_string() }))).await;
    assert_eq!(status, 200, "{added}");

    let send = |to: &str, tag: Option<&str>| {
        let mut body = json!({ "input": { "to": [to], "subject": "Your discovery call", "text": "Looking forward to our call." } });
        if let Some(t) = tag {
            body["template_tag"] = json!(t);
        }
        let (gw, token) = (&gw, token.clone());
        async move { gw.agent(&token, Method::POST, "/tools/gmail_send_message", Some(body)).await }
    };

    // Ada Lovelace has a discovery call booked next week.
    let (status, body) = send(gmail::LEAD_EMAIL, Some("appointment-confirmation")).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("done")), "a confirmation to a booked recipient goes alone: {body}");
    assert!(body["result"]["id"].as_str().is_some(), "Gmail answered with the sent message: {body}");
    let (_, chain) = gw.control(Method::GET, &format!("/audit/chain/{}", body["call_id"].as_str().unwrap_or_default()), None).await;
    let rows = chain.as_array().expect("rows");
    assert!(
        rows.iter().any(|r| r["action"] == "policy.lookup" && r["summary"]["recipient_has_booked_meeting"] == true),
        "the calendar lookup is audited with what it found: {chain}"
    );
    assert!(rows.iter().any(|r| r["decision"] == "allow" && r["summary"]["rule"] == "policy:appointment-confirmations.booking-bot"), "{chain}");

    // Nobody booked a meeting with this address; and a message without the template tag.
    let (status, body) = send("someone.new@example.com", Some("appointment-confirmation")).await;
    assert_eq!((status, body["state"].as_str()), (202, Some("pending_approval")), "no booked meeting: a person decides: {body}");
    let (status, body) = send(gmail::LEAD_EMAIL, None).await;
    assert_eq!((status, body["state"].as_str()), (202, Some("pending_approval")), "not from the template: a person decides: {body}");
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "{verify}");
    gw.stop().await;
}
