//! Secrets live only in the OS keychain. This crate is the one door to it.
//!
//! [`SecretStore`] is the trait the rest of Switchboard uses. [`KeychainStore`] is the real
//! implementation (keyring-core with the platform's store: Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows); the gateway reads it through [`CachedStore`], which
//! keeps each secret in process memory after the first read; [`MemoryStore`] exists for unit tests of pure logic
//! only. There is deliberately no file-backed fallback: when the keychain cannot be reached the
//! caller gets [`SecretError::Unavailable`] with a message that says what to start.
//!
//! Entries are namespaced by app and data dir (service `switchboard/<hash of data dir>`), so two
//! isolated instances never read each other's secrets.
//!
//! Must not depend on: SQLite, HTTP, Tauri. Values cross this API only as
//! [`Sensitive`](switchboard_core::Sensitive).
//!
//! How to add a secret kind: pick a key name in [`keys`] and use `get`/`set`/`delete`; never
//! copy the value anywhere but the keychain and the outgoing provider request.

mod cached;
mod keychain;
mod memory;

pub use cached::CachedStore;
pub use keychain::KeychainStore;
pub use memory::MemoryStore;

use switchboard_core::{ApiError, ErrorCode, Sensitive};

/// Well-known key names inside one data dir's namespace.
pub mod keys {
    /// The control-plane bearer token used by the CLI.
    pub const CONTROL_TOKEN: &str = "control-token";
    /// HMAC key that authenticates audit head checkpoints.
    pub const AUDIT_KEY: &str = "audit-checkpoint-key";
    /// The latest authenticated audit head (id, hash, mac), for rollback detection.
    pub const AUDIT_HEAD: &str = "audit-head";
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No keychain reachable (no session bus, no daemon, locked collection).
    #[error("{0}")]
    Unavailable(String),
    /// The keychain answered with an error for this entry.
    #[error("keychain error for '{key}': {message}")]
    Failed { key: String, message: String },
}

impl From<SecretError> for ApiError {
    fn from(e: SecretError) -> Self {
        ApiError::new(ErrorCode::KeychainUnavailable, e.to_string())
    }
}

/// Storage for secrets. Implementations must never write a value anywhere but their backing
/// secure store.
pub trait SecretStore: Send + Sync + 'static {
    fn get(&self, key: &str) -> Result<Option<Sensitive<String>>, SecretError>;
    fn set(&self, key: &str, value: &Sensitive<String>) -> Result<(), SecretError>;
    /// Deletes the entry; deleting a missing entry is not an error.
    fn delete(&self, key: &str) -> Result<(), SecretError>;
    /// Reads the entry from the backing store itself, past any copy kept in memory
    /// ([`CachedStore`]), and keeps what it found.
    fn reload(&self, key: &str) -> Result<Option<Sensitive<String>>, SecretError> {
        self.get(key)
    }
    /// A short description for status screens ("Secret Service", "memory (tests)").
    fn describe(&self) -> String;
}

/// Advice shown when the keychain cannot be reached, per platform.
pub const UNAVAILABLE_HELP: &str = "Switchboard keeps every secret in the OS keychain and will not fall back to a file. \
On Linux it needs a D-Bus session bus with an unlocked Secret Service (gnome-keyring or KWallet): \
log in to a desktop session, or run headless inside \
`dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets; exec switchboard serve'`.";
