//! Simulated providers ("sandbox") for Switchboard.
//!
//! A simulated provider is a small HTTP server on loopback that speaks a real provider's API:
//! the same paths, JSON shapes, pagination, error bodies, rate-limit headers and 429s, an OAuth 2
//! authorization-code + PKCE (S256) consent page with token, refresh and revoke endpoints, and
//! API-key / private-app-token checking. A connector pointed at a sandbox base URL works unchanged
//! against the real API. New users try Switchboard without any account; tests and benchmarks run
//! against these servers.
//!
//! Providers that push events sign and deliver them as the real provider does, in the
//! background, to the subscribers set the provider's way ([`webhooks::Outbox`]); each keeps its
//! simulated account in a simulator handle (e.g. [`stripe::StripeSim`]) shared by every clone of
//! the provider, so the account outlives one server (a gateway restart) and a test can change it
//! as a person would, with the server down.
//!
//! Every server also carries fault knobs for tests ([`Faults`]: next N responses 5xx, added
//! latency, malformed JSON bodies, hang) and counters ([`Stats`]: requests served, 429s sent),
//! reachable at runtime from the [`SandboxHandle`].
//!
//! # Dependencies
//! This crate depends on libraries only (axum, tokio, serde, sha2, base64, rand, url). It must
//! **not** depend on `switchboard-store`, `switchboard-secrets`, `switchboard-api`, the server or
//! the Tauri shell: the sandbox stands in for the outside world and must not know the gateway.
//!
//! # Adding a simulated provider
//! 1. Add a module (see [`hubspot`]) with a config struct whose defaults reproduce the real
//!    provider's rules (rate limits, whether a loopback redirect is accepted, token lifetimes).
//! 2. Build an [`oauth::OAuthServer`] from an [`oauth::OAuthConfig`] (registered client, scopes
//!    each with a plain sentence, loopback rule, token lifetimes and prefixes) and a
//!    [`ratelimit::SlidingWindow`] (or the provider's own algorithm).
//! 3. Implement [`SimulatedProvider::router`]: mount the OAuth handlers (`authorize_page`,
//!    `decide`, `token`, `revoke_refresh`) at the provider's real paths, rendering tokens and errors
//!    in its JSON shape; mount the API routes at the real paths with seeded deterministic data,
//!    the provider's rate-limit headers and 429 body; record 429s in [`Stats::rate_limited`].
//! 4. List it in [`all`], so `switchboard serve --sandbox` starts it and adds its `-sandbox` entry
//!    to the catalog (derived from the real provider's entry, so the provider's catalog id must
//!    be [`SimulatedProvider::id`] without `-sandbox`).
//! 5. Start it with [`SandboxServer::start`] and test it over real HTTP (see `tests/sandbox.rs`).

pub mod gcal;
pub mod gmail;
pub mod hubspot;
pub mod oauth;
pub mod ratelimit;
pub mod slack;
pub mod stripe;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Errors starting a sandbox server.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The loopback listener could not be bound.
    #[error("could not open the sandbox listener on 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
}

/// A simulated provider: builds the axum router that answers on the real API's paths.
pub trait SimulatedProvider: Send + Sync + 'static {
    /// Catalog-style id, ending in `-sandbox` (e.g. `hubspot-sandbox`).
    fn id(&self) -> &'static str;
    /// The routes of this provider. `ctx` gives access to the shared counters.
    fn router(&self, ctx: SandboxContext) -> Router;
    /// The OAuth app registered with this simulated provider, which the gateway's connect flow
    /// uses for the `-sandbox` entry (the real provider needs the user's own app). `None` when
    /// the provider has no OAuth.
    fn registered_client(&self) -> Option<oauth::OAuthClient> {
        None
    }
}

/// What the framework hands to a provider when it builds its router.
#[derive(Clone, Default)]
pub struct SandboxContext {
    /// Shared counters; providers increment [`Stats::rate_limited`] when they send a 429.
    pub stats: Arc<Stats>,
}

/// Counters, readable from the handle at any time.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests that reached the server (every route, including faulted ones).
    pub requests: AtomicU64,
    /// 429 responses sent by the provider's rate limiter.
    pub rate_limited: AtomicU64,
}

/// Fault knobs, settable at runtime through the handle. They apply to every route.
#[derive(Debug, Default)]
pub struct Faults {
    fail_next: AtomicU32,
    latency_ms: AtomicU64,
    malformed: AtomicBool,
    hang: AtomicBool,
}

impl Faults {
    /// The next `n` responses are `503 Service Unavailable` with a JSON error body.
    pub fn fail_next(&self, n: u32) {
        self.fail_next.store(n, Ordering::SeqCst);
    }
    /// Add `d` of latency before every response (zero turns it off).
    pub fn set_latency(&self, d: Duration) {
        self.latency_ms.store(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }
    /// While on, every response body is truncated, syntactically invalid JSON.
    pub fn set_malformed_json(&self, on: bool) {
        self.malformed.store(on, Ordering::SeqCst);
    }
    /// While on, requests are accepted and never answered.
    pub fn set_hang(&self, on: bool) {
        self.hang.store(on, Ordering::SeqCst);
    }
    /// Turn every knob off.
    pub fn clear(&self) {
        self.fail_next(0);
        self.set_latency(Duration::ZERO);
        self.set_malformed_json(false);
        self.set_hang(false);
    }
    fn take_failure(&self) -> bool {
        self.fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

#[derive(Clone)]
struct FaultState {
    faults: Arc<Faults>,
    stats: Arc<Stats>,
}

async fn fault_layer(State(st): State<FaultState>, req: Request, next: Next) -> Response {
    st.stats.requests.fetch_add(1, Ordering::SeqCst);
    let latency = st.faults.latency_ms.load(Ordering::SeqCst);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if st.faults.hang.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    if st.faults.take_failure() {
        let body = serde_json::json!({
            "status": "error",
            "message": "Service Unavailable (sandbox fault injection)",
            "category": "SERVICE_UNAVAILABLE",
        });
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    }
    let resp = next.run(req).await;
    if st.faults.malformed.load(Ordering::SeqCst) {
        let (mut parts, _) = resp.into_parts();
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=utf-8"),
        );
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from("{\"results\": [{\"id\": \"1\", \"prop"));
    }
    resp
}

/// Every simulated provider, with the real provider's default rules: what `--sandbox` starts.
///
/// HubSpot is started as a HubSpot *developer test app*: the one kind of HubSpot app that
/// accepts an `http://` loopback redirect (production apps need a registered https URL). That is
/// what lets the OAuth connect flow run end to end against `hubspot-sandbox`, and it is the real
/// rule, not a relaxed one: the catalog keeps HubSpot's `loopback_redirect = testing_only`, and
/// the gateway allows a testing-only loopback redirect for `-sandbox` entries only.
pub fn all() -> Vec<Box<dyn SimulatedProvider>> {
    vec![
        Box::new(hubspot::HubSpotSandbox::new(hubspot::HubSpotConfig::developer_test_app())),
        Box::new(stripe::StripeSandbox::default()),
        Box::new(slack::SlackSandbox::default()),
        Box::new(gcal::GCalSandbox::default()),
        Box::new(gmail::GmailSandbox::default()),
    ]
}

/// Starts simulated providers.
pub struct SandboxServer;

impl SandboxServer {
    /// Bind 127.0.0.1 on an ephemeral port and serve `provider` until [`SandboxHandle::shutdown`].
    pub async fn start(provider: impl SimulatedProvider) -> Result<SandboxHandle, SandboxError> {
        Self::start_boxed(Box::new(provider)).await
    }

    /// Same as [`SandboxServer::start`] for a boxed provider (e.g. chosen from a list at runtime).
    pub async fn start_boxed(
        provider: Box<dyn SimulatedProvider>,
    ) -> Result<SandboxHandle, SandboxError> {
        let ctx = SandboxContext::default();
        let faults = Arc::new(Faults::default());
        let fs = FaultState {
            faults: faults.clone(),
            stats: ctx.stats.clone(),
        };
        let app = provider
            .router(ctx.clone())
            .layer(middleware::from_fn_with_state(fs, fault_layer));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let join = tokio::spawn(async move {
            // Like a real provider's server: replies are not held back by Nagle's algorithm.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(SandboxHandle {
            id: provider.id(),
            client: provider.registered_client(),
            addr,
            faults,
            stats: ctx.stats,
            shutdown: Some(tx),
            join: Some(join),
        })
    }
}

/// A running simulated provider.
pub struct SandboxHandle {
    id: &'static str,
    client: Option<oauth::OAuthClient>,
    addr: SocketAddr,
    faults: Arc<Faults>,
    stats: Arc<Stats>,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    /// The provider id (e.g. `hubspot-sandbox`).
    pub fn id(&self) -> &'static str {
        self.id
    }
    /// The OAuth app registered with this provider, if it has OAuth.
    pub fn registered_client(&self) -> Option<&oauth::OAuthClient> {
        self.client.as_ref()
    }
    /// Base URL, e.g. `http://127.0.0.1:53124` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Fault knobs.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
    /// Requests that reached the server so far.
    pub fn requests_served(&self) -> u64 {
        self.stats.requests.load(Ordering::SeqCst)
    }
    /// 429 responses sent so far.
    pub fn rate_limited_count(&self) -> u64 {
        self.stats.rate_limited.load(Ordering::SeqCst)
    }
    /// Stop accepting connections; waits briefly for in-flight requests (hung ones are dropped).
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        self.faults.clear();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            let abort = join.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), join)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            join.abort();
        }
    }
}

pub(crate) fn random_token(prefix: &str) -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Minimal HTML escaping for every value echoed into a page.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}
