//! `Sensitive<T>`: a secret as a type.
//!
//! It prints `<redacted>` under `Debug` and `Display`, and it deliberately does not implement
//! `serde::Serialize`, so a secret cannot slip into JSON (IPC, HTTP, logs, exports) by accident.
//! The only way out is [`Sensitive::expose`], which is easy to grep for in review.

use std::fmt;

/// A value that must never be printed, logged or serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Access the secret, for the keychain or the outgoing provider request only.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let s = Sensitive::new("sk_test_canary_123".to_string());
        assert_eq!(format!("{s:?}"), "<redacted>", "Debug output leaked the secret");
        assert_eq!(format!("{s}"), "<redacted>", "Display output leaked the secret");
        assert_eq!(s.expose(), "sk_test_canary_123");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            token: Sensitive<String>,
        }
        let h = Holder { token: s };
        assert!(!format!("{h:?}").contains("canary"), "a struct holding a secret printed it");
    }
}
