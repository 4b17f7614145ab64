//! The provider catalog: what Switchboard knows about each SaaS tool it connects to, as data.
//!
//! What lives here: [`catalog()`], parsed once from `catalog/providers.toml` (embedded at build
//! time), and the typed shape of that file ([`Catalog`], [`ProviderEntry`] and the types they
//! hold): auth modes and OAuth endpoints, per-tenant URL templates, every scope with its
//! [`Tier`](switchboard_core::Tier) and a plain sentence, the recommended read-only scope set,
//! rate-limit buckets and the headers that report them, pagination, and the webhook signature
//! scheme; and [`actions`]: the typed actions agents call (tier, scopes, input schema, the request
//! each turns into).
//!
//! Must not depend on: the store, the secrets crate, any HTTP server or client, Tauri. The
//! catalog is pure data plus types, so the API layer, the CLI, the UI contract and the sandbox
//! can all read it without pulling in I/O. (The contract tests in `tests/` use the sandbox and an
//! HTTP client as dev-dependencies only: they check every action's request, and the simulated
//! providers' answers, against the providers' published API descriptions in
//! `tests/fixtures/specs/`.)
//!
//! Sources: every value comes from the shared provider reference (`reference/providers.md`) or
//! the provider's official documentation. Where the reference gives no figure, the entry says
//! so in a note field instead of inventing one; unverified facts say "(unverified)".
//!
//! How to add a provider:
//! 1. Add a `[[providers]]` block to `catalog/providers.toml` (copy a provider with the same
//!    auth style). Use the provider's exact scope strings; give each a tier and one plain
//!    sentence saying what it lets an agent do. List the bucket that paces ordinary calls first
//!    in `rate_limits`; where the provider limits each API method on its own, list the methods
//!    of each bucket in its `methods` (Slack's tiers). Declare every `{placeholder}` used in a
//!    URL under `tenant_params`.
//! 2. If the provider is one of the fixed set, add its id to `EXPECTED_IDS` in
//!    `tests/catalog.rs`.
//! 3. Run `cargo test -p switchboard-connectors`: the catalog test names every problem in
//!    user terms ("hubspot: scope … has no description").

pub mod actions;
mod keycheck;
mod model;

pub use actions::{
    ActionInfo, ActionSpec, HttpCall, Preflight, PreviewKind, ProviderFailure, action, actions, failure_in_success, preflight, quota_method,
    refused_input,
};
pub use keycheck::{KeyCheck, KeyHeader, key_check};

use std::sync::OnceLock;

pub use model::{
    AuthMode, AuthorizeParam, Catalog, Category, CategoryInfo, ConcurrencyLimit, LimitScope, LimitUnit, LoopbackRedirect,
    OAuthConfig, Pagination, PaginationStyle, ParamSource, PkceSupport, ProviderEntry, ProviderScope, QuotaCost, RateLimit,
    TenantParam, TokenAuth, WebhookScheme, WebhookSpec,
};

/// The catalog file, embedded at build time.
pub const CATALOG_TOML: &str = include_str!("../catalog/providers.toml");

/// Parses a catalog document (the embedded one, or a test's).
pub fn parse(text: &str) -> Result<Catalog, toml::de::Error> {
    toml::from_str(text)
}

/// The provider catalog, parsed on first use.
///
/// # Panics
/// If the embedded `catalog/providers.toml` does not parse. That is a bug in the data file,
/// caught by `cargo test -p switchboard-connectors` before it can ship.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| match parse(CATALOG_TOML) {
        Ok(c) => c,
        Err(e) => panic!("crates/connectors/catalog/providers.toml is invalid (run `cargo test -p switchboard-connectors`): {e}"),
    })
}
