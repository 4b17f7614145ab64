//! The Approvals screen's commands: the queue of drafts agents made, and a person's decisions
//! on them (approve, optionally edited; reject with a reason; settle a draft whose outcome a
//! crash left unknown; approve several identical low-risk drafts at once). Each does what the
//! control-API route of the same name does; arguments use the route's field names.
//!
//! Decisions record the person at the window as `window:<OS user>`, as the CLI records
//! `cli:<OS user>`.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;
use switchboard_api::App;
use switchboard_api::approvals::{
    ApprovalInfo, ApprovalStatus, ApproveRequest, ConfirmRequest, RejectRequest,
};
use switchboard_core::ApiError;
use tauri::State;

/// The control API's default page size for `GET /approvals`.
const DEFAULT_LIMIT: u32 = 200;

/// How many drafts wait for a person (`GET /approvals/count`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PendingCount {
    pub pending: u64,
}

/// Who decides in the window: the OS user running it (`window:alex`), or plain `window` when
/// the environment names no user.
pub fn approver() -> &'static str {
    static APPROVER: OnceLock<String> = OnceLock::new();
    APPROVER.get_or_init(|| switchboard_api::auth::os_actor("window"))
}

/// Drafts newest first, optionally only one status (`null`: every status).
#[tauri::command]
pub async fn approvals_list(
    app: State<'_, App>,
    status: Option<ApprovalStatus>,
    limit: Option<u32>,
) -> Result<Vec<ApprovalInfo>, ApiError> {
    app.approvals_list(status, limit.unwrap_or(DEFAULT_LIMIT))
        .await
}

/// How many drafts wait for a person (the navigation badge).
#[tauri::command]
pub async fn approvals_count(app: State<'_, App>) -> Result<PendingCount, ApiError> {
    Ok(PendingCount {
        pending: app.approvals_pending_count().await?,
    })
}

/// One draft as it will be sent, with who decided it.
#[tauri::command]
pub async fn approval_get(app: State<'_, App>, id: String) -> Result<ApprovalInfo, ApiError> {
    app.approval_get(&id).await
}

/// Approves a pending draft; `edit` is the whole edited input, and is then what runs.
#[tauri::command]
pub async fn approval_approve(
    app: State<'_, App>,
    id: String,
    edit: Option<Value>,
) -> Result<ApprovalInfo, ApiError> {
    app.approval_approve(approver(), &id, ApproveRequest { edit })
        .await
}

/// Rejects a pending draft; the agent sees the reason.
#[tauri::command]
pub async fn approval_reject(
    app: State<'_, App>,
    id: String,
    reason: String,
) -> Result<ApprovalInfo, ApiError> {
    app.approval_reject(approver(), &id, RejectRequest { reason })
        .await
}

/// Settles a draft waiting for confirmation: `sent` = found at the provider; otherwise send it now.
#[tauri::command]
pub async fn approval_confirm(
    app: State<'_, App>,
    id: String,
    sent: bool,
) -> Result<ApprovalInfo, ApiError> {
    app.approval_confirm(approver(), &id, ConfirmRequest { sent })
        .await
}

/// Approves several drafts of one tool on one connection; the gateway refuses mixed or risky sets.
#[tauri::command]
pub async fn approvals_approve_bulk(
    app: State<'_, App>,
    ids: Vec<String>,
) -> Result<Vec<ApprovalInfo>, ApiError> {
    app.approvals_approve_bulk(approver(), &ids).await
}
