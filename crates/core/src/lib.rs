//! Switchboard's domain vocabulary: the types every other crate speaks.
//!
//! What lives here: actor kinds, permission tiers, the public error codes, audit row shapes,
//! [`Sensitive`] for secrets, and the [`Clock`] used to inject time.
//!
//! Must not depend on: anything that does I/O (SQLite, keychain, network, Tauri). This crate is
//! pure so that it builds in seconds and every layer can use it.
//!
//! How to add a type: put it in the module that names its concept; if the UI or an agent sees it,
//! derive `ts_rs::TS` and add it to `switchboard_api::ts_exports` so its TypeScript twin is
//! generated and checked for drift.

pub mod audit;
pub mod clock;
pub mod error;
pub mod sensitive;

pub use audit::{ActorKind, AuditPage, AuditQuery, AuditRow, BadRow, NewAuditRow, Tier, VerifyReport};
pub use clock::{Clock, SystemClock};
pub use error::{ApiError, ErrorCode};
pub use sensitive::Sensitive;

/// The version every surface reports (`/healthz`, `status`, the UI header).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
