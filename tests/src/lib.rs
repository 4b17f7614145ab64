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
