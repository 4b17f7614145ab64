//! The session commands (`GET /session`, `PUT /session/name`) as the window sees them: the
//! window is always the OS user (`window:<user>`), so it never asks for a name and refuses one.

use switchboard_api::session::{SessionInfo, window_session};
use switchboard_core::ApiError;

/// Who decides in the window (`GET /session`): kind `window`, the OS user as the name.
#[tauri::command]
pub fn session_get() -> SessionInfo {
    window_session()
}

/// `PUT /session/name`: only a browser login names itself; the window decides as the OS user.
#[tauri::command]
pub fn session_set_name(name: String) -> Result<SessionInfo, ApiError> {
    let _ = name;
    Err(ApiError::bad_request(
        "the window records decisions as the OS user running it; only a browser login gives a name",
    ))
}
