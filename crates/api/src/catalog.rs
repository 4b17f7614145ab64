//! The provider catalog as the adapters see it: `GET /api/control/v1/providers`,
//! `switchboard providers` and the UI's connect screens all read the one [`build`] made at start
//! (through `App::provider_catalog`), so a later change (the `--sandbox` entries, per-install
//! overrides) happens in one place.

pub use switchboard_connectors::{
    AuthMode, AuthorizeParam, Catalog, Category, CategoryInfo, ConcurrencyLimit, LimitScope, LimitUnit, LoopbackRedirect,
    OAuthConfig, Pagination, PaginationStyle, ParamSource, PkceSupport, ProviderEntry, ProviderScope, QuotaCost, RateLimit,
    TenantParam, TokenAuth, WebhookScheme, WebhookSpec,
};

/// The catalog a gateway serves: the built-in one, each running simulated provider's entry after
/// its real provider's, then the extra entries the embedding program added. Built once at start.
pub(crate) fn build(sandbox_urls: &[(&'static str, String)], extra_providers: &[ProviderEntry]) -> Catalog {
    let mut catalog = switchboard_connectors::catalog().clone();
    for (sandbox_id, url) in sandbox_urls {
        let real_id = sandbox_id.strip_suffix(ProviderEntry::SANDBOX_SUFFIX).unwrap_or(sandbox_id);
        let Some(pos) = catalog.providers.iter().position(|p| p.id == real_id) else {
            tracing::warn!(sandbox = sandbox_id, "simulated provider has no catalog entry to derive from; not listed");
            continue;
        };
        let entry = catalog.providers[pos].sandboxed(url);
        catalog.providers.insert(pos + 1, entry);
    }
    catalog.providers.extend(extra_providers.iter().cloned());
    catalog
}
