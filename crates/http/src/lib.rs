//! Switchboard's outbound pacing layer: the policies every provider call goes through before and
//! after it leaves the machine.
//!
//! What is here (all pure, every decision takes `now`, randomness comes from an injected RNG):
//! * [`Budget`] / [`Pacing`]: a documented provider limit and the GCRA period + small burst that
//!   paces it at 95 % of the sustained rate without ever exceeding N in any window;
//! * [`AccountLimiter`]: one per provider account, shared by all agents — governor's GCRA on a
//!   fake clock driven by `now`, plus a sliding-window log, `Retry-After` pauses, provider-reported
//!   remaining budget and adoption of lower observed limits;
//! * [`parse_signals`]: response status + headers → typed [`Signal`]s the limiter applies;
//! * [`RetryPolicy::decide`]: bounded, jittered exponential backoff that honours `Retry-After` and
//!   never blindly retries a write;
//! * [`FairQueue`] / [`AccountPacer`]: round-robin queueing between agents with deadlines that
//!   fail as [`PacingError`] (public code `rate_limited`);
//! * [`LimiterStatus`]: serializable live status (budget left, calls queued, recent 429s).
//!
//! Not here yet: the HTTP client, the async driver that sleeps until `wake_at`, pagination and
//! redacting traces.
//!
//! Must not depend on: store, secrets, api, connectors, server or Tauri. Only
//! `switchboard-core` and small libraries, so it builds fast and is tested without I/O.
//!
//! How to add a policy: put it in its own module as a pure function or a struct whose methods
//! take `now` (and an `Rng` if it needs randomness); no sleeping, no system clock. Re-export it
//! here, cover it with inline unit tests and, for properties that span policies, `tests/limits.rs`.

pub mod budget;
pub mod limiter;
pub mod queue;
pub mod retry;
pub mod signal;

pub use budget::{Budget, Pacing};
pub use limiter::{AccountLimiter, Admission, LimiterStatus};
pub use queue::{AccountPacer, FairQueue, PacingError, Poll};
pub use retry::{Attempt, Decision, GiveUpReason, Outcome, RetryPolicy};
pub use signal::{Signal, parse_retry_after, parse_signals, parse_signals_at};
