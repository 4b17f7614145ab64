//! In-memory [`SecretStore`] for unit tests of pure logic. Never used by a running gateway.

use std::collections::HashMap;
use std::sync::Mutex;

use switchboard_core::Sensitive;

use crate::{SecretError, SecretStore};

#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, String>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A poisoned map still holds consistent strings; keep serving it.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Sensitive<String>>, SecretError> {
        Ok(self.lock().get(key).cloned().map(Sensitive::new))
    }
    fn set(&self, key: &str, value: &Sensitive<String>) -> Result<(), SecretError> {
        self.lock().insert(key.to_string(), value.expose().clone());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), SecretError> {
        self.lock().remove(key);
        Ok(())
    }
    fn describe(&self) -> String {
        "memory (tests only)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_delete() {
        let s = MemoryStore::new();
        assert!(s.get("k").expect("get").is_none(), "a fresh store should be empty");
        s.set("k", &Sensitive::new("v".into())).expect("set");
        assert_eq!(s.get("k").expect("get").map(|v| v.expose().clone()), Some("v".into()));
        s.delete("k").expect("delete");
        s.delete("k").expect("deleting a missing entry must not fail");
        assert!(s.get("k").expect("get").is_none(), "deleted secret still readable");
    }
}
