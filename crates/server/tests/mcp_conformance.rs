//! The test-only MCP conformance profile: mounted only when asked for, behind the same Host and
//! Origin guard as every route, with rmcp's session handling. Real loopback, real gateway (the
//! keychain is real: run inside a session bus, as `./x test` does).

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN};
use switchboard_api::{App, AppOptions};
use switchboard_server::Extras;

async fn start(extras: Extras) -> (tempfile::TempDir, switchboard_server::ServerHandle) {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = switchboard_server::bind(0).await.expect("bind a free port");
    let app = App::start(AppOptions::new(dir.path().join("data"))).await.unwrap_or_else(|e| {
        panic!("the gateway did not start (this test needs a session bus with an unlocked gnome-keyring; run `./x test`): {e}")
    });
    let handle = switchboard_server::serve_with(app, listener, None, extras)
        .await
        .expect("serve");
    (dir, handle)
}

fn initialize() -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "switchboard-test", "version": "0" } }
    })
}

fn post(c: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
    c.post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json, text/event-stream")
        .json(&initialize())
}

#[tokio::test]
async fn the_profile_exists_only_when_asked_for_and_is_guarded_like_every_route() {
    let c = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    let (_dir, plain) = start(Extras::default()).await;
    let resp = post(&c, &format!("{}/mcp-conformance", plain.url()))
        .send()
        .await
        .expect("send");
    assert_ne!(
        resp.status(),
        StatusCode::OK,
        "a normal gateway serves the conformance fixtures"
    );
    plain.shutdown("test over").await;

    let (_dir2, gw) = start(Extras {
        mcp_conformance: true,
    })
    .await;
    let url = format!("{}/mcp-conformance", gw.url());
    let resp = post(&c, &url)
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "the conformance profile answered a foreign Origin"
    );
    let resp = post(&c, &url)
        .header(HOST, format!("evil.example:{}", gw.port()))
        .send()
        .await
        .expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "the conformance profile answered a rebinding Host"
    );

    let resp = post(&c, &url).send().await.expect("send");
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "initialize on the conformance profile failed"
    );
    let session = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let session = session.expect("the profile did not open a session (no mcp-session-id)");
    assert!(
        session.len() >= 16,
        "the session id {session:?} is too short to be unguessable"
    );
    let body = resp.text().await.expect("body");
    assert!(
        body.contains("switchboard-conformance"),
        "initialize did not name the conformance server: {body}"
    );
    gw.shutdown("test over").await;
}
