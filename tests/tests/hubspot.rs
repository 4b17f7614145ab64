//! Journey: lead follow-up on the simulated HubSpot. A person connects the demo portal with a
//! private-app token (read scopes first) and grants an agent read; the agent finds the new lead
//! by search, its company, its deal and its activity history, paging through a long one. With
//! write granted and the write scopes ticked it logs a note, a call and an email, creates a task,
//! enrolls the lead in a sequence and moves the deal; a contact that HubSpot would refuse is
//! refused before anything is sent, naming every offending field, and a stage outside the
//! deal's pipeline comes back as a clear `bad_request`. Real keychain, SQLite and loopback HTTP.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_sandbox::hubspot::{
    BUSY_CONTACT, BUSY_CONTACT_NOTES, ENROLLED_CONTACT, NEW_LEAD_COMPANY, NEW_LEAD_CONTACT,
    NEW_LEAD_DEAL, NEW_LEAD_EMAIL, OWNERS, PARTNER_PIPELINE, PIPELINES, PRIVATE_APP_TOKEN,
    SEQUENCES,
};
use switchboard_tests::Gateway;

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("<no code>")
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

fn results(body: &Value) -> Vec<Value> {
    body["result"]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ids(body: &Value) -> Vec<String> {
    results(body)
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}

const READ_SCOPES: [&str; 3] = [
    "crm.objects.contacts.read",
    "crm.objects.companies.read",
    "crm.objects.deals.read",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_agent_works_a_new_lead_within_its_grants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gw = Gateway::start_sandbox(&dir.path().join("data")).await;
    let (status, conn) = gw
        .control(Method::POST, "/connections", Some(json!({ "provider": "hubspot-sandbox", "label": "Sales", "api_key": PRIVATE_APP_TOKEN, "scopes": READ_SCOPES })))
        .await;
    assert_eq!(
        status, 200,
        "connecting the demo portal should work: {conn}"
    );
    let conn_id = conn["id"].as_str().expect("connection id").to_string();
    let (_, agent) = gw
        .control(
            Method::POST,
            "/agents",
            Some(json!({ "name": "followup-bot" })),
        )
        .await;
    let token = agent["token"].as_str().expect("agent token").to_string();
    let call = |tool: &'static str, input: Value| {
        let gw = &gw;
        let token = token.clone();
        async move {
            gw.agent(
                &token,
                Method::POST,
                &format!("/tools/hubspot_{tool}"),
                Some(json!({ "input": input })),
            )
            .await
        }
    };
    let tick = |scopes: Vec<&'static str>| {
        let gw = &gw;
        let conn_id = conn_id.clone();
        async move {
            let (status, c) = gw
                .control(
                    Method::PUT,
                    &format!("/connections/{conn_id}/scopes"),
                    Some(json!({ "scopes": scopes })),
                )
                .await;
            assert_eq!(status, 200, "ticking scopes should work: {c}");
        }
    };

    let new_leads = json!({
        "filters": [{ "property": "lifecyclestage", "operator": "EQ", "value": "lead" }, { "property": "hs_lead_status", "operator": "EQ", "value": "NEW" }],
        "sorts": [{ "property": "createdate", "direction": "DESCENDING" }],
        "properties": ["email", "firstname", "company", "hubspot_owner_id"],
        "limit": 3,
    });
    let (status, body) = call("search_contacts", new_leads.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (403, "not_granted"),
        "nothing before a grant: {body}"
    );
    gw.control(
        Method::POST,
        "/grants",
        Some(json!({ "agent": "followup-bot", "connection": conn_id, "tier": "read" })),
    )
    .await;

    // Read: the newest lead, its company, its deal, its history.
    let (status, body) = call("search_contacts", new_leads).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ids(&body).first().map(String::as_str),
        Some(NEW_LEAD_CONTACT),
        "the newest new lead comes first: {body}"
    );
    let lead = &results(&body)[0];
    assert_eq!(lead["properties"]["email"], NEW_LEAD_EMAIL);
    let owner_id = lead["properties"]["hubspot_owner_id"]
        .as_str()
        .expect("the lead has an owner")
        .to_string();
    assert!(
        body["result"]["total"].as_u64().unwrap_or(0) > 3,
        "more new leads than the page: {body}"
    );
    assert!(
        body["result"]["paging"]["next"]["after"].is_string(),
        "the cursor reaches the agent, nothing is cut silently: {body}"
    );
    let before_writes = time_ms(
        lead["properties"]["lastmodifieddate"]
            .as_str()
            .expect("a modification time"),
    );

    let by_lead = |prop: &str| json!({ "filters": [{ "property": prop, "operator": "EQ", "value": NEW_LEAD_CONTACT }] });
    let (status, body) = call("search_companies", by_lead("associations.contact")).await;
    assert_eq!(
        (status, ids(&body)),
        (200, vec![NEW_LEAD_COMPANY.to_string()]),
        "the lead's company: {body}"
    );
    let (status, body) = call("search_deals", by_lead("associations.contact")).await;
    assert_eq!(
        (status, ids(&body)),
        (200, vec![NEW_LEAD_DEAL.to_string()]),
        "the lead's deal: {body}"
    );
    assert_eq!(
        results(&body)[0]["properties"]["dealstage"],
        "appointmentscheduled"
    );
    let (status, body) = call(
        "get_deal_associations",
        json!({ "deal_id": NEW_LEAD_DEAL, "to_object_type": "companies" }),
    )
    .await;
    assert_eq!(
        (
            status,
            body["result"]["results"][0]["toObjectId"].to_string()
        ),
        (200, NEW_LEAD_COMPANY.to_string()),
        "{body}"
    );

    let history = |kind: &str| json!({ "record_type": "contacts", "record_id": NEW_LEAD_CONTACT, "activity_type": kind });
    let (status, body) = call("list_activities", history("emails")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(results(&body).len(), 1, "the demo request email: {body}");
    assert!(
        results(&body)[0]["properties"]["hs_email_subject"]
            .as_str()
            .is_some_and(|s| s.contains("Demo request")),
        "{body}"
    );
    let (_, body) = call("list_activities", history("notes")).await;
    assert_eq!(results(&body).len(), 1, "marketing's note: {body}");

    // A long history is paged: the cursor comes back until the last page.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for page in 1.. {
        let mut input = json!({ "record_type": "contacts", "record_id": BUSY_CONTACT, "activity_type": "notes", "limit": 5 });
        if let Some(a) = &after {
            input["after"] = json!(a);
        }
        let (status, body) = call("list_activities", input).await;
        assert_eq!(status, 200, "page {page}: {body}");
        seen.extend(ids(&body));
        match body["result"]["paging"]["next"]["after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
        assert!(page < 5, "paging should end");
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        BUSY_CONTACT_NOTES,
        "every note of the long history, once"
    );

    // Owners and sequences need their own scopes.
    let (status, body) = call("list_owners", json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (403, "scope_not_granted"),
        "a scope nobody ticked is refused: {body}"
    );
    assert!(message(&body).contains("crm.objects.owners.read"), "{body}");
    let mut scopes: Vec<&'static str> = READ_SCOPES.to_vec();
    scopes.extend(["crm.objects.owners.read", "automation.sequences.read"]);
    tick(scopes.clone()).await;
    let (status, body) = call("list_owners", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let owner = results(&body)
        .into_iter()
        .find(|o| o["id"] == owner_id.as_str())
        .expect("the lead's owner is a user");
    let user_id = owner["userId"].to_string();
    let sender = owner["email"].as_str().expect("owner email").to_string();
    let (status, body) = call("list_sequences", json!({ "user_id": user_id })).await;
    assert_eq!(
        (status, results(&body).len()),
        (200, SEQUENCES.len()),
        "{body}"
    );
    let sequence = results(&body)
        .into_iter()
        .find(|s| s["name"] == "New lead follow-up")
        .expect("the follow-up sequence");
    let sequence_id = sequence["id"].as_str().expect("sequence id").to_string();

    // Write: a separate tier, and the write scopes must be ticked too.
    let note = json!({ "contact_id": NEW_LEAD_CONTACT, "deal_id": NEW_LEAD_DEAL, "body": "Booked the demo for Tuesday.", "timestamp": "2024-04-02T10:00:00Z" });
    let (status, body) = call("create_note", note.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (403, "not_granted"),
        "read must not imply write: {body}"
    );
    gw.control(
        Method::POST,
        "/grants",
        Some(json!({ "agent": "followup-bot", "connection": conn_id, "tier": "write" })),
    )
    .await;
    let (status, body) = call("create_note", note.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (403, "scope_not_granted"),
        "write scopes nobody ticked must not be used: {body}"
    );
    scopes.extend([
        "crm.objects.contacts.write",
        "crm.objects.deals.write",
        "automation.sequences.enrollments.write",
    ]);
    tick(scopes).await;

    let (status, body) = call("create_note", note).await;
    assert_eq!(status, 200, "{body}");
    let note_call = body["call_id"].as_str().expect("call id").to_string();
    let (_, body) = call("list_activities", history("notes")).await;
    assert_eq!(
        results(&body).len(),
        2,
        "the note is on the lead's timeline: {body}"
    );
    assert_eq!(
        results(&body)[0]["properties"]["hs_note_body"],
        "Booked the demo for Tuesday.",
        "newest first: {body}"
    );
    let (_, body) = call(
        "list_activities",
        json!({ "record_type": "deals", "record_id": NEW_LEAD_DEAL, "activity_type": "notes" }),
    )
    .await;
    assert!(
        results(&body)
            .iter()
            .any(|n| n["properties"]["hs_note_body"] == "Booked the demo for Tuesday."),
        "and on the deal's: {body}"
    );

    let task = json!({
        "contact_id": NEW_LEAD_CONTACT, "subject": "Send the 40-seat quote", "body": "After the demo.", "due_date": "2024-04-05T09:00:00Z",
        "owner_id": owner_id, "priority": "HIGH", "status": "NOT_STARTED", "task_type": "EMAIL",
    });
    let (status, body) = call("create_task", task).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = call("list_activities", history("tasks")).await;
    let t = results(&body).into_iter().next().expect("the new task");
    assert_eq!(
        (
            t["properties"]["hs_task_subject"].as_str(),
            t["properties"]["hs_task_priority"].as_str()
        ),
        (Some("Send the 40-seat quote"), Some("HIGH"))
    );
    assert_eq!(t["properties"]["hubspot_owner_id"], owner_id.as_str());
    let (status, body) = call("create_task", json!({ "contact_id": NEW_LEAD_CONTACT, "subject": "x", "due_date": "2024-04-05T09:00:00Z", "priority": "ASAP" })).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "{body}");
    assert!(
        message(&body).contains("priority"),
        "the field is named: {body}"
    );

    let (status, body) = call("log_call", json!({ "contact_id": NEW_LEAD_CONTACT, "body": "Confirmed the demo.", "timestamp": "2024-04-02T11:00:00Z", "direction": "OUTBOUND", "status": "COMPLETED", "duration_ms": 240000 })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call("log_email", json!({ "contact_id": NEW_LEAD_CONTACT, "subject": "Your demo on Tuesday", "text": "See you then.", "timestamp": "2024-04-02T11:05:00Z", "to_email": NEW_LEAD_EMAIL })).await;
    assert_eq!(status, 200, "{body}");
    for (kind, n) in [("calls", 1), ("emails", 2)] {
        let (_, body) = call("list_activities", history(kind)).await;
        assert_eq!(
            results(&body).len(),
            n,
            "{kind} on the lead's timeline: {body}"
        );
    }

    // Sequences: enroll once; HubSpot refuses a second enrollment and an unknown sequence.
    let enroll = |contact: &str, seq: &str| json!({ "sequence_id": seq, "contact_id": contact, "sender_email": sender, "user_id": user_id });
    let (status, body) = call("enroll_in_sequence", enroll(NEW_LEAD_CONTACT, &sequence_id)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["toEmail"], NEW_LEAD_EMAIL);
    let (status, body) = call("enroll_in_sequence", enroll(NEW_LEAD_CONTACT, &sequence_id)).await;
    assert_eq!((status, code(&body)), (502, "provider_error"), "{body}");
    assert!(
        message(&body).contains("already enrolled"),
        "HubSpot's words reach the agent: {body}"
    );
    let (status, body) = call("enroll_in_sequence", enroll(ENROLLED_CONTACT, &sequence_id)).await;
    assert!(
        status == 502 && message(&body).contains("already enrolled"),
        "{body}"
    );
    let (status, body) = call("enroll_in_sequence", enroll(NEW_LEAD_CONTACT, "99999")).await;
    assert!(
        status == 502 && message(&body).contains("does not exist"),
        "{body}"
    );

    // The deal moves within its pipeline; a stage of another pipeline is refused by name.
    let (status, body) = call(
        "update_deal_stage",
        json!({ "deal_id": NEW_LEAD_DEAL, "stage": "qualifiedtobuy" }),
    )
    .await;
    assert_eq!(
        (status, body["result"]["properties"]["dealstage"].as_str()),
        (200, Some("qualifiedtobuy")),
        "{body}"
    );
    let partner_stage = PIPELINES
        .iter()
        .find(|p| p.id == PARTNER_PIPELINE)
        .map(|p| p.stages[1].0)
        .expect("a partner stage");
    let (status, body) = call(
        "update_deal_stage",
        json!({ "deal_id": NEW_LEAD_DEAL, "stage": partner_stage }),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (400, "bad_request"),
        "a stage of another pipeline is the agent's mistake, said clearly: {body}"
    );
    assert!(
        message(&body).contains("'dealstage'") && message(&body).contains("qualifiedtobuy"),
        "the field and the allowed stages are named: {body}"
    );
    assert!(
        message(&body).contains("HTTP 400"),
        "this one is HubSpot's own refusal, passed on as the agent's input error: {body}"
    );
    let (_, body) = call(
        "get_deal",
        json!({ "deal_id": NEW_LEAD_DEAL, "properties": ["dealstage"] }),
    )
    .await;
    assert_eq!(
        body["result"]["properties"]["dealstage"], "qualifiedtobuy",
        "the refused move changed nothing: {body}"
    );

    // The writes moved the lead's modification time, so a "recently modified" poll sees it.
    let (status, body) = call(
        "search_contacts",
        json!({ "filters": [{ "property": "lastmodifieddate", "operator": "GT", "value": before_writes.to_string() }], "sorts": [{ "property": "lastmodifieddate", "direction": "ASCENDING" }] }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        ids(&body).contains(&NEW_LEAD_CONTACT.to_string()),
        "the lead changed since the poll's high-water mark: {body}"
    );

    // Creating a contact: HubSpot's rules said before anything is sent.
    let (status, body) = call(
        "create_contact",
        json!({ "properties": { "lastname": "Hopper" } }),
    )
    .await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "{body}");
    assert!(
        message(&body).contains("missing: email, firstname"),
        "every missing field is named: {body}"
    );
    let refused = json!({ "properties": {
        "email": "grace.new@example.com", "firstname": "Grace", "favourite_colour": "teal", "createdate": "2024-01-01T00:00:00Z",
        "lifecyclestage": "friend", "expected_budget": "a lot",
    }});
    let (status, body) = call("create_contact", refused).await;
    assert_eq!((status, code(&body)), (400, "bad_request"), "{body}");
    for field in [
        "favourite_colour",
        "createdate",
        "lifecyclestage",
        "expected_budget",
    ] {
        assert!(
            message(&body).contains(&format!("'{field}'")),
            "{field} should be named: {body}"
        );
    }
    assert!(
        message(&body).contains("salesqualifiedlead"),
        "the allowed lifecycle stages are listed: {body}"
    );
    assert!(
        message(&body).contains("would refuse") && !message(&body).contains("HTTP 400"),
        "refused by the pre-flight, before the write was sent: {body}"
    );
    let (_, body) = call("search_contacts", json!({ "filters": [{ "property": "email", "operator": "EQ", "value": "grace.new@example.com" }] })).await;
    assert_eq!(body["result"]["total"], 0, "nothing was written: {body}");
    let good = json!({ "properties": { "email": "grace.new@example.com", "firstname": "Grace", "lifecyclestage": "lead", "expected_budget": 12000, "hubspot_owner_id": owner_id } });
    let (status, body) = call("create_contact", good).await;
    assert_eq!(
        status, 200,
        "a contact that fits the account's definitions is created: {body}"
    );
    let created_call = body["call_id"].as_str().expect("call id").to_string();
    assert_eq!(body["result"]["properties"]["lifecyclestage"], "lead");

    // The audit log: decision and outcome rows of the writes, the definitions check named, and
    // every refusal.
    for id in [&note_call, &created_call] {
        let (_, page) = gw
            .control(Method::GET, &format!("/audit?text={id}&limit=10"), None)
            .await;
        let rows: Vec<(&str, &str)> = page["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["decision"].as_str().unwrap_or(""),
                    r["outcome"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert!(
            rows.contains(&("allow", "started")) && rows.contains(&("none", "ok")),
            "{id}: {rows:?}"
        );
    }
    let (_, page) = gw
        .control(
            Method::GET,
            &format!("/audit?text={created_call}&limit=10"),
            None,
        )
        .await;
    assert!(
        page.to_string().contains("/crm/v3/properties/contacts"),
        "the allow row says the input was checked against the account's definitions: {page}"
    );
    let (_, page) = gw
        .control(Method::GET, "/audit?decision=deny&limit=100", None)
        .await;
    let outcomes: Vec<&str> = page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["outcome"].as_str())
        .collect();
    for expected in ["not_granted", "scope_not_granted", "bad_request"] {
        assert!(
            outcomes.contains(&expected),
            "the refusal '{expected}' should be audited: {outcomes:?}"
        );
    }
    let (_, verify) = gw.control(Method::POST, "/audit/verify", None).await;
    assert_eq!(verify["intact"], true, "{verify}");
    assert!(
        OWNERS.iter().any(|o| o.id == owner_id),
        "the owner came from the portal's users"
    );
    assert_eq!(
        gw.app.sandbox_rate_limited("hubspot-sandbox"),
        Some(0),
        "searches were paced by HubSpot's 4 per second and never met its 429"
    );
    gw.stop().await;
}

/// Milliseconds since the epoch of an ISO 8601 time such as `2024-03-25T17:15:00.000Z`.
fn time_ms(iso: &str) -> i64 {
    let t = time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
        .expect("an ISO 8601 time");
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).expect("milliseconds fit")
}
