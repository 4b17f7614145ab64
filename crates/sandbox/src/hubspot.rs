//! HubSpot, simulated: OAuth (v1 token and refresh-token paths), private-app tokens, the rolling
//! ten-second limit with `X-HubSpot-RateLimit-*` headers and HubSpot's 429 / 401 / 403 error
//! bodies, and a demo portal (`hubspot/seed.rs`): contacts, companies, deals in two pipelines,
//! owners, sequences and an activity history.
//!
//! The CRM speaks CRM v3 for every object type (contacts, companies, deals, calls, emails,
//! meetings, notes, tasks): list, get, create (with `associations` by HubSpot's default
//! association type ids), update, archive, and search (`hubspot/search.rs`) with its own
//! per-second limit per token; property definitions (`GET /crm/v3/properties/{objectType}`)
//! that every write is checked against, answering HubSpot's `VALIDATION_ERROR` that lists each
//! offending property (`hubspot/model.rs`); the deal pipelines and moving a deal only between
//! the stages of its own pipeline; v4 associations of any record; owners; and sales sequences
//! with enrollment (v4).
//!
//! Contact creation, property changes and deletion (through the API or [`HubSpotSim`], as a
//! person in HubSpot) are delivered to the app's webhook target URL
//! ([`HubSpotSim::set_target_url`]) in HubSpot's batched JSON array, signed v3 ([`sign_v3`]).
//!
//! Defaults follow the real provider (see `shared/reference/providers.md` §3.1): access tokens
//! live 30 minutes, the token step requires `client_secret`, private apps get 100 requests per
//! rolling 10 s (a Free or Starter portal), search answers 4 requests per second per token, and
//! an `http://` loopback redirect is **refused**
//! because HubSpot accepts it only for testing apps — production apps need a registered https
//! redirect (Switchboard connects the real HubSpot with a private-app token instead).
//! [`HubSpotConfig::developer_test_app`] simulates a HubSpot developer test app, which does accept
//! it; `switchboard serve --sandbox` runs that one so the OAuth connect flow works end to end
//! against the sandbox.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use serde_json::{Map, Value, json};

use crate::oauth::{AccessCheck, OAuthClient, OAuthConfig, OAuthServer, ScopeInfo};
use crate::ratelimit::SlidingWindow;
use crate::webhooks::{Outbox, Signed, Subscriber};
use crate::{SandboxContext, SimulatedProvider, Stats};

mod model;
mod sales;
mod search;
mod seed;

use model::{Crm, Obj};
pub use seed::{
    BUSY_CONTACT, BUSY_CONTACT_NOTES, ENROLLED_CONTACT, NEW_LEAD_COMPANY, NEW_LEAD_CONTACT,
    NEW_LEAD_DEAL, NEW_LEAD_EMAIL, OWNERS, Owner, PARTNER_PIPELINE, PIPELINES, Pipeline, SEQUENCES,
    Sequence, contact_emails,
};

/// Client id of the sandbox's registered OAuth app.
pub const CLIENT_ID: &str = "5a9db0c4-0000-4000-8000-5a9db0c4a001";
/// Client secret of the sandbox's registered OAuth app.
pub const CLIENT_SECRET: &str = "sandbox-hubspot-client-secret";
/// A private-app token the sandbox accepts.
pub const PRIVATE_APP_TOKEN: &str = "pat-sandbox-na1-00000000-0000-4000-8000-000000000001";
/// Number of seeded contacts (ids 101…150; the first 25 keep the ids, names and emails they
/// always had).
pub const SEEDED_CONTACTS: usize = 50;

/// HubSpot's scopes, with what each lets an app do.
pub const SCOPES: &[ScopeInfo] = &[
    ScopeInfo {
        name: "oauth",
        description: "Confirm who you are in HubSpot (required by every HubSpot app).",
    },
    ScopeInfo {
        name: "crm.objects.contacts.read",
        description: "See your contacts and their details.",
    },
    ScopeInfo {
        name: "crm.objects.contacts.write",
        description: "Create and update your contacts.",
    },
    ScopeInfo {
        name: "crm.objects.companies.read",
        description: "See your companies.",
    },
    ScopeInfo {
        name: "crm.objects.companies.write",
        description: "Create and update your companies.",
    },
    ScopeInfo {
        name: "crm.objects.deals.read",
        description: "See your deals and their amounts.",
    },
    ScopeInfo {
        name: "crm.objects.deals.write",
        description: "Create and update your deals.",
    },
    ScopeInfo {
        name: "crm.objects.owners.read",
        description: "See which of your users own records.",
    },
    ScopeInfo {
        name: "automation.sequences.read",
        description: "See your sales sequences and who is enrolled in them.",
    },
    ScopeInfo {
        name: "automation.sequences.enrollments.write",
        description: "Enroll contacts in your sales sequences, which email them on your behalf.",
    },
    ScopeInfo {
        name: "sales-email-read",
        description: "Read the bodies of one-to-one sales emails logged on your records.",
    },
];

/// Rules of the simulated HubSpot account.
#[derive(Debug, Clone)]
pub struct HubSpotConfig {
    /// Registered OAuth app id.
    pub client_id: String,
    /// Registered OAuth app secret.
    pub client_secret: String,
    /// Valid private-app tokens (`Authorization: Bearer pat-…`).
    pub private_app_tokens: Vec<String>,
    /// Accept `http://127.0.0.1` / `http://[::1]` redirects (HubSpot: testing apps only).
    pub loopback_allowed: bool,
    /// Registered https redirect URLs.
    pub https_redirects: Vec<String>,
    /// Requests per rolling window. Default 100 per 10 s: HubSpot's private-app limit on Free and
    /// Starter accounts, the catalog's first (pacing) bucket, so the sandbox enforces exactly
    /// what the gateway paces by. Professional/Enterprise portals get 190.
    pub rate_limit_max: u32,
    /// Rolling window length (HubSpot: 10 s).
    pub rate_limit_interval: Duration,
    /// CRM search requests per token per `search_rate_limit_interval`. Default 4 per second,
    /// the catalog's "CRM Search API" bucket. Search is counted only here, and its answers carry
    /// `X-HubSpot-RateLimit-Secondly[-Remaining]` rather than the ten-second headers.
    pub search_rate_limit_max: u32,
    /// Search window length (HubSpot: 1 s).
    pub search_rate_limit_interval: Duration,
    /// Authorization code lifetime.
    pub code_ttl: Duration,
    /// Access token lifetime (HubSpot: 30 minutes).
    pub access_token_ttl: Duration,
}

impl Default for HubSpotConfig {
    fn default() -> Self {
        Self {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            private_app_tokens: vec![PRIVATE_APP_TOKEN.into()],
            loopback_allowed: false,
            https_redirects: Vec::new(),
            rate_limit_max: 100,
            rate_limit_interval: Duration::from_secs(10),
            search_rate_limit_max: 4,
            search_rate_limit_interval: Duration::from_secs(1),
            code_ttl: Duration::from_secs(60),
            access_token_ttl: Duration::from_secs(30 * 60),
        }
    }
}

impl HubSpotConfig {
    /// The same rules with a different rolling limit: `max` requests per `interval`, enforced as
    /// a true sliding window.
    pub fn with_rate_limit(mut self, max: u32, interval: Duration) -> Self {
        self.rate_limit_max = max;
        self.rate_limit_interval = interval;
        self
    }

    /// A HubSpot developer test app: the defaults, but an `http://127.0.0.1` loopback redirect
    /// is accepted, as HubSpot does for testing apps only. `switchboard serve --sandbox` runs this.
    pub fn developer_test_app() -> Self {
        Self {
            loopback_allowed: true,
            ..Self::default()
        }
    }
}

/// The simulated HubSpot provider (`hubspot-sandbox`). Clones share one portal, its
/// authorization server and its app's webhook subscription ([`HubSpotSim`]).
#[derive(Debug, Clone)]
pub struct HubSpotSandbox {
    /// Its rules.
    pub config: HubSpotConfig,
    sim: HubSpotSim,
}

impl Default for HubSpotSandbox {
    fn default() -> Self {
        Self::new(HubSpotConfig::default())
    }
}

impl HubSpotSandbox {
    /// A simulated HubSpot with these rules.
    pub fn new(config: HubSpotConfig) -> Self {
        let c = &config;
        let oauth = OAuthServer::new(OAuthConfig {
            provider_name: "HubSpot (sandbox)".into(),
            clients: vec![OAuthClient {
                client_id: c.client_id.clone(),
                client_secret: Some(c.client_secret.clone()),
            }],
            require_client_secret: true,
            scopes: SCOPES.to_vec(),
            loopback_allowed: c.loopback_allowed,
            loopback_refused_message: "HubSpot accepts an http://localhost redirect URL only for \
                testing apps; production apps must use a registered https redirect URL. Connect \
                this account with a private-app token instead."
                .into(),
            https_redirects: c.https_redirects.clone(),
            decision_path: DECISION_PATH.into(),
            code_ttl: c.code_ttl,
            access_token_ttl: c.access_token_ttl,
            access_token_prefix: "sbx-hs-at-".into(),
            refresh_token_prefix: "sbx-hs-rt-".into(),
        });
        let sim = HubSpotSim {
            crm: Arc::new(Mutex::new(seed::crm())),
            oauth: Arc::new(oauth),
            outbox: Arc::new(Outbox::default()),
            client_secret: c.client_secret.clone(),
            next_event: Arc::new(AtomicU64::new(1)),
        };
        Self { config, sim }
    }

    /// The portal and the app's webhook subscription, shared with every server started from
    /// this provider (or a clone of it).
    pub fn simulator(&self) -> HubSpotSim {
        self.sim.clone()
    }
}

/// The portal id deliveries name.
pub const PORTAL_ID: u64 = 62_515;
/// The app id deliveries name.
pub const APP_ID: u64 = 54_321;
/// The contact event types the app subscribes to.
pub const CONTACT_SUBSCRIPTIONS: &[&str] = &["contact.creation", "contact.propertyChange", "contact.deletion"];

/// The simulated portal, its authorization server and the app's webhooks. Cheap to clone.
#[derive(Clone)]
pub struct HubSpotSim {
    crm: Arc<Mutex<Crm>>,
    oauth: Arc<OAuthServer>,
    outbox: Arc<Outbox>,
    client_secret: String,
    next_event: Arc<AtomicU64>,
}

impl std::fmt::Debug for HubSpotSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSpotSim").field("outbox", &self.outbox).finish_non_exhaustive()
    }
}

/// The `X-HubSpot-Signature-v3` HubSpot sends: base64 HMAC-SHA256 under the app's client secret
/// over `method + uri + body + timestamp` (ms).
pub fn sign_v3(client_secret: &str, method: &str, uri: &str, body: &[u8], timestamp_ms: i64) -> String {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(client_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl HubSpotSim {
    /// Sets the app's webhook target URL (the app's Webhooks settings) with subscriptions to
    /// contact creation, property changes and deletion. Changes are delivered there, batched in
    /// HubSpot's JSON array, signed v3 with the app's client secret (and v1 for older clients).
    pub fn set_target_url(&self, url: &str) {
        self.outbox.subscribe(Subscriber {
            id: "app-webhooks".into(),
            url: url.into(),
            secret: self.client_secret.clone(),
            events: CONTACT_SUBSCRIPTIONS.iter().map(|s| (*s).to_string()).collect(),
        });
    }

    /// The webhook deliveries.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// A person adds a contact in HubSpot (`contact.creation`); its id.
    pub fn create_contact(&self, props: &[(&str, &str)]) -> String {
        let mut crm = lock(&self.crm);
        let next = crm.list(Obj::Contacts).iter().filter_map(|r| r["id"].as_str()?.parse::<u64>().ok()).max().unwrap_or(id_base(Obj::Contacts)) + 1;
        let id = next.to_string();
        let now = model::now_iso();
        let mut p: Map<String, Value> = props.iter().map(|(k, v)| ((*k).to_string(), Value::String((*v).to_string()))).collect();
        p.insert("hs_object_id".into(), Value::String(id.clone()));
        p.insert(Obj::Contacts.created_prop().into(), Value::String(now.clone()));
        p.insert(Obj::Contacts.modified_prop().into(), Value::String(now.clone()));
        crm.list_mut(Obj::Contacts).push(json!({ "id": id, "properties": p, "createdAt": now, "updatedAt": now, "archived": false }));
        let at = model::parse_time_ms(&now).unwrap_or_default();
        self.contact_changed(&id, at, None, "CRM_UI");
        id
    }

    /// A person edits a contact in HubSpot (one `contact.propertyChange` per property); false
    /// when there is no such contact.
    pub fn update_contact(&self, id: &str, props: &[(&str, &str)]) -> bool {
        let changes: Vec<(&str, String)> = props.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
        let mut crm = lock(&self.crm);
        if !crm.touch(Obj::Contacts, id, &changes) {
            return false;
        }
        let at = crm.get(Obj::Contacts, id).and_then(|c| c["updatedAt"].as_str()).and_then(model::parse_time_ms).unwrap_or_default();
        self.contact_changed(id, at, Some(&changes), "CRM_UI");
        true
    }

    /// Delivers the events of one change to contact `id` at `at_ms`: its creation (`changes`
    /// `None`), or one property change per changed property.
    fn contact_changed(&self, id: &str, at_ms: i64, changes: Option<&[(&str, String)]>, source: &str) {
        let object_id = id.parse::<u64>().unwrap_or_default();
        let event = |kind: &str, extra: Value| {
            let n = self.next_event.fetch_add(1, Ordering::SeqCst);
            let mut e = json!({
                "eventId": 1_000_000_000 + n, "subscriptionId": 1000 + CONTACT_SUBSCRIPTIONS.iter().position(|s| *s == kind).unwrap_or(0),
                "portalId": PORTAL_ID, "appId": APP_ID, "occurredAt": at_ms, "subscriptionType": kind,
                "attemptNumber": 0, "objectId": object_id, "changeSource": source,
            });
            if let (Some(o), Value::Object(x)) = (e.as_object_mut(), extra) {
                o.extend(x);
            }
            e
        };
        let (kind, events): (&str, Vec<Value>) = match changes {
            None => ("contact.creation", vec![event("contact.creation", json!({ "changeFlag": "NEW" }))]),
            Some([]) => return,
            Some(list) if list.iter().any(|(k, _)| *k == "archived") => ("contact.deletion", vec![event("contact.deletion", json!({ "changeFlag": "DELETED" }))]),
            Some(list) => (
                "contact.propertyChange",
                list.iter().map(|(k, v)| event("contact.propertyChange", json!({ "propertyName": k, "propertyValue": v }))).collect(),
            ),
        };
        let ids: Vec<String> = events.iter().map(|e| e["eventId"].to_string()).collect();
        let body = Value::Array(events).to_string().into_bytes();
        self.outbox.send(kind, &ids, |sub| {
            let ts = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)).unwrap_or(0);
            let v1 = {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest([sub.secret.as_bytes(), &body].concat()))
            };
            Signed {
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("user-agent".into(), "HubSpot Connect 2.0 (http://dev.hubspot.com/)".into()),
                    ("x-hubspot-request-timestamp".into(), ts.to_string()),
                    ("x-hubspot-signature-v3".into(), sign_v3(&sub.secret, "POST", &sub.url, &body, ts)),
                    ("x-hubspot-signature-version".into(), "v1".into()),
                    ("x-hubspot-signature".into(), v1),
                ],
                body: body.clone(),
            }
        });
    }
}

struct Shared {
    oauth: Arc<OAuthServer>,
    limiter: SlidingWindow,
    private_tokens: Vec<String>,
    crm: Arc<Mutex<Crm>>,
    /// Contact changes made through the API are delivered to the app's webhooks too.
    sim: HubSpotSim,
    /// One search window per access token.
    search_windows: Mutex<HashMap<String, Arc<SlidingWindow>>>,
    search_max: u32,
    search_interval: Duration,
    stats: Arc<Stats>,
}

type St = State<Arc<Shared>>;

/// Path the consent form posts to.
pub const DECISION_PATH: &str = "/oauth/authorize/decision";

impl SimulatedProvider for HubSpotSandbox {
    fn id(&self) -> &'static str {
        "hubspot-sandbox"
    }

    fn registered_client(&self) -> Option<OAuthClient> {
        Some(OAuthClient {
            client_id: self.config.client_id.clone(),
            client_secret: Some(self.config.client_secret.clone()),
        })
    }

    fn router(&self, ctx: SandboxContext) -> Router {
        let c = &self.config;
        let shared = Arc::new(Shared {
            oauth: self.sim.oauth.clone(),
            limiter: SlidingWindow::new(c.rate_limit_max, c.rate_limit_interval),
            private_tokens: c.private_app_tokens.clone(),
            crm: self.sim.crm.clone(),
            sim: self.sim.clone(),
            search_windows: Mutex::new(HashMap::new()),
            search_max: c.search_rate_limit_max,
            search_interval: c.search_rate_limit_interval,
            stats: ctx.stats,
        });
        Router::new()
            .route("/oauth/authorize", get(authorize))
            .route(DECISION_PATH, post(decide))
            .route("/oauth/v1/token", post(token))
            .route("/oauth/v1/refresh-tokens/{token}", delete(revoke))
            // The v3 paths the catalog lists (same grants; RFC 7009-style revocation).
            .route("/oauth/v3/token", post(token))
            .route("/oauth/v3/token/revoke", post(revoke_v3))
            .route(
                "/crm/v3/objects/{object}",
                get(list_objects).post(create_object),
            )
            .route("/crm/v3/objects/{object}/search", post(search_objects))
            .route(
                "/crm/v3/objects/{object}/{id}",
                get(get_object).patch(update_object).delete(archive_object),
            )
            .route("/crm/v3/properties/{object}", get(list_properties))
            .route("/crm/v3/properties/{object}/{name}", get(get_property))
            .route("/crm/v3/pipelines/deals", get(list_deal_pipelines))
            .route(
                "/crm/v4/objects/{object}/{id}/associations/{to}",
                get(associations),
            )
            .route("/crm/v3/owners", get(sales::list_owners))
            .route("/crm/v3/owners/{id}", get(sales::get_owner))
            .route("/automation/v4/sequences", get(sales::list_sequences))
            .route("/automation/v4/sequences/enrollments", post(sales::enroll))
            .route(
                "/automation/v4/sequences/enrollments/contact/{id}",
                get(sales::contact_enrollment),
            )
            .route("/automation/v4/sequences/{id}", get(sales::get_sequence))
            .with_state(shared)
    }
}

fn correlation_id() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

async fn authorize(State(s): St, Query(q): Query<HashMap<String, String>>) -> Response {
    s.oauth.authorize_page(&q)
}

async fn decide(State(s): St, Form(f): Form<HashMap<String, String>>) -> Response {
    s.oauth.decide(&f)
}

async fn token(State(s): St, Form(f): Form<HashMap<String, String>>) -> Response {
    match s.oauth.token(&f) {
        Ok(t) => Json(json!({
            "token_type": "bearer",
            "access_token": t.access_token,
            "refresh_token": t.refresh_token,
            "expires_in": t.expires_in,
        }))
        .into_response(),
        Err(e) => {
            let refresh = f.get("grant_type").map(String::as_str) == Some("refresh_token");
            let status = match e.error {
                "invalid_grant" if refresh => "BAD_REFRESH_TOKEN",
                "invalid_grant" => "BAD_AUTH_CODE",
                "invalid_client" => "BAD_CLIENT_ID",
                _ => "BAD_REQUEST",
            };
            (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "error": e.error,
                    "error_description": e.description,
                    "status": status,
                    "message": e.description,
                    "correlationId": correlation_id(),
                })),
            )
                .into_response()
        }
    }
}

async fn revoke(State(s): St, Path(token): Path<String>) -> Response {
    if s.oauth.revoke_refresh(&token) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({
                "status": "error",
                "message": "refresh token not found",
                "correlationId": correlation_id(),
                "category": "OBJECT_NOT_FOUND",
            })),
        )
            .into_response()
    }
}

/// RFC 7009 revocation (`token=…` form field): 200 whether or not the token was known, as the
/// RFC asks, so a caller cannot probe for valid tokens.
async fn revoke_v3(State(s): St, Form(f): Form<HashMap<String, String>>) -> Response {
    match f.get("token").filter(|t| !t.is_empty()) {
        Some(t) => {
            s.oauth.revoke_refresh(t);
            StatusCode::OK.into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_request", "error_description": "token is missing" })),
        )
            .into_response(),
    }
}

fn error(status: StatusCode, category: &str, message: &str) -> Response {
    (
        status,
        Json(json!({
            "status": "error",
            "message": message,
            "correlationId": correlation_id(),
            "category": category,
        })),
    )
        .into_response()
}

enum Caller {
    PrivateApp,
    OAuth(Vec<String>),
}

/// `Err` is the ready-to-send HubSpot 401 (boxed: a `Response` is large).
fn authenticate(s: &Shared, headers: &HeaderMap) -> Result<Caller, Box<Response>> {
    let not_found = || {
        Box::new(error(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        ))
    };
    let token = bearer(headers).ok_or_else(not_found)?;
    if s.private_tokens.iter().any(|t| t == token) {
        return Ok(Caller::PrivateApp);
    }
    match s.oauth.check_access(token) {
        AccessCheck::Valid(scopes) => Ok(Caller::OAuth(scopes)),
        AccessCheck::Expired => Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "EXPIRED_AUTHENTICATION",
            "The OAuth token used to make this call expired.",
        ))),
        AccessCheck::Unknown => Err(not_found()),
    }
}

fn rate_headers(h: &mut HeaderMap, max: u32, remaining: u32, interval: Duration) {
    h.insert("x-hubspot-ratelimit-max", HeaderValue::from(max));
    h.insert(
        "x-hubspot-ratelimit-remaining",
        HeaderValue::from(remaining),
    );
    h.insert(
        "x-hubspot-ratelimit-interval-milliseconds",
        HeaderValue::from(u64::try_from(interval.as_millis()).unwrap_or(u64::MAX)),
    );
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// HubSpot's documented 429: exactly these six body fields, and no `Retry-After`; every one is
/// counted in `Stats::rate_limited`.
fn too_many(s: &Shared, message: &str, policy: &str) -> Response {
    s.stats.rate_limited.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(),
            "policyName": policy,
            "requestId": correlation_id(),
        })),
    )
        .into_response()
}

fn missing_scopes(scopes: &[&str]) -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(json!({
            "status": "error",
            "message": "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
            "correlationId": correlation_id(),
            "errors": [{
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": scopes},
            }],
            "links": {"scopes": "https://developers.hubspot.com/scopes"},
            "category": "MISSING_SCOPES",
        })),
    )
        .into_response()
}

/// Authenticates and checks that an OAuth caller holds one of `scopes` (private-app tokens are
/// checked when they are created, not per call); `Err` is the ready HubSpot 401 or 403.
fn authorize_any(s: &Shared, headers: &HeaderMap, scopes: &[&str]) -> Result<(), Box<Response>> {
    let caller = authenticate(s, headers)?;
    if let Caller::OAuth(held) = &caller
        && !scopes.iter().any(|need| held.iter().any(|x| x == need))
    {
        return Err(Box::new(missing_scopes(scopes)));
    }
    Ok(())
}

type Rate = (u32, u32, Duration);

/// Authenticates, checks the scope an OAuth caller needs, then takes one slot of the ten-second
/// window; `Err` is the ready HubSpot error (401, 403 `MISSING_SCOPES` or 429).
fn admit(s: &Shared, headers: &HeaderMap, scope: &str) -> Result<Rate, Box<Response>> {
    admit_any(s, headers, &[scope])
}

fn admit_any(s: &Shared, headers: &HeaderMap, scopes: &[&str]) -> Result<Rate, Box<Response>> {
    authorize_any(s, headers, scopes)?;
    let d = s.limiter.check();
    if !d.allowed {
        let mut r = too_many(
            s,
            "You have reached your ten_secondly_rolling limit.",
            "TEN_SECONDLY_ROLLING",
        );
        rate_headers(r.headers_mut(), d.max, d.remaining, d.interval);
        return Err(Box::new(r));
    }
    Ok((d.max, d.remaining, d.interval))
}

fn with_rate(mut r: Response, (max, remaining, interval): Rate) -> Response {
    rate_headers(r.headers_mut(), max, remaining, interval);
    r
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
}

/// HubSpot's 400 for rejected property values: every offending property in the message (as
/// HubSpot writes it) and in `errors` with its name in `context.propertyName`.
fn validation_error(details: &[Value]) -> Response {
    let errors: Vec<Value> = details
        .iter()
        .map(|d| json!({ "message": d["message"], "code": d["error"], "context": { "propertyName": [d["name"]] } }))
        .collect();
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "status": "error",
            "message": format!("Property values were not valid: {}", Value::from(details.to_vec())),
            "correlationId": correlation_id(),
            "category": "VALIDATION_ERROR",
            "errors": errors,
        })),
    )
        .into_response()
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        &format!("resource not found: Object not found.  objectId are usually numeric. (id {id})"),
    )
}

/// The object type named in a path, or HubSpot's 400 (after the caller is authenticated, so a
/// bad token still gets its 401 first).
fn object_type(s: &Shared, headers: &HeaderMap, name: &str) -> Result<Obj, Box<Response>> {
    match Obj::parse(name) {
        Some(o) => Ok(o),
        None => {
            authenticate(s, headers)?;
            Err(Box::new(bad_request(&format!(
                "Unable to infer object type from: {name}"
            ))))
        }
    }
}

fn json_body(body: &[u8]) -> Result<Map<String, Value>, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(Box::new(bad_request("Invalid input JSON on line 1"))),
    }
}

macro_rules! attempt {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return *r,
        }
    };
    ($e:expr, $rate:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return with_rate(*r, $rate),
        }
    };
}

// ---- records

/// One page of `items` with HubSpot's `limit` / `after` paging (`limit` at most 100).
fn paged(obj: Obj, items: &[Value], q: &HashMap<String, String>) -> Response {
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return bad_request("limit must be an integer between 1 and 100"),
    };
    let start = match q.get("after").map(|a| a.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return bad_request("after must be a paging cursor returned by a previous call");
        }
    };
    let requested = model::requested_properties(q);
    let end = start.saturating_add(limit).min(items.len());
    let results: Vec<Value> = items
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|r| model::select(obj, r, requested.as_deref()))
        .collect();
    let mut body = json!({ "results": results });
    if end < items.len() {
        body["paging"] =
            json!({"next": {"after": end.to_string(), "link": format!("?after={end}")}});
    }
    Json(body).into_response()
}

async fn list_objects(
    State(s): St,
    headers: HeaderMap,
    Path(object): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    let rate = attempt!(admit(&s, &headers, obj.read_scope()));
    let crm = lock(&s.crm);
    with_rate(paged(obj, crm.list(obj), &q), rate)
}

async fn get_object(
    State(s): St,
    headers: HeaderMap,
    Path((object, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    let rate = attempt!(admit(&s, &headers, obj.read_scope()));
    let requested = model::requested_properties(&q);
    let crm = lock(&s.crm);
    // `?idProperty=email` looks the record up by a unique property instead of its id, as
    // HubSpot's read endpoint allows.
    let record = match q.get("idProperty").map(String::as_str) {
        None | Some("hs_object_id") => crm.get(obj, &id),
        Some(prop) => crm.list(obj).iter().find(|r| {
            r["properties"][prop]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(&id))
        }),
    };
    let found = record.map(|r| model::select(obj, r, requested.as_deref()));
    with_rate(
        found.map_or_else(|| not_found(&id), |r| Json(r).into_response()),
        rate,
    )
}

/// HubSpot's 400 for a `dealstage` that is not a stage of the deal's pipeline.
fn invalid_stage(stage: &str, pipeline: &str) -> Response {
    let opts: Vec<(String, String)> = PIPELINES
        .iter()
        .find(|p| p.id == pipeline)
        .map(|p| {
            p.stages
                .iter()
                .map(|(id, label, _)| ((*id).to_string(), (*label).to_string()))
                .collect()
        })
        .unwrap_or_default();
    let detail = json!({
        "isValid": false,
        "message": model::option_message(stage, &opts),
        "error": "INVALID_OPTION",
        "name": "dealstage",
    });
    validation_error(&[detail])
}

/// The stage and pipeline a deal write leaves, checked together: a stage must belong to the
/// deal's (possibly new) pipeline.
fn check_stage(props: &Map<String, Value>, current_pipeline: &str) -> Result<(), Box<Response>> {
    let pipeline = props
        .get("pipeline")
        .and_then(Value::as_str)
        .unwrap_or(current_pipeline);
    if let Some(stage) = props.get("dealstage").and_then(Value::as_str)
        && !stage.is_empty()
    {
        let ok = PIPELINES
            .iter()
            .any(|p| p.id == pipeline && p.stages.iter().any(|(id, _, _)| *id == stage));
        if !ok {
            return Err(Box::new(invalid_stage(stage, pipeline)));
        }
    }
    Ok(())
}

/// `properties` of a write body, checked against the portal's definitions.
fn checked_properties(
    obj: Obj,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, Box<Response>> {
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        return Err(Box::new(bad_request(
            "Invalid input JSON on line 1: the body must be an object with a 'properties' object",
        )));
    };
    model::check_values(obj, props).map_err(|details| Box::new(validation_error(&details)))
}

fn email_taken(crm: &Crm, email: &str, except: Option<&str>) -> Option<String> {
    crm.list(Obj::Contacts)
        .iter()
        .filter(|c| except.is_none_or(|id| c["id"] != id))
        .find(|c| {
            c["properties"]["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .and_then(|c| c["id"].as_str().map(str::to_string))
}

/// The `associations` of a create body as `(to type, to id, primary)`, each checked: a type id
/// HubSpot defines from `obj` and a record that exists.
fn create_associations(
    crm: &Crm,
    obj: Obj,
    body: &Map<String, Value>,
) -> Result<Vec<(Obj, u64, bool)>, Box<Response>> {
    let Some(list) = body.get("associations") else {
        return Ok(Vec::new());
    };
    let Some(list) = list.as_array() else {
        return Err(Box::new(bad_request(
            "associations must be a list of {to: {id}, types: [...]}",
        )));
    };
    let mut out = Vec::new();
    for a in list {
        let to_id = match &a["to"]["id"] {
            Value::String(s) => s.parse::<u64>().ok(),
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        let Some(to_id) = to_id else {
            return Err(Box::new(bad_request(
                "each association needs to.id, the id of an existing record",
            )));
        };
        let types = a["types"].as_array().filter(|t| !t.is_empty());
        let Some(types) = types else {
            return Err(Box::new(bad_request(
                "each association needs types: [{associationCategory, associationTypeId}]",
            )));
        };
        for t in types {
            let type_id = t["associationTypeId"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0);
            let category = t["associationCategory"].as_str().unwrap_or_default();
            let target = Obj::ALL.iter().copied().find_map(|to| {
                if model::default_association_type(obj, to) == Some(type_id) {
                    Some((to, false))
                } else if model::primary_association_type(obj, to) == Some(type_id) {
                    Some((to, true))
                } else {
                    None
                }
            });
            let Some((to, primary)) = target.filter(|_| category == "HUBSPOT_DEFINED") else {
                return Err(Box::new(bad_request(&format!(
                    "associationTypeId {type_id} ({category}) is not an association type from {} ",
                    obj.plural()
                ))));
            };
            if crm.get(to, &to_id.to_string()).is_none() {
                return Err(Box::new(bad_request(&format!(
                    "One or more associations are invalid: {} {to_id} does not exist",
                    to.singular()
                ))));
            }
            out.push((to, to_id, primary));
        }
    }
    Ok(out)
}

/// Where new ids of each type start.
fn id_base(obj: Obj) -> u64 {
    match obj {
        Obj::Contacts => 100,
        Obj::Companies => 200,
        Obj::Deals => 300,
        Obj::Notes => 41_000_000,
        Obj::Calls => 42_000_000,
        Obj::Emails => 43_000_000,
        Obj::Meetings => 44_000_000,
        Obj::Tasks => 45_000_000,
    }
}

async fn create_object(
    State(s): St,
    headers: HeaderMap,
    Path(object): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    let rate = attempt!(admit(&s, &headers, obj.write_scope()));
    let body = attempt!(json_body(&body), rate);
    let mut props = attempt!(checked_properties(obj, &body), rate);
    if obj.is_engagement()
        && props
            .get("hs_timestamp")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        let detail = json!({
            "isValid": false,
            "message": "hs_timestamp is required: the time the activity happened (or, for a task, its due date)",
            "error": "REQUIRED_PROPERTY",
            "name": "hs_timestamp",
        });
        return with_rate(validation_error(&[detail]), rate);
    }
    if obj == Obj::Deals {
        let pipeline = props
            .get("pipeline")
            .and_then(Value::as_str)
            .unwrap_or(DEAL_PIPELINE)
            .to_string();
        attempt!(check_stage(&props, &pipeline), rate);
        props.insert("pipeline".into(), Value::String(pipeline));
    }
    let mut crm = lock(&s.crm);
    let links = attempt!(create_associations(&crm, obj, &body), rate);
    if obj == Obj::Contacts
        && let Some(email) = props.get("email").and_then(Value::as_str)
        && let Some(existing) = email_taken(&crm, email, None)
    {
        return with_rate(
            error(
                StatusCode::CONFLICT,
                "CONFLICT",
                &format!("Contact already exists. Existing ID: {existing}"),
            ),
            rate,
        );
    }
    let next = crm
        .list(obj)
        .iter()
        .filter_map(|r| r["id"].as_str()?.parse::<u64>().ok())
        .max()
        .unwrap_or(id_base(obj))
        + 1;
    let id = next.to_string();
    let now = model::now_iso();
    props.insert("hs_object_id".into(), Value::String(id.clone()));
    props.insert(obj.created_prop().into(), Value::String(now.clone()));
    props.insert(obj.modified_prop().into(), Value::String(now.clone()));
    let record = json!({ "id": id, "properties": props, "createdAt": now, "updatedAt": now, "archived": false });
    crm.list_mut(obj).push(record.clone());
    if obj == Obj::Contacts {
        s.sim.contact_changed(&id, model::parse_time_ms(&now).unwrap_or_default(), None, "INTEGRATION");
    }
    for (to, to_id, primary) in links {
        crm.associate(obj, next, to, to_id, primary);
        if obj.is_engagement() {
            // Logging an activity moves the record's "Last Activity Date" (and so its
            // modification time), as in HubSpot.
            crm.touch(
                to,
                &to_id.to_string(),
                &[("notes_last_updated", now.clone())],
            );
        }
    }
    with_rate((StatusCode::CREATED, Json(record)).into_response(), rate)
}

async fn update_object(
    State(s): St,
    headers: HeaderMap,
    Path((object, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    let rate = attempt!(admit(&s, &headers, obj.write_scope()));
    let body = attempt!(json_body(&body), rate);
    let props = attempt!(checked_properties(obj, &body), rate);
    let mut crm = lock(&s.crm);
    let Some(current) = crm.get(obj, &id).cloned() else {
        return with_rate(not_found(&id), rate);
    };
    if obj == Obj::Deals {
        let pipeline = current["properties"]["pipeline"]
            .as_str()
            .unwrap_or(DEAL_PIPELINE);
        attempt!(check_stage(&props, pipeline), rate);
    }
    if obj == Obj::Contacts
        && let Some(email) = props.get("email").and_then(Value::as_str)
        && let Some(existing) = email_taken(&crm, email, Some(&id))
    {
        return with_rate(
            error(
                StatusCode::CONFLICT,
                "CONFLICT",
                &format!("Contact already exists. Existing ID: {existing}"),
            ),
            rate,
        );
    }
    let changes: Vec<(&str, String)> = props
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    crm.touch(obj, &id, &changes);
    let updated = crm.get(obj, &id).cloned().unwrap_or(Value::Null);
    if obj == Obj::Contacts {
        let at = updated["updatedAt"].as_str().and_then(model::parse_time_ms).unwrap_or_default();
        s.sim.contact_changed(&id, at, Some(&changes), "INTEGRATION");
    }
    with_rate(Json(updated).into_response(), rate)
}

async fn archive_object(
    State(s): St,
    headers: HeaderMap,
    Path((object, id)): Path<(String, String)>,
) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    let rate = attempt!(admit(&s, &headers, obj.write_scope()));
    let mut crm = lock(&s.crm);
    // HubSpot answers 204 for an id it does not know, too.
    let existed = crm.get(obj, &id).is_some();
    crm.list_mut(obj).retain(|r| r["id"] != id.as_str());
    if obj == Obj::Contacts && existed {
        let now = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or_default();
        s.sim.contact_changed(&id, now, Some(&[("archived", "true".to_string())]), "INTEGRATION");
    }
    if let Ok(n) = id.parse::<u64>() {
        crm.forget(obj, n);
    }
    with_rate(StatusCode::NO_CONTENT.into_response(), rate)
}

// ---- search

fn secondly_headers(h: &mut HeaderMap, max: u32, remaining: u32) {
    h.insert("x-hubspot-ratelimit-secondly", HeaderValue::from(max));
    h.insert(
        "x-hubspot-ratelimit-secondly-remaining",
        HeaderValue::from(remaining),
    );
}

async fn search_objects(
    State(s): St,
    headers: HeaderMap,
    Path(object): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    attempt!(authorize_any(&s, &headers, &[obj.read_scope()]));
    let token = bearer(&headers).unwrap_or_default().to_string();
    let window = lock(&s.search_windows)
        .entry(token)
        .or_insert_with(|| Arc::new(SlidingWindow::new(s.search_max, s.search_interval)))
        .clone();
    let d = window.check();
    let mut resp = if !d.allowed {
        too_many(&s, "You have reached your secondly limit.", "SECONDLY")
    } else {
        match json_body(&body) {
            Err(r) => *r,
            Ok(body) => match search::run(&lock(&s.crm), obj, &body) {
                Ok(found) => Json(found).into_response(),
                Err(message) => bad_request(&message),
            },
        }
    };
    secondly_headers(resp.headers_mut(), d.max, d.remaining);
    resp
}

// ---- property definitions

async fn list_properties(State(s): St, headers: HeaderMap, Path(object): Path<String>) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    let schema_scope = format!("crm.schemas.{}.read", obj.plural());
    let rate = attempt!(admit_any(&s, &headers, &[obj.read_scope(), &schema_scope]));
    let results: Vec<Value> = model::definitions(obj)
        .iter()
        .enumerate()
        .map(|(i, d)| model::definition_json(obj, d, i))
        .collect();
    with_rate(Json(json!({ "results": results })).into_response(), rate)
}

async fn get_property(
    State(s): St,
    headers: HeaderMap,
    Path((object, name)): Path<(String, String)>,
) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    let schema_scope = format!("crm.schemas.{}.read", obj.plural());
    let rate = attempt!(admit_any(&s, &headers, &[obj.read_scope(), &schema_scope]));
    let defs = model::definitions(obj);
    let found = defs.iter().enumerate().find(|(_, d)| d.name == name);
    let resp = match found {
        Some((i, d)) => Json(model::definition_json(obj, d, i)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "OBJECT_NOT_FOUND",
            &format!(
                "Unable to find property {name} for object type {}",
                obj.plural()
            ),
        ),
    };
    with_rate(resp, rate)
}

// ---- deal pipelines and associations

/// The `default` pipeline's id (HubSpot's sales pipeline).
pub const DEAL_PIPELINE: &str = "default";
/// The `default` pipeline's stages: (id, label, win probability), in display order.
pub const DEAL_STAGES: &[(&str, &str, &str)] = &[
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
];
/// Number of seeded companies (ids 201…210).
pub const SEEDED_COMPANIES: usize = 10;
/// Number of seeded deals (ids 301…320): 18 in the `default` pipeline, 2 in
/// [`PARTNER_PIPELINE`].
pub const SEEDED_DEALS: usize = 20;

fn pipeline_json(p: &Pipeline, order: usize) -> Value {
    let stages: Vec<Value> = p
        .stages
        .iter()
        .enumerate()
        .map(|(i, (id, label, probability))| {
            let closed = *probability == "1.0" || *probability == "0.0";
            json!({
                "id": id,
                "label": label,
                "displayOrder": i,
                "metadata": { "isClosed": closed.to_string(), "probability": probability },
                "createdAt": seed::SEED_TIME,
                "updatedAt": seed::SEED_TIME,
                "archived": false,
            })
        })
        .collect();
    json!({
        "id": p.id,
        "label": p.label,
        "displayOrder": order,
        "stages": stages,
        "createdAt": seed::SEED_TIME,
        "updatedAt": seed::SEED_TIME,
        "archived": false,
    })
}

async fn list_deal_pipelines(State(s): St, headers: HeaderMap) -> Response {
    let rate = attempt!(admit(&s, &headers, "crm.objects.deals.read"));
    let results: Vec<Value> = PIPELINES
        .iter()
        .enumerate()
        .map(|(i, p)| pipeline_json(p, i))
        .collect();
    with_rate(Json(json!({ "results": results })).into_response(), rate)
}

/// `GET /crm/v4/objects/{object}/{id}/associations/{to}`: the records of type `to` associated
/// with one record, each with its association types.
async fn associations(
    State(s): St,
    headers: HeaderMap,
    Path((object, id, to)): Path<(String, String, String)>,
) -> Response {
    let obj = attempt!(object_type(&s, &headers, &object));
    let rate = attempt!(admit(&s, &headers, obj.read_scope()));
    let Some(to) = Obj::parse(&to) else {
        return with_rate(
            bad_request(&format!("Unable to infer object type from: {to}")),
            rate,
        );
    };
    let crm = lock(&s.crm);
    let Some(numeric) = crm.get(obj, &id).and_then(|_| id.parse::<u64>().ok()) else {
        return with_rate(not_found(&id), rate);
    };
    let results: Vec<Value> = crm
        .assocs
        .iter()
        .filter(|a| a.from == obj && a.from_id == numeric && a.to == to)
        .map(|a| {
            let types: Vec<Value> =
                a.types.iter().map(|(t, label)| json!({"category": "HUBSPOT_DEFINED", "typeId": t, "label": label})).collect();
            json!({ "toObjectId": a.to_id, "associationTypes": types })
        })
        .collect();
    with_rate(Json(json!({ "results": results })).into_response(), rate)
}
