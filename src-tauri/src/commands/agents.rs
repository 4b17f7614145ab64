//! The pause switch's commands (the header button and the tray item): read it, pause every
//! agent, resume them. Each does what the control-API route of the same name does; the change
//! is recorded as made by the person at the window (`window:<OS user>`).

use switchboard_api::App;
use switchboard_api::agents::PauseState;
use switchboard_core::ApiError;
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
