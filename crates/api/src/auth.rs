//! Control-plane credentials: the control token (CLI), one-time login codes (browser) and the
//! browser sessions they open. Tokens are compared in constant time; only SHA-256 digests of
//! codes and sessions are kept in memory, and nothing here is ever written to SQLite or logs.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchboard_core::Sensitive;

/// How long a login URL stays valid.
pub const LOGIN_CODE_TTL_MS: i64 = 5 * 60 * 1000;
/// How long a browser session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sb_session";

/// 256 random bits, base64url without padding.
pub fn random_token() -> Sensitive<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Sensitive::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Constant-time equality of two secrets (length differences leak only the length).
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Single-use secrets with an expiry, keyed by digest.
#[derive(Debug, Default)]
pub struct OneTimeSet {
    entries: Mutex<HashMap<[u8; 32], i64>>,
}

impl OneTimeSet {
    pub fn insert(&self, secret: &Sensitive<String>, expires_at_ms: i64) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(digest(secret.expose()), expires_at_ms);
    }

    /// Whether `secret` is present and unexpired (does not consume it).
    pub fn is_valid(&self, secret: &str, now_ms: i64) -> bool {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, exp| *exp > now_ms);
        map.contains_key(&digest(secret))
    }

    /// Removes `secret`; true when it was present and unexpired.
    pub fn take(&self, secret: &str, now_ms: i64) -> bool {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, exp| *exp > now_ms);
        map.remove(&digest(secret)).is_some()
    }
}

/// The longest approver name a browser login may give.
pub const APPROVER_NAME_MAX: usize = 64;

/// Browser sessions, keyed by digest, each with its expiry and the display name the person gave
/// once after logging in (the name their decisions are recorded under).
#[derive(Debug, Default)]
pub struct Sessions {
    entries: Mutex<HashMap<[u8; 32], SessionEntry>>,
}

/// A session's expiry (UTC ms) and the name it gave, if any.
type SessionEntry = (i64, Option<String>);

impl Sessions {
    pub fn insert(&self, secret: &Sensitive<String>, expires_at_ms: i64) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(digest(secret.expose()), (expires_at_ms, None));
    }

    /// `None` when the session is unknown or expired; `Some(name)` otherwise (the name may be unset).
    pub fn get(&self, secret: &str, now_ms: i64) -> Option<Option<String>> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (exp, _)| *exp > now_ms);
        map.get(&digest(secret)).map(|(_, name)| name.clone())
    }

    /// Names a live session; false when it is unknown or expired.
    pub fn set_name(&self, secret: &str, name: &str, now_ms: i64) -> bool {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (exp, _)| *exp > now_ms);
        match map.get_mut(&digest(secret)) {
            Some(entry) => {
                entry.1 = Some(name.to_string());
                true
            }
            None => false,
        }
    }
}

/// Checks a name typed for the audit log: trimmed, 1–64 characters, no control characters and
/// no `:` (it follows `browser:` in the actor). Returns the trimmed name.
pub fn approver_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(
            "type your name: it is recorded with every approval, rejection and grant you make"
                .into(),
        );
    }
    if name.chars().count() > APPROVER_NAME_MAX {
        return Err(format!(
            "the name may be at most {APPROVER_NAME_MAX} characters"
        ));
    }
    if name.chars().any(|c| c.is_control() || c == ':') {
        return Err("the name may not contain control characters or ':'".into());
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_codes_work_once_and_expire() {
        let set = OneTimeSet::default();
        let code = random_token();
        set.insert(&code, 1_000);
        assert!(
            set.is_valid(code.expose(), 999),
            "a fresh code should be valid"
        );
        assert!(
            !set.is_valid(code.expose(), 1_000),
            "an expired code must not be valid"
        );
        let code2 = random_token();
        set.insert(&code2, 5_000);
        assert!(set.take(code2.expose(), 10), "first use should succeed");
        assert!(
            !set.take(code2.expose(), 11),
            "a login code must not work twice"
        );
        assert!(!set.take("made-up", 11), "an unknown code must not work");
    }

    #[test]
    fn sessions_carry_a_name_given_once_and_expire_with_it() {
        let sessions = Sessions::default();
        let s = random_token();
        sessions.insert(&s, 1_000);
        assert_eq!(
            sessions.get(s.expose(), 10),
            Some(None),
            "a fresh session has no name yet"
        );
        assert!(
            sessions.set_name(s.expose(), "Robin", 20),
            "naming a live session should work"
        );
        assert_eq!(
            sessions.get(s.expose(), 30),
            Some(Some("Robin".into())),
            "the session should remember its name"
        );
        assert_eq!(
            sessions.get(s.expose(), 1_000),
            None,
            "an expired session must not be valid"
        );
        assert!(
            !sessions.set_name(s.expose(), "Robin", 1_001),
            "an expired session must not take a name"
        );
        assert!(
            !sessions.set_name("made-up", "Robin", 1),
            "an unknown session must not take a name"
        );
    }

    #[test]
    fn approver_names_are_trimmed_and_checked() {
        assert_eq!(
            approver_name("  Robin Ortiz ").as_deref(),
            Ok("Robin Ortiz"),
            "a name should be trimmed"
        );
        assert!(
            approver_name("   ").is_err(),
            "a blank name must be refused"
        );
        assert!(
            approver_name(&"x".repeat(65)).is_err(),
            "a name over 64 characters must be refused"
        );
        assert!(
            approver_name("robin:admin").is_err(),
            "':' would make the actor ambiguous"
        );
        assert!(
            approver_name("rob\nin").is_err(),
            "control characters must be refused"
        );
        assert!(
            approver_name(&"é".repeat(64)).is_ok(),
            "64 non-ASCII characters are within the limit"
        );
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token();
        let b = random_token();
        assert_eq!(
            a.expose().len(),
            43,
            "32 bytes base64url should be 43 chars"
        );
        assert_ne!(a.expose(), b.expose(), "two tokens collided");
        assert!(secrets_equal(a.expose(), a.expose()));
        assert!(!secrets_equal(a.expose(), b.expose()));
    }
}

/// How decisions made at this machine are recorded: `<surface>:<OS user>` (`window:alex`,
/// `cli:alex`), or the surface alone when the environment names no user. Read once.
pub fn os_actor(surface: &str) -> String {
    static USER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let user = USER.get_or_init(|| {
        std::env::var("USER")
            .ok()
            .or_else(|| std::env::var("USERNAME").ok())
    });
    actor_for(surface, user.as_deref())
}

fn actor_for(surface: &str, user: Option<&str>) -> String {
    match user.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => format!("{surface}:{u}"),
        None => surface.to_string(),
    }
}

#[cfg(test)]
mod actor_tests {
    use super::actor_for;

    #[test]
    fn decisions_name_the_surface_and_the_os_user() {
        assert_eq!(
            actor_for("window", Some("alex")),
            "window:alex",
            "the OS user names who decided"
        );
        assert_eq!(
            actor_for("window", Some("  ")),
            "window",
            "a blank user name must not leave 'window:' dangling"
        );
        assert_eq!(
            actor_for("cli", None),
            "cli",
            "without a user name the surface still names itself"
        );
    }
}
