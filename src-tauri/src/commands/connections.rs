//! The Connections screen's commands: the catalog, connections by pasted key or OAuth, their
//! scope ticks and rotation schedules, and the live rate-limit numbers. Each does what the
//! control-API route of the same name does; arguments use the route's field names.

use std::time::Duration;

use switchboard_api::App;
use switchboard_api::catalog::Catalog;
use switchboard_api::connections::{ConnectionInfo, ConnectionTest};
use switchboard_api::oauth::{OAuthClientInfo, OAuthFlowStatus, OAuthStart};
use switchboard_api::rate_limits::ConnectionLimits;
use switchboard_core::{ApiError, Sensitive};
use tauri::State;

/// Who the audit log names for changes made in the window (the CLI is `cli`, a browser tab
/// `browser`).
const ACTOR: &str = "window";

/// The provider catalog by category (with `-sandbox` entries when the gateway runs with them).
#[tauri::command]
pub fn providers_list(app: State<'_, App>) -> Catalog {
    app.provider_catalog().clone()
}

/// Every connection, removed ones included. Never a key.
#[tauri::command]
pub async fn connections_list(app: State<'_, App>) -> Result<Vec<ConnectionInfo>, ApiError> {
    app.connections_list().await
}

/// Connects with a pasted key, checked with the provider first; a refused key stores nothing.
#[tauri::command(rename_all = "snake_case")]
pub async fn connection_add_key(
    app: State<'_, App>,
    provider: String,
    label: Option<String>,
    scopes: Option<Vec<String>>,
    api_key: String,
) -> Result<ConnectionInfo, ApiError> {
    let key = Sensitive::new(api_key);
    app.connection_add_key(ACTOR, &provider, label.as_deref(), scopes.as_deref(), key).await
}

/// Re-runs the connection's check call and records the result.
#[tauri::command]
pub async fn connection_test(app: State<'_, App>, id: String) -> Result<ConnectionTest, ApiError> {
    app.connection_test(ACTOR, &id).await
}

/// Disconnects: revokes an OAuth grant at the provider, deletes the keychain item.
#[tauri::command]
pub async fn connection_remove(app: State<'_, App>, id: String) -> Result<ConnectionInfo, ApiError> {
    app.connection_remove(ACTOR, &id).await
}

/// The scopes a pasted key was given.
#[tauri::command]
pub async fn connection_set_scopes(app: State<'_, App>, id: String, scopes: Vec<String>) -> Result<ConnectionInfo, ApiError> {
    app.connection_set_scopes(ACTOR, &id, &scopes).await
}

/// A key rotation schedule in days, or none.
#[tauri::command(rename_all = "snake_case")]
pub async fn connection_set_rotation(app: State<'_, App>, id: String, every_days: Option<i64>) -> Result<ConnectionInfo, ApiError> {
    app.connection_set_rotation(ACTOR, &id, every_days).await
}

/// Starts an OAuth sign-in; with `open_browser` the gateway opens the system browser.
#[tauri::command(rename_all = "snake_case")]
pub async fn oauth_start(
    app: State<'_, App>,
    provider: String,
    label: Option<String>,
    scopes: Option<Vec<String>>,
    open_browser: bool,
) -> Result<OAuthStart, ApiError> {
    app.oauth_start(ACTOR, &provider, label.as_deref(), scopes.as_deref(), open_browser).await
}

/// Where a sign-in stands; waits up to `wait_secs` (at most 30) while it is pending.
#[tauri::command(rename_all = "snake_case")]
pub async fn oauth_status(app: State<'_, App>, flow_id: String, wait_secs: u64) -> Result<OAuthFlowStatus, ApiError> {
    if wait_secs == 0 {
        return app.oauth_status(&flow_id);
    }
    app.oauth_wait(&flow_id, Duration::from_secs(wait_secs.min(30))).await
}

/// Which providers have the user's own OAuth app stored (never the secret).
#[tauri::command]
pub async fn oauth_clients_list(app: State<'_, App>) -> Result<Vec<OAuthClientInfo>, ApiError> {
    app.oauth_clients_list().await
}

/// Stores the user's own OAuth app for a provider in the keychain.
#[tauri::command(rename_all = "snake_case")]
pub async fn oauth_client_set(
    app: State<'_, App>,
    provider: String,
    client_id: String,
    client_secret: Option<String>,
) -> Result<OAuthClientInfo, ApiError> {
    app.oauth_client_set(ACTOR, &provider, &client_id, client_secret.map(Sensitive::new)).await
}

/// Every connection's pacing, live.
#[tauri::command]
pub async fn rate_limits(app: State<'_, App>) -> Result<Vec<ConnectionLimits>, ApiError> {
    app.rate_limits().await
}
