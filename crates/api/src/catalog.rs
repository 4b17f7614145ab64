//! The provider catalog as the adapters see it: `GET /api/control/v1/providers`,
//! `switchboard providers` and the UI's connect screens all read it through here, so a later
//! change (the `--sandbox` entries, per-install overrides) happens in one place.

pub use switchboard_connectors::{
    AuthMode, AuthorizeParam, Catalog, Category, CategoryInfo, ConcurrencyLimit, LimitScope, LimitUnit, LoopbackRedirect,
    OAuthConfig, Pagination, PaginationStyle, ParamSource, PkceSupport, ProviderEntry, ProviderScope, QuotaCost, RateLimit,
    TenantParam, TokenAuth, WebhookScheme, WebhookSpec,
};

use crate::App;

impl App {
    /// Every provider this gateway can connect to, grouped by category. Reading the catalog
    /// changes nothing, so it is not audited.
    pub fn provider_catalog(&self) -> Catalog {
        switchboard_connectors::catalog().clone()
    }
}
