use switchboard_api::App;
use switchboard_api::types::ExportSaved;
use switchboard_core::{ApiError, AuditPage, AuditQuery, AuditRow, ErrorCode, VerifyReport};
use tauri::{AppHandle, Emitter, Manager, State};

/// The event the window's export reports progress on (`{bytes, rows}`).
pub const EXPORT_PROGRESS_EVENT: &str = "audit-export-progress";

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

/// One action's causal chain, oldest first (`id`: a call id or an approval id).
#[tauri::command]
pub async fn audit_chain(app: State<'_, App>, id: String) -> Result<Vec<AuditRow>, ApiError> {
    app.audit_chain(&id).await
}

/// Saves the whole audit log (`format`: `jsonl` or `csv`) as a new file in the user's Downloads
/// folder, reporting progress as `audit-export-progress` events; answers where it went.
#[tauri::command]
pub async fn audit_export_save(
    handle: AppHandle,
    app: State<'_, App>,
    format: String,
) -> Result<ExportSaved, ApiError> {
    let csv = match format.as_str() {
        "jsonl" => false,
        "csv" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "unknown export format '{other}'; use jsonl or csv"
            )));
        }
    };
    let dir = handle.path().download_dir().map_err(|e| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("this account has no Downloads folder to save the export in: {e}"),
        )
    })?;
    std::fs::create_dir_all(&dir).map_err(|e| {
        ApiError::new(
            ErrorCode::StorageReadOnly,
            format!("cannot create the Downloads folder {}: {e}", dir.display()),
        )
    })?;
    let emitter = handle.clone();
    app.audit_export_to_dir(
        super::approvals::approver(),
        csv,
        dir,
        move |bytes, rows| {
            let _ = emitter.emit(
                EXPORT_PROGRESS_EVENT,
                serde_json::json!({ "bytes": bytes, "rows": rows }),
            );
        },
    )
    .await
}
