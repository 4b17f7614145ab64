//! The simulated HubSpot portal over real HTTP: property definitions and the writes checked
//! against them (HubSpot's `VALIDATION_ERROR` naming every offending property, nothing
//! written), activities created with HubSpot's default association types and read back through
//! v4 associations, owners, and sequences with their enrollment refusals.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_sandbox::hubspot::{
    ENROLLED_CONTACT, HubSpotConfig, HubSpotSandbox, NEW_LEAD_CONTACT, NEW_LEAD_DEAL,
    NEW_LEAD_EMAIL, OWNERS, PARTNER_PIPELINE, PRIVATE_APP_TOKEN, SEEDED_CONTACTS, SEQUENCES,
};
use switchboard_sandbox::{SandboxHandle, SandboxServer};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client can be built")
}

async fn start() -> SandboxHandle {
    SandboxServer::start(HubSpotSandbox::new(HubSpotConfig::default()))
        .await
        .expect("the sandbox starts on loopback")
}

async fn send(
    h: &SandboxHandle,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client()
        .request(method, format!("{}{path}", h.url()))
        .bearer_auth(PRIVATE_APP_TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("the sandbox answers");
    let st = r.status();
    let text = r.text().await.expect("a body");
    (
        st,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        },
    )
}

async fn get(h: &SandboxHandle, path: &str) -> (StatusCode, Value) {
    send(h, reqwest::Method::GET, path, None).await
}

async fn post(h: &SandboxHandle, path: &str, body: Value) -> (StatusCode, Value) {
    send(h, reqwest::Method::POST, path, Some(body)).await
}

async fn contact_count(h: &SandboxHandle) -> u64 {
    let (_, b) = post(h, "/crm/v3/objects/contacts/search", json!({ "limit": 1 })).await;
    b["total"].as_u64().expect("a total")
}

#[tokio::test]
async fn property_definitions_have_hubspots_shape() {
    let h = start().await;
    let (st, b) = get(&h, "/crm/v3/properties/contacts").await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let defs = b["results"].as_array().expect("results");
    let def = |name: &str| {
        defs.iter()
            .find(|d| d["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} is defined"))
    };
    let stage = def("lifecyclestage");
    assert_eq!(
        (stage["type"].as_str(), stage["fieldType"].as_str()),
        (Some("enumeration"), Some("radio"))
    );
    assert!(
        stage["options"]
            .as_array()
            .expect("options")
            .iter()
            .any(|o| o["value"] == "lead" && o["label"] == "Lead")
    );
    assert_eq!(
        def("createdate")["modificationMetadata"]["readOnlyValue"],
        true,
        "HubSpot sets createdate"
    );
    assert_eq!(def("email")["modificationMetadata"]["readOnlyValue"], false);
    assert_eq!(
        def("expected_budget")["hubspotDefined"],
        false,
        "the portal's own custom property"
    );
    assert_eq!(
        def("hubspot_owner_id")["externalOptions"],
        true,
        "owners come from the owners API"
    );
    let (st, one) = get(&h, "/crm/v3/properties/contacts/hs_lead_status").await;
    assert_eq!(
        (st, one["name"].as_str()),
        (StatusCode::OK, Some("hs_lead_status"))
    );
    let (st, e) = get(&h, "/crm/v3/properties/contacts/favourite_colour").await;
    assert_eq!(
        (st, e["category"].as_str()),
        (StatusCode::NOT_FOUND, Some("OBJECT_NOT_FOUND"))
    );
    let (st, b) = get(&h, "/crm/v3/properties/deals").await;
    let stage = b["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|d| d["name"] == "dealstage")
        .cloned()
        .expect("dealstage");
    assert_eq!(st, StatusCode::OK);
    assert!(
        stage["options"]
            .as_array()
            .expect("options")
            .iter()
            .any(|o| o["value"] == "closedwon"),
        "{stage}"
    );
    let (st, _) = get(&h, "/crm/v3/properties/spaceships").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    h.shutdown().await;
}

#[tokio::test]
async fn writes_are_checked_against_the_definitions_and_refusals_write_nothing() {
    let h = start().await;
    let before = contact_count(&h).await;
    assert_eq!(before, SEEDED_CONTACTS as u64);
    let bad = json!({ "properties": {
        "email": "new.person@example.com", "favourite_colour": "teal", "hs_object_id": "5", "lifecyclestage": "friend",
        "expected_budget": "plenty", "follow_up_date": "tomorrow", "newsletter_opt_in": "perhaps",
    }});
    let (st, e) = post(&h, "/crm/v3/objects/contacts", bad).await;
    assert_eq!(
        (st, e["category"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR")),
        "{e}"
    );
    let codes: Vec<(&str, &str)> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|x| {
            (
                x["context"]["propertyName"][0].as_str().unwrap_or(""),
                x["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for expected in [
        ("favourite_colour", "PROPERTY_DOESNT_EXIST"),
        ("hs_object_id", "READ_ONLY_VALUE"),
        ("lifecyclestage", "INVALID_OPTION"),
        ("expected_budget", "INVALID_DECIMAL"),
        ("follow_up_date", "INVALID_DATE"),
        ("newsletter_opt_in", "INVALID_BOOLEAN"),
    ] {
        assert!(
            codes.contains(&expected),
            "{expected:?} should be listed: {codes:?}"
        );
    }
    assert_eq!(codes.len(), 6, "the good email is not listed: {codes:?}");
    let msg = e["message"].as_str().expect("a message");
    assert!(
        msg.starts_with("Property values were not valid: [")
            && msg.contains("\"name\":\"lifecyclestage\""),
        "{msg}"
    );
    assert_eq!(
        contact_count(&h).await,
        before,
        "a refused create writes nothing"
    );

    let (st, e) = post(
        &h,
        "/crm/v3/objects/contacts",
        json!({ "properties": { "email": "not-an-email" } }),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("INVALID_EMAIL"),
        "{e}"
    );

    let good = json!({ "properties": { "email": "new.person@example.com", "firstname": "New", "lifecyclestage": "lead", "expected_budget": 5000, "follow_up_date": "2024-05-01", "newsletter_opt_in": true } });
    let (st, c) = post(&h, "/crm/v3/objects/contacts", good).await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    assert_eq!(
        (
            c["properties"]["expected_budget"].as_str(),
            c["properties"]["newsletter_opt_in"].as_str()
        ),
        (Some("5000"), Some("true")),
        "values are stored as HubSpot's strings"
    );
    let id = c["id"].as_str().expect("an id").to_string();
    assert_eq!(
        id,
        (101 + SEEDED_CONTACTS).to_string(),
        "new ids follow the seeded ones"
    );
    let (st, _) = send(
        &h,
        reqwest::Method::PATCH,
        &format!("/crm/v3/objects/contacts/{id}"),
        Some(json!({ "properties": { "createdate": "1" } })),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "an update cannot set a read-only property either"
    );
    let (st, _) = send(
        &h,
        reqwest::Method::PATCH,
        &format!("/crm/v3/objects/contacts/{id}"),
        Some(json!({ "properties": { "email": NEW_LEAD_EMAIL } })),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "an update cannot take another contact's email"
    );

    // A deal moves only within its own pipeline.
    let (st, e) = send(
        &h,
        reqwest::Method::PATCH,
        &format!("/crm/v3/objects/deals/{NEW_LEAD_DEAL}"),
        Some(json!({ "properties": { "dealstage": "6371531" } })),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a partner-pipeline stage is not a sales-pipeline stage: {e}"
    );
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("INVALID_OPTION")
            && msg.contains("appointmentscheduled")
            && !msg.contains("6371530"),
        "the deal's own stages are listed: {msg}"
    );
    let moved = json!({ "properties": { "pipeline": PARTNER_PIPELINE, "dealstage": "6371531" } });
    let (st, d) = send(
        &h,
        reqwest::Method::PATCH,
        &format!("/crm/v3/objects/deals/{NEW_LEAD_DEAL}"),
        Some(moved),
    )
    .await;
    assert_eq!(
        (st, d["properties"]["dealstage"].as_str()),
        (StatusCode::OK, Some("6371531")),
        "moving pipeline and stage together works: {d}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn activities_are_created_with_associations_and_read_back() {
    let h = start().await;
    let note = json!({
        "properties": { "hs_timestamp": "2024-04-02T10:00:00Z", "hs_note_body": "Demo booked" },
        "associations": [
            { "to": { "id": NEW_LEAD_CONTACT }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202 }] },
            { "to": { "id": NEW_LEAD_DEAL }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214 }] },
        ],
    });
    let (st, n) = post(&h, "/crm/v3/objects/notes", note).await;
    assert_eq!(st, StatusCode::CREATED, "{n}");
    let id = n["id"].as_str().expect("note id").to_string();
    assert_eq!(
        n["properties"]["hs_timestamp"], "2024-04-02T10:00:00.000Z",
        "times are stored as HubSpot writes them"
    );
    let (st, a) = get(
        &h,
        &format!("/crm/v4/objects/notes/{id}/associations/contacts"),
    )
    .await;
    assert_eq!(
        (st, a["results"][0]["toObjectId"].to_string()),
        (StatusCode::OK, NEW_LEAD_CONTACT.to_string()),
        "{a}"
    );
    assert_eq!(a["results"][0]["associationTypes"][0]["typeId"], 202);
    let (_, a) = get(
        &h,
        &format!("/crm/v4/objects/contacts/{NEW_LEAD_CONTACT}/associations/notes"),
    )
    .await;
    let back = a["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["toObjectId"].as_u64().map(|n| n.to_string()).as_deref() == Some(id.as_str()))
        .cloned()
        .expect("the reverse link");
    assert_eq!(
        back["associationTypes"][0]["typeId"], 201,
        "contact → note is the reverse type"
    );
    let (_, c) = get(
        &h,
        &format!("/crm/v3/objects/contacts/{NEW_LEAD_CONTACT}?properties=notes_last_updated"),
    )
    .await;
    assert_eq!(
        c["properties"]["notes_last_updated"]
            .as_str()
            .map(|t| t.len()),
        Some(24),
        "logging an activity moves the last activity date: {c}"
    );

    let (st, e) = post(
        &h,
        "/crm/v3/objects/notes",
        json!({ "properties": { "hs_note_body": "no time" } }),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "an activity needs hs_timestamp: {e}"
    );
    let wrong_type = json!({ "properties": { "hs_timestamp": "1712052000000", "hs_note_body": "x" }, "associations": [{ "to": { "id": NEW_LEAD_CONTACT }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204 }] }] });
    let (st, e) = post(&h, "/crm/v3/objects/notes", wrong_type).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "204 is task → contact, not a note type: {e}"
    );
    let missing = json!({ "properties": { "hs_timestamp": "1712052000000", "hs_note_body": "x" }, "associations": [{ "to": { "id": "999999" }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202 }] }] });
    let (st, e) = post(&h, "/crm/v3/objects/notes", missing).await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a contact that does not exist: {e}"
    );
    let task = json!({ "properties": { "hs_timestamp": "2024-04-05T09:00:00Z", "hs_task_subject": "Quote", "hs_task_priority": "URGENT" } });
    let (st, e) = post(&h, "/crm/v3/objects/tasks", task).await;
    assert!(
        st == StatusCode::BAD_REQUEST
            && e["message"]
                .as_str()
                .unwrap_or_default()
                .contains("hs_task_priority"),
        "{e}"
    );
    let (st, t) = get(
        &h,
        &format!("/crm/v3/objects/notes/{id}?properties=hs_note_body"),
    )
    .await;
    assert_eq!(
        (st, t["properties"]["hs_note_body"].as_str()),
        (StatusCode::OK, Some("Demo booked"))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn owners_sequences_and_enrollment_follow_hubspots_rules() {
    let h = start().await;
    let (st, b) = get(&h, "/crm/v3/owners").await;
    assert_eq!(
        (st, b["results"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(OWNERS.len())),
        "{b}"
    );
    assert_eq!(b["results"][0]["userId"], OWNERS[0].user_id);
    let (_, b) = get(&h, &format!("/crm/v3/owners?email={}", OWNERS[1].email)).await;
    assert_eq!(b["results"][0]["id"], OWNERS[1].id);
    let user = OWNERS[0].user_id;
    let (st, b) = get(&h, &format!("/automation/v4/sequences?userId={user}")).await;
    assert_eq!(
        (st, b["total"].as_u64()),
        (StatusCode::OK, Some(SEQUENCES.len() as u64)),
        "{b}"
    );
    let (st, _) = get(&h, "/automation/v4/sequences").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "userId is required");
    let (st, s) = get(
        &h,
        &format!("/automation/v4/sequences/{}?userId={user}", SEQUENCES[0].id),
    )
    .await;
    assert_eq!(
        (st, s["steps"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(SEQUENCES[0].steps.len()))
    );

    let enroll = |contact: &str, seq: &str, sender: &str| json!({ "contactId": contact, "sequenceId": seq, "senderEmail": sender });
    let path = format!("/automation/v4/sequences/enrollments?userId={user}");
    let (st, e) = post(
        &h,
        &path,
        enroll(NEW_LEAD_CONTACT, SEQUENCES[0].id, OWNERS[1].email),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "the sender must be the enrolling user's inbox: {e}"
    );
    let (st, e) = post(
        &h,
        &path,
        enroll(NEW_LEAD_CONTACT, "424242", OWNERS[0].email),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "an unknown sequence: {e}");
    let (st, e) = post(&h, &path, json!({ "contactId": NEW_LEAD_CONTACT })).await;
    assert!(
        st == StatusCode::BAD_REQUEST
            && e["message"]
                .as_str()
                .unwrap_or_default()
                .contains("sequenceId, senderEmail"),
        "{e}"
    );
    let (st, ok) = post(
        &h,
        &path,
        enroll(NEW_LEAD_CONTACT, SEQUENCES[0].id, OWNERS[0].email),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{ok}");
    assert_eq!(ok["toEmail"], NEW_LEAD_EMAIL);
    let (st, e) = post(
        &h,
        &path,
        enroll(NEW_LEAD_CONTACT, SEQUENCES[1].id, OWNERS[0].email),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "one sequence at a time: {e}");
    let (st, e) = post(
        &h,
        &path,
        enroll(ENROLLED_CONTACT, SEQUENCES[0].id, OWNERS[0].email),
    )
    .await;
    assert!(
        st == StatusCode::CONFLICT
            && e["message"]
                .as_str()
                .unwrap_or_default()
                .contains("already enrolled"),
        "{e}"
    );
    let (st, status) = get(
        &h,
        &format!("/automation/v4/sequences/enrollments/contact/{NEW_LEAD_CONTACT}"),
    )
    .await;
    assert_eq!(
        (st, status["sequenceId"].as_str()),
        (StatusCode::OK, Some(SEQUENCES[0].id)),
        "{status}"
    );
    let (_, c) = get(
        &h,
        &format!("/crm/v3/objects/contacts/{NEW_LEAD_CONTACT}?properties=hs_sequences_is_enrolled"),
    )
    .await;
    assert_eq!(c["properties"]["hs_sequences_is_enrolled"], "true");
    h.shutdown().await;
}

#[tokio::test]
async fn a_contact_is_read_by_its_email_with_id_property() {
    let h = start().await;
    let (status, body) = send(&h, reqwest::Method::GET, &format!("/crm/v3/objects/contacts/{NEW_LEAD_EMAIL}?idProperty=email"), None).await;
    assert_eq!(status, StatusCode::OK, "HubSpot reads a contact by a unique property: {body}");
    assert_eq!(body["id"], NEW_LEAD_CONTACT, "the lead is found by email: {body}");
    let (status, _) = send(&h, reqwest::Method::GET, "/crm/v3/objects/contacts/nobody@unknown.example?idProperty=email", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an email nobody has is a 404");
    let (status, _) = send(&h, reqwest::Method::GET, &format!("/crm/v3/objects/contacts/{NEW_LEAD_EMAIL}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "without idProperty the key is the record id");
    h.shutdown().await;
}
