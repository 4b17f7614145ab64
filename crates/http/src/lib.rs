//! Switchboard's outbound layer: every provider call leaves the machine through
//! [`PacedClient`], which paces it under the provider account's rate limit, retries it when that
//! is safe, and reports each account's live status and last hour.
//!
//! # What is here
//! The async part (tokio + reqwest):
//! * [`PacedClient`]: cloneable; one pacer per provider account (a connection id) registered with
//!   a [`Budget`]; [`send`](PacedClient::send) queues fairly between agents, sleeps until the
//!   budget admits the call, applies each response's rate-limit signals, retries per
//!   [`RetryPolicy`]; [`status`](PacedClient::status) and [`history`](PacedClient::history) feed
//!   the rate-limit view. The [`client`] module doc describes the driver design.
//!
//! The policies it drives, all pure (every decision takes `now`, randomness comes from an
//! injected RNG) and tested without I/O:
//! * [`Budget`] / [`Pacing`]: a documented provider limit and the GCRA period + small burst that
//!   paces it at 95 % of the sustained rate without ever exceeding N in any window;
//!   [`Budget::tightest`] folds several documented limits into one;
//! * [`AccountLimiter`]: one per provider account, shared by all agents — governor's GCRA on a
//!   fake clock driven by `now`, plus a sliding-window log, `Retry-After` pauses, provider-reported
//!   remaining budget and adoption of lower observed limits. Budgets may be in requests or in
//!   quota units: a call's cost is [`OutboundRequest::units`] (Gmail counts units per method: a
//!   send is 100, a read 5);
//! * [`parse_signals`]: response status + headers → typed [`Signal`]s the limiter applies;
//! * [`RetryPolicy::decide`]: bounded, jittered exponential backoff that honours `Retry-After` and
//!   never blindly retries a write;
//! * [`FairQueue`] / [`AccountPacer`]: round-robin queueing between agents with deadlines that
//!   fail as [`PacingError`];
//! * [`LimiterStatus`] and [`History`]/[`Bucket`]: serializable live status (budget left, calls
//!   queued and in flight, recent 429s) and per-minute counts over the last hour. They derive
//!   `ts_rs::TS`; the api crate lists them in its `ts_exports`.
//!
//! # Outcomes and public error codes
//! | `send` returns | public code |
//! |---|---|
//! | `Ok(ProviderResponse)` with 2xx | success |
//! | `Ok(ProviderResponse)` with any other status (incl. a final 429 or 5xx after retries) | `provider_error` (the caller maps it) |
//! | `Err(SendError::RateLimited)`: waited past the deadline or queue full; **not sent** | `rate_limited` |
//! | `Err(SendError::Unreachable)`: timeout / connection failure on the last attempt | `provider_unreachable` |
//! | `Err(SendError::UnknownAccount \| InvalidRequest)`: a wiring bug | `internal` |
//!
//! [`SendError::code`] gives the [`switchboard_core::ErrorCode`].
//!
//! Not here yet: pagination.
//!
//! # Must not depend on
//! store, secrets, api, connectors, server or Tauri: only `switchboard-core` and libraries
//! (tokio, reqwest, governor, serde, ts-rs, tracing). Budgets come in as plain [`Budget`]s; the
//! caller converts catalog entries. Never log a header value, a URL query or a body.
//!
//! # How to add
//! * A policy: its own module, a pure function or a struct whose methods take `now` (and an
//!   `Rng` if it needs randomness); no sleeping, no system clock. Re-export it here, cover it with
//!   inline unit tests and, for properties that span policies, `tests/limits.rs`. Then make the
//!   driver in [`client`] call it.
//! * A provider's rate-limit headers: teach [`parse_signals`] to read them into existing
//!   [`Signal`]s (add a variant only if the limiter must act differently), with a unit test.
//! * Client behaviour: test it over real loopback HTTP in `tests/client.rs`.

pub mod budget;
pub mod client;
pub mod history;
pub mod limiter;
pub mod queue;
pub mod retry;
pub mod signal;

pub use budget::{Budget, Pacing};
pub use client::{
    AuthHeader, ClientConfig, Method, OutboundRequest, PacedClient, ProviderResponse, SendError,
    Unreachable,
};
pub use history::{Bucket, History};
pub use limiter::{AccountLimiter, Admission, LimiterStatus};
pub use queue::{AccountPacer, FairQueue, PacingError, Poll};
pub use retry::{Attempt, Decision, GiveUpReason, Outcome, RetryPolicy};
pub use signal::{Signal, parse_retry_after, parse_signals, parse_signals_at};
