//! SQLite storage for Switchboard: `DATA_DIR/switchboard.db` (rusqlite, bundled SQLite, WAL).
//!
//! - [`Database`] opens the file, refuses a corrupt file or one written by a newer Switchboard
//!   (never recreating or overwriting it), and applies the numbered, append-only migrations in
//!   `src/migrations/`.
//! - [`audit`] holds the hash chain: canonical row encoding, HMAC'd head checkpoints, `verify`,
//!   list/search and export.
//! - [`agents`] holds agent identities (name, SHA-256 of the token, created / revoked / last
//!   seen); [`connections`] holds connected provider accounts and their health (never the
//!   credential: that is in the keychain under `connection:<id>`); [`settings`] holds small persistent switches such as the agents' pause switch;
//!   [`events`] holds provider events (webhooks and pulls), their de-duplication keys, the pull
//!   cursors and the periodic-pull schedules.
//! - [`search`] keeps the audit log's search index and filter table in `switchboard-search.db`,
//!   derived from the log, filled by its own thread, attached to every reader as `search`.
//! - [`writer::Writer`] is the one thread that writes. It groups whatever is queued into one
//!   transaction (group commit), runs each job in its own savepoint, commits with
//!   `synchronous=FULL` when any job in the group needs power-loss durability and `NORMAL`
//!   otherwise, and runs WAL checkpoints off the request path.
//!
//! Must not depend on: the keychain, HTTP, Tauri. The checkpoint key is handed in as bytes by
//! the caller (the `api` crate reads it from the keychain).
//!
//! How to add a table: add `src/migrations/NNNN_name.sql` (never edit a released one), append it
//! to [`migrations::MIGRATIONS`], and add one module with that table's queries. Writes go through
//! [`writer::Writer::transact`] so they commit together with the audit row that describes them.

pub mod agents;
pub mod approvals;
pub mod connections;
pub mod audit;
pub mod db;
pub mod error;
pub mod events;
pub mod grants;
pub mod migrations;
pub mod search;
pub mod settings;
pub mod writer;

pub use db::{Database, Durability, Reader, StoreOptions};
pub use error::StoreError;
/// The SQLite connection type readers get from [`Database::reader`].
pub use rusqlite::Connection;
pub use writer::{Head, Writer};
