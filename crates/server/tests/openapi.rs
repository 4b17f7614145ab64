//! The agent API's OpenAPI document against what the gateway really mounts and answers, over
//! real loopback with an in-process gateway (the keychain is real: run inside a session bus, as
//! `./x test` does).

use std::collections::BTreeSet;

use reqwest::StatusCode;
use reqwest::header::ORIGIN;
use switchboard_api::{App, AppOptions};
use switchboard_core::ErrorCode;

fn documented_routes(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document has `paths`");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().expect("a path item is an object").keys() {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[test]
fn every_mounted_agent_route_is_documented_and_nothing_else() {
    let doc = switchboard_server::agent_api_document();
    assert_eq!(doc["openapi"], "3.1.0", "the document is not OpenAPI 3.1");
    let mounted: BTreeSet<_> = switchboard_server::agent_api_routes().into_iter().collect();
    let documented = documented_routes(&doc);
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        undocumented.is_empty(),
        "agent routes mounted but missing from openapi.json: {undocumented:?}"
    );
    assert!(
        phantom.is_empty(),
        "openapi.json documents agent routes that are not mounted: {phantom:?}"
    );
}

#[test]
fn the_documented_error_codes_are_exactly_the_core_ones() {
    let doc = switchboard_server::agent_api_document();
    let listed: Vec<String> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode is an enum")
        .iter()
        .map(|v| v.as_str().expect("codes are strings").to_string())
        .collect();
    let core: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(
        listed, core,
        "openapi.json's error codes differ from switchboard_core's"
    );
    for code in &listed {
        let parsed: Result<ErrorCode, _> =
            serde_json::from_value(serde_json::Value::String(code.clone()));
        assert!(
            parsed.is_ok(),
            "openapi.json lists `{code}`, which switchboard_core does not know"
        );
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    let doc = switchboard_server::agent_api_document();
    let text = doc.to_string();
    for piece in text.split("\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().expect("a schema name");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "openapi.json refers to a schema `{name}` it does not define"
        );
    }
}

#[tokio::test]
async fn the_document_is_served_without_a_token_and_every_documented_route_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = switchboard_server::bind(0).await.expect("bind a free port");
    let app = App::start(AppOptions::new(dir.path().join("data"))).await.unwrap_or_else(|e| {
        panic!("the gateway did not start (this test needs a session bus with an unlocked gnome-keyring; run `./x test`): {e}")
    });
    let handle = switchboard_server::serve(app, listener, None)
        .await
        .expect("serve");
    let url = handle.url();
    let c = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    let resp = c
        .get(format!("{url}/api/agent/v1/openapi.json"))
        .send()
        .await
        .expect("get openapi.json");
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "openapi.json needs no token but was refused"
    );
    let served: serde_json::Value = resp.json().await.expect("openapi.json is JSON");
    assert_eq!(
        served,
        switchboard_server::agent_api_document(),
        "the served document differs from the one the tests check"
    );

    let resp = c
        .get(format!("{url}/api/agent/v1/openapi.json"))
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "openapi.json answered a foreign Origin"
    );

    // Every documented token-guarded route is really there: without a token it is 401, not 404/405.
    for (method, path) in documented_routes(&served) {
        if path.ends_with("/openapi.json") {
            continue;
        }
        let concrete = path
            .replace("{tool}", "hubspot-sandbox_get_contact")
            .replace("{id}", "apr_x");
        let req = c.request(method.parse().expect("method"), format!("{url}{concrete}"));
        let resp = req.send().await.expect("send");
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} did not ask for an agent token (is it mounted?)"
        );
        let body: serde_json::Value = resp.json().await.expect("errors are JSON");
        assert_eq!(
            body["code"], "unauthorized",
            "{method} {path} answered without the documented error body"
        );
    }
    handle.shutdown("test over").await;
}
