//! Types the UI and the CLI read from the gateway (their TypeScript twins are generated).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the header and `switchboard status` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GatewayStatus {
    pub version: String,
    /// `http://127.0.0.1:PORT`, or empty before the listener is bound.
    pub url: String,
    pub data_dir: String,
    #[ts(type = "number")]
    pub started_at_ms: i64,
    #[ts(type = "number")]
    pub audit_rows: i64,
    /// Which keychain holds the secrets ("Secret Service", ...).
    pub keychain: String,
}

/// Answer to `POST /api/control/v1/login-url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LoginUrl {
    pub url: String,
    #[ts(type = "number")]
    pub expires_at_ms: i64,
}

/// Something a person should hear about (a desktop notification in the window, a line in the
/// UI): a key due for rotation, later drafts awaiting approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Notice {
    /// `rotation_due`, …
    pub kind: String,
    pub title: String,
    pub body: String,
    /// The connection it is about, if any.
    pub connection: Option<String>,
}

/// Where an audit export was saved (the window's Save).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportSaved {
    pub path: String,
    #[ts(type = "number")]
    pub bytes: u64,
    #[ts(type = "number")]
    pub rows: u64,
}
