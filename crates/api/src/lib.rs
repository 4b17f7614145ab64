//! Switchboard's use-case layer: every operation a person, an agent or a script can perform,
//! shared by the HTTP server, the CLI, the Tauri shell and the tests. Adapters parse their
//! input, call one function here, and turn the result into `{code, message}` at their edge.
//!
//! - [`gateway::App`] is the running gateway's state: the database and its writer, the keychain,
//!   the control token, browser login codes and sessions, and the audit anchor kept in the
//!   keychain.
//! - [`datadir`] resolves and prepares the data dir and the runtime file that lets the CLI find
//!   the running gateway.
//! - [`offline`] holds the operations that work without a gateway (`audit verify`, `export`).
//! - [`agents`] holds agent identities (add, list, revoke, token check) and the pause switch.
//! - [`connections`] connects provider accounts with a pasted API key / private-app token
//!   (checked with a cheap read call, kept only in the keychain), tests and removes them.
//! - [`grants`] holds least-privilege grants (agent × connection × tier, optional action list and
//!   expiry); [`calls`] is the agent call path: grant and scope checks, audit before the call,
//!   the provider request with the keychain credential, the outcome.
//! - [`policies`]: the permission decision of every call (`switchboard_policy::decide` on facts
//!   code extracted from the input) and the auto-send policies; [`access`]: agents' requests
//!   for more access (`request_access`) and the person's grant or dismissal.
//! - [`approvals`]: the approval queue (drafts, edit, approve, reject, expiry) and the outbox
//!   that executes what a person approved exactly once, surviving a crash at any step.
//! - [`rate_limits`]: live pacing per connection (budget left, queued, 429s, history).
//! - [`events`]: provider webhooks (`/hooks/{connection}`: verified, de-duplicated, stored and
//!   audited) and the event lists people and agents read; [`pull`]: the pull fallback from
//!   persisted cursors, on demand and periodically.
//! - [`planner`]: five common workflows as data (integrations, tools, minimal scopes) and how far
//!   each one is from the real state (connected, scopes held, granted, tried).
//! - [`preferences`]: the person's gateway-wide preferences (desktop notifications on/off).
//! - [`live`]: small change events (drafts, audit rows, pacing, grants, pause) derived from
//!   what the audit writer commits, for live screens, the SSE stream and the tray.
//! - [`session`]: the name a browser login gives once, recorded with its decisions.
//! - [`catalog`] exposes the provider catalog (from `switchboard-connectors`) to every adapter.
//!
//! Must not depend on: Tauri, axum or any HTTP framework, clap. It may depend on every library
//! crate below it (core, store, secrets, connectors, sandbox for `--sandbox`, and later policy,
//! http).
//!
//! How to add a use case: add a method to [`gateway::App`] (or a module beside it) that takes
//! typed input, writes its audit row through the store's writer *before* its effect, and returns
//! `Result<T, ApiError>`; then expose it in each adapter. If its types reach the UI, derive
//! `ts_rs::TS` and list them in [`ts_exports`].

pub mod access;
pub mod agents;
pub mod approvals;
pub mod auth;
pub mod calls;
pub mod catalog;
pub mod checklist;
pub mod connection_settings;
pub mod connections;
pub mod datadir;
pub mod events;
mod failpoint;
pub mod gateway;
pub mod grants;
pub mod live;
pub mod oauth;
pub mod planner;
pub mod offline;
pub mod policies;
pub mod preferences;
pub mod pull;
pub mod rate_limits;
pub mod session;
pub mod ts_exports;
pub mod types;

pub use gateway::{App, AppOptions};
pub use switchboard_core::{ApiError, ErrorCode};
pub use types::GatewayStatus;
