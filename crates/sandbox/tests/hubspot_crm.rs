//! The simulated HubSpot's companies, deals, deal pipeline and deal associations over real HTTP:
//! seeded rows with paging, moving a deal between stages (and HubSpot's 400 for a stage that is
//! not in the pipeline), and the per-route scope checks for OAuth callers.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use switchboard_sandbox::hubspot::{
    CLIENT_ID, CLIENT_SECRET, DEAL_PIPELINE, DEAL_STAGES, HubSpotConfig, HubSpotSandbox, PIPELINES,
    PRIVATE_APP_TOKEN, SEEDED_COMPANIES, SEEDED_DEALS,
};
use switchboard_sandbox::{SandboxHandle, SandboxServer};

const REDIRECT: &str = "http://127.0.0.1:53682/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-sandbox-verifier-0002";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client can be built")
}

async fn start() -> SandboxHandle {
    SandboxServer::start(HubSpotSandbox::new(HubSpotConfig::developer_test_app()))
        .await
        .expect("the sandbox starts on loopback")
}

async fn get(
    h: &SandboxHandle,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let r = client()
        .get(format!("{}{path}", h.url()))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .expect("the sandbox answers");
    let st = r.status();
    (st, r.json().await.expect("JSON body"))
}

async fn patch(h: &SandboxHandle, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let r = client()
        .patch(format!("{}{path}", h.url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the sandbox answers");
    let st = r.status();
    (st, r.json().await.expect("JSON body"))
}

/// An OAuth access token granted exactly `scope` (consent approved, code exchanged with PKCE).
async fn oauth_token(h: &SandboxHandle, scope: &str) -> String {
    let chal = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(&Sha256::digest(VERIFIER.as_bytes())[..]);
    let page = client()
        .get(format!("{}/oauth/authorize", h.url()))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st"),
            ("code_challenge", chal.as_str()),
            ("code_challenge_method", "S256"),
            ("response_type", "code"),
        ])
        .send()
        .await
        .expect("the consent page answers")
        .text()
        .await
        .expect("a page");
    let marker = "name=\"request\" value=\"";
    let start = page.find(marker).expect("a request id on the consent page") + marker.len();
    let id = &page[start..start + page[start..].find('"').expect("closing quote")];
    let r = client()
        .post(format!("{}/oauth/authorize/decision", h.url()))
        .form(&[("request", id), ("decision", "approve")])
        .send()
        .await
        .expect("the consent form posts");
    let loc = r
        .headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .expect("ascii")
        .to_string();
    let code = loc
        .split_once('?')
        .map(|x| x.1)
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("code="))
        .expect("a code")
        .to_string();
    let tok: Value = client()
        .post(format!("{}/oauth/v1/token", h.url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("redirect_uri", REDIRECT),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("the token endpoint answers")
        .json()
        .await
        .expect("JSON");
    tok["access_token"]
        .as_str()
        .expect("an access token")
        .to_string()
}

async fn read_all(h: &SandboxHandle, path: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut q = vec![("limit", "4".to_string())];
        if let Some(a) = &after {
            q.push(("after", a.clone()));
        }
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (st, body) = get(h, PRIVATE_APP_TOKEN, path, &q).await;
        assert_eq!(st, StatusCode::OK, "{path}: {body}");
        rows.extend(body["results"].as_array().expect("results").iter().cloned());
        match body["paging"]["next"]["after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => return rows,
        }
    }
}

#[tokio::test]
async fn companies_and_deals_are_seeded_and_paged() {
    let h = start().await;
    let companies = read_all(&h, "/crm/v3/objects/companies").await;
    assert_eq!(companies.len(), SEEDED_COMPANIES);
    assert!(
        companies
            .iter()
            .all(|c| c["properties"]["name"].is_string() && c["properties"]["domain"].is_string())
    );
    let deals = read_all(&h, "/crm/v3/objects/deals").await;
    assert_eq!(deals.len(), SEEDED_DEALS);
    for d in &deals {
        let pipeline = d["properties"]["pipeline"].as_str().expect("a pipeline");
        let stages = PIPELINES
            .iter()
            .find(|p| p.id == pipeline)
            .map(|p| p.stages)
            .expect("a pipeline of the portal");
        let stage = d["properties"]["dealstage"].as_str().expect("a stage");
        assert!(
            stages.iter().any(|(id, _, _)| *id == stage),
            "{stage} is a stage of the deal's pipeline {pipeline}"
        );
    }
    let in_default = deals
        .iter()
        .filter(|d| d["properties"]["pipeline"] == DEAL_PIPELINE)
        .count();
    assert!(
        in_default > 10 && in_default < SEEDED_DEALS,
        "deals sit in both pipelines ({in_default} in the sales pipeline)"
    );
    let mut stages_used: Vec<&str> = deals
        .iter()
        .filter_map(|d| d["properties"]["dealstage"].as_str())
        .collect();
    stages_used.sort_unstable();
    stages_used.dedup();
    assert!(
        DEAL_STAGES
            .iter()
            .all(|(id, _, _)| stages_used.contains(id)),
        "every sales stage holds a deal: {stages_used:?}"
    );

    let (st, c) = get(&h, PRIVATE_APP_TOKEN, "/crm/v3/objects/companies/201", &[]).await;
    assert_eq!((st, c["id"].as_str()), (StatusCode::OK, Some("201")));
    let (st, d) = get(&h, PRIVATE_APP_TOKEN, "/crm/v3/objects/deals/301", &[]).await;
    assert_eq!((st, d["id"].as_str()), (StatusCode::OK, Some("301")));
    let (st, e) = get(&h, PRIVATE_APP_TOKEN, "/crm/v3/objects/deals/999", &[]).await;
    assert_eq!(
        (st, e["category"].as_str()),
        (StatusCode::NOT_FOUND, Some("OBJECT_NOT_FOUND"))
    );
    let (st, e) = get(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v3/objects/companies",
        &[("limit", "500")],
    )
    .await;
    assert_eq!(
        (st, e["category"].as_str()),
        (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR"))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn the_pipeline_lists_its_stages_and_a_deal_moves_only_between_them() {
    let h = start().await;
    let (st, body) = get(&h, PRIVATE_APP_TOKEN, "/crm/v3/pipelines/deals", &[]).await;
    assert_eq!(st, StatusCode::OK);
    let p = &body["results"][0];
    assert_eq!(p["id"], "default");
    let stages = p["stages"].as_array().expect("stages");
    assert_eq!(stages.len(), 7);
    assert_eq!(stages[0]["id"], "appointmentscheduled");
    assert_eq!(stages[0]["displayOrder"], 0);
    assert_eq!(stages[5]["id"], "closedwon");
    assert_eq!(stages[5]["metadata"]["probability"], "1.0");

    let (st, d) = patch(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v3/objects/deals/302",
        &json!({"properties": {"dealstage": "contractsent"}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["properties"]["dealstage"], "contractsent");
    let (_, d) = get(&h, PRIVATE_APP_TOKEN, "/crm/v3/objects/deals/302", &[]).await;
    assert_eq!(
        d["properties"]["dealstage"], "contractsent",
        "the move is kept"
    );

    let (st, e) = patch(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v3/objects/deals/302",
        &json!({"properties": {"dealstage": "haggling"}}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(e["category"], "VALIDATION_ERROR");
    let msg = e["message"].as_str().expect("a message");
    assert!(
        msg.contains("INVALID_OPTION") && msg.contains("haggling"),
        "{msg}"
    );
    let (_, d) = get(&h, PRIVATE_APP_TOKEN, "/crm/v3/objects/deals/302", &[]).await;
    assert_eq!(
        d["properties"]["dealstage"], "contractsent",
        "a refused move changes nothing"
    );

    let (st, e) = patch(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v3/objects/deals/302",
        &json!({"properties": {"colour": "red"}}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("PROPERTY_DOESNT_EXIST")
    );
    let (st, _) = patch(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v3/objects/deals/999",
        &json!({"properties": {"dealstage": "closedwon"}}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn deal_associations_name_contacts_and_companies() {
    let h = start().await;
    let (st, body) = get(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v4/objects/deals/303/associations/contacts",
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let rows = body["results"].as_array().expect("results");
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r["toObjectId"].is_u64() && r["associationTypes"][0]["typeId"] == 3)
    );
    let (st, body) = get(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v4/objects/deals/303/associations/companies",
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["results"][0]["toObjectId"], 203);
    let (_, c) = get(&h, PRIVATE_APP_TOKEN, "/crm/v3/objects/companies/203", &[]).await;
    assert_eq!(c["id"], "203", "the associated company exists");
    let (st, _) = get(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v4/objects/deals/303/associations/spaceships",
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = get(
        &h,
        PRIVATE_APP_TOKEN,
        "/crm/v4/objects/deals/999/associations/contacts",
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn each_route_checks_its_own_scope() {
    let h = start().await;
    let deals_read = oauth_token(&h, "oauth crm.objects.deals.read").await;
    for path in [
        "/crm/v3/objects/deals",
        "/crm/v3/pipelines/deals",
        "/crm/v4/objects/deals/301/associations/companies",
    ] {
        let (st, b) = get(&h, &deals_read, path, &[]).await;
        assert_eq!(st, StatusCode::OK, "{path}: {b}");
    }
    let (st, b) = get(&h, &deals_read, "/crm/v3/objects/companies", &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(b["category"], "MISSING_SCOPES");
    assert_eq!(
        b["errors"][0]["context"]["requiredGranularScopes"][0],
        "crm.objects.companies.read"
    );
    let (st, b) = patch(
        &h,
        &deals_read,
        "/crm/v3/objects/deals/301",
        &json!({"properties": {"dealstage": "closedwon"}}),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "moving a deal needs the deals write scope"
    );
    assert_eq!(
        b["errors"][0]["context"]["requiredGranularScopes"][0],
        "crm.objects.deals.write"
    );

    let companies_read = oauth_token(&h, "oauth crm.objects.companies.read").await;
    let (st, _) = get(&h, &companies_read, "/crm/v3/objects/companies/205", &[]).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = get(&h, &companies_read, "/crm/v3/objects/deals/301", &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = get(&h, "pat-not-a-token", "/crm/v3/pipelines/deals", &[]).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    h.shutdown().await;
}
