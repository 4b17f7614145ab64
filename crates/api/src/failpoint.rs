//! Named crash points for the crash-injection tests of the outbox.
//!
//! When the environment variable `SWITCHBOARD_FAILPOINT` names a point (e.g.
//! `outbox.claimed`), the process kills itself with SIGKILL the moment it reaches it — no
//! destructors, no flush, exactly like a power cut of the process. Points: `approve.committed`
//! (approval and outbox row committed), `outbox.claimed` (row marked in flight, request not yet
//! sent), `outbox.sent` (provider answered, outcome not recorded), `outbox.recorded` (outcome
//! recorded). Unset (always, outside those tests) it costs one cached lookup.

use std::sync::OnceLock;

fn armed() -> Option<&'static str> {
    static POINT: OnceLock<Option<String>> = OnceLock::new();
    POINT.get_or_init(|| std::env::var("SWITCHBOARD_FAILPOINT").ok().filter(|p| !p.is_empty())).as_deref()
}

/// Kills the process with SIGKILL if `name` is the armed point.
pub(crate) fn hit(name: &str) {
    if armed() == Some(name) {
        tracing::warn!(point = name, "crash point reached; killing the process");
        #[cfg(unix)]
        let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        std::process::abort();
    }
}
