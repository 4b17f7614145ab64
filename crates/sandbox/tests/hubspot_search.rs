//! The simulated HubSpot's CRM search over real HTTP: filters of every kind, the association
//! pseudo-properties, sorting, paging with `after` and `total`, HubSpot's limits (200 per page,
//! 10,000 results, five groups), the "recently modified" poll (`lastmodifieddate GT <ms>`
//! ascending) seeing writes, and search's own per-second limit per token.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard_sandbox::hubspot::{
    BUSY_CONTACT, BUSY_CONTACT_NOTES, HubSpotConfig, HubSpotSandbox, NEW_LEAD_CONTACT,
    NEW_LEAD_EMAIL, PRIVATE_APP_TOKEN, SEEDED_CONTACTS,
};
use switchboard_sandbox::{SandboxHandle, SandboxServer};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client can be built")
}

/// A sandbox whose search limit will not get in the way of a test that is not about it.
async fn start() -> SandboxHandle {
    let cfg = HubSpotConfig {
        search_rate_limit_max: 1000,
        ..HubSpotConfig::default()
    };
    SandboxServer::start(HubSpotSandbox::new(cfg))
        .await
        .expect("the sandbox starts on loopback")
}

async fn search_as(
    h: &SandboxHandle,
    token: &str,
    object: &str,
    body: &Value,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let r = client()
        .post(format!("{}/crm/v3/objects/{object}/search", h.url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the sandbox answers");
    let st = r.status();
    let headers = r.headers().clone();
    (st, r.json().await.expect("JSON body"), headers)
}

async fn search(h: &SandboxHandle, object: &str, body: Value) -> (StatusCode, Value) {
    let (st, b, _) = search_as(h, PRIVATE_APP_TOKEN, object, &body).await;
    (st, b)
}

fn ids(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}

fn filter(property: &str, operator: &str, value: Value) -> Value {
    json!({ "filterGroups": [{ "filters": [{ "propertyName": property, "operator": operator, "value": value }] }] })
}

fn ms(iso: &str) -> i64 {
    let t = time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
        .expect("an ISO 8601 time");
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).expect("ms fit")
}

#[tokio::test]
async fn filters_compare_by_property_type_and_combine_as_hubspot_documents() {
    let h = start().await;
    let (st, b) = search(
        &h,
        "contacts",
        filter("email", "EQ", json!(NEW_LEAD_EMAIL.to_uppercase())),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(
        (b["total"].as_u64(), ids(&b)),
        (Some(1), vec![NEW_LEAD_CONTACT.to_string()]),
        "EQ on text ignores case: {b}"
    );
    let props = b["results"][0]["properties"]
        .as_object()
        .expect("properties");
    let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname"
        ],
        "default contact properties"
    );

    let (_, b) = search(
        &h,
        "contacts",
        filter("email", "CONTAINS_TOKEN", json!("*@example.com")),
    )
    .await;
    assert_eq!(
        b["total"].as_u64(),
        Some(SEEDED_CONTACTS as u64),
        "a wildcard token matches every seeded email"
    );

    let body = json!({
        "filterGroups": [
            { "filters": [{ "propertyName": "lifecyclestage", "operator": "EQ", "value": "lead" }, { "propertyName": "hs_lead_status", "operator": "EQ", "value": "NEW" }] },
            { "filters": [{ "propertyName": "hs_object_id", "operator": "IN", "values": ["101", "102"] }] },
        ],
        "properties": ["hs_lead_status", "lifecyclestage", "mobilephone"],
    });
    let (st, b) = search(&h, "contacts", body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let found = ids(&b);
    assert!(
        found.contains(&"101".to_string())
            && found.contains(&"102".to_string())
            && found.contains(&NEW_LEAD_CONTACT.to_string()),
        "groups are OR-ed: {found:?}"
    );
    for r in b["results"].as_array().expect("results") {
        let p = &r["properties"];
        let new_lead = p["lifecyclestage"] == "lead" && p["hs_lead_status"] == "NEW";
        assert!(
            new_lead || r["id"] == "101" || r["id"] == "102",
            "filters inside a group are AND-ed: {r}"
        );
        assert!(
            p.get("mobilephone").is_some_and(Value::is_null),
            "a requested property that is unset comes back null: {r}"
        );
        assert!(
            p.get("email").is_none(),
            "only the requested properties (and the record's identity) come back: {r}"
        );
    }

    let (_, b) = search(&h, "deals", json!({ "filterGroups": [{ "filters": [{ "propertyName": "amount", "operator": "BETWEEN", "value": "5000", "highValue": 10000 }] }], "sorts": [{ "propertyName": "amount", "direction": "DESCENDING" }], "properties": ["amount"] })).await;
    let amounts: Vec<f64> = b["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["properties"]["amount"].as_str()?.parse().ok())
        .collect();
    assert!(
        !amounts.is_empty() && amounts.iter().all(|a| (5000.0..=10000.0).contains(a)),
        "{amounts:?}"
    );
    assert!(
        amounts.windows(2).all(|w| w[0] >= w[1]),
        "numbers sort as numbers, descending: {amounts:?}"
    );

    let (_, b) = search(
        &h,
        "contacts",
        filter("phone", "NOT_HAS_PROPERTY", json!(null)),
    )
    .await;
    assert_eq!(b["total"], 0, "every seeded contact has a phone");
    let (_, b) = search(&h, "companies", json!({ "query": "hypertext" })).await;
    assert_eq!(
        ids(&b),
        vec!["210"],
        "query searches the default text properties: {b}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn activity_history_is_searchable_through_associations() {
    let h = start().await;
    let body = json!({
        "filterGroups": [{ "filters": [{ "propertyName": "associations.contact", "operator": "EQ", "value": BUSY_CONTACT }] }],
        "sorts": [{ "propertyName": "hs_timestamp", "direction": "DESCENDING" }],
        "properties": ["hs_note_body", "hs_timestamp"],
        "limit": 5,
    });
    let (st, b) = search(&h, "notes", body.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["total"].as_u64(), Some(BUSY_CONTACT_NOTES as u64), "{b}");
    let mut seen = ids(&b);
    let mut page = b;
    let mut pages = 1;
    while let Some(after) = page["paging"]["next"]["after"].as_str() {
        let mut next = body.clone();
        next["after"] = json!(after);
        let (st, b) = search(&h, "notes", next).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        seen.extend(ids(&b));
        page = b;
        pages += 1;
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(
        (pages, seen.len()),
        (3, BUSY_CONTACT_NOTES),
        "12 notes at 5 a page is 3 pages, every note once"
    );
    let (_, first) = search(&h, "notes", body).await;
    let times: Vec<&str> = first["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["properties"]["hs_timestamp"].as_str())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );

    let (_, b) = search(
        &h,
        "emails",
        filter("associations.contact", "EQ", json!(NEW_LEAD_CONTACT)),
    )
    .await;
    assert_eq!(b["total"], 1, "the new lead's demo request: {b}");
    let (st, b) = search(
        &h,
        "notes",
        filter("associations.spaceship", "EQ", json!("1")),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    h.shutdown().await;
}

#[tokio::test]
async fn polling_recently_modified_contacts_sees_each_write_once() {
    let h = start().await;
    let poll = |since: i64| {
        json!({
            "filterGroups": [{ "filters": [{ "propertyName": "lastmodifieddate", "operator": "GT", "value": since.to_string() }] }],
            "sorts": [{ "propertyName": "lastmodifieddate", "direction": "ASCENDING" }],
            "properties": ["email", "lastmodifieddate"],
            "limit": 100,
        })
    };
    let (_, b) = search(&h, "contacts", poll(0)).await;
    let all = b["results"].as_array().expect("results").clone();
    assert_eq!(all.len(), SEEDED_CONTACTS);
    let times: Vec<i64> = all
        .iter()
        .map(|r| {
            ms(r["properties"]["lastmodifieddate"]
                .as_str()
                .expect("a time"))
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "ascending by modification time"
    );
    let high_water = *times.iter().max().expect("a newest contact");
    let (_, b) = search(&h, "contacts", poll(high_water)).await;
    assert_eq!(
        b["total"], 0,
        "nothing changed since the newest seeded write: {b}"
    );

    let r = client()
        .patch(format!("{}/crm/v3/objects/contacts/107", h.url()))
        .bearer_auth(PRIVATE_APP_TOKEN)
        .json(&json!({ "properties": { "jobtitle": "Chief Scientist" } }))
        .send()
        .await
        .expect("update answers");
    assert_eq!(r.status(), StatusCode::OK);
    let (_, b) = search(&h, "contacts", poll(high_water)).await;
    assert_eq!(
        ids(&b),
        vec!["107"],
        "the update bumped lastmodifieddate: {b}"
    );
    let bumped = ms(b["results"][0]["properties"]["lastmodifieddate"]
        .as_str()
        .expect("a time"));
    let (_, b) = search(&h, "contacts", poll(bumped)).await;
    assert_eq!(
        b["total"], 0,
        "polling from the new high-water mark sees nothing twice: {b}"
    );
    let iso = json!({ "filterGroups": [{ "filters": [{ "propertyName": "lastmodifieddate", "operator": "GTE", "value": "2024-03-25T00:00:00Z" }] }] });
    let (st, b) = search(&h, "contacts", iso).await;
    assert!(
        st == StatusCode::OK && b["total"].as_u64().unwrap_or(0) > 0,
        "ISO 8601 values work too: {b}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn searches_outside_hubspots_limits_are_refused() {
    let h = start().await;
    for (body, why) in [
        (json!({ "limit": 201 }), "more than 200 per page"),
        (json!({ "after": "10000" }), "paging past 10,000 results"),
        (
            filter("email", "LIKE", json!("x")),
            "an operator HubSpot does not have",
        ),
        (
            filter("favourite_colour", "EQ", json!("blue")),
            "a property the portal does not define",
        ),
        (
            json!({ "filterGroups": [{ "filters": [{ "propertyName": "email", "operator": "IN" }] }] }),
            "IN without values",
        ),
        (
            filter("createdate", "GT", json!("last tuesday")),
            "a date that is not a date",
        ),
        (
            json!({ "filterGroups": vec![json!({ "filters": [] }); 6] }),
            "six filter groups",
        ),
        (
            json!({ "sorts": [{ "propertyName": "email" }, { "propertyName": "lastname" }] }),
            "two sorts",
        ),
    ] {
        let (st, b) = search(&h, "contacts", body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{why}: {b}");
        assert_eq!(b["category"], "VALIDATION_ERROR", "{why}: {b}");
    }
    let (st, b) = search(&h, "contacts", json!({ "limit": 200 })).await;
    assert_eq!(
        (st, b["results"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(SEEDED_CONTACTS)),
        "200 is allowed"
    );
    assert!(
        b.get("paging").is_none(),
        "no next page when everything fit: {b}"
    );
    let (st, _) = search(&h, "spaceships", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _, _) = search_as(&h, "pat-not-a-token", "contacts", &json!({})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    h.shutdown().await;
}

#[tokio::test]
async fn search_has_its_own_per_second_limit_per_token() {
    let cfg = HubSpotConfig {
        search_rate_limit_max: 4,
        search_rate_limit_interval: Duration::from_secs(3),
        ..HubSpotConfig::default()
    };
    let h = SandboxServer::start(HubSpotSandbox::new(cfg))
        .await
        .expect("the sandbox starts");
    for i in 0..4u32 {
        let (st, b, headers) =
            search_as(&h, PRIVATE_APP_TOKEN, "contacts", &json!({ "limit": 1 })).await;
        assert_eq!(
            st,
            StatusCode::OK,
            "search {} of 4 is within the limit: {b}",
            i + 1
        );
        let hv = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(hv("x-hubspot-ratelimit-secondly").as_deref(), Some("4"));
        assert_eq!(
            hv("x-hubspot-ratelimit-secondly-remaining"),
            Some((3 - i).to_string())
        );
        assert!(
            hv("x-hubspot-ratelimit-max").is_none(),
            "search answers do not carry the ten-second headers"
        );
    }
    let (st, b, headers) = search_as(&h, PRIVATE_APP_TOKEN, "contacts", &json!({})).await;
    assert_eq!(
        st,
        StatusCode::TOO_MANY_REQUESTS,
        "the fifth search inside the window is refused: {b}"
    );
    assert_eq!(
        (b["errorType"].as_str(), b["policyName"].as_str()),
        (Some("RATE_LIMIT"), Some("SECONDLY")),
        "{b}"
    );
    assert_eq!(
        headers
            .get("x-hubspot-ratelimit-secondly-remaining")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    assert_eq!(h.rate_limited_count(), 1, "the 429 is counted");

    // Ordinary reads are not held back by the search limit.
    let r = client()
        .get(format!("{}/crm/v3/objects/contacts?limit=1", h.url()))
        .bearer_auth(PRIVATE_APP_TOKEN)
        .send()
        .await
        .expect("list");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get("x-hubspot-ratelimit-remaining")
            .and_then(|v| v.to_str().ok()),
        Some("99"),
        "searches did not use the ten-second budget"
    );

    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (st, b, _) = search_as(&h, PRIVATE_APP_TOKEN, "contacts", &json!({})).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "the window slides and search works again: {b}"
    );
    h.shutdown().await;
}
