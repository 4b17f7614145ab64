//! The shape of `catalog/providers.toml`. Every type here is also the UI contract (ts-rs), so a
//! field's doc comment is what the UI developer and the catalog editor both read.
//!
//! URL templates: `{name}` is a per-tenant value declared in the provider's `tenant_params`
//! (a Zendesk subdomain, a Shopify shop, a Snowflake account, a URL from the token response).

use serde::{Deserialize, Serialize};
use switchboard_core::Tier;
use ts_rs::TS;

/// The whole catalog: the categories in display order and every provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub categories: Vec<CategoryInfo>,
    pub providers: Vec<ProviderEntry>,
}

impl Catalog {
    /// Every provider, in catalog order (grouped by category).
    pub fn providers(&self) -> &[ProviderEntry] {
        &self.providers
    }

    /// The provider with this id (`hubspot`, `google-calendar`, …).
    pub fn get(&self, id: &str) -> Option<&ProviderEntry> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// The providers of one category, in catalog order.
    pub fn in_category(&self, category: Category) -> impl Iterator<Item = &ProviderEntry> {
        self.providers.iter().filter(move |p| p.category == category)
    }

    /// The display name of a category ("Email & Calendar").
    pub fn category_name(&self, category: Category) -> &str {
        self.categories.iter().find(|c| c.id == category).map_or(category.as_str(), |c| c.name.as_str())
    }
}

/// The six groups the UI and `switchboard providers` show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Crm,
    EmailCalendar,
    Communication,
    Data,
    CommerceFinance,
    Support,
}

impl Category {
    pub const ALL: [Category; 6] =
        [Self::Crm, Self::EmailCalendar, Self::Communication, Self::Data, Self::CommerceFinance, Self::Support];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crm => "crm",
            Self::EmailCalendar => "email_calendar",
            Self::Communication => "communication",
            Self::Data => "data",
            Self::CommerceFinance => "commerce_finance",
            Self::Support => "support",
        }
    }
}

/// A category and the name people see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct CategoryInfo {
    pub id: Category,
    /// "CRM", "Email & Calendar", …
    pub name: String,
}

/// One SaaS tool Switchboard can connect to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ProviderEntry {
    /// Stable id, lowercase with dashes: `hubspot`, `google-calendar`.
    pub id: String,
    /// The product name people know: "Google Calendar".
    pub name: String,
    pub category: Category,
    /// Every way a person can connect an account, most suitable for a desktop app first.
    pub auth_modes: Vec<AuthMode>,
    /// How a pasted credential is sent, when an auth mode takes one (`Authorization: Bearer pat-…`).
    #[serde(default)]
    pub credential_hint: Option<String>,
    /// The OAuth endpoints, when an OAuth auth mode is listed.
    #[serde(default)]
    pub oauth: Option<OAuthConfig>,
    /// Per-tenant values used as `{name}` in this entry's URLs.
    #[serde(default)]
    pub tenant_params: Vec<TenantParam>,
    /// Where API paths start (may be a template).
    pub api_base_url: String,
    /// Every scope (or key permission) Switchboard knows for this provider.
    #[serde(default)]
    pub scopes: Vec<ProviderScope>,
    /// How scopes work here when it is not the usual list, or why `scopes` or
    /// `read_only_scopes` is empty.
    #[serde(default)]
    pub scopes_note: Option<String>,
    /// The smallest scope set for read-only use; each is one of `scopes` and of tier read.
    #[serde(default)]
    pub read_only_scopes: Vec<String>,
    /// The documented limits. The first bucket is the one that paces ordinary calls.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Caveats on the limits, or why `rate_limits` is empty (no published figure).
    #[serde(default)]
    pub rate_limit_note: Option<String>,
    /// A cap on requests in flight at once, where documented.
    #[serde(default)]
    pub concurrency: Option<ConcurrencyLimit>,
    /// Per-method costs for providers that count quota units instead of requests.
    #[serde(default)]
    pub quota_costs: Vec<QuotaCost>,
    /// HTTP statuses the provider uses to say "slow down".
    #[serde(default)]
    pub throttle_statuses: Vec<u16>,
    /// How list endpoints page; the first entry is the common one.
    pub pagination: Vec<Pagination>,
    /// How inbound events are authenticated, when the provider pushes any.
    #[serde(default)]
    pub webhook: Option<WebhookSpec>,
    /// The provider documentation page these facts come from.
    pub docs_url: String,
    /// Facts a connector author must know that have no field of their own.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl ProviderEntry {
    pub fn scope(&self, scope: &str) -> Option<&ProviderScope> {
        self.scopes.iter().find(|s| s.scope == scope)
    }

    /// The bucket that paces calls of API `method` when the provider limits each method on its
    /// own (Slack's tiers): the bucket listing the method in `methods`, else the first
    /// per-method bucket (the catalog lists the cautious default first). `None` when no bucket
    /// names methods: the provider is paced per account.
    pub fn method_limit(&self, method: &str) -> Option<&RateLimit> {
        if self.rate_limits.iter().all(|l| l.methods.is_empty()) {
            return None;
        }
        self.rate_limits
            .iter()
            .find(|l| l.methods.iter().any(|m| m == method))
            .or_else(|| self.rate_limits.iter().find(|l| l.scope == LimitScope::Method))
    }

    /// The id suffix of a simulated provider's catalog entry (`hubspot-sandbox`).
    pub const SANDBOX_SUFFIX: &'static str = "-sandbox";

    /// This provider's entry as served by a simulated provider (`switchboard serve --sandbox`)
    /// at `base_url` (e.g. `http://127.0.0.1:53124`, no trailing slash).
    ///
    /// Everything a person or the policy reads stays the real provider's: auth modes, scopes and
    /// their tiers, the read-only set, rate limits, pagination, webhook scheme and the loopback
    /// rule. Only the identity and the endpoints change: `id` gets [`Self::SANDBOX_SUFFIX`],
    /// `name` gets ` (sandbox)`, and the API base and the OAuth authorize, token and revoke URLs
    /// keep the provider's real paths on `base_url` (so `https://api.hubapi.com/oauth/v3/token`
    /// becomes `{base_url}/oauth/v3/token`). A URL whose host is a per-tenant placeholder
    /// (`https://{subdomain}.zendesk.com/api/v2`, `{instance_url}/services/data`) keeps its path
    /// only, and the tenant params no endpoint uses any more are dropped. `docs_url` still points
    /// at the real documentation.
    ///
    /// The result is not held to the static catalog's "every URL is https" rule: it is built at
    /// run time for a loopback server, never read from `providers.toml`.
    pub fn sandboxed(&self, base_url: &str) -> ProviderEntry {
        let base = base_url.trim_end_matches('/');
        let mut e = self.clone();
        e.id = format!("{}{}", self.id, Self::SANDBOX_SUFFIX);
        e.name = format!("{} (sandbox)", self.name);
        e.api_base_url = rebase(&self.api_base_url, base);
        if let Some(o) = &mut e.oauth {
            o.authorize_url = rebase(&o.authorize_url, base);
            o.token_url = rebase(&o.token_url, base);
            o.revoke_url = o.revoke_url.as_deref().map(|r| rebase(r, base));
        }
        let endpoints: Vec<String> = e.urls().into_iter().filter(|(f, _)| *f != "docs_url").map(|(_, u)| u.to_owned()).collect();
        e.tenant_params.retain(|t| endpoints.iter().any(|u| u.contains(&format!("{{{}}}", t.name))));
        e
    }

    /// Every URL and URL template in this entry (OAuth, API base, docs).
    pub fn urls(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![("api_base_url", self.api_base_url.as_str()), ("docs_url", self.docs_url.as_str())];
        if let Some(o) = &self.oauth {
            out.push(("oauth.authorize_url", o.authorize_url.as_str()));
            out.push(("oauth.token_url", o.token_url.as_str()));
            if let Some(r) = &o.revoke_url {
                out.push(("oauth.revoke_url", r.as_str()));
            }
        }
        out
    }
}

/// `url`'s path (and query) on `base`: the scheme and host, or a leading `{placeholder}` host,
/// are replaced.
fn rebase(url: &str, base: &str) -> String {
    let rest = if let Some(r) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) {
        r.find('/').map_or("", |i| &r[i..])
    } else if let Some((_, r)) = url.strip_prefix('{').and_then(|r| r.split_once('}')) {
        r
    } else {
        url
    };
    format!("{base}{rest}")
}

/// How a person connects an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// OAuth 2 authorization code with PKCE as a public client: no client secret at the token
    /// step, so the desktop app can complete it alone (system browser + loopback redirect).
    OauthPublic,
    /// OAuth 2 authorization code where the token step needs the app's client secret (PKCE
    /// may or may not be supported, see `oauth.pkce`). A desktop app needs a token broker.
    OauthConfidential,
    /// A long-lived API key or token the user copies from the provider's settings.
    ApiKey,
    /// A token for a single-account app the user creates in the provider (HubSpot private
    /// app, Shopify custom app, Notion internal integration, Airtable or Snowflake personal
    /// access token).
    PrivateAppToken,
    /// A key limited to chosen resources and read/write levels (Stripe restricted key).
    RestrictedKey,
    /// HTTP Basic built from a pasted key (Freshdesk key + `X`, Zendesk `email/token`).
    Basic,
    /// A bot token from the provider's developer portal (Discord `Authorization: Bot …`).
    BotToken,
    /// A signed JWT from a key pair registered with the provider (Snowflake key-pair,
    /// Salesforce JWT bearer).
    KeyPairJwt,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OauthPublic => "oauth_public",
            Self::OauthConfidential => "oauth_confidential",
            Self::ApiKey => "api_key",
            Self::PrivateAppToken => "private_app_token",
            Self::RestrictedKey => "restricted_key",
            Self::Basic => "basic",
            Self::BotToken => "bot_token",
            Self::KeyPairJwt => "key_pair_jwt",
        }
    }

    pub fn is_oauth(self) -> bool {
        matches!(self, Self::OauthPublic | Self::OauthConfidential)
    }
}

/// OAuth endpoints and what a desktop app can do with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    pub authorize_url: String,
    pub token_url: String,
    /// RFC 7009-style revocation, or `null` when none is documented (see `notes`).
    #[serde(default)]
    pub revoke_url: Option<String>,
    pub pkce: PkceSupport,
    /// How the token request authenticates the client.
    pub token_auth: TokenAuth,
    /// Whether `http://127.0.0.1:PORT` (RFC 8252 loopback) redirects are accepted.
    pub loopback_redirect: LoopbackRedirect,
    /// Why, and which token path to use instead; required unless `loopback_redirect` is `allowed`.
    #[serde(default)]
    pub loopback_note: Option<String>,
    /// Whether the authorization response carries `iss` (RFC 9207); `null` when undocumented.
    #[serde(default)]
    pub sends_iss: Option<bool>,
    /// How requested scopes are joined in the authorize URL (a space unless noted).
    #[serde(default = "space")]
    pub scope_separator: String,
    /// Extra parameters the authorize URL needs.
    #[serde(default)]
    pub authorize_params: Vec<AuthorizeParam>,
    /// Access and refresh token lifetimes and rotation, in one or two sentences.
    #[serde(default)]
    pub token_note: Option<String>,
}

fn space() -> String {
    " ".into()
}

/// One extra authorize-URL parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeParam {
    pub name: String,
    pub value: String,
}

/// PKCE (RFC 7636, S256) support at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PkceSupport {
    Required,
    Supported,
    NotSupported,
    /// The reference and the official docs consulted do not say.
    Undocumented,
}

/// Client authentication at the token endpoint (RFC 8414 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// Public client: `client_id` only, proven by the PKCE verifier.
    None,
    /// `client_secret` in the form body.
    ClientSecretPost,
    /// HTTP Basic `client_id:client_secret`.
    ClientSecretBasic,
    /// The reference does not say how the secret is sent.
    Undocumented,
}

/// Whether a loopback redirect (`http://127.0.0.1:PORT/…`) works for this provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LoopbackRedirect {
    /// Accepted for production use.
    Allowed,
    /// Accepted only for apps that enabled PKCE (Slack).
    PkceAppsOnly,
    /// Accepted for development or testing only; production needs https.
    TestingOnly,
    /// The app registers one fixed callback URL, so a per-run loopback port cannot work.
    FixedCallbackOnly,
    /// Accepted only if the customer's admin turns on a setting.
    AdminAllowedOnly,
    NotAllowed,
    /// Not documented: treat as not working until tested.
    Undocumented,
}

/// A `{name}` placeholder in this provider's URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct TenantParam {
    pub name: String,
    /// One sentence for the person connecting: what to enter, or where it comes from.
    pub description: String,
    pub source: ParamSource,
    #[serde(default)]
    pub example: Option<String>,
    #[serde(default)]
    pub default: Option<String>,
}

/// Where a tenant value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ParamSource {
    /// The person types it when connecting.
    User,
    /// The OAuth token response carries it (Salesforce `instance_url`, Pipedrive `api_domain`).
    TokenResponse,
    /// The OAuth redirect carries it (QuickBooks `realmId`).
    Redirect,
}

/// One provider scope (or key permission), as the scope checklist shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ProviderScope {
    /// The provider's exact scope string.
    pub scope: String,
    /// The tier of what the scope is for: read, write or delete.
    pub tier: Tier,
    /// One plain sentence: what it lets an agent do.
    pub description: String,
    /// Higher tiers the same scope also unlocks (e.g. HubSpot archives records with `.write`).
    #[serde(default)]
    pub also_unlocks: Vec<Tier>,
    /// Review status, admin consent, or a caveat.
    #[serde(default)]
    pub note: Option<String>,
}

/// One documented rate-limit bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// What the bucket is, in a few words.
    pub description: String,
    /// How many `unit`s fit in the window.
    #[ts(type = "number")]
    pub requests: u64,
    #[ts(type = "number")]
    pub per_seconds: u64,
    /// What is counted: requests unless the provider counts units or points.
    #[serde(default)]
    pub unit: LimitUnit,
    /// Who shares the bucket.
    pub scope: LimitScope,
    /// When the bucket applies (a plan, live or test mode, apps created after a date).
    #[serde(default)]
    pub condition: Option<String>,
    /// Which calls count against it, when not all of them.
    #[serde(default)]
    pub applies_to: Option<String>,
    /// Response headers that report this bucket.
    #[serde(default)]
    pub headers: Vec<String>,
    /// Whether a 429 from this bucket carries `Retry-After` (false: not documented, or documented absent).
    #[serde(default)]
    pub retry_after: bool,
    /// The API methods this bucket paces, each with a budget of its own (`scope = "method"`), or
    /// one per method and resource (`scope = "resource"`, the resource named by `per_argument`).
    /// A method is the request path below `api_base_url` without its leading `/` (Slack:
    /// `chat.postMessage`). Empty: the bucket is not tied to named methods.
    #[serde(default)]
    pub methods: Vec<String>,
    /// For a `resource` bucket: the request argument (query or body field) that names the
    /// resource counted, e.g. Slack's `channel`.
    #[serde(default)]
    pub per_argument: Option<String>,
}

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LimitUnit {
    #[default]
    Requests,
    /// Quota units with a cost per method (`quota_costs`), e.g. Gmail.
    QuotaUnits,
    /// Query cost points, e.g. Shopify GraphQL.
    CostPoints,
}

/// Who shares a rate-limit bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    /// One connected provider account (portal, workspace, org, company, store, realm).
    Account,
    /// The OAuth app or Google Cloud project, across every account that uses it.
    App,
    /// One signed-in user.
    User,
    /// One API method or endpoint, within an account.
    Method,
    /// One object, base, channel or mailbox.
    Resource,
    /// One access token, bot or integration.
    Token,
}

impl LimitScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::App => "app",
            Self::User => "user",
            Self::Method => "method",
            Self::Resource => "resource",
            Self::Token => "token",
        }
    }
}

/// A cap on concurrent requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLimit {
    pub max_in_flight: u32,
    pub scope: LimitScope,
    pub description: String,
}

/// The quota cost of one method, for unit-counted limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct QuotaCost {
    pub method: String,
    pub units: u32,
}

/// How a list endpoint pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    pub style: PaginationStyle,
    /// Which endpoints use this style, when not all of them.
    #[serde(default)]
    pub applies_to: Option<String>,
    /// The request parameter for the page size.
    #[serde(default)]
    pub limit_param: Option<String>,
    #[serde(default)]
    pub max_limit: Option<u32>,
    /// The request parameter that carries the position (cursor, token, offset, id, page).
    #[serde(default)]
    pub cursor_param: Option<String>,
    /// Where the response gives the next position (dotted JSON path or header).
    #[serde(default)]
    pub next_field: Option<String>,
    /// Where the response says whether more pages exist.
    #[serde(default)]
    pub has_more_field: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Pagination styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PaginationStyle {
    /// An opaque cursor from the response body.
    Cursor,
    /// Google-style `pageToken` → `nextPageToken`.
    PageToken,
    /// A numeric start offset.
    Offset,
    /// A page number.
    PageNumber,
    /// The next page's URL in a `Link` header.
    LinkHeader,
    /// The next page's URL in the body (`@odata.nextLink`, `nextRecordsUrl`).
    NextUrl,
    /// The id of the last item seen (`starting_after`, `before`/`after`).
    SinceId,
    /// Result partitions fetched by number (Snowflake).
    Partition,
}

/// How inbound events from this provider are authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    pub scheme: WebhookScheme,
    #[serde(default)]
    pub signature_header: Option<String>,
    #[serde(default)]
    pub timestamp_header: Option<String>,
    /// Text before the signature value in its header (`v0=`, `sha256=`).
    #[serde(default)]
    pub signature_prefix: Option<String>,
    /// Which secret or key verifies it.
    #[serde(default)]
    pub signing_key: Option<String>,
    /// Maximum age of a signed timestamp, when documented.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub tolerance_seconds: Option<u64>,
    /// How a desktop without a public URL gets the same events.
    #[serde(default)]
    pub pull_fallback: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Signature schemes. The signed bytes are always the raw body as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WebhookScheme {
    /// `Stripe-Signature: t=…,v1=…`: hex HMAC-SHA256 over `"{t}.{body}"`, any `v1` may match.
    StripeV1,
    /// `X-Slack-Signature: v0=…`: hex HMAC-SHA256 over `"v0:{ts}:{body}"`.
    SlackV0,
    /// base64 HMAC-SHA256 over `method + uri + body + timestamp` (URI percent-decoded).
    HubspotV3,
    /// base64 HMAC-SHA256 over the raw body.
    HmacSha256Base64,
    /// base64 HMAC-SHA256 over `timestamp + body`.
    HmacSha256Base64Timestamp,
    /// hex HMAC-SHA256 over the raw body.
    HmacSha256Hex,
    /// hex HMAC-SHA1 over the raw body.
    HmacSha1Hex,
    /// HMAC-SHA256 over the raw body with the base64-decoded `macSecretBase64`; the
    /// header's encoding is not stated in the reference.
    AirtableMac,
    /// Ed25519 signature of `timestamp + body` with the app's public key.
    Ed25519,
    /// Microsoft Graph: echo `validationToken`, compare `clientState`; no signature.
    GraphClientState,
    /// Google Calendar watch channels: compare `X-Goog-Channel-Token`; no signature.
    ChannelToken,
    /// Pub/Sub push: a Google-signed OIDC JWT in `Authorization`.
    GoogleOidcJwt,
    /// Optional HTTP Basic credentials set on the webhook; no signature.
    BasicAuth,
    /// No authentication scheme; see the note.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_methods_are_paced_by_their_documented_tier() {
        let slack = crate::catalog().get("slack").expect("slack is in the catalog");
        let per_minute = |m: &str| slack.method_limit(m).map(|l| (l.requests, l.per_seconds, l.scope));
        assert_eq!(per_minute("conversations.list"), Some((20, 60, LimitScope::Method)), "conversations.list is Tier 2");
        for m in ["conversations.history", "conversations.replies", "conversations.open", "conversations.info", "users.lookupByEmail", "chat.update", "chat.delete"] {
            assert_eq!(per_minute(m), Some((50, 60, LimitScope::Method)), "{m} is Tier 3");
        }
        assert_eq!(per_minute("users.info"), Some((100, 60, LimitScope::Method)), "users.info is Tier 4");
        let post = slack.method_limit("chat.postMessage").expect("chat.postMessage has its own limit");
        assert_eq!((post.requests, post.per_seconds, post.scope, post.per_argument.as_deref()), (1, 1, LimitScope::Resource, Some("channel")), "about one message per second per channel");
        assert_eq!(per_minute("reactions.add"), Some((20, 60, LimitScope::Method)), "a method without an encoded tier gets the cautious Tier 2 budget");
        let hubspot = crate::catalog().get("hubspot").expect("hubspot is in the catalog");
        assert!(hubspot.method_limit("/crm/v3/objects/contacts").is_none(), "HubSpot is paced per account, not per method");
        assert_eq!(slack.sandboxed("http://127.0.0.1:9").method_limit("chat.update").map(|l| l.requests), Some(50), "the sandbox keeps Slack's tiers");
    }

    #[test]
    fn a_sandboxed_entry_is_the_real_one_on_loopback() {
        let real = crate::catalog().get("hubspot").expect("hubspot is in the catalog");
        let base = "http://127.0.0.1:53124";
        let sb = real.sandboxed(base);
        assert_eq!(sb.id, "hubspot-sandbox", "the sandbox entry's id should be the real id plus -sandbox");
        assert_eq!(sb.name, "HubSpot (sandbox)", "people should see that this HubSpot is the sandbox");
        for (field, url) in sb.urls() {
            if field == "docs_url" {
                assert_eq!(url, real.docs_url, "the docs link should still lead to HubSpot's real documentation");
            } else {
                assert!(url.starts_with("http://127.0.0.1:53124"), "{field} should point at the sandbox, not the real HubSpot: {url}");
            }
        }
        let o = sb.oauth.as_ref().expect("the sandbox keeps HubSpot's OAuth endpoints");
        assert_eq!(o.token_url, "http://127.0.0.1:53124/oauth/v3/token", "the token URL should keep HubSpot's real path");
        assert_eq!(sb.api_base_url, base, "the API base should be the sandbox's root, like api.hubapi.com");
        assert_eq!(sb.scopes, real.scopes, "the sandbox must ask for exactly the real scopes and tiers");
        assert_eq!(sb.read_only_scopes, real.read_only_scopes, "the read-only set must not change in the sandbox");
        assert_eq!(sb.rate_limits, real.rate_limits, "the sandbox paces calls by the real limits");
        assert_eq!(sb.auth_modes, real.auth_modes, "the sandbox connects the same ways as the real provider");
        assert_eq!(o.loopback_redirect, real.oauth.as_ref().map(|o| o.loopback_redirect).unwrap_or(LoopbackRedirect::Undocumented), "the loopback rule is the real provider's");
    }

    #[test]
    fn a_tenant_host_is_replaced_and_its_unused_param_dropped() {
        let mut e = crate::catalog().get("hubspot").expect("hubspot").clone();
        e.api_base_url = "https://{subdomain}.example.com/api/v2".into();
        e.tenant_params = vec![TenantParam {
            name: "subdomain".into(),
            description: "Your subdomain.".into(),
            source: ParamSource::User,
            example: None,
            default: None,
        }];
        let sb = e.sandboxed("http://127.0.0.1:9/");
        assert_eq!(sb.api_base_url, "http://127.0.0.1:9/api/v2", "the tenant host should be replaced by the sandbox, keeping the path");
        assert!(sb.tenant_params.is_empty(), "a tenant param no sandbox URL uses should not be asked for");
    }
}
