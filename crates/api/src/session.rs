//! Who a browser login is: the display name the person types once after opening a login URL,
//! recorded with every decision that login makes (`browser:<name>`). The window needs no name:
//! it decides as the OS user running it (`window:<user>`).
//!
//! Decisions (approve, reject, confirm, grant, dismiss, policies) from a browser session that
//! has not given a name are refused with `approver_name_required`, which the UI turns into the
//! name prompt; nothing else needs the name.

use serde::{Deserialize, Serialize};
use switchboard_core::{ActorKind, ApiError, ErrorCode, NewAuditRow};
use switchboard_store::Durability;
use ts_rs::TS;

use crate::App;

/// Where the control panel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// The desktop window: decisions are the OS user's.
    Window,
    /// A browser tab opened with a login URL: decisions carry the name typed once.
    Browser,
}

/// `GET /api/control/v1/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionInfo {
    /// The name decisions are recorded under; `null` until a browser login gives one.
    pub name: Option<String>,
    pub kind: SessionKind,
}

/// `PUT /api/control/v1/session/name`.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SessionNameRequest {
    pub name: String,
}

/// The actor a named browser login is recorded as.
pub fn browser_actor(name: &str) -> String {
    format!("browser:{name}")
}

/// The window's session: the OS user, when the environment names one.
pub fn window_session() -> SessionInfo {
    let actor = crate::auth::os_actor("window");
    SessionInfo {
        name: actor.strip_prefix("window:").map(str::to_string),
        kind: SessionKind::Window,
    }
}

/// The refusal of a decision from a browser login that has not given its name yet.
pub fn name_required() -> ApiError {
    ApiError::new(
        ErrorCode::ApproverNameRequired,
        "give your name for the audit log first (PUT /api/control/v1/session/name {\"name\": …}); every decision this login makes is recorded with it",
    )
}

fn expired() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "your session has expired; run `switchboard login-url` for a fresh login link",
    )
}

impl App {
    /// The browser session behind `token`: its name (if given). `unauthorized` once expired.
    pub fn browser_session(&self, token: &str) -> Result<SessionInfo, ApiError> {
        let name = self
            .sessions()
            .get(token, self.clock().now_ms())
            .ok_or_else(expired)?;
        Ok(SessionInfo {
            name,
            kind: SessionKind::Browser,
        })
    }

    /// Names a browser session. The name is checked (1–64 characters, no control characters or
    /// `:`) and the naming is audited before it takes effect; a later call replaces it, also
    /// audited, so every decision row names whoever was named at that moment.
    pub async fn browser_session_set_name(
        &self,
        token: &str,
        raw: &str,
    ) -> Result<SessionInfo, ApiError> {
        let name = crate::auth::approver_name(raw).map_err(ApiError::bad_request)?;
        let before = self.browser_session(token)?.name;
        let mut row = NewAuditRow::system(
            "control.session_named",
            serde_json::json!({ "previous": before.as_deref().map(browser_actor) }),
        );
        row.actor_kind = ActorKind::User;
        row.actor_id = browser_actor(&name);
        self.writer().append(row, Durability::Full).await?;
        if !self
            .sessions()
            .set_name(token, &name, self.clock().now_ms())
        {
            return Err(expired());
        }
        Ok(SessionInfo {
            name: Some(name),
            kind: SessionKind::Browser,
        })
    }
}
