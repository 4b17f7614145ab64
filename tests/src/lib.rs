//! Cross-crate journeys live in `tests/*.rs`; this library holds what they share: an
//! in-process gateway on a real data dir with the real keychain, and a loopback HTTP client.
//!
//! Must not be depended on by product code. How to add a journey: add `tests/NAME.rs`, start a
//! [`Gateway`], drive it through its public surfaces, and assert in user terms.

use std::path::{Path, PathBuf};

use switchboard_api::{App, AppOptions};
use switchboard_secrets::{KeychainStore, SecretStore, keys};
use switchboard_server::ServerHandle;

/// A gateway running in this process on `data_dir`, serving HTTP on a free loopback port.
pub struct Gateway {
    pub app: App,
    pub url: String,
    pub data_dir: PathBuf,
    control_token: String,
    handle: Option<ServerHandle>,
}

impl Gateway {
    pub async fn start(data_dir: &Path, store: switchboard_store::StoreOptions) -> Self {
        Self::start_with(data_dir, |opts| opts.store = store).await
    }

    /// A gateway with the simulated providers running (`serve --sandbox`).
    pub async fn start_sandbox(data_dir: &Path) -> Self {
        Self::start_with(data_dir, |opts| opts.sandbox = true).await
    }

    /// Starts a gateway whose options `configure` adjusts (sandbox, clock, extra providers).
    pub async fn start_with(data_dir: &Path, configure: impl FnOnce(&mut AppOptions)) -> Self {
        let listener = switchboard_server::bind(0).await.expect("bind a free loopback port");
        let mut opts = AppOptions::new(data_dir.to_path_buf());
        configure(&mut opts);
        let app = App::start(opts).await.unwrap_or_else(|e| {
            panic!("the gateway did not start (journeys need a session bus with an unlocked gnome-keyring; run `./x test`): {e}")
        });
        let handle = switchboard_server::serve(app.clone(), listener, None).await.expect("serve");
        // Read once from the keychain, as the CLI does for each command.
        let control_token = KeychainStore::open(data_dir)
            .expect("keychain")
            .get(keys::CONTROL_TOKEN)
            .expect("keychain get")
            .expect("the gateway created a control token")
            .expose()
            .clone();
        Self { url: handle.url(), app, data_dir: data_dir.to_path_buf(), control_token, handle: Some(handle) }
    }

    /// The control token.
    pub fn control_token(&self) -> &str {
        &self.control_token
    }

    /// `POST /api/control/v1{path}` with the control token: (status, JSON body).
    pub async fn control_post(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = client()
            .post(format!("{}/api/control/v1{path}", self.url))
            .bearer_auth(self.control_token())
            .send()
            .await
            .expect("the gateway answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `METHOD /api/control/v1{path}` with the control token and an optional JSON body:
    /// (status, JSON body).
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
        let mut req = client().request(method, format!("{}/api/control/v1{path}", self.url)).bearer_auth(self.control_token());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the gateway answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Grants `tier` of `connection` to `agent` until `lasts_ms` from now; returns the expiry
    /// (UTC ms).
    pub async fn grant_expiring(&self, agent: &str, connection: &str, tier: &str, lasts_ms: i64) -> i64 {
        use switchboard_core::Clock;
        let expires_at_ms = switchboard_core::SystemClock.now_ms() + lasts_ms;
        let (status, g) = self
            .control(
                reqwest::Method::POST,
                "/grants",
                Some(serde_json::json!({ "agent": agent, "connection": connection, "tier": tier, "expires_at_ms": expires_at_ms })),
            )
            .await;
        assert_eq!(status, 200, "a {tier} grant for {lasts_ms} ms should be accepted: {g}");
        expires_at_ms
    }

    /// An agent API call with an agent token: `(status, JSON body)`.
    pub async fn agent(&self, token: &str, method: reqwest::Method, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
        let mut req = client().request(method, format!("{}/api/agent/v1{path}", self.url)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the gateway answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Waits until draft `id` leaves `pending`/`approved` (the outbox ran it) and returns it as
    /// the control API shows it.
    pub async fn settled_approval(&self, id: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (status, a) = self.control(reqwest::Method::GET, &format!("/approvals/{id}"), None).await;
            assert_eq!(status, 200, "draft {id} should be readable: {a}");
            let st = a["status"].as_str().unwrap_or_default().to_string();
            if st != "pending" && st != "approved" {
                return a;
            }
            assert!(std::time::Instant::now() < deadline, "draft {id} was still {st} after 60 s: the outbox did not run it");
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// An outbound agent call as a person sees it through: the agent calls `tool` (it must be
    /// held for approval: 202 with an approval id), a person approves it unchanged through the
    /// control API, and the outbox runs it. Returns what the agent would have got had the
    /// call run directly: `(200, {call_id, result, approval_id…})` when the provider accepted
    /// it, or `(error status, {code, message})` when it did not; a call refused before it was
    /// queued (no grant, bad input) comes back as the agent got it.
    pub async fn agent_approved(&self, token: &str, tool: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let (status, queued) = self.agent(token, reqwest::Method::POST, &format!("/tools/{tool}"), Some(body)).await;
        if status != 202 {
            return (status, queued);
        }
        assert_eq!(queued["state"], "pending_approval", "a 202 answer should name the pending draft: {queued}");
        let id = queued["approval_id"].as_str().expect("approval id").to_string();
        let (st, approved) = self.control(reqwest::Method::POST, &format!("/approvals/{id}/approve"), None).await;
        assert_eq!(st, 200, "approving draft {id} should work: {approved}");
        let settled = self.settled_approval(&id).await;
        match settled["status"].as_str() {
            Some("executed") => {
                let mut done = queued.clone();
                done["state"] = "done".into();
                done["status"] = 200.into();
                done["result"] = settled["result"].clone();
                (200, done)
            }
            Some("failed") => {
                let err = settled["result"]["error"].clone();
                let http = serde_json::from_value::<switchboard_core::ErrorCode>(err["code"].clone()).map_or(500, |c| c.http_status());
                (http, err)
            }
            other => panic!("draft {id} ended {other:?}, expected executed or failed: {settled}"),
        }
    }

    pub async fn stop(mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown("journey over").await;
        }
    }
}

/// A loopback HTTP client that never follows redirects or proxies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// The built `switchboard` binary beside this test binary (`cargo build -p switchboard-cli`;
/// `./x test` builds every binary first).
pub fn switchboard_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe.parent().and_then(Path::parent).expect("the target profile folder");
    let bin = dir.join(format!("switchboard{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} is missing: build it first with `cargo build -p switchboard-cli`", bin.display());
    bin
}
