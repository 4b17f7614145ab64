//! The HTTP edge over real loopback, with an in-process gateway on a real SQLite file and the
//! real keychain (run inside a session bus, as `./x test` does).

use reqwest::StatusCode;
use reqwest::header::{HOST, ORIGIN, SET_COOKIE};
use switchboard_api::{App, AppOptions};
use switchboard_core::ActorKind;
use switchboard_secrets::{KeychainStore, SecretStore, keys};

struct Gw {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    url: String,
    app: App,
    handle: Option<switchboard_server::ServerHandle>,
}

impl Gw {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let listener = switchboard_server::bind(0).await.expect("bind a free port");
        let app = App::start(AppOptions::new(data.clone())).await.unwrap_or_else(|e| {
            panic!("the gateway did not start (these tests need a session bus with an unlocked gnome-keyring; run `./x test`): {e}")
        });
        let handle = switchboard_server::serve(app.clone(), listener, None).await.expect("serve");
        let url = handle.url();
        Self { _dir: dir, data, url, app, handle: Some(handle) }
    }

    fn control_token(&self) -> String {
        KeychainStore::open(&self.data).expect("keychain").get(keys::CONTROL_TOKEN).expect("get").expect("token exists").expose().clone()
    }

    async fn stop(mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown("test over").await;
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn code_of(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.expect("errors are JSON");
    (status, body["code"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn healthz_answers_with_the_version() {
    let gw = Gw::start().await;
    let resp = client().get(format!("{}/healthz", gw.url)).send().await.expect("healthz");
    assert_eq!(resp.status(), StatusCode::OK);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body, serde_json::json!({ "status": "ok", "version": switchboard_core::VERSION }), "healthz body is wrong");
    gw.stop().await;
}

#[tokio::test]
async fn foreign_origins_and_rebinding_hosts_are_refused() {
    let gw = Gw::start().await;
    let c = client();
    let port = gw.url.rsplit(':').next().expect("port");
    for (path, origin) in [("/healthz", "http://evil.example"), ("/api/control/v1/status", "null"), ("/", "https://127.0.0.1"), ("/api/control/v1/status", &format!("http://127.0.0.1:{}", port.parse::<u16>().expect("port") + 1))] {
        let resp = c.get(format!("{}{path}", gw.url)).header(ORIGIN, origin).bearer_auth(gw.control_token()).send().await.expect("send");
        let (status, code) = code_of(resp).await;
        assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "Origin {origin} on {path} was not refused");
    }
    for host in [format!("evil.example:{port}"), "127.0.0.1".to_string(), format!("127.0.0.1.nip.io:{port}")] {
        let resp = c.get(format!("{}/api/control/v1/status", gw.url)).header(HOST, &host).bearer_auth(gw.control_token()).send().await.expect("send");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "a request with Host {host} (DNS rebinding) was not refused");
    }
    // Our own origin passes.
    let resp = c.get(format!("{}/api/control/v1/status", gw.url)).header(ORIGIN, &gw.url).bearer_auth(gw.control_token()).send().await.expect("send");
    assert_eq!(resp.status(), StatusCode::OK, "our own Origin was refused");
    gw.stop().await;
}

#[tokio::test]
async fn control_api_needs_the_control_token() {
    let gw = Gw::start().await;
    let c = client();
    let url = format!("{}/api/control/v1/status", gw.url);
    let (s, code) = code_of(c.get(&url).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "no token must give 401");
    let (s, code) = code_of(c.get(&url).bearer_auth("wrong-token").send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "a wrong token must give 401");
    let almost = {
        let mut t = gw.control_token();
        let last = t.pop();
        t.push(if last == Some('A') { 'B' } else { 'A' });
        t
    };
    let (s, _) = code_of(c.get(&url).bearer_auth(almost).send().await.expect("send")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a token differing in its last character was accepted");
    let resp = c.get(&url).bearer_auth(gw.control_token()).send().await.expect("send");
    assert_eq!(resp.status(), StatusCode::OK, "the right token was refused");
    let status: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(status["url"], serde_json::json!(gw.url), "status should report the gateway URL");
    assert!(status["audit_rows"].as_i64().unwrap_or(0) >= 2, "a fresh gateway should already have audited its start: {status}");
    let body = c.get(format!("{}/api/control/v1/audit?limit=abc", gw.url)).bearer_auth(gw.control_token()).send().await.expect("send");
    let (s, code) = code_of(body).await;
    assert_eq!((s, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"), "a malformed query must be a clear bad_request");
    gw.stop().await;
}

#[tokio::test]
async fn a_login_url_works_once_and_sets_a_strict_http_only_cookie() {
    let gw = Gw::start().await;
    let login = gw.app.issue_login_url(ActorKind::User, "test").await.expect("login url");
    assert!(login.url.starts_with(&format!("{}/login?code=", gw.url)), "unexpected login URL {}", login.url);
    let c = client();
    let resp = c.get(&login.url).send().await.expect("login");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "a valid login URL should redirect to the UI");
    assert_eq!(resp.headers().get("location").and_then(|v| v.to_str().ok()), Some("/"));
    let cookie = resp.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).expect("a session cookie").to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "the session cookie must be HttpOnly and SameSite=Strict: {cookie}");
    assert!(!cookie.contains(&gw.control_token()), "the control token must never reach the browser");
    let session = cookie.split(';').next().expect("cookie pair").to_string();

    let again = c.get(&login.url).send().await.expect("second use");
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED, "a login URL must work only once");
    assert!(again.headers().get(SET_COOKIE).is_none(), "a reused login URL set a cookie");

    let st = c.get(format!("{}/api/control/v1/status", gw.url)).header("cookie", &session).send().await.expect("status");
    assert_eq!(st.status(), StatusCode::OK, "the session cookie should open the control API");
    let page: serde_json::Value = c.get(format!("{}/api/control/v1/audit?text=control.login", gw.url)).header("cookie", &session).send().await.expect("audit").json().await.expect("json");
    let decisions: Vec<&str> = page["rows"].as_array().expect("rows").iter().filter_map(|r| r["decision"].as_str()).collect();
    assert!(decisions.contains(&"allow") && decisions.contains(&"deny"), "both the login and the refused reuse should be audited: {decisions:?}");

    // State-changing cookie requests need our Origin (CSRF).
    let no_origin = c.post(format!("{}/api/control/v1/audit/verify", gw.url)).header("cookie", &session).send().await.expect("verify");
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN, "a cookie POST without Origin must be refused");
    let ok = c.post(format!("{}/api/control/v1/audit/verify", gw.url)).header("cookie", &session).header(ORIGIN, &gw.url).send().await.expect("verify");
    assert_eq!(ok.status(), StatusCode::OK, "a same-origin cookie POST should pass");
    let report: serde_json::Value = ok.json().await.expect("json");
    assert_eq!(report["intact"], serde_json::json!(true), "a fresh gateway's chain should verify: {report}");

    let bogus = c.get(format!("{}/login?code=not-a-real-code", gw.url)).send().await.expect("bogus");
    assert_eq!(bogus.status(), StatusCode::UNAUTHORIZED, "a made-up code must be refused");
    let forged = c.get(format!("{}/api/control/v1/status", gw.url)).header("cookie", "sb_session=forged").send().await.expect("forged");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "a forged session cookie must be refused");
    gw.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let gw = Gw::start().await;
    let resp = client().get(format!("{}/", gw.url)).send().await.expect("ui");
    let h = resp.headers();
    assert!(h.get("content-security-policy").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("frame-ancestors 'none'")), "missing CSP");
    assert_eq!(h.get("x-frame-options").and_then(|v| v.to_str().ok()), Some("DENY"), "the UI must not be framable");
    assert_eq!(h.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    gw.stop().await;
}

#[tokio::test]
async fn the_provider_catalog_is_served_behind_the_control_token() {
    let gw = Gw::start().await;
    let c = client();
    let url = format!("{}/api/control/v1/providers", gw.url);
    let (s, code) = code_of(c.get(&url).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "the catalog must need the control token");
    let resp = c.get(&url).bearer_auth(gw.control_token()).send().await.expect("send");
    assert_eq!(resp.status(), StatusCode::OK, "the control token should open the catalog");
    let catalog: serde_json::Value = resp.json().await.expect("the catalog is JSON");
    let providers = catalog["providers"].as_array().expect("a providers array");
    assert_eq!(providers.len(), 19, "the catalog should list the 19 tools");
    assert_eq!(catalog["categories"].as_array().map(Vec::len), Some(6), "the catalog should name the six categories");
    let stripe = providers.iter().find(|p| p["id"] == "stripe").expect("stripe is listed");
    assert_eq!(stripe["category"], serde_json::json!("commerce_finance"));
    gw.stop().await;
}

/// Adds an agent through the control API and returns its token.
async fn add_agent(gw: &Gw, name: &str) -> String {
    let resp = client().post(format!("{}/api/control/v1/agents", gw.url)).bearer_auth(gw.control_token()).json(&serde_json::json!({ "name": name })).send().await.expect("add agent");
    assert_eq!(resp.status(), StatusCode::OK, "adding agent {name} failed");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["name"], serde_json::json!(name));
    body["token"].as_str().expect("the answer carries the token").to_string()
}

#[tokio::test]
async fn agent_tokens_and_the_control_token_do_not_open_each_others_api() {
    let gw = Gw::start().await;
    let c = client();
    let token = add_agent(&gw, "inbox-bot").await;
    assert!(token.starts_with("sb_agent_"), "agent tokens should be recognisable: {token}");
    let whoami = format!("{}/api/agent/v1/whoami", gw.url);

    let resp = c.get(&whoami).bearer_auth(&token).send().await.expect("whoami");
    assert_eq!(resp.status(), StatusCode::OK, "a fresh agent token should open the agent API");
    let me: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(me, serde_json::json!({ "name": "inbox-bot", "paused": false }), "whoami should name the agent");

    // Every control action refuses an agent token with 403: reading, approving, granting,
    // connecting, exporting, minting agents, pausing.
    let body = serde_json::json!({});
    for (method, path, what) in [
        ("GET", "/status", "read the gateway status"),
        ("POST", "/approvals/apr_x/approve", "approve a draft"),
        ("POST", "/approvals/apr_x/reject", "reject a draft"),
        ("POST", "/approvals/approve-bulk", "bulk-approve drafts"),
        ("POST", "/grants", "grant itself access"),
        ("DELETE", "/grants/inbox-bot/hubspot-1/read", "revoke a grant"),
        ("POST", "/requests/req_x/grant", "grant an access request"),
        ("POST", "/policies", "add an auto-send policy"),
        ("POST", "/connections", "connect an account"),
        ("POST", "/connections/oauth", "start an OAuth connection"),
        ("GET", "/audit/export?format=jsonl", "export the audit log"),
        ("POST", "/agents", "mint agents"),
        ("POST", "/resume", "resume agents"),
        ("POST", "/pause", "pause agents"),
    ] {
        let req = c.request(method.parse().expect("method"), format!("{}/api/control/v1{path}", gw.url)).bearer_auth(&token).json(&body);
        let (s, code) = code_of(req.send().await.expect("send")).await;
        assert_eq!((s, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"), "an agent token must not {what} ({method} {path})");
    }
    let (s, code) = code_of(c.get(format!("{}/api/control/v1/status", gw.url)).bearer_auth("sb_agent_made-up").send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "a made-up token is not a credential at all");

    let (s, code) = code_of(c.get(&whoami).bearer_auth(gw.control_token()).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "the control token must not open the agent API");
    let (s, code) = code_of(c.get(&whoami).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "no token must give 401 on the agent API");
    let flipped = if token.ends_with('A') { 'B' } else { 'A' };
    let almost = format!("{}{flipped}", &token[..token.len() - 1]);
    let (s, _) = code_of(c.get(&whoami).bearer_auth(almost).send().await.expect("send")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "an agent token differing in its last character was accepted");

    // A browser session is for people, not agents.
    let login = gw.app.issue_login_url(ActorKind::User, "test").await.expect("login url");
    let cookie = c.get(&login.url).send().await.expect("login").headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).expect("cookie").split(';').next().expect("pair").to_string();
    let (s, _) = code_of(c.get(&whoami).header("cookie", cookie).send().await.expect("send")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a browser session must not open the agent API");

    let list: serde_json::Value = c.get(format!("{}/api/control/v1/agents", gw.url)).bearer_auth(gw.control_token()).send().await.expect("list").json().await.expect("json");
    assert!(!list.to_string().contains(&token), "the agent list must never show the token");
    assert!(list[0]["last_seen_ms"].as_i64().is_some(), "the list should show when the agent was last seen: {list}");
    gw.stop().await;
}

#[tokio::test]
async fn a_revoked_agent_is_refused_at_once_and_names_are_checked() {
    let gw = Gw::start().await;
    let c = client();
    let token = add_agent(&gw, "crm-bot").await;
    let other = add_agent(&gw, "other-bot").await;
    let whoami = format!("{}/api/agent/v1/whoami", gw.url);
    assert_eq!(c.get(&whoami).bearer_auth(&token).send().await.expect("send").status(), StatusCode::OK);

    let resp = c.delete(format!("{}/api/control/v1/agents/crm-bot", gw.url)).bearer_auth(gw.control_token()).send().await.expect("revoke");
    assert_eq!(resp.status(), StatusCode::OK, "revoking an agent should succeed");
    let (s, code) = code_of(c.get(&whoami).bearer_auth(&token).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "a revoked token must be refused by the very next request");
    assert_eq!(c.get(&whoami).bearer_auth(&other).send().await.expect("send").status(), StatusCode::OK, "revoking one agent must not affect another");

    let (s, code) = code_of(c.delete(format!("{}/api/control/v1/agents/nobody", gw.url)).bearer_auth(gw.control_token()).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::NOT_FOUND, "not_found"), "revoking an unknown agent should say not_found");
    let (s, code) = code_of(c.post(format!("{}/api/control/v1/agents", gw.url)).bearer_auth(gw.control_token()).json(&serde_json::json!({ "name": "crm-bot" })).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "conflict"), "a name in use (even revoked) should be a conflict");
    let (s, code) = code_of(c.post(format!("{}/api/control/v1/agents", gw.url)).bearer_auth(gw.control_token()).json(&serde_json::json!({ "name": "has space" })).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"), "an invalid name should be a bad_request");

    let page: serde_json::Value = c.get(format!("{}/api/control/v1/audit?text=agent", gw.url)).bearer_auth(gw.control_token()).send().await.expect("audit").json().await.expect("json");
    let actions: Vec<&str> = page["rows"].as_array().expect("rows").iter().filter_map(|r| r["action"].as_str()).collect();
    assert!(actions.contains(&"agent.added") && actions.contains(&"agent.revoked"), "adding and revoking should be audited: {actions:?}");
    gw.stop().await;
}

#[tokio::test]
async fn pause_answers_paused_to_every_agent_until_resume() {
    let gw = Gw::start().await;
    let c = client();
    let token = add_agent(&gw, "support-bot").await;
    let whoami = format!("{}/api/agent/v1/whoami", gw.url);

    let resp = c.post(format!("{}/api/control/v1/pause", gw.url)).bearer_auth(gw.control_token()).send().await.expect("pause");
    assert_eq!(resp.status(), StatusCode::OK, "pause should succeed");
    let (s, code) = code_of(c.get(&whoami).bearer_auth(&token).send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "paused"), "a paused agent should get 503 paused");
    let (s, code) = code_of(c.get(&whoami).bearer_auth("sb_agent_made-up").send().await.expect("send")).await;
    assert_eq!((s, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"), "while paused, a bad token is still a 401, not a hint that the gateway is paused");
    let state: serde_json::Value = c.get(format!("{}/api/control/v1/pause", gw.url)).bearer_auth(gw.control_token()).send().await.expect("state").json().await.expect("json");
    assert_eq!(state, serde_json::json!({ "paused": true }), "the control API should report the pause");

    let resp = c.post(format!("{}/api/control/v1/resume", gw.url)).bearer_auth(gw.control_token()).send().await.expect("resume");
    assert_eq!(resp.status(), StatusCode::OK, "resume should succeed");
    assert_eq!(c.get(&whoami).bearer_auth(&token).send().await.expect("send").status(), StatusCode::OK, "after resume the agent should be let through");

    let page: serde_json::Value = c.get(format!("{}/api/control/v1/audit?actor_kind=agent", gw.url)).bearer_auth(gw.control_token()).send().await.expect("audit").json().await.expect("json");
    let denied = page["rows"].as_array().expect("rows").iter().any(|r| r["action"] == "agent.call" && r["decision"] == "deny" && r["outcome"] == "paused" && r["actor_id"] == "support-bot");
    assert!(denied, "the request refused because of the pause should be audited: {page}");
    gw.stop().await;
}

#[tokio::test]
async fn a_malformed_add_agent_body_is_a_json_bad_request() {
    let gw = Gw::start().await;
    let c = client();
    let url = format!("{}/api/control/v1/agents", gw.url);
    for (body, what) in [("{not json", "malformed JSON"), ("{}", "a missing name"), ("{\"name\": 7}", "a name that is not text"), ("", "an empty body")] {
        let resp = c.post(&url).bearer_auth(gw.control_token()).header("content-type", "application/json").body(body).send().await.expect("send");
        let status = resp.status();
        let err: serde_json::Value = resp.json().await.unwrap_or_else(|e| panic!("{what} should be answered with JSON, not plain text: {e}"));
        assert_eq!((status, err["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{what} should be a bad_request");
        assert!(err["message"].as_str().is_some_and(|m| m.contains("name")), "the message for {what} should say what is expected: {err}");
    }
    gw.stop().await;
}
