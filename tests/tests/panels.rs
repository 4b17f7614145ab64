//! The control panel's Scopes and Settings paths, end to end over real loopback HTTP against a
//! `--sandbox` gateway with the real keychain: narrowing an OAuth sign-in's scopes from the
//! scope checklist (the agent can no longer use a dropped scope, widening needs a new sign-in),
//! the desktop-notifications preference (persisted across a restart, audited, bad input
//! refused), and auto-send presets whose TOML text adds as it is.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::hubspot;
use switchboard_tests::{Gateway, client};

fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

/// Signs in to the simulated HubSpot with its read-only scopes, as a browser would.
async fn connect_hubspot(gw: &Gateway) -> String {
    let (status, started) = gw
        .control(
            Method::POST,
            "/connections/oauth",
            Some(json!({ "provider": "hubspot-sandbox", "open_browser": false })),
        )
        .await;
    assert_eq!(
        status, 200,
        "starting the HubSpot sign-in should succeed: {started}"
    );
    let authorize_url = started["authorize_url"]
        .as_str()
        .expect("an authorize URL")
        .to_string();
    let http = client();
    let html = http
        .get(&authorize_url)
        .send()
        .await
        .expect("consent page")
        .text()
        .await
        .expect("consent body");
    let request = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the consent page carries its request id")
        .to_string();
    let decide = reqwest::Url::parse(&authorize_url)
        .expect("URL")
        .join(hubspot::DECISION_PATH)
        .expect("decision URL");
    let resp = http
        .post(decide)
        .form(&[("request", request.as_str()), ("decision", "approve")])
        .send()
        .await
        .expect("consent posts");
    let back = resp
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("the provider sends the browser back")
        .to_string();
    let arrived = http
        .get(back)
        .send()
        .await
        .expect("the loopback callback answers");
    assert_eq!(
        arrived.status().as_u16(),
        200,
        "the browser should see the success page"
    );
    let flow = started["flow_id"].as_str().expect("flow id");
    let (_, done) = gw
        .control(
            Method::GET,
            &format!("/connections/oauth/{flow}?wait=5"),
            None,
        )
        .await;
    assert_eq!(
        done["status"], "connected",
        "the sign-in should end connected: {done}"
    );
    done["connection"]["id"]
        .as_str()
        .expect("connection id")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unused_scope_of_a_sign_in_is_dropped_and_the_agent_can_no_longer_use_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start_sandbox(dir.path()).await;
    let id = connect_hubspot(&gw).await;
    let (_, agent) = gw
        .control(
            Method::POST,
            "/agents",
            Some(json!({ "name": "sales-bot" })),
        )
        .await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let (status, _) = gw
        .control(
            Method::POST,
            "/grants",
            Some(json!({ "agent": "sales-bot", "connection": id, "tier": "read" })),
        )
        .await;
    assert_eq!(status, 200);

    let call = json!({ "connection": id, "input": {} });
    let (status, body) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/hubspot_list_contacts",
            Some(call.clone()),
        )
        .await;
    assert_eq!(
        status, 200,
        "the agent should read contacts with its read grant: {body}"
    );
    let (status, body) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/hubspot_list_deals",
            Some(call.clone()),
        )
        .await;
    assert_eq!(
        status, 200,
        "before the scope is dropped the agent reads deals: {body}"
    );

    // The checklist flags companies (held, never used) and not contacts (used just now).
    let (status, list) = gw
        .control(Method::GET, &format!("/connections/{id}/scopes"), None)
        .await;
    assert_eq!(status, 200, "{list}");
    let scope = |list: &Value, name: &str| {
        list["scopes"]
            .as_array()
            .expect("scopes")
            .iter()
            .find(|s| s["scope"] == name)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        scope(&list, "crm.objects.companies.read")["unused"],
        true,
        "a held scope no agent used should be flagged: {list}"
    );
    assert_eq!(
        scope(&list, "crm.objects.contacts.read")["unused"],
        false,
        "a scope used just now must not be flagged: {list}"
    );

    // One click: the deals scope is dropped from the sign-in's scopes.
    let keep = json!(["crm.objects.contacts.read", "crm.objects.companies.read"]);
    let (status, c) = gw
        .control(
            Method::PUT,
            &format!("/connections/{id}/scopes"),
            Some(json!({ "scopes": keep })),
        )
        .await;
    assert_eq!(
        status, 200,
        "narrowing a sign-in's scopes should be allowed: {c}"
    );
    assert_eq!(
        c["granted_scopes"], keep,
        "the connection should hold only what is left: {c}"
    );
    let (status, body) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/hubspot_list_deals",
            Some(call.clone()),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (403, "scope_not_granted"),
        "after the scope is dropped the agent must be refused: {body}"
    );
    let (status, body) = gw
        .agent(
            &token,
            Method::POST,
            "/tools/hubspot_list_contacts",
            Some(call),
        )
        .await;
    assert_eq!(status, 200, "what was kept still works: {body}");
    let (_, list) = gw
        .control(Method::GET, &format!("/connections/{id}/scopes"), None)
        .await;
    assert_eq!(
        scope(&list, "crm.objects.deals.read")["granted"],
        false,
        "the checklist should show the dropped scope as not held: {list}"
    );

    // Widening a sign-in needs a new sign-in: refused, nothing changed.
    let (status, body) = gw
        .control(
            Method::PUT,
            &format!("/connections/{id}/scopes"),
            Some(json!({ "scopes": ["crm.objects.contacts.read", "crm.objects.deals.read"] })),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, "conflict"),
        "adding a scope to a sign-in must be refused: {body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("connect the account again"),
        "the refusal should say how to add it: {body}"
    );
    let (_, list) = gw.control(Method::GET, "/connections", None).await;
    assert_eq!(
        list[0]["granted_scopes"], keep,
        "a refused change must leave the scopes as they were: {list}"
    );

    // The audit says the provider's grant itself was not changed.
    let (_, page) = gw
        .control(Method::GET, "/audit?text=scopes_set&limit=5", None)
        .await;
    let row = &page["rows"][0];
    assert!(
        row["summary"]["at_provider"]
            .as_str()
            .unwrap_or("")
            .starts_with("unchanged"),
        "the audit should say the sign-in at the provider is unchanged: {row}"
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_can_be_turned_off_and_stay_off_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start_sandbox(dir.path()).await;
    let (status, prefs) = gw.control(Method::GET, "/preferences", None).await;
    assert_eq!(
        (status, prefs.clone()),
        (200, json!({ "notifications": true })),
        "notifications should start on"
    );
    assert!(
        gw.app.notifications_enabled().await,
        "the desktop shell should be told notifications are on"
    );

    let (status, body) = gw
        .control(
            Method::PUT,
            "/preferences",
            Some(json!({ "notifications": "no" })),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "bad_request"),
        "a preference that is not true/false must be refused: {body}"
    );
    let (status, body) = gw
        .control(
            Method::PUT,
            "/preferences",
            Some(json!({ "notifications": false, "sound": true })),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "bad_request"),
        "an unknown preference must be refused, not ignored: {body}"
    );

    let (status, prefs) = gw
        .control(
            Method::PUT,
            "/preferences",
            Some(json!({ "notifications": false })),
        )
        .await;
    assert_eq!(
        (status, prefs),
        (200, json!({ "notifications": false })),
        "turning notifications off should be stored"
    );
    assert!(
        !gw.app.notifications_enabled().await,
        "the desktop shell should be told notifications are off"
    );
    let (_, page) = gw
        .control(Method::GET, "/audit?text=preferences.changed&limit=5", None)
        .await;
    assert_eq!(
        page["rows"][0]["summary"]["after"]["notifications"], false,
        "the change should be audited: {page}"
    );
    gw.stop().await;

    let gw = Gateway::start_sandbox(dir.path()).await;
    let (_, prefs) = gw.control(Method::GET, "/preferences", None).await;
    assert_eq!(
        prefs,
        json!({ "notifications": false }),
        "notifications should stay off after a restart"
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_preset_adds_from_its_toml_text_and_is_removed_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start_sandbox(dir.path()).await;
    gw.control(
        Method::POST,
        "/agents",
        Some(json!({ "name": "office-bot" })),
    )
    .await;
    let (status, presets) = gw
        .control(Method::GET, "/policies/presets?agent=office-bot", None)
        .await;
    assert_eq!(status, 200, "{presets}");
    let presets = presets.as_array().expect("a list of presets").clone();
    assert!(
        presets.len() >= 3,
        "appointment confirmations, invoice delivery and survey requests should be offered: {presets:?}"
    );
    for p in &presets {
        let text = p["toml"]
            .as_str()
            .expect("each preset carries its TOML text");
        assert!(
            text.contains("agent = \"office-bot\""),
            "the preset's TOML should name the chosen agent: {text}"
        );
        let (status, added) = gw
            .control(
                Method::POST,
                "/policies",
                Some(json!({ "format": "toml", "text": text })),
            )
            .await;
        assert_eq!(
            status, 200,
            "preset '{}' should add from its own TOML text unchanged: {added}",
            p["key"]
        );
        assert_eq!(
            added["policy"], p["policy"],
            "the added policy should be the preset's"
        );
    }
    let (_, listed) = gw.control(Method::GET, "/policies", None).await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(presets.len()),
        "every preset should be listed once added: {listed}"
    );
    for p in &presets {
        let id = p["policy"]["id"].as_str().expect("policy id");
        let (status, body) = gw
            .control(Method::DELETE, &format!("/policies/{id}"), None)
            .await;
        assert_eq!(status, 200, "removing '{id}' should succeed: {body}");
    }
    let (_, listed) = gw.control(Method::GET, "/policies", None).await;
    assert_eq!(listed, json!([]), "no policy should be left");
    gw.stop().await;
}
