//! Talking to the gateway that runs for a data dir: found through `gateway.json`, authenticated
//! with the control token from the OS keychain.

use std::path::Path;

use switchboard_api::datadir;
use switchboard_api::types::LoginUrl;
use switchboard_core::{ApiError, ErrorCode};
use switchboard_secrets::{KeychainStore, SecretStore, keys};

/// The running gateway's URL, or an error saying how to start one.
pub fn running_url(data_dir: &Path) -> Result<datadir::Runtime, ApiError> {
    let not_running = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no Switchboard gateway is running for {}; start one with `switchboard serve --data-dir {}` (or open the desktop app)",
                data_dir.display(),
                data_dir.display()
            ),
        )
    };
    if !datadir::is_locked(data_dir) {
        return Err(not_running());
    }
    datadir::read_runtime(data_dir).ok_or_else(not_running)
}

fn http() -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| ApiError::internal(format!("cannot build the HTTP client: {e}")))
}

/// `GET` from the control API with the control token.
pub async fn control_get<T: serde::de::DeserializeOwned>(data_dir: &Path, path: &str) -> Result<T, ApiError> {
    control(data_dir, reqwest::Method::GET, path, None).await
}

/// `POST` to the control API with the control token.
pub async fn control_post<T: serde::de::DeserializeOwned>(data_dir: &Path, path: &str) -> Result<T, ApiError> {
    control(data_dir, reqwest::Method::POST, path, None).await
}

/// `POST` a JSON body to the control API with the control token.
pub async fn control_post_json<T: serde::de::DeserializeOwned>(data_dir: &Path, path: &str, body: serde_json::Value) -> Result<T, ApiError> {
    control(data_dir, reqwest::Method::POST, path, Some(body)).await
}

/// `PUT` a JSON body to the control API with the control token.
pub async fn control_put_json<T: serde::de::DeserializeOwned>(data_dir: &Path, path: &str, body: serde_json::Value) -> Result<T, ApiError> {
    control(data_dir, reqwest::Method::PUT, path, Some(body)).await
}

/// `DELETE` on the control API with the control token.
pub async fn control_delete<T: serde::de::DeserializeOwned>(data_dir: &Path, path: &str) -> Result<T, ApiError> {
    control(data_dir, reqwest::Method::DELETE, path, None).await
}

async fn control<T: serde::de::DeserializeOwned>(
    data_dir: &Path,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<T, ApiError> {
    let rt = running_url(data_dir)?;
    let dir = data_dir.to_path_buf();
    let token = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let store = KeychainStore::open(&dir)?;
        store
            .get(keys::CONTROL_TOKEN)?
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "the control token is not in this keychain; run the CLI as the user who started the gateway"))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let mut req = http()?.request(method, format!("{}/api/control/v1{path}", rt.url)).bearer_auth(token.expose());
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("the gateway at {} did not answer: {e}", rt.url)))?;
    decode(resp).await
}

async fn decode<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T, ApiError> {
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| ApiError::internal(format!("reading the gateway's answer: {e}")))?;
    if status.is_success() {
        serde_json::from_slice(&body).map_err(|e| ApiError::internal(format!("the gateway's answer is not what this CLI expects: {e}")))
    } else {
        Err(serde_json::from_slice::<ApiError>(&body)
            .unwrap_or_else(|_| ApiError::internal(format!("the gateway answered HTTP {status}"))))
    }
}

pub async fn status(data_dir: &Path, json: bool) -> Result<(), ApiError> {
    let rt = running_url(data_dir)?;
    let health: serde_json::Value = decode(
        http()?
            .get(format!("{}/healthz", rt.url))
            .send()
            .await
            .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("a gateway is registered at {} but does not answer: {e}", rt.url)))?,
    )
    .await?;
    let version = health.get("version").and_then(|v| v.as_str()).unwrap_or("unknown").to_string();
    if json {
        return crate::output::json(&serde_json::json!({
            "running": true, "url": rt.url, "version": version, "pid": rt.pid, "data_dir": data_dir,
        }));
    }
    println!("switchboard {version} is running at {} (pid {}, data dir {})", rt.url, rt.pid, data_dir.display());
    Ok(())
}

pub async fn login_url(data_dir: &Path, json: bool) -> Result<(), ApiError> {
    let login: LoginUrl = control_post(data_dir, "/login-url").await?;
    if json {
        return crate::output::json(&login);
    }
    println!("{}", login.url);
    Ok(())
}

/// A name or id as one URL path segment. Names are plain (`A-Z a-z 0-9 . _ -`); anything else is
/// escaped so the gateway can refuse it by name instead of the URL breaking.
pub fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
