//! Connecting an account with OAuth, end to end: a gateway with `--sandbox` (the simulated
//! HubSpot running as a HubSpot developer test app), the real keychain, the consent page driven
//! over real loopback HTTP as a browser would, the loopback callback, the token exchange with
//! PKCE, refresh-token rotation, and revocation on disconnect. Then the same flow against an
//! independent OAuth server (`oauth2-mock-server` on Node), registered as an extra catalog entry.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_core::{Clock, SystemClock};
use switchboard_sandbox::hubspot;
use switchboard_secrets::{KeychainStore, SecretStore};
use switchboard_tests::{Gateway, client};

/// The real clock moved forward by a settable amount (to reach a token's expiry at once).
#[derive(Default)]
struct AheadClock(AtomicI64);

impl Clock for AheadClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.0.load(Ordering::SeqCst)
    }
}

async fn sandbox_gateway(dir: &Path) -> (Gateway, Arc<AheadClock>) {
    let clock = Arc::new(AheadClock::default());
    let c = clock.clone();
    let gw = Gateway::start_with(dir, move |o| {
        o.sandbox = true;
        o.clock = c;
    })
    .await;
    (gw, clock)
}

async fn start_flow(gw: &Gateway, body: Value) -> Value {
    let (status, started) = gw.control(Method::POST, "/connections/oauth", Some(body)).await;
    assert_eq!(status, 200, "starting an OAuth connection should succeed: {started}");
    started
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or_else(|| panic!("the answer should carry '{field}': {v}"))
}

/// Opens the consent page like a browser and presses Approve or Deny; returns where the
/// provider sends the browser back to (the loopback callback URL).
async fn consent(authorize_url: &str, decision: &str) -> reqwest::Url {
    let http = client();
    let page = http.get(authorize_url).send().await.expect("the consent page answers");
    assert_eq!(page.status().as_u16(), 200, "the provider should show its consent page for Switchboard's request");
    let html = page.text().await.expect("consent page body");
    let request = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("the consent page should carry its request id: {html}"));
    let base = reqwest::Url::parse(authorize_url).expect("authorize URL");
    let decide = base.join(hubspot::DECISION_PATH).expect("decision URL");
    let resp = http.post(decide).form(&[("request", request), ("decision", decision)]).send().await.expect("the consent form posts");
    assert!(resp.status().is_redirection(), "after the consent the provider should send the browser back, got HTTP {}", resp.status());
    let location = resp.headers().get("location").and_then(|l| l.to_str().ok()).expect("a redirect location").to_string();
    reqwest::Url::parse(&location).expect("the redirect is a URL")
}

/// The browser arriving back at the loopback listener: (status, page text).
async fn arrive(url: &reqwest::Url) -> Result<(u16, String), reqwest::Error> {
    let resp = client().get(url.clone()).send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await.unwrap_or_default()))
}

async fn flow_status(gw: &Gateway, flow_id: &str, wait: u32) -> Value {
    let (status, body) = gw.control(Method::GET, &format!("/connections/oauth/{flow_id}?wait={wait}"), None).await;
    assert_eq!(status, 200, "the flow's status should be readable: {body}");
    body
}

fn keychain_tokens(dir: &Path, connection_id: &str) -> Option<Value> {
    let raw = KeychainStore::open(dir).expect("keychain").get(&format!("connection:{connection_id}")).expect("keychain read")?;
    Some(serde_json::from_str(raw.expose()).expect("the keychain item holds the tokens as JSON"))
}

fn query(url: &reqwest::Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn token_request(token_url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = client().post(token_url).form(form).send().await.expect("the token endpoint answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Every byte of the SQLite files (the log and its search index, each with its -wal) must be free
/// of these secrets.
fn assert_not_in_sqlite(dir: &Path, secrets: &[(&str, &str)]) {
    for file in ["switchboard.db", "switchboard.db-wal", "switchboard-search.db", "switchboard-search.db-wal"] {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
        for (what, secret) in secrets {
            assert!(!secret.is_empty(), "the {what} to look for should not be empty");
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "the {what} was written to {file}: secrets must live only in the keychain");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_connect_refresh_and_disconnect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (gw, clock) = sandbox_gateway(dir.path()).await;

    let started = start_flow(&gw, json!({ "provider": "hubspot-sandbox", "label": "Sales", "open_browser": false })).await;
    assert_eq!(started["browser_opened"], false, "with open_browser=false the gateway must not open a browser");
    let authorize_url = s(&started, "authorize_url").to_string();
    let redirect_uri = s(&started, "redirect_uri").to_string();
    assert!(redirect_uri.starts_with("http://127.0.0.1:"), "the redirect should be a loopback IP literal: {redirect_uri}");
    let au = reqwest::Url::parse(&authorize_url).expect("authorize URL");
    assert_eq!(query(&au, "code_challenge_method").as_deref(), Some("S256"), "the authorize URL must use PKCE S256");
    assert_eq!(query(&au, "redirect_uri").as_deref(), Some(redirect_uri.as_str()), "the authorize URL must carry the loopback redirect");
    let state = query(&au, "state").expect("the authorize URL carries a state");
    let flow = s(&started, "flow_id").to_string();
    assert_eq!(flow_status(&gw, &flow, 0).await["status"], "pending", "before the consent the flow should be pending");

    let back = consent(&authorize_url, "approve").await;
    let code = query(&back, "code").expect("an approved consent returns a code");
    let (status, page) = arrive(&back).await.expect("the loopback listener answers the browser");
    assert_eq!(status, 200, "the browser should see a success page: {page}");
    assert!(page.contains("you can close this tab"), "the browser should be told it can close the tab: {page}");

    let done = flow_status(&gw, &flow, 5).await;
    assert_eq!(done["status"], "connected", "the flow should be connected after the consent: {done}");
    let conn = &done["connection"];
    let id = s(conn, "id").to_string();
    assert_eq!(conn["auth_mode"], "oauth_confidential", "the connection should record how it was made");
    assert_eq!(conn["label"], "Sales");
    assert_eq!(
        conn["granted_scopes"],
        json!(["crm.objects.contacts.read", "crm.objects.companies.read", "crm.objects.deals.read"]),
        "without chosen scopes the read-only set should be requested and recorded"
    );
    assert!(conn["token_expires_at_ms"].as_i64().is_some(), "the access token's expiry should be recorded");
    assert!(!done.to_string().contains(&code), "the status answer must not carry the code");

    // The browser replaying the callback changes nothing (the listener is closed, or refuses).
    if let Ok((status, page)) = arrive(&back).await {
        assert_eq!(status, 400, "a replayed sign-in response must be refused: {page}");
    }
    let (_, list) = gw.control(Method::GET, "/connections", None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "a replayed callback must not add a second connection: {list}");

    let tokens = keychain_tokens(dir.path(), &id).expect("the tokens should be in the keychain");
    let access = s(&tokens, "access_token").to_string();
    let refresh = s(&tokens, "refresh_token").to_string();
    assert!(access.starts_with("sbx-hs-at-") && refresh.starts_with("sbx-hs-rt-"), "the keychain should hold the sandbox's tokens");
    let api = gw.app.sandbox_urls()[0].1.clone();
    let contacts = client().get(format!("{api}/crm/v3/objects/contacts")).bearer_auth(&access).send().await.expect("sandbox API");
    assert_eq!(contacts.status().as_u16(), 200, "the stored access token should work at the provider");
    let cred = gw.app.connection_credential(&id).await.expect("the credential of a fresh connection");
    assert_eq!(cred.expose(), &access, "a fresh access token should be used as is, without a refresh");

    // Half an hour later the access token is about to expire: the next use refreshes it.
    clock.0.store(31 * 60_000, Ordering::SeqCst);
    let cred = gw.app.connection_credential(&id).await.expect("the credential after a refresh");
    assert_ne!(cred.expose(), &access, "an expiring access token should be replaced by a fresh one");
    let tokens2 = keychain_tokens(dir.path(), &id).expect("the refreshed tokens should be in the keychain");
    let refresh2 = s(&tokens2, "refresh_token").to_string();
    assert_eq!(s(&tokens2, "access_token"), cred.expose(), "the keychain should hold the new access token");
    assert_ne!(refresh2, refresh, "the rotated refresh token should replace the old one in the keychain");
    let token_url = format!("{api}/oauth/v3/token");
    let (status, body) = token_request(
        &token_url,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", hubspot::CLIENT_ID), ("client_secret", hubspot::CLIENT_SECRET)],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "the old refresh token must no longer work: {body}");
    let (_, list) = gw.control(Method::GET, "/connections", None).await;
    let expiry = list[0]["token_expires_at_ms"].as_i64().expect("expiry");
    assert!(expiry > conn["token_expires_at_ms"].as_i64().unwrap_or(i64::MAX), "the new token's later expiry should be recorded");
    let again = gw.app.connection_credential(&id).await.expect("the credential right after a refresh");
    assert_eq!(again.expose(), cred.expose(), "a just-refreshed token should not be refreshed again");

    let audit = gw.app.audit_list(switchboard_core::AuditQuery { text: Some("token_refreshed".into()), ..Default::default() }).await.expect("audit");
    assert_eq!(audit.rows.len(), 1, "the refresh should be audited once");

    assert_not_in_sqlite(
        dir.path(),
        &[("access token", &access), ("refresh token", &refresh), ("new access token", cred.expose()), ("new refresh token", &refresh2), ("authorization code", &code), ("state", &state)],
    );

    // Disconnect: revoked at the provider, gone from the keychain.
    let (status, removed) = gw.control(Method::DELETE, &format!("/connections/{id}"), None).await;
    assert_eq!(status, 200, "disconnecting should succeed: {removed}");
    assert!(keychain_tokens(dir.path(), &id).is_none(), "the tokens should be deleted from the keychain on disconnect");
    let contacts = client().get(format!("{api}/crm/v3/objects/contacts")).bearer_auth(cred.expose()).send().await.expect("sandbox API");
    assert_eq!(contacts.status().as_u16(), 401, "after disconnecting, the provider should no longer accept the access token");
    let (status, body) = token_request(
        &token_url,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh2), ("client_id", hubspot::CLIENT_ID), ("client_secret", hubspot::CLIENT_SECRET)],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "after disconnecting the refresh token must be revoked: {body}");
    let audit = gw.app.audit_list(switchboard_core::AuditQuery { text: Some("connection.removed".into()), ..Default::default() }).await.expect("audit");
    let summary = &audit.rows[0].summary;
    assert_eq!(summary["revoked_at_provider"], true, "the audit should record that the grant was revoked at the provider: {summary}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_foreign_and_missing_state_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (gw, _) = sandbox_gateway(dir.path()).await;
    let a = start_flow(&gw, json!({ "provider": "hubspot-sandbox", "open_browser": false })).await;
    let b = start_flow(&gw, json!({ "provider": "hubspot-sandbox", "open_browser": false })).await;
    let b_redirect = reqwest::Url::parse(s(&b, "redirect_uri")).expect("redirect");

    // A forged response with a wrong state.
    let mut forged = b_redirect.clone();
    forged.set_query(Some("code=forged-code&state=not-the-state"));
    let (status, page) = arrive(&forged).await.expect("the listener answers");
    assert_eq!(status, 400, "a wrong state must be refused");
    assert!(page.contains("refused") && page.contains("Nothing was connected"), "the page should say the response was refused: {page}");
    let mut missing = b_redirect.clone();
    missing.set_query(Some("code=forged-code"));
    assert_eq!(arrive(&missing).await.expect("the listener answers").0, 400, "a response without state must be refused");

    // A's real code and state delivered to B's listener: B must not complete with A's code.
    let back_a = consent(s(&a, "authorize_url"), "approve").await;
    let mut to_b = back_a.clone();
    to_b.set_port(b_redirect.port()).expect("port");
    let (status, _) = arrive(&to_b).await.expect("B's listener answers");
    assert_eq!(status, 400, "another flow's response must be refused");
    assert_eq!(flow_status(&gw, s(&b, "flow_id"), 0).await["status"], "pending", "B must stay pending after refusing A's response");

    // A's response at A's own listener still completes A.
    let (status, page) = arrive(&back_a).await.expect("A's listener answers");
    assert_eq!(status, 200, "A's own response should connect A: {page}");
    assert_eq!(flow_status(&gw, s(&a, "flow_id"), 5).await["status"], "connected");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_consent_connects_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (gw, _) = sandbox_gateway(dir.path()).await;
    let started = start_flow(&gw, json!({ "provider": "hubspot-sandbox", "open_browser": false })).await;
    let back = consent(s(&started, "authorize_url"), "deny").await;
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    let (status, page) = arrive(&back).await.expect("the listener answers");
    assert_eq!(status, 400, "a denied consent should show a failure page");
    assert!(page.contains("consent denied"), "the browser should be told the consent was denied: {page}");
    let done = flow_status(&gw, s(&started, "flow_id"), 5).await;
    assert_eq!((done["status"].as_str(), done["code"].as_str()), (Some("failed"), Some("consent_denied")), "the flow should fail as consent denied: {done}");
    let (_, list) = gw.control(Method::GET, "/connections", None).await;
    assert_eq!(list, json!([]), "a denied consent must not add a connection");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intercepted_code_is_useless_without_the_verifier() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (gw, _) = sandbox_gateway(dir.path()).await;
    let started = start_flow(&gw, json!({ "provider": "hubspot-sandbox", "open_browser": false })).await;
    let back = consent(s(&started, "authorize_url"), "approve").await;
    let code = query(&back, "code").expect("code");
    let token_url = reqwest::Url::parse(s(&started, "authorize_url")).expect("url").join("/oauth/v3/token").expect("token url");
    let wrong_verifier = "x".repeat(64);
    let (status, body) = token_request(
        token_url.as_str(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", s(&started, "redirect_uri")),
            ("client_id", hubspot::CLIENT_ID),
            ("client_secret", hubspot::CLIENT_SECRET),
            ("code_verifier", &wrong_verifier),
        ],
    )
    .await;
    assert_eq!(status, 400, "the provider must refuse a code presented with the wrong PKCE verifier: {body}");
    assert!(body["error_description"].as_str().unwrap_or_default().contains("code_verifier"), "the refusal should be about the verifier: {body}");
    // The code is spent; Switchboard's own exchange now fails cleanly instead of connecting.
    let (status, _) = arrive(&back).await.expect("the listener answers");
    assert_eq!(status, 400, "a spent code must not connect");
    let done = flow_status(&gw, s(&started, "flow_id"), 5).await;
    assert_eq!(done["status"], "failed", "the flow should fail when the provider refuses the code: {done}");
    assert!(!done.to_string().contains(&code), "the failure must not quote the code: {done}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_hubspot_is_refused_with_the_private_app_token_alternative() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start_with(dir.path(), |_| {}).await;
    let (status, e) = gw.control(Method::POST, "/connections/oauth", Some(json!({ "provider": "hubspot", "open_browser": false }))).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("bad_request")), "HubSpot production apps cannot use a loopback redirect: {e}");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(msg.contains("private-app token") && msg.contains("--api-key-stdin"), "the refusal should name the alternative: {msg}");
    let (status, e) = gw
        .control(Method::POST, "/connections/oauth", Some(json!({ "provider": "hubspot-sandbox", "open_browser": false })))
        .await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "without --sandbox there is no sandbox entry: {e}");
    gw.stop().await;
}

/// Connects `hubspot-sandbox` through the consent page; returns the new connection.
async fn connect_sandbox(gw: &Gateway) -> Value {
    let started = start_flow(gw, json!({ "provider": "hubspot-sandbox", "open_browser": false })).await;
    let back = consent(s(&started, "authorize_url"), "approve").await;
    let (status, page) = arrive(&back).await.expect("the listener answers");
    assert_eq!(status, 200, "the consent should connect: {page}");
    flow_status(gw, s(&started, "flow_id"), 5).await["connection"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_the_provider_refuses_asks_for_a_reconnect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (gw, clock) = sandbox_gateway(dir.path()).await;
    let conn = connect_sandbox(&gw).await;
    let id = s(&conn, "id").to_string();
    let tokens = keychain_tokens(dir.path(), &id).expect("tokens");
    // The user uninstalls the app at the provider: the grant is gone there.
    let api = gw.app.sandbox_urls()[0].1.clone();
    let resp = client().post(format!("{api}/oauth/v3/token/revoke")).form(&[("token", s(&tokens, "refresh_token"))]).send().await.expect("revoke");
    assert_eq!(resp.status().as_u16(), 200);
    clock.0.store(31 * 60_000, Ordering::SeqCst);
    let e = gw.app.connection_credential(&id).await.expect_err("a refused refresh must not yield a credential");
    assert_eq!(e.code, switchboard_core::ErrorCode::ReconnectNeeded, "a refused refresh should ask for a reconnect: {e}");
    assert!(!e.message.contains(s(&tokens, "refresh_token")), "the error must not quote the refresh token");
    let (_, list) = gw.control(Method::GET, "/connections", None).await;
    assert_eq!(list[0]["status"], "reconnect_needed", "the connection should show that it needs reconnecting: {list}");
    gw.stop().await;
}

// ---- the same flow against an independent server: oauth2-mock-server on Node ------------------

/// Node 22.12+: the one `./x test` installs into `.tools/node`, else `node` on PATH.
fn node() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for candidate in [root.join(".tools/node/node_modules/.bin/node"), "node".into()] {
        let Ok(out) = std::process::Command::new(&candidate).arg("--version").output() else { continue };
        let v = String::from_utf8_lossy(&out.stdout).trim().trim_start_matches('v').to_string();
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if (major, minor) >= (22, 12) {
            return candidate;
        }
        found.push(format!("{} is v{v}", candidate.display()));
    }
    panic!(
        "the OAuth journey against oauth2-mock-server needs Node 22.12 or newer (found: {}): run `./x test`, which installs Node 22 \
         into .tools/node and the mock's packages, or install Node 22 and run `npm ci` in tests/oauth-mock",
        if found.is_empty() { "no node at all".into() } else { found.join(", ") }
    );
}

/// `tests/oauth-mock/serve.mjs`, stopped on drop.
struct MockServer {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    url: String,
}

impl MockServer {
    async fn start() -> Self {
        use tokio::io::AsyncBufReadExt;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("oauth-mock");
        assert!(
            dir.join("node_modules/oauth2-mock-server").is_dir(),
            "oauth2-mock-server is not installed: run `npm ci` in tests/oauth-mock (`./x test` does)"
        );
        let mut child = tokio::process::Command::new(node())
            .arg("serve.mjs")
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start node with the mock OAuth server");
        let stdin = child.stdin.take().expect("stdin");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("the mock OAuth server should start within 20 s")
            .expect("read its first line")
            .expect("the mock OAuth server exited before it said where it listens");
        let port = first.strip_prefix("listening ").unwrap_or_else(|| panic!("the mock should print `listening PORT`, got {first:?}"));
        Self { child, stdin, lines, url: format!("http://127.0.0.1:{port}") }
    }

    /// Sends a control line (`wrong-iss`, `right-iss`) and waits for its acknowledgement.
    async fn say(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        self.stdin.write_all(format!("{line}\n").as_bytes()).await.expect("write to the mock");
        let ack = self.lines.next_line().await.expect("read the mock").unwrap_or_default();
        assert_eq!(ack, format!("ok {line}"), "the mock should acknowledge '{line}'");
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// The mock as a catalog entry: a public client with PKCE, loopback allowed, `iss` always sent.
fn mock_entry(url: &str) -> switchboard_connectors::ProviderEntry {
    serde_json::from_value(json!({
        "id": "mock-oauth",
        "name": "Mock OAuth",
        "category": "data",
        "auth_modes": ["oauth_public"],
        "oauth": {
            "authorize_url": format!("{url}/authorize"),
            "token_url": format!("{url}/token"),
            "revoke_url": format!("{url}/revoke"),
            "pkce": "required",
            "token_auth": "none",
            "loopback_redirect": "allowed",
            "sends_iss": true
        },
        "api_base_url": url,
        "scopes": [
            { "scope": "profile.read", "tier": "read", "description": "Read the profile." },
            { "scope": "profile.write", "tier": "write", "description": "Change the profile." }
        ],
        "read_only_scopes": ["profile.read"],
        "pagination": [{ "style": "cursor" }],
        "docs_url": "https://example.com/docs"
    }))
    .expect("the mock's catalog entry is valid")
}

/// The browser at the mock: it approves at once and sends the browser back.
async fn mock_consent(authorize_url: &str) -> reqwest::Url {
    let resp = client().get(authorize_url).send().await.expect("the mock's authorize endpoint answers");
    assert!(resp.status().is_redirection(), "the mock should send the browser back, got HTTP {}", resp.status());
    let location = resp.headers().get("location").and_then(|l| l.to_str().ok()).expect("location").to_string();
    reqwest::Url::parse(&location).expect("a URL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_oauth_server_connects_refreshes_and_revokes() {
    let mut mock = MockServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let entry = mock_entry(&mock.url);
    let gw = Gateway::start_with(dir.path(), move |o| o.extra_providers = vec![entry]).await;

    // Without the user's own OAuth app there is nothing to sign in with.
    let (status, e) = gw.control(Method::POST, "/connections/oauth", Some(json!({ "provider": "mock-oauth", "open_browser": false }))).await;
    assert_eq!(status, 400, "starting without an OAuth app should be refused: {e}");
    assert!(e["message"].as_str().unwrap_or_default().contains("oauth-clients/mock-oauth"), "the refusal should say how to store the app: {e}");
    let (status, set) = gw.control(Method::PUT, "/oauth-clients/mock-oauth", Some(json!({ "client_id": "switchboard-desktop" }))).await;
    assert_eq!(status, 200, "storing the OAuth app should succeed: {set}");
    let (_, listed) = gw.control(Method::GET, "/oauth-clients", None).await;
    assert_eq!(listed, json!([{ "provider": "mock-oauth", "has_client_secret": false }]), "the stored app should be listed without its id or secret");

    // A response naming another issuer is refused (mix-up defence).
    mock.say("wrong-iss").await;
    let started = start_flow(&gw, json!({ "provider": "mock-oauth", "open_browser": false })).await;
    let (status, page) = arrive(&mock_consent(s(&started, "authorize_url")).await).await.expect("listener");
    assert_eq!(status, 400, "a response from another issuer must not connect: {page}");
    let done = flow_status(&gw, s(&started, "flow_id"), 5).await;
    assert_eq!(done["code"], "issuer_mismatch", "the flow should fail on the wrong issuer: {done}");
    mock.say("right-iss").await;

    let started = start_flow(&gw, json!({ "provider": "mock-oauth", "open_browser": false })).await;
    let back = mock_consent(s(&started, "authorize_url")).await;
    assert_eq!(query(&back, "iss").as_deref(), Some(mock.url.as_str()), "the mock should say it issued the response");
    let (status, page) = arrive(&back).await.expect("listener");
    assert_eq!(status, 200, "the mock's response should connect: {page}");
    let done = flow_status(&gw, s(&started, "flow_id"), 5).await;
    assert_eq!(done["status"], "connected", "{done}");
    let id = s(&done["connection"], "id").to_string();
    assert_eq!(done["connection"]["auth_mode"], "oauth_public");
    assert_eq!(done["connection"]["granted_scopes"], json!(["profile.read"]), "the granted scope should come from the token response");

    let tokens = keychain_tokens(dir.path(), &id).expect("the tokens should be in the keychain");
    let (access, refresh) = (s(&tokens, "access_token").to_string(), s(&tokens, "refresh_token").to_string());
    // The mock's access tokens live 30 s, inside the 60 s margin: the next use refreshes.
    // The mock signs its access tokens with second-resolution times, so a refresh within the
    // same second can return an identical access token: the refresh is proven by the rotated
    // refresh token, the new grant time and the audit row instead.
    let cred = gw.app.connection_credential(&id).await.expect("a refreshed credential");
    let tokens2 = keychain_tokens(dir.path(), &id).expect("tokens after the refresh");
    assert!(
        tokens2["obtained_at_ms"].as_i64() > tokens["obtained_at_ms"].as_i64(),
        "an access token about to expire should be refreshed before use: {} then {}",
        tokens["obtained_at_ms"],
        tokens2["obtained_at_ms"]
    );
    assert_eq!(cred.expose(), s(&tokens2, "access_token"), "the credential handed out should be the refreshed access token");
    let refreshed = gw.app.audit_list(switchboard_core::AuditQuery { text: Some("connection.token_refreshed".into()), ..Default::default() }).await.expect("audit");
    assert!(!refreshed.rows.is_empty(), "the refresh should be audited");
    let refresh2 = s(&tokens2, "refresh_token").to_string();
    assert_ne!(refresh2, refresh, "the rotated refresh token should be stored");
    assert_not_in_sqlite(dir.path(), &[("access token", &access), ("refresh token", &refresh), ("new access token", cred.expose()), ("new refresh token", &refresh2)]);

    let (status, _) = gw.control(Method::DELETE, &format!("/connections/{id}"), None).await;
    assert_eq!(status, 200, "disconnecting should succeed");
    assert!(keychain_tokens(dir.path(), &id).is_none(), "the tokens should be deleted from the keychain");
    let audit = gw.app.audit_list(switchboard_core::AuditQuery { text: Some("connection.removed".into()), ..Default::default() }).await.expect("audit");
    assert_eq!(audit.rows[0].summary["revoked_at_provider"], true, "the revocation request should have been accepted: {}", audit.rows[0].summary);
    gw.stop().await;
}
