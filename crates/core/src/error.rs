//! The public error codes. Agents, the UI and scripts branch on [`ErrorCode`], never on message
//! text. Add a code only when someone branches on it, and document it in the table below and in
//! the README.
//!
//! | code | meaning | what the caller should do |
//! |---|---|---|
//! | `bad_request` | the request was malformed or a field is missing/invalid | fix the request |
//! | `payload_too_large` | the request body is over the size cap (a webhook over 1 MiB) | send less; a provider splits its batch |
//! | `unauthorized` | no or wrong token / session | log in again (`switchboard login-url`) |
//! | `forbidden` | authenticated but not allowed, or a foreign `Origin` | do not retry |
//! | `not_found` | the thing named does not exist | check the id |
//! | `conflict` | already exists / state changed underneath | reload and retry |
//! | `paused` | a person paused every agent (`switchboard pause`); nothing ran | wait and retry later; do not work around it |
//! | `audit_unavailable` | the audit row could not be committed, so the action did not run | fix storage, retry |
//! | `storage_full` | the disk or the database's size limit is full; nothing was written | free space, retry |
//! | `storage_read_only` | the database file or folder is read-only; nothing was written | fix permissions |
//! | `storage_corrupt` | the database is corrupt or from a newer Switchboard; it was not touched | restore a backup / upgrade |
//! | `not_granted` | the agent holds no grant for this tier (or action) on this connection; the message names the grant that would allow it | ask a person (`switchboard grants set AGENT CONNECTION TIER`); do not retry |
//! | `scope_not_granted` | the connection itself does not hold the provider scope the action needs | a person ticks the scope (key) or reconnects with it (OAuth) |
//! | `reconnect_needed` | the provider refused the connection's credential (revoked, expired, wrong key) | a person reconnects or pastes a new key |
//! | `rate_limited` | the call waited in the connection's rate-limit queue past its deadline; it was not sent | retry later |
//! | `provider_error` | the provider answered with an error; the message carries its status and words | read the message; retry only if it says so |
//! | `provider_unreachable` | the provider could not be reached (network, timeout) | retry later |
//! | `keychain_unavailable` | the OS keychain cannot be reached or is locked | start/unlock the keychain |
//! | `approver_name_required` | a browser login decided (approve, reject, grant) before giving the name its decisions are recorded under | ask the person's name once (`PUT /api/control/v1/session/name`), then retry |
//! | `internal` | a bug; the message says what failed | report it |

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable, machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    PayloadTooLarge,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Paused,
    AuditUnavailable,
    StorageFull,
    StorageReadOnly,
    StorageCorrupt,
    KeychainUnavailable,
    NotGranted,
    ScopeNotGranted,
    ReconnectNeeded,
    RateLimited,
    ProviderError,
    ProviderUnreachable,
    ApproverNameRequired,
    Internal,
}

impl ErrorCode {
    /// Every code, in the order of the table above (the agent API's OpenAPI document lists
    /// exactly these).
    pub const ALL: [ErrorCode; 20] = [
        Self::BadRequest,
        Self::PayloadTooLarge,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::Paused,
        Self::AuditUnavailable,
        Self::StorageFull,
        Self::StorageReadOnly,
        Self::StorageCorrupt,
        Self::KeychainUnavailable,
        Self::NotGranted,
        Self::ScopeNotGranted,
        Self::ReconnectNeeded,
        Self::RateLimited,
        Self::ProviderError,
        Self::ProviderUnreachable,
        Self::ApproverNameRequired,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Paused => "paused",
            Self::AuditUnavailable => "audit_unavailable",
            Self::StorageFull => "storage_full",
            Self::StorageReadOnly => "storage_read_only",
            Self::StorageCorrupt => "storage_corrupt",
            Self::KeychainUnavailable => "keychain_unavailable",
            Self::NotGranted => "not_granted",
            Self::ScopeNotGranted => "scope_not_granted",
            Self::ReconnectNeeded => "reconnect_needed",
            Self::RateLimited => "rate_limited",
            Self::ProviderError => "provider_error",
            Self::ProviderUnreachable => "provider_unreachable",
            Self::ApproverNameRequired => "approver_name_required",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status an edge should answer with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::PayloadTooLarge => 413,
            Self::Unauthorized => 401,
            Self::Forbidden | Self::NotGranted | Self::ScopeNotGranted => 403,
            Self::ReconnectNeeded => 409,
            Self::RateLimited => 429,
            Self::ProviderError | Self::ProviderUnreachable => 502,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::Paused
            | Self::AuditUnavailable
            | Self::StorageFull
            | Self::StorageReadOnly
            | Self::StorageCorrupt
            | Self::KeychainUnavailable => 503,
            Self::ApproverNameRequired => 428,
            Self::Internal => 500,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{code, message}`: what every edge (HTTP, IPC, MCP, CLI `--json`) returns on failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message} ({code})")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_documented_names() {
        for code in ErrorCode::ALL {
            // A new variant must be added to `ALL`: this match stops compiling until it is
            // listed here, as a reminder.
            match code {
                ErrorCode::BadRequest
                | ErrorCode::PayloadTooLarge
                | ErrorCode::Unauthorized
                | ErrorCode::Forbidden
                | ErrorCode::NotFound
                | ErrorCode::Conflict
                | ErrorCode::Paused
                | ErrorCode::AuditUnavailable
                | ErrorCode::StorageFull
                | ErrorCode::StorageReadOnly
                | ErrorCode::StorageCorrupt
                | ErrorCode::KeychainUnavailable
                | ErrorCode::NotGranted
                | ErrorCode::ScopeNotGranted
                | ErrorCode::ReconnectNeeded
                | ErrorCode::RateLimited
                | ErrorCode::ProviderError
                | ErrorCode::ProviderUnreachable
                | ErrorCode::ApproverNameRequired
                | ErrorCode::Internal => {}
            }
            let json = serde_json::to_string(&code).expect("serialize code");
            assert_eq!(
                json,
                format!("\"{}\"", code.as_str()),
                "wire name drifted from as_str for {code:?}"
            );
        }
        let distinct: std::collections::HashSet<_> = ErrorCode::ALL.iter().collect();
        assert_eq!(distinct.len(), ErrorCode::ALL.len(), "ErrorCode::ALL lists a code twice");
    }
}
