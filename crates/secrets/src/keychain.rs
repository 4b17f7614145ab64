//! The OS keychain through keyring-core.

use std::path::Path;
use std::sync::Arc;

use keyring_core::{Entry, Error as KError, api::CredentialStore};
use sha2::{Digest, Sha256};
use switchboard_core::Sensitive;

use crate::{SecretError, SecretStore, UNAVAILABLE_HELP};

/// Secrets in the platform keychain, namespaced by data dir.
pub struct KeychainStore {
    store: Arc<CredentialStore>,
    service: String,
}

impl std::fmt::Debug for KeychainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeychainStore").field("service", &self.service).finish()
    }
}

impl KeychainStore {
    /// Opens the platform keychain for the instance whose data dir is `data_dir`, and checks
    /// that it answers (so a missing session bus or a locked keyring fails here, clearly, and
    /// not at the first secret).
    pub fn open(data_dir: &Path) -> Result<Self, SecretError> {
        let store = platform_store()?;
        let service = service_name(data_dir);
        let this = Self { store, service };
        // A read of a key that may not exist proves the store is reachable and unlocked.
        this.get("probe")?;
        Ok(this)
    }

    /// The keychain service name this instance uses (`switchboard/<16 hex>`).
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, key: &str) -> Result<Entry, SecretError> {
        Entry::new_in_store(&self.store, &self.service, key).map_err(|e| map_err(key, e))
    }
}

/// `switchboard/` + the first 16 hex digits of SHA-256 of the canonical data dir path.
pub fn service_name(data_dir: &Path) -> String {
    let canonical = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    format!("switchboard/{}", &hex::encode(digest)[..16])
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<Arc<CredentialStore>, SecretError> {
    let store = zbus_secret_service_keyring_store::Store::new()
        .map_err(|e| SecretError::Unavailable(format!("Cannot reach the Secret Service ({e}). {UNAVAILABLE_HELP}")))?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<Arc<CredentialStore>, SecretError> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| SecretError::Unavailable(format!("Cannot open the macOS Keychain ({e}).")))?;
    Ok(store)
}

#[cfg(target_os = "windows")]
fn platform_store() -> Result<Arc<CredentialStore>, SecretError> {
    let store = windows_native_keyring_store::Store::new()
        .map_err(|e| SecretError::Unavailable(format!("Cannot open the Windows Credential Manager ({e}).")))?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> Result<Arc<CredentialStore>, SecretError> {
    Err(SecretError::Unavailable("This platform has no supported keychain.".into()))
}

fn map_err(key: &str, e: KError) -> SecretError {
    match e {
        KError::NoStorageAccess(inner) => SecretError::Unavailable(format!(
            "The keychain is locked or refused access ({inner}). {UNAVAILABLE_HELP}"
        )),
        KError::NoDefaultStore => SecretError::Unavailable(format!("No keychain is available. {UNAVAILABLE_HELP}")),
        KError::PlatformFailure(inner) => SecretError::Unavailable(format!(
            "The keychain failed ({inner}). {UNAVAILABLE_HELP}"
        )),
        // Other variants never carry the secret value in their Display text except
        // BadEncoding/BadDataFormat, whose bytes we deliberately do not print.
        KError::BadEncoding(_) | KError::BadDataFormat(..) => SecretError::Failed {
            key: key.to_string(),
            message: "the stored value is not valid text".into(),
        },
        other => SecretError::Failed { key: key.to_string(), message: other.to_string() },
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, key: &str) -> Result<Option<Sensitive<String>>, SecretError> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(Sensitive::new(v))),
            Err(KError::NoEntry) => Ok(None),
            Err(e) => Err(map_err(key, e)),
        }
    }

    fn set(&self, key: &str, value: &Sensitive<String>) -> Result<(), SecretError> {
        self.entry(key)?.set_password(value.expose()).map_err(|e| map_err(key, e))
    }

    fn delete(&self, key: &str) -> Result<(), SecretError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(KError::NoEntry) => Ok(()),
            Err(e) => Err(map_err(key, e)),
        }
    }

    fn describe(&self) -> String {
        #[cfg(target_os = "linux")]
        return "Secret Service".into();
        #[cfg(target_os = "macos")]
        return "macOS Keychain".into();
        #[cfg(target_os = "windows")]
        return "Windows Credential Manager".into();
        #[allow(unreachable_code)]
        "keychain".into()
    }
}
