//! Injected time: verification and expiry take `now` from a [`Clock`], never from the OS
//! directly, so tests can move time.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in UTC milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            // A clock set before 1970 is a broken machine; report the epoch rather than panic.
            .unwrap_or(0)
    }
}
