//! [`CachedStore`]: the keychain with a copy of each secret in this process's memory.
//!
//! A Secret Service lookup is a D-Bus round trip to one daemon (about a millisecond, and they
//! queue behind each other under load), and every provider call needs its connection's
//! credential. So the gateway reads each secret from the keychain once and keeps it in memory,
//! which is the only other place a secret may live (`reference/security.md`). Writes go to
//! the keychain first and reach the memory copy only when the keychain took them; a failed write
//! or delete drops the memory copy, so the next read asks the keychain again.
//!
//! A secret changed in the keychain by another program (a person deleting the item in a
//! keychain manager) is seen on the next [`SecretStore::reload`] (the connection Test does one)
//! or after a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use switchboard_core::Sensitive;
use zeroize::Zeroizing;

use crate::{SecretError, SecretStore};

/// A [`SecretStore`] in front of another, keeping what it read or wrote in memory.
pub struct CachedStore {
    inner: Arc<dyn SecretStore>,
    state: Mutex<State>,
    /// Held across a keychain write and the memory update that follows it, so two writers of
    /// one key cannot leave memory holding the value the keychain lost.
    writing: Mutex<()>,
}

#[derive(Default)]
struct State {
    /// Wiped when dropped or replaced.
    entries: HashMap<String, Zeroizing<String>>,
    /// Bumped by every write: a read that went to the keychain before a write finished must
    /// not put its older answer into memory after it.
    generation: u64,
}

impl std::fmt::Debug for CachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStore")
            .field("inner", &self.inner.describe())
            .finish_non_exhaustive()
    }
}

impl CachedStore {
    pub fn new(inner: Arc<dyn SecretStore>) -> Self {
        Self {
            inner,
            state: Mutex::new(State::default()),
            writing: Mutex::new(()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The map holds whole strings whatever a panicking holder was doing; keep serving it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn writing(&self) -> MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts the keychain's answer for `key` into memory (or removes it) and bumps the generation.
    fn remember(&self, key: &str, value: Option<&Sensitive<String>>) {
        let mut state = self.state();
        state.generation += 1;
        match value {
            Some(v) => {
                state
                    .entries
                    .insert(key.to_string(), Zeroizing::new(v.expose().clone()));
            }
            None => {
                state.entries.remove(key);
            }
        }
    }
}

impl SecretStore for CachedStore {
    fn get(&self, key: &str) -> Result<Option<Sensitive<String>>, SecretError> {
        let generation = {
            let state = self.state();
            if let Some(v) = state.entries.get(key) {
                return Ok(Some(Sensitive::new(v.as_str().to_owned())));
            }
            state.generation
        };
        let value = self.inner.get(key)?;
        if let Some(v) = &value {
            let mut state = self.state();
            if state.generation == generation {
                state
                    .entries
                    .insert(key.to_string(), Zeroizing::new(v.expose().clone()));
            }
        }
        Ok(value)
    }

    fn set(&self, key: &str, value: &Sensitive<String>) -> Result<(), SecretError> {
        let _writing = self.writing();
        match self.inner.set(key, value) {
            Ok(()) => {
                self.remember(key, Some(value));
                Ok(())
            }
            Err(e) => {
                // The keychain may or may not hold the new value: ask it next time.
                self.remember(key, None);
                Err(e)
            }
        }
    }

    fn delete(&self, key: &str) -> Result<(), SecretError> {
        let _writing = self.writing();
        let result = self.inner.delete(key);
        self.remember(key, None);
        result
    }

    fn reload(&self, key: &str) -> Result<Option<Sensitive<String>>, SecretError> {
        let _writing = self.writing();
        match self.inner.get(key) {
            Ok(value) => {
                self.remember(key, value.as_ref());
                Ok(value)
            }
            Err(e) => {
                self.remember(key, None);
                Err(e)
            }
        }
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::MemoryStore;

    /// Counts the reads that reach the backing store, and can be told to fail writes.
    #[derive(Default)]
    struct Counting {
        store: MemoryStore,
        reads: AtomicUsize,
        fail_writes: std::sync::atomic::AtomicBool,
    }

    impl SecretStore for Counting {
        fn get(&self, key: &str) -> Result<Option<Sensitive<String>>, SecretError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.store.get(key)
        }
        fn set(&self, key: &str, value: &Sensitive<String>) -> Result<(), SecretError> {
            if self.fail_writes.load(Ordering::SeqCst) {
                return Err(SecretError::Failed {
                    key: key.into(),
                    message: "refused".into(),
                });
            }
            self.store.set(key, value)
        }
        fn delete(&self, key: &str) -> Result<(), SecretError> {
            self.store.delete(key)
        }
        fn describe(&self) -> String {
            "counting".into()
        }
    }

    /// A cache in front of a counting store that holds `k` = `v`.
    fn seeded(v: &str) -> (Arc<Counting>, CachedStore) {
        let backing = Arc::new(Counting::default());
        backing
            .store
            .set("k", &Sensitive::new(v.into()))
            .expect("seed");
        let cached = CachedStore::new(backing.clone());
        (backing, cached)
    }

    fn value(s: &CachedStore, key: &str) -> Option<String> {
        s.get(key).expect("get").map(|v| v.expose().clone())
    }

    #[test]
    fn a_secret_is_read_from_the_keychain_once_and_writes_go_through() {
        let (backing, cached) = seeded("v1");
        assert_eq!(value(&cached, "k").as_deref(), Some("v1"));
        assert_eq!(value(&cached, "k").as_deref(), Some("v1"));
        assert_eq!(
            backing.reads.load(Ordering::SeqCst),
            1,
            "a second read of the same secret should not reach the keychain"
        );

        cached.set("k", &Sensitive::new("v2".into())).expect("set");
        assert_eq!(
            backing
                .store
                .get("k")
                .expect("get")
                .map(|v| v.expose().clone())
                .as_deref(),
            Some("v2"),
            "a write must reach the keychain"
        );
        assert_eq!(
            value(&cached, "k").as_deref(),
            Some("v2"),
            "a read after a write should see the new value"
        );

        cached.delete("k").expect("delete");
        assert!(
            backing.store.get("k").expect("get").is_none(),
            "a delete must reach the keychain"
        );
        assert_eq!(
            value(&cached, "k"),
            None,
            "a deleted secret must not be served from memory"
        );
    }

    #[test]
    fn a_missing_secret_is_asked_for_again_and_a_failed_write_is_not_remembered() {
        let backing = Arc::new(Counting::default());
        let cached = CachedStore::new(backing.clone());
        assert_eq!(value(&cached, "k"), None);
        backing
            .store
            .set("k", &Sensitive::new("later".into()))
            .expect("seed");
        assert_eq!(
            value(&cached, "k").as_deref(),
            Some("later"),
            "a secret absent earlier should be found once the keychain has it"
        );

        backing.fail_writes.store(true, Ordering::SeqCst);
        assert!(
            cached.set("k", &Sensitive::new("lost".into())).is_err(),
            "the keychain's refusal should reach the caller"
        );
        assert_eq!(
            value(&cached, "k").as_deref(),
            Some("later"),
            "memory must not hold a value the keychain refused"
        );
    }

    #[test]
    fn reload_sees_a_change_made_by_another_program() {
        let (backing, cached) = seeded("v1");
        assert_eq!(value(&cached, "k").as_deref(), Some("v1"));
        backing
            .store
            .delete("k")
            .expect("deleted behind the cache's back");
        assert!(
            cached.reload("k").expect("reload").is_none(),
            "reload should report the keychain's state"
        );
        assert_eq!(
            value(&cached, "k"),
            None,
            "after a reload the deleted secret must not be served"
        );
    }
}
