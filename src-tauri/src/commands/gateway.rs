use switchboard_api::{App, GatewayStatus};
use tauri::State;

/// What the header shows: version, URL, data dir, audit rows, keychain.
#[tauri::command]
pub fn gateway_status(app: State<'_, App>) -> GatewayStatus {
    app.status()
}
