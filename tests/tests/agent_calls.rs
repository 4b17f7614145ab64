//! Journey: a person connects the simulated HubSpot with a private-app token, adds an agent and
//! grants it tiers one at a time; the agent calls tools over the REST agent API. Real keychain,
//! real SQLite, real HTTP to the sandbox over loopback.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_tests::Gateway;

const TOKEN: &str = "pat-sandbox-na1-00000000-0000-4000-8000-000000000001";

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reads_writes_and_deletes_only_with_the_grants_a_person_gave() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;

    let (status, conn) = gw
        .control(Method::POST, "/connections", Some(json!({ "provider": "hubspot-sandbox", "label": "Sales", "api_key": TOKEN })))
        .await;
    assert_eq!(status, 200, "connecting the sandbox with its private-app token should work: {conn}");
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    assert!(
        conn["granted_scopes"].as_array().expect("scopes").iter().any(|s| s == "crm.objects.contacts.read"),
        "a key connected without ticked scopes should hold the read-only set: {conn}"
    );
    assert!(
        !conn["granted_scopes"].as_array().expect("scopes").iter().any(|s| s == "crm.objects.contacts.write"),
        "a key must not be assumed to hold write scopes nobody ticked: {conn}"
    );

    let (_, agent) = gw.control(Method::POST, "/agents", Some(json!({ "name": "sales-bot" }))).await;
    let token = agent["token"].as_str().expect("agent token").to_string();

    // A new agent holds nothing: no tools, and a call is refused naming the grant.
    let (status, tools) = gw.agent(&token, Method::GET, "/tools", None).await;
    let names: Vec<&str> = tools.as_array().expect("tools").iter().filter_map(|t| t["tool"].as_str()).collect();
    assert_eq!((status, names), (200, vec!["request_access", "approval_status"]), "a new agent sees no provider tools, only how to ask: {tools}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/hubspot_list_contacts", Some(json!({ "input": { "limit": 5 } }))).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "a call without a grant must be refused: {body}");
    assert!(
        body["message"].as_str().unwrap_or_default().contains(&format!("switchboard grants set sales-bot {conn_id} read")),
        "the denial should say which grant would allow it: {body}"
    );

    // Read granted: the agent lists contacts from the sandbox.
    let (status, g) = gw.control(Method::POST, "/grants", Some(json!({ "agent": "sales-bot", "connection": conn_id, "tier": "read" }))).await;
    assert_eq!(status, 200, "granting read should work: {g}");
    let (_, tools) = gw.agent(&token, Method::GET, "/tools", None).await;
    let names: Vec<&str> = tools.as_array().expect("tools").iter().filter_map(|t| t["tool"].as_str()).collect();
    assert!(names.contains(&"hubspot_list_contacts") && names.contains(&"hubspot_get_contact"), "read tools should appear: {names:?}");
    assert!(!names.contains(&"hubspot_create_contact"), "write tools must not appear with only a read grant: {names:?}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/hubspot_list_contacts", Some(json!({ "input": { "limit": 5 } }))).await;
    assert_eq!(status, 200, "a granted read should reach the sandbox: {body}");
    assert_eq!(body["result"]["results"].as_array().map(Vec::len), Some(5), "five contacts were asked for: {body}");
    let call_id = body["call_id"].as_str().expect("call id").to_string();

    // Bad input is refused before anything is sent.
    let (status, body) = gw.agent(&token, Method::POST, "/tools/hubspot_get_contact", Some(json!({ "input": { "contact_id": "../x" } }))).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "an id that could change the path must be refused: {body}");

    // Write is a separate tier, and the key must hold the write scope too.
    let create = json!({ "input": { "properties": { "email": "new.lead@example.com", "firstname": "New" } } });
    let (status, body) = gw.agent_approved(&token, "hubspot_create_contact", create.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "read must not imply write: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "sales-bot", "connection": conn_id, "tier": "write" }))).await;
    let (status, body) = gw.agent_approved(&token, "hubspot_create_contact", create.clone()).await;
    assert_eq!((status, code(&body)), (403, "scope_not_granted"), "a key nobody ticked write for must not write: {body}");
    let (status, c) = gw
        .control(
            Method::PUT,
            &format!("/connections/{conn_id}/scopes"),
            Some(json!({ "scopes": ["crm.objects.contacts.read", "crm.objects.contacts.write"] })),
        )
        .await;
    assert_eq!(status, 200, "ticking the write scope should work: {c}");
    let (status, body) = gw.agent_approved(&token, "hubspot_create_contact", create.clone()).await;
    assert_eq!(status, 200, "with the grant and the scope the contact should be created: {body}");
    let new_id = body["result"]["id"].as_str().expect("new contact id").to_string();
    let (status, body) = gw.agent_approved(&token, "hubspot_create_contact", create).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "a duplicate email is the provider's refusal: {body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("already exists"), "the provider's words should reach the agent: {body}");

    // Delete is its own tier.
    let archive = json!({ "input": { "contact_id": new_id } });
    let (status, body) = gw.agent_approved(&token, "hubspot_archive_contact", archive.clone()).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "write must not imply delete: {body}");
    gw.control(Method::POST, "/grants", Some(json!({ "agent": "sales-bot", "connection": conn_id, "tier": "delete" }))).await;
    let (status, body) = gw.agent_approved(&token, "hubspot_archive_contact", archive).await;
    assert_eq!(status, 200, "with the delete grant the contact should be archived: {body}");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/hubspot_get_contact", Some(json!({ "input": { "contact_id": new_id } }))).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "the archived contact should be gone at the provider: {body}");

    // The connection's shared budget is visible live: HubSpot's documented 100 per 10 s, and the
    // calls that went out this minute.
    let (status, limits) = gw.control(Method::GET, &format!("/rate-limits/{conn_id}"), None).await;
    assert_eq!(status, 200, "the connection's rate-limit status should be readable: {limits}");
    assert_eq!((limits["status"]["budget_requests"].as_u64(), limits["status"]["budget_per_ms"].as_u64()), (Some(100), Some(10_000)), "HubSpot is paced by 100 per 10 s: {limits}");
    let sent: u64 = limits["history"].as_array().expect("history").iter().filter_map(|b| b["calls_sent"].as_u64()).sum();
    assert_eq!(sent, 6, "the key check and the five calls that reached the sandbox should show in the last hour's history: {limits}");
    assert_eq!(limits["status"]["recent_429s"].as_u64(), Some(0), "no 429 should have been received: {limits}");

    // Revoking read applies to the very next call.
    let (status, _) = gw.control(Method::DELETE, &format!("/grants/sales-bot/{conn_id}/read"), None).await;
    assert_eq!(status, 200, "revoking read should work");
    let (status, body) = gw.agent(&token, Method::POST, "/tools/hubspot_list_contacts", Some(json!({}))).await;
    assert_eq!((status, code(&body)), (403, "not_granted"), "a revoked grant must stop the next call: {body}");

    // Every step is in the audit log, the allowed read as decision + outcome under one call id.
    let (_, page) = gw.control(Method::GET, &format!("/audit?text={call_id}&limit=10"), None).await;
    let rows = page["rows"].as_array().expect("audit rows");
    let decisions: Vec<(&str, &str)> = rows.iter().map(|r| (r["decision"].as_str().unwrap_or(""), r["outcome"].as_str().unwrap_or(""))).collect();
    assert!(decisions.contains(&("allow", "started")) && decisions.contains(&("none", "ok")), "the read's decision and outcome rows should share its call id: {decisions:?}");
    let (_, page) = gw.control(Method::GET, "/audit?decision=deny&limit=50", None).await;
    let outcomes: Vec<&str> = page["rows"].as_array().expect("rows").iter().filter_map(|r| r["outcome"].as_str()).collect();
    for expected in ["not_granted", "scope_not_granted", "bad_request"] {
        assert!(outcomes.contains(&expected), "the refusal '{expected}' should be audited: {outcomes:?}");
    }
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "the audit chain should verify after the journey: {verify}");

    // The token never reached SQLite.
    gw.stop().await;
    for entry in std::fs::read_dir(dir.path().join("data")).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("read data file");
            assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "the private-app token was found in {}", path.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_are_checked_when_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    gw.control(Method::POST, "/agents", Some(json!({ "name": "bot" }))).await;
    let (status, body) = gw.control(Method::POST, "/grants", Some(json!({ "agent": "bot", "connection": "nope-1", "tier": "read" }))).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "a grant on a missing connection must be refused: {body}");
    gw.control(Method::POST, "/connections", Some(json!({ "provider": "hubspot-sandbox", "api_key": TOKEN }))).await;
    let (status, body) = gw.control(Method::POST, "/grants", Some(json!({ "agent": "ghost", "connection": "hubspot-sandbox-1", "tier": "read" }))).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "a grant for a missing agent must be refused: {body}");
    let (status, body) = gw.control(Method::POST, "/grants", Some(json!({ "agent": "bot", "connection": "hubspot-sandbox-1", "tier": "admin" }))).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "an unknown tier must be refused: {body}");
    let narrowed = json!({ "agent": "bot", "connection": "hubspot-sandbox-1", "tier": "read", "actions": ["hubspot_create_contact"] });
    let (status, body) = gw.control(Method::POST, "/grants", Some(narrowed)).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "a read grant cannot be narrowed to a write action: {body}");
    let (status, body) = gw.control(Method::DELETE, "/grants/bot/hubspot-sandbox-1/write", None).await;
    assert_eq!((status, code(&body)), (404, "not_found"), "revoking a grant nobody gave must say so: {body}");
    let (status, list) = gw.control(Method::GET, "/grants?agent=bot", None).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(0)), "no refused grant may have been stored: {list}");
    gw.stop().await;
}
