//! The Planner screen's command: every workflow and how far it is (`GET /planner`).

use switchboard_api::App;
use switchboard_api::planner::PlannerReport;
use switchboard_core::ApiError;
use tauri::State;

/// Every workflow with its integrations, minimal scopes and done steps.
#[tauri::command]
pub async fn planner(app: State<'_, App>) -> Result<PlannerReport, ApiError> {
    app.planner().await
}
