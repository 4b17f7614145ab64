//! The Scopes and Settings screens' commands: a connection's scope checklist, auto-send policies and their presets,
//! and the gateway-wide preferences. Each does what the control-API route of the same name
//! does; changes are recorded as made by the person at the window (`window:<OS user>`).

use switchboard_api::App;
use switchboard_api::checklist::ScopeChecklist;
use switchboard_api::policies::{PolicyFile, PolicyInfo, PolicyPreset};
use switchboard_api::preferences::Preferences;
use switchboard_core::ApiError;
use tauri::State;

use super::approvals::approver;

/// The connection's scope checklist (`GET /connections/{id}/scopes`).
#[tauri::command]
pub async fn connection_checklist(
    app: State<'_, App>,
    id: String,
) -> Result<ScopeChecklist, ApiError> {
    app.connection_scope_checklist(&id).await
}

/// Every auto-send policy with its recent use (`GET /policies`).
#[tauri::command]
pub async fn policies_list(app: State<'_, App>) -> Result<Vec<PolicyInfo>, ApiError> {
    app.policies_list().await
}

/// Adds (or replaces, by id) a policy from its TOML or JSON text (`POST /policies`).
#[tauri::command]
pub async fn policy_add(
    app: State<'_, App>,
    format: String,
    text: String,
) -> Result<PolicyInfo, ApiError> {
    app.policy_add(approver(), PolicyFile { format, text })
        .await
}

/// Removes a policy (`DELETE /policies/{id}`).
#[tauri::command]
pub async fn policy_remove(app: State<'_, App>, id: String) -> Result<serde_json::Value, ApiError> {
    app.policy_remove(approver(), &id).await?;
    Ok(serde_json::json!({ "removed": id }))
}

/// The ready-made policies for one agent (`GET /policies/presets?agent=`).
#[tauri::command]
pub fn policy_presets(app: State<'_, App>, agent: String) -> Result<Vec<PolicyPreset>, ApiError> {
    if agent.is_empty() {
        return Err(ApiError::bad_request("name the agent the presets are for"));
    }
    app.policy_presets(&agent)
}

/// The gateway-wide preferences (`GET /preferences`).
#[tauri::command]
pub async fn preferences_get(app: State<'_, App>) -> Result<Preferences, ApiError> {
    app.preferences().await
}

/// Stores the preferences (`PUT /preferences`).
#[tauri::command]
pub async fn preferences_set(
    app: State<'_, App>,
    notifications: bool,
) -> Result<Preferences, ApiError> {
    app.set_preferences(approver(), Preferences { notifications })
        .await
}
