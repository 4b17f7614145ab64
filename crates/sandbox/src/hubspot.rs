//! HubSpot, simulated: OAuth (v1 token and refresh-token paths), private-app tokens, the CRM v3
//! contacts list with HubSpot paging, the rolling ten-second limit with `X-HubSpot-RateLimit-*`
//! headers and HubSpot's 429 / 401 / 403 error bodies; seeded companies and deals, the deal
//! pipeline with its stages, moving a deal between stages, and deal associations (CRM v4).
//!
//! Defaults follow the real provider (see `shared/reference/providers.md` §3.1): access tokens
//! live 30 minutes, the token step requires `client_secret`, private apps get 100 requests per
//! rolling 10 s (a Free or Starter portal), and an `http://` loopback redirect is **refused**
//! because HubSpot accepts it only for testing apps — production apps need a registered https
//! redirect (Switchboard connects the real HubSpot with a private-app token instead).
//! [`HubSpotConfig::developer_test_app`] simulates a HubSpot developer test app, which does accept
//! it; `switchboard serve --sandbox` runs that one so the OAuth connect flow works end to end
//! against the sandbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use serde_json::{Value, json};

use crate::oauth::{AccessCheck, OAuthClient, OAuthConfig, OAuthServer, ScopeInfo};
use crate::ratelimit::SlidingWindow;
use crate::{SandboxContext, SimulatedProvider, Stats};

/// Client id of the sandbox's registered OAuth app.
pub const CLIENT_ID: &str = "5a9db0c4-0000-4000-8000-5a9db0c4a001";
/// Client secret of the sandbox's registered OAuth app.
pub const CLIENT_SECRET: &str = "sandbox-hubspot-client-secret";
/// A private-app token the sandbox accepts.
pub const PRIVATE_APP_TOKEN: &str = "pat-sandbox-na1-00000000-0000-4000-8000-000000000001";
/// Number of seeded contacts.
pub const SEEDED_CONTACTS: usize = 25;

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
        Self { loopback_allowed: true, ..Self::default() }
    }
}

/// The simulated HubSpot provider (`hubspot-sandbox`).
#[derive(Debug, Clone, Default)]
pub struct HubSpotSandbox {
    /// Its rules.
    pub config: HubSpotConfig,
}

impl HubSpotSandbox {
    /// A simulated HubSpot with these rules.
    pub fn new(config: HubSpotConfig) -> Self {
        Self { config }
    }
}

struct Shared {
    oauth: OAuthServer,
    limiter: SlidingWindow,
    private_tokens: Vec<String>,
    contacts: Mutex<Vec<Value>>,
    companies: Vec<Value>,
    deals: Mutex<Vec<Value>>,
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
        Some(OAuthClient { client_id: self.config.client_id.clone(), client_secret: Some(self.config.client_secret.clone()) })
    }

    fn router(&self, ctx: SandboxContext) -> Router {
        let c = &self.config;
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
        let shared = Arc::new(Shared {
            oauth,
            limiter: SlidingWindow::new(c.rate_limit_max, c.rate_limit_interval),
            private_tokens: c.private_app_tokens.clone(),
            contacts: Mutex::new(seed_contacts()),
            companies: seed_companies(),
            deals: Mutex::new(seed_deals()),
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
            .route("/crm/v3/objects/contacts", get(list_contacts).post(create_contact))
            .route(
                "/crm/v3/objects/contacts/{id}",
                get(get_contact).patch(update_contact).delete(archive_contact),
            )
            .route("/crm/v3/objects/companies", get(list_companies))
            .route("/crm/v3/objects/companies/{id}", get(get_company))
            .route("/crm/v3/objects/deals", get(list_deals))
            .route("/crm/v3/objects/deals/{id}", get(get_deal).patch(update_deal))
            .route("/crm/v3/pipelines/deals", get(list_deal_pipelines))
            .route("/crm/v4/objects/deals/{id}/associations/{to}", get(deal_associations))
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
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(not_found)?;
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

async fn list_contacts(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let caller = match authenticate(&s, &headers) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let d = s.limiter.check();
    // HubSpot's documented 429: exactly these six body fields, with the rate-limit headers
    // (remaining 0) and no `Retry-After`; every one is counted in `Stats::rate_limited`.
    let mut resp = if !d.allowed {
        s.stats.rate_limited.fetch_add(1, Ordering::SeqCst);
        (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": correlation_id(),
                "policyName": "TEN_SECONDLY_ROLLING",
                "requestId": correlation_id(),
            })),
        )
            .into_response()
    } else {
        contacts_page(&s, &caller, &q)
    };
    rate_headers(resp.headers_mut(), d.max, d.remaining, d.interval);
    resp
}

fn contacts_page(s: &Shared, caller: &Caller, q: &HashMap<String, String>) -> Response {
    if let Caller::OAuth(scopes) = caller
        && !scopes.iter().any(|x| x == "crm.objects.contacts.read")
    {
        let mut body = json!({
            "status": "error",
            "message": "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
            "correlationId": correlation_id(),
            "errors": [{
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": ["crm.objects.contacts.read"]},
            }],
            "category": "MISSING_SCOPES",
        });
        if let Some(o) = body.as_object_mut() {
            o.insert(
                "links".into(),
                json!({"scopes": "https://developers.hubspot.com/scopes"}),
            );
        }
        return (StatusCode::FORBIDDEN, Json(body)).into_response();
    }
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "limit must be an integer between 1 and 100",
            );
        }
    };
    let start = match q.get("after").map(|a| a.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "after must be a paging cursor returned by a previous call",
            );
        }
    };
    let contacts = lock(&s.contacts);
    let end = (start + limit).min(contacts.len());
    let results: Vec<Value> = contacts.get(start..end).unwrap_or_default().to_vec();
    let mut body = json!({ "results": results });
    if end < contacts.len()
        && let Some(o) = body.as_object_mut()
    {
        o.insert(
            "paging".into(),
            json!({"next": {"after": end.to_string(), "link": format!("?after={end}")}}),
        );
    }
    Json(body).into_response()
}

fn seed_contacts() -> Vec<Value> {
    const FIRST: [&str; 25] = [
        "Ada",
        "Grace",
        "Alan",
        "Katherine",
        "Linus",
        "Margaret",
        "Dennis",
        "Barbara",
        "Ken",
        "Radia",
        "Tim",
        "Frances",
        "John",
        "Hedy",
        "Donald",
        "Edsger",
        "Shafi",
        "Leslie",
        "Sophie",
        "Guido",
        "Anita",
        "Bjarne",
        "Annie",
        "Niklaus",
        "Joan",
    ];
    const LAST: [&str; 25] = [
        "Lovelace",
        "Hopper",
        "Turing",
        "Johnson",
        "Torvalds",
        "Hamilton",
        "Ritchie",
        "Liskov",
        "Thompson",
        "Perlman",
        "Berners-Lee",
        "Allen",
        "McCarthy",
        "Lamarr",
        "Knuth",
        "Dijkstra",
        "Goldwasser",
        "Lamport",
        "Wilson",
        "van Rossum",
        "Borg",
        "Stroustrup",
        "Easley",
        "Wirth",
        "Clarke",
    ];
    FIRST
        .iter()
        .zip(LAST.iter())
        .enumerate()
        .map(|(i, (f, l))| {
            let id = (101 + i).to_string();
            let email = format!(
                "{}.{}@example.com",
                f.to_lowercase(),
                l.to_lowercase().replace([' ', '-'], "")
            );
            let created = format!("2024-01-{:02}T09:30:00.000Z", i + 1);
            let updated = format!("2024-02-{:02}T16:45:00.000Z", i + 1);
            json!({
                "id": id,
                "properties": {
                    "createdate": created,
                    "email": email,
                    "firstname": f,
                    "hs_object_id": id,
                    "lastmodifieddate": updated,
                    "lastname": l,
                },
                "createdAt": created,
                "updatedAt": updated,
                "archived": false,
            })
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Properties a contact may carry in this portal (HubSpot refuses others with
/// `PROPERTY_DOESNT_EXIST`).
const CONTACT_PROPERTIES: &[&str] = &[
    "email",
    "firstname",
    "lastname",
    "phone",
    "company",
    "jobtitle",
    "website",
    "lifecyclestage",
    "hs_lead_status",
];

/// Authenticates, checks the scope an OAuth caller needs, then takes one slot of the rate
/// window; `Err` is the ready HubSpot error (401, 403 `MISSING_SCOPES` or 429).
fn admit(s: &Shared, headers: &HeaderMap, scope: &str) -> Result<(u32, u32, Duration), Box<Response>> {
    let caller = authenticate(s, headers)?;
    if let Caller::OAuth(scopes) = &caller
        && !scopes.iter().any(|x| x == scope)
    {
        return Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                Json(json!({
                    "status": "error",
                    "message": "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
                    "correlationId": correlation_id(),
                    "errors": [{
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": [scope]},
                    }],
                    "category": "MISSING_SCOPES",
                })),
            )
                .into_response(),
        ));
    }
    let d = s.limiter.check();
    if !d.allowed {
        s.stats.rate_limited.fetch_add(1, Ordering::SeqCst);
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "category": "RATE_LIMITS",
                "correlationId": correlation_id(),
                "policyName": "TEN_SECONDLY_ROLLING",
                "requestId": correlation_id(),
            })),
        )
            .into_response();
        rate_headers(r.headers_mut(), d.max, d.remaining, d.interval);
        return Err(Box::new(r));
    }
    Ok((d.max, d.remaining, d.interval))
}

fn with_rate(mut r: Response, (max, remaining, interval): (u32, u32, Duration)) -> Response {
    rate_headers(r.headers_mut(), max, remaining, interval);
    r
}

fn contact_not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        &format!("resource not found: Object not found.  objectId are usually numeric. (id {id})"),
    )
}

/// Checks a `properties` object: known names, string values; the HubSpot validation error
/// otherwise.
fn check_properties(body: &Value, allowed: &[&str]) -> Result<serde_json::Map<String, Value>, Box<Response>> {
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "Invalid input JSON on line 1: the body must be an object with a 'properties' object",
        )));
    };
    let bad: Vec<Value> = props
        .iter()
        .filter_map(|(k, v)| {
            if !allowed.contains(&k.as_str()) {
                Some(json!({"isValid": false, "message": format!("Property \"{k}\" does not exist"), "error": "PROPERTY_DOESNT_EXIST", "name": k}))
            } else if !(v.is_string() || v.is_number() || v.is_boolean()) {
                Some(json!({"isValid": false, "message": format!("{v} was not a valid string."), "error": "INVALID_STRING", "name": k}))
            } else {
                None
            }
        })
        .collect();
    if !bad.is_empty() {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            &format!("Property values were not valid: {}", Value::from(bad)),
        )));
    }
    Ok(props
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_string))))
        .collect())
}

fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn get_contact(State(s): St, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rate = match admit(&s, &headers, "crm.objects.contacts.read") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let found = lock(&s.contacts).iter().find(|c| c["id"] == id.as_str()).cloned();
    with_rate(found.map_or_else(|| contact_not_found(&id), |c| Json(c).into_response()), rate)
}

async fn create_contact(State(s): St, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let rate = match admit(&s, &headers, "crm.objects.contacts.write") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return with_rate(error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "Invalid input JSON on line 1"), rate);
    };
    let props = match check_properties(&body, CONTACT_PROPERTIES) {
        Ok(p) => p,
        Err(r) => return with_rate(*r, rate),
    };
    let mut contacts = lock(&s.contacts);
    if let Some(email) = props.get("email").and_then(Value::as_str)
        && let Some(existing) = contacts.iter().find(|c| c["properties"]["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    {
        let existing_id = existing["id"].as_str().unwrap_or_default().to_string();
        return with_rate(error(StatusCode::CONFLICT, "CONFLICT", &format!("Contact already exists. Existing ID: {existing_id}")), rate);
    }
    let next = contacts.iter().filter_map(|c| c["id"].as_str()?.parse::<u64>().ok()).max().unwrap_or(100) + 1;
    let id = next.to_string();
    let now = now_iso();
    let mut properties = props;
    properties.insert("hs_object_id".into(), Value::String(id.clone()));
    properties.insert("createdate".into(), Value::String(now.clone()));
    properties.insert("lastmodifieddate".into(), Value::String(now.clone()));
    let contact = json!({ "id": id, "properties": properties, "createdAt": now, "updatedAt": now, "archived": false });
    contacts.push(contact.clone());
    with_rate((StatusCode::CREATED, Json(contact)).into_response(), rate)
}

async fn update_contact(State(s): St, headers: HeaderMap, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let rate = match admit(&s, &headers, "crm.objects.contacts.write") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return with_rate(error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "Invalid input JSON on line 1"), rate);
    };
    let props = match check_properties(&body, CONTACT_PROPERTIES) {
        Ok(p) => p,
        Err(r) => return with_rate(*r, rate),
    };
    let mut contacts = lock(&s.contacts);
    let Some(contact) = contacts.iter_mut().find(|c| c["id"] == id.as_str()) else {
        return with_rate(contact_not_found(&id), rate);
    };
    let now = now_iso();
    if let Some(p) = contact["properties"].as_object_mut() {
        p.extend(props);
        p.insert("lastmodifieddate".into(), Value::String(now.clone()));
    }
    contact["updatedAt"] = Value::String(now);
    with_rate(Json(contact.clone()).into_response(), rate)
}

async fn archive_contact(State(s): St, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rate = match admit(&s, &headers, "crm.objects.contacts.write") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    // HubSpot answers 204 for an id it does not know, too.
    lock(&s.contacts).retain(|c| c["id"] != id.as_str());
    with_rate(StatusCode::NO_CONTENT.into_response(), rate)
}

// ---- companies, deals, the deal pipeline and deal associations

/// Number of seeded companies (ids 201…).
pub const SEEDED_COMPANIES: usize = 10;
/// Number of seeded deals (ids 301…), all in the `default` pipeline.
pub const SEEDED_DEALS: usize = 15;
/// The one deal pipeline's id.
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

/// Properties a deal may carry in this portal.
const DEAL_PROPERTIES: &[&str] = &[
    "dealname",
    "amount",
    "dealstage",
    "pipeline",
    "closedate",
    "description",
    "hubspot_owner_id",
];

const SEED_TIME: &str = "2024-03-01T10:00:00.000Z";

fn seed_companies() -> Vec<Value> {
    const COMPANIES: [(&str, &str, &str, &str); SEEDED_COMPANIES] = [
        ("Analytical Engines Ltd", "analytical-engines.example", "COMPUTER_SOFTWARE", "London"),
        ("Compiler Works", "compilerworks.example", "COMPUTER_SOFTWARE", "Arlington"),
        ("Bletchley Ciphers", "bletchley.example", "COMPUTER_NETWORK_SECURITY", "Milton Keynes"),
        ("Orbital Trajectories", "orbital.example", "AVIATION_AEROSPACE", "Hampton"),
        ("Kernel Cooperative", "kernel-coop.example", "COMPUTER_SOFTWARE", "Helsinki"),
        ("Apollo Guidance", "apollo-guidance.example", "AVIATION_AEROSPACE", "Cambridge"),
        ("Unix Heritage", "unix-heritage.example", "COMPUTER_SOFTWARE", "Murray Hill"),
        ("Abstraction Partners", "abstraction.example", "INFORMATION_TECHNOLOGY_AND_SERVICES", "Boston"),
        ("Spanning Tree Networks", "spanningtree.example", "COMPUTER_NETWORKING", "Seattle"),
        ("Hypertext Studio", "hypertext.example", "INTERNET", "Geneva"),
    ];
    COMPANIES
        .iter()
        .enumerate()
        .map(|(i, (name, domain, industry, city))| {
            let id = (201 + i).to_string();
            json!({
                "id": id,
                "properties": {
                    "city": city,
                    "createdate": SEED_TIME,
                    "domain": domain,
                    "hs_lastmodifieddate": SEED_TIME,
                    "hs_object_id": id,
                    "industry": industry,
                    "name": name,
                },
                "createdAt": SEED_TIME,
                "updatedAt": SEED_TIME,
                "archived": false,
            })
        })
        .collect()
}

fn seed_deals() -> Vec<Value> {
    (0..SEEDED_DEALS)
        .map(|i| {
            let id = (301 + i).to_string();
            let company = seed_company_name(i % SEEDED_COMPANIES);
            let stage = DEAL_STAGES[i % DEAL_STAGES.len()].0;
            let amount = ((i + 1) * 2500).to_string();
            let close = format!("2024-{:02}-15T12:00:00.000Z", 4 + i % 9);
            json!({
                "id": id,
                "properties": {
                    "amount": amount,
                    "closedate": close,
                    "createdate": SEED_TIME,
                    "dealname": format!("{company} — renewal {}", i + 1),
                    "dealstage": stage,
                    "hs_lastmodifieddate": SEED_TIME,
                    "hs_object_id": id,
                    "pipeline": DEAL_PIPELINE,
                },
                "createdAt": SEED_TIME,
                "updatedAt": SEED_TIME,
                "archived": false,
            })
        })
        .collect()
}

fn seed_company_name(i: usize) -> String {
    seed_companies()
        .get(i)
        .and_then(|c| c["properties"]["name"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The seeded associations of deal `301 + i`: its company and two contacts.
fn deal_links(deal_id: &str) -> Option<(Vec<u64>, Vec<u64>)> {
    let i = deal_id.parse::<usize>().ok()?.checked_sub(301)?;
    let contacts = vec![(101 + i % SEEDED_CONTACTS) as u64, (101 + (i + 7) % SEEDED_CONTACTS) as u64];
    let companies = vec![(201 + i % SEEDED_COMPANIES) as u64];
    Some((contacts, companies))
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        &format!("resource not found: Object not found.  objectId are usually numeric. (id {id})"),
    )
}

/// One page of `items` with HubSpot's `limit` / `after` paging.
fn paged(items: &[Value], q: &HashMap<String, String>) -> Response {
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "limit must be an integer between 1 and 100");
        }
    };
    let start = match q.get("after").map(|a| a.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "after must be a paging cursor returned by a previous call",
            );
        }
    };
    let end = start.saturating_add(limit).min(items.len());
    let results: Vec<Value> = items.get(start..end).unwrap_or_default().to_vec();
    let mut body = json!({ "results": results });
    if end < items.len()
        && let Some(o) = body.as_object_mut()
    {
        o.insert("paging".into(), json!({"next": {"after": end.to_string(), "link": format!("?after={end}")}}));
    }
    Json(body).into_response()
}

async fn list_companies(State(s): St, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    match admit(&s, &headers, "crm.objects.companies.read") {
        Ok(rate) => with_rate(paged(&s.companies, &q), rate),
        Err(r) => *r,
    }
}

async fn get_company(State(s): St, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rate = match admit(&s, &headers, "crm.objects.companies.read") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let found = s.companies.iter().find(|c| c["id"] == id.as_str()).cloned();
    with_rate(found.map_or_else(|| not_found(&id), |c| Json(c).into_response()), rate)
}

async fn list_deals(State(s): St, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    match admit(&s, &headers, "crm.objects.deals.read") {
        Ok(rate) => with_rate(paged(&lock(&s.deals), &q), rate),
        Err(r) => *r,
    }
}

async fn get_deal(State(s): St, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rate = match admit(&s, &headers, "crm.objects.deals.read") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let found = lock(&s.deals).iter().find(|d| d["id"] == id.as_str()).cloned();
    with_rate(found.map_or_else(|| not_found(&id), |d| Json(d).into_response()), rate)
}

fn pipeline() -> Value {
    let stages: Vec<Value> = DEAL_STAGES
        .iter()
        .enumerate()
        .map(|(i, (id, label, probability))| {
            let closed = id.starts_with("closed");
            json!({
                "id": id,
                "label": label,
                "displayOrder": i,
                "metadata": { "isClosed": closed.to_string(), "probability": probability },
                "createdAt": SEED_TIME,
                "updatedAt": SEED_TIME,
                "archived": false,
            })
        })
        .collect();
    json!({
        "id": DEAL_PIPELINE,
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "stages": stages,
        "createdAt": SEED_TIME,
        "updatedAt": SEED_TIME,
        "archived": false,
    })
}

async fn list_deal_pipelines(State(s): St, headers: HeaderMap) -> Response {
    match admit(&s, &headers, "crm.objects.deals.read") {
        Ok(rate) => with_rate(Json(json!({ "results": [pipeline()] })).into_response(), rate),
        Err(r) => *r,
    }
}

/// HubSpot's 400 for a `dealstage` that is not a stage of the deal's pipeline.
fn invalid_stage(stage: &str) -> Response {
    let options: Vec<String> = DEAL_STAGES
        .iter()
        .map(|(id, label, _)| format!("label: \"{label}\" value: \"{id}\""))
        .collect();
    let detail = json!([{
        "isValid": false,
        "message": format!("{stage} was not one of the allowed options: [{}]", options.join(", ")),
        "error": "INVALID_OPTION",
        "name": "dealstage",
    }]);
    error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", &format!("Property values were not valid: {detail}"))
}

async fn update_deal(State(s): St, headers: HeaderMap, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let rate = match admit(&s, &headers, "crm.objects.deals.write") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return with_rate(error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "Invalid input JSON on line 1"), rate);
    };
    let props = match check_properties(&body, DEAL_PROPERTIES) {
        Ok(p) => p,
        Err(r) => return with_rate(*r, rate),
    };
    if props.get("pipeline").and_then(Value::as_str).is_some_and(|p| p != DEAL_PIPELINE) {
        return with_rate(
            error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "Property values were not valid: pipeline is not one of this portal's deal pipelines"),
            rate,
        );
    }
    if let Some(stage) = props.get("dealstage").and_then(Value::as_str)
        && !DEAL_STAGES.iter().any(|(id, _, _)| *id == stage)
    {
        return with_rate(invalid_stage(stage), rate);
    }
    let mut deals = lock(&s.deals);
    let Some(deal) = deals.iter_mut().find(|d| d["id"] == id.as_str()) else {
        return with_rate(not_found(&id), rate);
    };
    let now = now_iso();
    if let Some(p) = deal["properties"].as_object_mut() {
        p.extend(props);
        p.insert("hs_lastmodifieddate".into(), Value::String(now.clone()));
    }
    deal["updatedAt"] = Value::String(now);
    with_rate(Json(deal.clone()).into_response(), rate)
}

async fn deal_associations(
    State(s): St,
    headers: HeaderMap,
    Path((id, to)): Path<(String, String)>,
) -> Response {
    let rate = match admit(&s, &headers, "crm.objects.deals.read") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    if !lock(&s.deals).iter().any(|d| d["id"] == id.as_str()) {
        return with_rate(not_found(&id), rate);
    }
    let Some((contacts, companies)) = deal_links(&id) else {
        return with_rate(Json(json!({ "results": [] })).into_response(), rate);
    };
    let results: Vec<Value> = match to.as_str() {
        "contacts" | "contact" | "0-1" => contacts
            .into_iter()
            .map(|c| json!({"toObjectId": c, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": null}]}))
            .collect(),
        "companies" | "company" | "0-2" => companies
            .into_iter()
            .map(|c| json!({"toObjectId": c, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": null},
            ]}))
            .collect(),
        other => {
            return with_rate(
                error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", &format!("Unable to infer object type from: {other}")),
                rate,
            );
        }
    };
    with_rate(Json(json!({ "results": results })).into_response(), rate)
}
