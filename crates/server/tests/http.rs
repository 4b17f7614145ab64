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
        t.pop();
        t.push('A');
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
