//! The Agents screen's commands: agents (list, add with the token shown once, revoke), their
//! grants (list, set, revoke), agents' access requests (list, grant, dismiss), and the pause
//! switch (the header button and the tray item). Each does what the control-API route of the
//! same name does, with the route's field names; every change is recorded as made by the
//! person at the window (`window:<OS user>`).

use switchboard_api::App;
use switchboard_api::access::AccessRequestInfo;
use switchboard_api::agents::{AgentInfo, NewAgent, PauseState};
use switchboard_api::grants::{GrantInfo, GrantRequest};
use switchboard_core::{ApiError, Tier};
use tauri::State;

use super::approvals::approver;

/// Whether every agent is paused (`GET /pause`).
#[tauri::command]
pub fn pause_state(app: State<'_, App>) -> PauseState {
    PauseState { paused: app.agents_paused() }
}

/// Stops every agent at once (`POST /pause`).
#[tauri::command]
pub async fn pause_agents(app: State<'_, App>) -> Result<PauseState, ApiError> {
    app.pause_agents(approver()).await
}

/// Lets every agent go again (`POST /resume`).
#[tauri::command]
pub async fn resume_agents(app: State<'_, App>) -> Result<PauseState, ApiError> {
    app.resume_agents(approver()).await
}

/// Every agent, never a token (`GET /agents`).
#[tauri::command]
pub async fn agents_list(app: State<'_, App>) -> Result<Vec<AgentInfo>, ApiError> {
    app.agents_list().await
}

/// Adds an agent and answers its token, this once (`POST /agents`).
#[tauri::command]
pub async fn agent_add(app: State<'_, App>, name: String) -> Result<NewAgent, ApiError> {
    app.agent_add(approver(), &name).await
}

/// Revokes an agent; its token stops working at once (`DELETE /agents/{name}`).
#[tauri::command]
pub async fn agent_revoke(app: State<'_, App>, name: String) -> Result<(), ApiError> {
    app.agent_revoke(approver(), &name).await
}

/// Every grant, or one agent's (`GET /grants?agent=`).
#[tauri::command]
pub async fn grants_list(app: State<'_, App>, agent: Option<String>) -> Result<Vec<GrantInfo>, ApiError> {
    app.grants_list(agent.as_deref()).await
}

/// Lets an agent use a connection at one tier (`POST /grants`).
#[tauri::command]
pub async fn grant_set(app: State<'_, App>, request: GrantRequest) -> Result<GrantInfo, ApiError> {
    app.grant_set(approver(), request).await
}

/// Takes one tier away (`DELETE /grants/{agent}/{connection}/{tier}`).
#[tauri::command]
pub async fn grant_revoke(app: State<'_, App>, agent: String, connection: String, tier: Tier) -> Result<serde_json::Value, ApiError> {
    app.grant_revoke(approver(), &agent, &connection, tier).await?;
    Ok(serde_json::json!({ "revoked": true }))
}

/// Agents' access requests; `status` null means every status (`GET /requests?status=`).
#[tauri::command]
pub async fn requests_list(app: State<'_, App>, status: Option<String>) -> Result<Vec<AccessRequestInfo>, ApiError> {
    app.access_requests_list(status.as_deref()).await
}

/// Grants exactly what the request asks for (`POST /requests/{id}/grant`).
#[tauri::command]
pub async fn request_grant(app: State<'_, App>, id: String) -> Result<AccessRequestInfo, ApiError> {
    app.access_request_grant(approver(), &id).await
}

/// Dismisses a request; nothing is granted (`POST /requests/{id}/dismiss`).
#[tauri::command]
pub async fn request_dismiss(app: State<'_, App>, id: String) -> Result<AccessRequestInfo, ApiError> {
    app.access_request_dismiss(approver(), &id).await
}
