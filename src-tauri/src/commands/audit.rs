use switchboard_api::App;
use switchboard_core::{ApiError, AuditPage, AuditQuery, VerifyReport};
use tauri::State;

/// Newest-first audit rows matching `query`.
#[tauri::command]
pub async fn audit_list(app: State<'_, App>, query: AuditQuery) -> Result<AuditPage, ApiError> {
    app.audit_list(query).await
}

/// Verifies the hash chain, its authenticated head and the keychain checkpoint.
#[tauri::command]
pub async fn audit_verify(app: State<'_, App>) -> Result<VerifyReport, ApiError> {
    app.audit_verify().await
}
