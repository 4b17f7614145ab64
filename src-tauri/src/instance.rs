//! One instance per data dir.
//!
//! 1. Before anything starts, [`focus_running`] looks for a gateway holding the data dir's lock
//!    and asks it, over its control API, to bring its window to the front. This also covers a
//!    gateway whose desktop shell started it in the tray.
//! 2. `tauri-plugin-single-instance` catches two launches racing past step 1. On Linux it owns the
//!    D-Bus name `<identifier>.SingleInstance` (read in its `platform_impl/linux.rs`), so
//!    [`identifier_for`] gives each non-default data dir its own identifier.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use switchboard_api::datadir;
use switchboard_core::{ApiError, ErrorCode};
use switchboard_secrets::{KeychainStore, SecretStore, keys};

/// The identifier in tauri.conf.json, used for the default data dir.
pub const BASE_IDENTIFIER: &str = "dev.switchboard.app";

/// `dir` made absolute and, when it exists, canonical (the same path the gateway canonicalizes).
pub fn absolute(dir: &Path) -> PathBuf {
    dir.canonicalize()
        .unwrap_or_else(|_| std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()))
}

/// The app identifier for `data_dir`: `None` for the default data dir (keep tauri.conf.json's),
/// else `dev.switchboard.app.d<first 16 hex of sha256(canonical dir)>`. The `d` keeps the last
/// element a valid D-Bus name element (it may not start with a digit).
pub fn identifier_for(data_dir: &Path) -> Option<String> {
    let dir = absolute(data_dir);
    let default = datadir::resolve(None).ok().map(|d| absolute(&d));
    if default.as_deref() == Some(dir.as_path()) {
        return None;
    }
    Some(identifier_from_path(&dir))
}

fn identifier_from_path(dir: &Path) -> String {
    let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
    format!("{BASE_IDENTIFIER}.d{}", &hex::encode(digest)[..16])
}

/// If a gateway holds `data_dir`, asks it to focus its window. `Ok(true)`: it took the request;
/// `Ok(false)`: none runs (or it has not published its URL yet).
pub async fn focus_running(data_dir: &Path) -> Result<bool, ApiError> {
    if !datadir::is_locked(data_dir) {
        return Ok(false);
    }
    let Some(runtime) = datadir::read_runtime(data_dir) else {
        return Ok(false);
    };
    let dir = data_dir.to_path_buf();
    let token = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let store = KeychainStore::open(&dir)?;
        Ok(store.get(keys::CONTROL_TOKEN)?)
    })
    .await
    .map_err(|e| ApiError::internal(format!("keychain task failed: {e}")))??
    .ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthorized,
            "no control token for this data dir in the keychain",
        )
    })?;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| ApiError::internal(format!("cannot build an HTTP client: {e}")))?;
    let url = format!(
        "{}/api/control/v1/window/focus",
        runtime.url.trim_end_matches('/')
    );
    let response = client
        .post(&url)
        .bearer_auth(token.expose())
        .send()
        .await
        .map_err(|e| {
            ApiError::internal(format!(
                "the gateway at {} did not answer: {e}",
                runtime.url
            ))
        })?;
    if !response.status().is_success() {
        let status = response.status();
        let body: Option<ApiError> = response.json().await.ok();
        return Err(body.unwrap_or_else(|| {
            ApiError::internal(format!(
                "the gateway answered the focus request with HTTP {status}"
            ))
        }));
    }
    let answer: serde_json::Value = response.json().await.unwrap_or_default();
    if answer.get("focused") != Some(&serde_json::Value::Bool(true)) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "a headless Switchboard gateway (switchboard serve) already runs for {} at {}; \
                 stop it or open the desktop app with another --data-dir",
                data_dir.display(),
                runtime.url
            ),
        ));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_per_data_dir_and_valid_dbus_names() {
        let a = identifier_from_path(Path::new("/tmp/switchboard-a"));
        let b = identifier_from_path(Path::new("/tmp/switchboard-b"));
        assert_ne!(a, b, "two data dirs must get two identities");
        assert_eq!(
            a,
            identifier_from_path(Path::new("/tmp/switchboard-a")),
            "the identity must be stable"
        );
        let last = a.rsplit('.').next().unwrap_or_default();
        assert_eq!(last.len(), 17, "expected d + 16 hex digits, got {last}");
        assert!(
            last.starts_with('d'),
            "a D-Bus name element may not start with a digit: {a}"
        );
    }

    #[test]
    fn the_default_data_dir_keeps_the_configured_identifier() {
        if let Ok(default) = datadir::resolve(None) {
            assert_eq!(
                identifier_for(&default),
                None,
                "the default data dir must keep dev.switchboard.app"
            );
        }
    }

    #[tokio::test]
    async fn nothing_to_focus_when_no_gateway_holds_the_dir() {
        let dir =
            std::env::temp_dir().join(format!("switchboard-desktop-test-{}", std::process::id()));
        let found = focus_running(&dir)
            .await
            .expect("an absent data dir is not an error");
        assert!(!found, "no gateway runs for a data dir that does not exist");
    }
}
