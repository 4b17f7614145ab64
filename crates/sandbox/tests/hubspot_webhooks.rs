//! The simulated HubSpot's app webhooks over real HTTP: contact creation, property changes and
//! deletion through the API (and by a person, through the simulator) reach the app's target URL
//! as HubSpot's batched JSON array, signed v3 (and v1) with the app's client secret.

mod common;

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;
use switchboard_sandbox::SandboxServer;
use switchboard_sandbox::hubspot::{CLIENT_SECRET, HubSpotSandbox, PORTAL_ID, PRIVATE_APP_TOKEN};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test]
async fn contact_changes_reach_the_target_url_signed_as_hubspot_signs() {
    let hubspot = HubSpotSandbox::default();
    let sim = hubspot.simulator();
    let h = SandboxServer::start(hubspot).await.expect("start");
    let hook = common::Subscriber::start(false).await;
    sim.set_target_url(&hook.url);

    let base = format!("{}/crm/v3/objects/contacts", h.url());
    let created: Value = client()
        .post(&base)
        .bearer_auth(PRIVATE_APP_TOKEN)
        .json(&json!({ "properties": { "email": "ellen@orbit.example", "firstname": "Ellen" } }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_string();
    let r = client()
        .patch(format!("{base}/{id}"))
        .bearer_auth(PRIVATE_APP_TOKEN)
        .json(&json!({ "properties": { "jobtitle": "Astronaut", "lifecyclestage": "lead" } }))
        .send()
        .await
        .expect("update");
    assert!(r.status().is_success(), "{}", r.status());
    let by_hand = sim.create_contact(&[("email", "sally@ride.example")]);
    let r = client()
        .delete(format!("{base}/{id}"))
        .bearer_auth(PRIVATE_APP_TOKEN)
        .send()
        .await
        .expect("archive");
    assert_eq!(r.status().as_u16(), 204);
    assert!(
        sim.outbox().settle(Duration::from_secs(5)).await,
        "the deliveries finish"
    );

    let got = hook.received();
    let batches: Vec<Value> = got.iter().map(common::Received::json).collect();
    let mut kinds: Vec<(String, usize)> = batches
        .iter()
        .map(|b| {
            (
                b[0]["subscriptionType"].as_str().unwrap_or("").to_string(),
                b.as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("contact.creation".into(), 1),
            ("contact.creation".into(), 1),
            ("contact.deletion".into(), 1),
            ("contact.propertyChange".into(), 2)
        ],
        "one batch per change, one event per changed property"
    );
    let change = batches
        .iter()
        .find(|b| b[0]["subscriptionType"] == "contact.propertyChange")
        .expect("the change batch");
    let mut props: Vec<&str> = change
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["propertyName"].as_str())
        .collect();
    props.sort_unstable();
    assert_eq!(props, vec!["jobtitle", "lifecyclestage"]);
    assert!(
        batches
            .iter()
            .flat_map(|b| b.as_array().cloned().unwrap_or_default())
            .all(|e| e["portalId"] == PORTAL_ID
                && e["eventId"].is_u64()
                && e["occurredAt"].is_i64())
    );
    assert!(
        batches
            .iter()
            .any(|b| b[0]["objectId"].as_u64() == by_hand.parse().ok()
                && b[0]["changeSource"] == "CRM_UI"),
        "a person's change is delivered too"
    );
    for r in &got {
        let ts = r
            .header("x-hubspot-request-timestamp")
            .expect("timestamp (ms)");
        let v3 = r.header("x-hubspot-signature-v3").expect("v3 signature");
        let expected = {
            use hmac::{KeyInit, Mac};
            let mut m =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("key");
            m.update(format!("POST{}", hook.url).as_bytes());
            m.update(&r.body);
            m.update(ts.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
        };
        assert_eq!(
            v3, expected,
            "v3 = base64 HMAC-SHA256(client secret, method + URI + body + timestamp)"
        );
        let v1 = hex::encode(sha2::Sha256::digest(
            [CLIENT_SECRET.as_bytes(), &r.body].concat(),
        ));
        assert_eq!(
            r.header("x-hubspot-signature"),
            Some(v1.as_str()),
            "v1 = SHA-256(client secret + body)"
        );
    }
}
