//! Connecting an account with OAuth 2 (authorization code + PKCE S256) in the system browser,
//! for a desktop app (RFC 8252), and keeping its tokens fresh.
//!
//! - **Start** ([`App::oauth_start`]): the provider must be in the catalog with an OAuth auth
//!   mode and accept a loopback redirect in production (`loopback_redirect = allowed`; a
//!   `-sandbox` entry also accepts `testing_only`, because the simulated provider runs as the
//!   provider's *test* app, the one case the real provider accepts it for). Otherwise the answer
//!   names the alternative (a private-app token / restricted key via `--api-key-stdin`). The OAuth
//!   app is the simulated provider's registered one for `-sandbox` entries, else the user's own,
//!   kept in the keychain at `oauth-client:<provider>` ([`App::oauth_client_set`]); a provider
//!   whose token step needs a client secret is refused at once when none is stored. A listener
//!   is bound on `127.0.0.1:0`; the redirect URI is `http://127.0.0.1:PORT/oauth/callback/<provider>`
//!   (one path per authorization server: mix-up defence). The authorize URL carries a fresh PKCE
//!   challenge and a random single-use `state` (10-minute lifetime), and is opened in the system
//!   browser (never in the app's webview) unless the caller prints it instead.
//! - **Callback**: the listener answers each request; one whose `state` is missing, wrong,
//!   expired or already used gets a refusal page and changes nothing. The first request with the
//!   right `state` finishes the flow, whatever it says: `error=access_denied` → failed "consent
//!   denied"; an `iss` that is not the authorization server's (RFC 9207; required when the
//!   catalog says the provider sends it) → failed; otherwise the code is exchanged with the PKCE
//!   verifier (the `oauth2` crate over a reqwest client that follows no redirects). Then the
//!   listener closes; it also closes after 5 minutes unanswered (flow `expired`).
//! - **Connected**: the tokens go to the keychain only (`connection:<id>`, JSON with
//!   `access_token`, `refresh_token`, `expires_at_ms`, …) first, then the connection row (granted
//!   scopes from the token response's `scope`, else the requested ones; the access token's
//!   expiry) commits with its `connection.added` audit row (FULL); if that fails the keychain
//!   item is deleted again.
//! - **Credential** ([`App::connection_credential`]): the value for the provider request. An
//!   access token expiring within 60 s is refreshed first, one refresh per connection at a time;
//!   the new tokens (with a rotated refresh token, or the old one kept) replace the keychain item
//!   in one write before the old refresh token is forgotten, then the expiry is recorded with a
//!   `connection.token_refreshed` audit row (NORMAL). `invalid_grant` or HTTP 401 → the
//!   connection is marked `reconnect_needed` and the call fails with that code.
//! - **Revoke** ([`App::revoke_at_provider`], used by `connection_remove`): RFC 7009 with the
//!   refresh token (which also ends its access tokens) at the catalog's `revoke_url`.
//!
//! No token, code, verifier, `state` or client secret reaches SQLite, logs, audit rows, error
//! messages or API responses (the authorize URL returned to the caller carries only the PKCE
//! challenge and the `state`, which is single-use and bound to this flow's listener).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use switchboard_connectors::{AuthMode, LoopbackRedirect, OAuthConfig, ProviderEntry, TokenAuth};
use switchboard_core::{ApiError, ErrorCode, NewAuditRow, Sensitive};
use switchboard_store::Durability;
use switchboard_store::connections::{self as stored, NewConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use ts_rs::TS;

use crate::App;
use crate::auth::{random_token, secrets_equal};
use crate::connections::{ADD_LOCK, ConnectionInfo, LABEL_MAX, choose_scopes, secret_key};
use crate::gateway::blocking;

/// How long a flow's `state` is accepted.
pub const STATE_TTL_MS: i64 = 10 * 60_000;
/// How long the loopback listener waits for the browser before the flow expires.
pub const LISTENER_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// An access token expiring sooner than this is refreshed before use.
pub const REFRESH_MARGIN_MS: i64 = 60_000;
/// The longest `oauth_wait` (long-poll) the control API allows.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// Where the browser returns to on the loopback listener: this plus the provider id.
pub const CALLBACK_PREFIX: &str = "/oauth/callback/";
/// Token, refresh and revoke requests give up after this.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest request head the loopback listener reads.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Finished flows are forgotten after this.
const FLOW_KEEP_MS: i64 = 60 * 60_000;

/// The keychain key holding the user's own OAuth app for `provider` (JSON `{client_id, client_secret?}`).
pub fn client_secret_key(provider: &str) -> String {
    format!("oauth-client:{provider}")
}

/// `http://127.0.0.1:PORT/oauth/callback/<provider>`: the RFC 8252 loopback redirect, with the
/// IP literal (not `localhost`) and one path per authorization server.
pub fn redirect_uri(port: u16, provider_id: &str) -> String {
    format!("http://127.0.0.1:{port}{CALLBACK_PREFIX}{provider_id}")
}

/// A started flow, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OAuthStart {
    /// Poll `GET /api/control/v1/connections/oauth/{flow_id}` with it.
    pub flow_id: String,
    pub provider: String,
    /// The provider's consent page for this flow (single use). Printed by `--no-browser`.
    pub authorize_url: String,
    /// The loopback address the provider sends the browser back to.
    pub redirect_uri: String,
    /// When the loopback listener gives up.
    #[ts(type = "number")]
    pub expires_at_ms: i64,
    /// Whether the system browser was asked to open `authorize_url`.
    pub browser_opened: bool,
}

/// Where a flow stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OAuthFlowStatus {
    /// Waiting for the person to approve in the browser.
    Pending {
        #[ts(type = "number")]
        expires_at_ms: i64,
    },
    Connected { connection: ConnectionInfo },
    /// `code`: `consent_denied`, `state_refused`, `issuer_mismatch`, `provider_refused`,
    /// `provider_unreachable`, `provider_error`, or an error code of the gateway.
    Failed { code: String, message: String },
    /// Nobody came back from the browser in time; start again.
    Expired,
}

/// Which providers have the user's own OAuth app stored (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OAuthClientInfo {
    pub provider: String,
    pub has_client_secret: bool,
}

/// The OAuth app used for a flow.
#[derive(Clone)]
struct ClientCreds {
    client_id: String,
    client_secret: Option<Sensitive<String>>,
}

#[derive(Serialize, Deserialize)]
struct StoredClient {
    client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

/// What the keychain holds for an OAuth connection. Deliberately not `Debug`.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredTokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
    #[serde(default)]
    pub token_type: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub obtained_at_ms: i64,
}

impl StoredTokens {
    fn to_secret(&self) -> Result<Sensitive<String>, ApiError> {
        serde_json::to_string(self).map(Sensitive::new).map_err(|e| ApiError::internal(format!("cannot encode the tokens: {e}")))
    }

    pub(crate) fn from_secret(s: &Sensitive<String>) -> Result<Self, ApiError> {
        // The parse error could quote the value: say only that it is unreadable.
        serde_json::from_str(s.expose()).map_err(|_| {
            ApiError::new(ErrorCode::ReconnectNeeded, "the OAuth tokens in the keychain are unreadable; remove this connection and connect it again")
        })
    }
}

/// Flows in progress (and recently finished), and one refresh lock per connection.
#[derive(Default)]
pub struct OAuthRuntime {
    flows: Mutex<HashMap<String, Flow>>,
    refresh_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

struct Flow {
    status: watch::Sender<OAuthFlowStatus>,
    started_ms: i64,
}

impl OAuthRuntime {
    fn flows(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flow>> {
        self.flows.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refresh_lock(&self, connection_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.refresh_locks.lock().unwrap_or_else(|p| p.into_inner()).entry(connection_id.to_string()).or_default().clone()
    }

    fn finish(&self, flow_id: &str, status: OAuthFlowStatus) {
        if let Some(f) = self.flows().get(flow_id) {
            f.status.send_replace(status);
        }
    }
}

/// Why a callback's `state` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateRefusal {
    Missing,
    /// Not this flow's (another flow's, or forged).
    Mismatch,
    /// This flow's, already redeemed once.
    Used,
    Expired,
}

impl StateRefusal {
    fn words(self) -> &'static str {
        match self {
            Self::Missing => "it carries no state value, so Switchboard cannot tell that it answers the connection you started",
            Self::Mismatch => "its state value does not belong to the connection Switchboard started here (it may be forged or from another sign-in)",
            Self::Used => "this sign-in response was already used once; each one works only once",
            Self::Expired => "this sign-in started more than 10 minutes ago and has expired",
        }
    }
}

/// A flow's `state`: random, bound to one flow, accepted once within [`STATE_TTL_MS`].
pub struct OneTimeState {
    value: Sensitive<String>,
    expires_at_ms: i64,
    used: bool,
}

impl OneTimeState {
    pub fn new(value: Sensitive<String>, now_ms: i64) -> Self {
        Self { value, expires_at_ms: now_ms + STATE_TTL_MS, used: false }
    }

    /// Accepts `presented` once, if it is this state and not expired (constant-time compare).
    pub fn redeem(&mut self, presented: Option<&str>, now_ms: i64) -> Result<(), StateRefusal> {
        let Some(presented) = presented.filter(|p| !p.is_empty()) else { return Err(StateRefusal::Missing) };
        if !secrets_equal(presented, self.value.expose()) {
            return Err(StateRefusal::Mismatch);
        }
        if self.used {
            return Err(StateRefusal::Used);
        }
        if now_ms >= self.expires_at_ms {
            return Err(StateRefusal::Expired);
        }
        self.used = true;
        Ok(())
    }
}

/// The issuer identifier Switchboard expects in `iss`: the authorization server's origin
/// (`https://accounts.google.com` for `https://accounts.google.com/o/oauth2/v2/auth`).
pub fn expected_issuer(authorize_url: &str) -> Option<String> {
    url::Url::parse(authorize_url).ok().map(|u| u.origin().ascii_serialization())
}

/// RFC 9207: an `iss` in the authorization response must be the expected issuer; a provider the
/// catalog says always sends one must have sent it. `Err` says what went wrong, in words.
pub fn check_iss(expected: &str, sends_iss: Option<bool>, presented: Option<&str>) -> Result<(), String> {
    match presented {
        Some(iss) if iss.trim_end_matches('/') == expected.trim_end_matches('/') => Ok(()),
        Some(iss) => Err(format!(
            "the sign-in response says it comes from {}, not from {expected} where Switchboard sent you; it was refused (possible mix-up attack)",
            shorten(iss, 120)
        )),
        None if sends_iss == Some(true) => {
            Err(format!("the sign-in response does not say which server issued it (iss), which {expected} always does; it was refused"))
        }
        None => Ok(()),
    }
}

/// Whether this entry may use a loopback redirect: `Ok` or a `bad_request` naming the alternative.
pub(crate) fn check_loopback(entry: &ProviderEntry, o: &OAuthConfig, is_sandbox: bool, public_client: bool) -> Result<(), ApiError> {
    let ok = match o.loopback_redirect {
        LoopbackRedirect::Allowed => true,
        LoopbackRedirect::TestingOnly => is_sandbox,
        LoopbackRedirect::PkceAppsOnly => public_client,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let why = o.loopback_note.clone().unwrap_or_else(|| format!("{} does not accept a loopback (http://127.0.0.1) redirect from a desktop app", entry.name));
    Err(ApiError::bad_request(format!("{} cannot be connected with OAuth from Switchboard: {why} {}", entry.name, alternative(entry))))
}

/// "Connect it with a private-app token instead: …" for the entry's pasted-key mode.
fn alternative(entry: &ProviderEntry) -> String {
    let words = |m: AuthMode| match m {
        AuthMode::PrivateAppToken => "a private-app token",
        AuthMode::RestrictedKey => "a restricted key",
        AuthMode::BotToken => "a bot token",
        _ => "an API key",
    };
    match entry.auth_modes.iter().copied().find(|m| m.is_pasted_key()) {
        Some(m) => format!(
            "Connect it with {} instead: printf '%s' \"$KEY\" | switchboard connections add {} --api-key-stdin",
            words(m),
            entry.id
        ),
        None => "It has no other way to connect yet.".into(),
    }
}

fn shorten(text: &str, max: usize) -> String {
    let mut short: String = text.chars().take(max).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Replaces every secret in provider-supplied text, then shortens it.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut t = text.to_string();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        t = t.replace(s, "[redacted]");
    }
    shorten(&t, 200)
}

type FlowClient = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn bad_url(what: &str, entry: &ProviderEntry) -> ApiError {
    ApiError::internal(format!("the catalog's OAuth {what} for {} is not a URL", entry.name))
}

fn oauth_client(entry: &ProviderEntry, o: &OAuthConfig, creds: &ClientCreds, redirect: Option<&str>) -> Result<FlowClient, ApiError> {
    let mut c = BasicClient::new(ClientId::new(creds.client_id.clone()))
        .set_auth_uri(AuthUrl::new(o.authorize_url.clone()).map_err(|_| bad_url("authorize URL", entry))?)
        .set_token_uri(TokenUrl::new(o.token_url.clone()).map_err(|_| bad_url("token URL", entry))?)
        .set_auth_type(if o.token_auth == TokenAuth::ClientSecretBasic { AuthType::BasicAuth } else { AuthType::RequestBody });
    if let Some(s) = &creds.client_secret {
        c = c.set_client_secret(ClientSecret::new(s.expose().clone()));
    }
    if let Some(r) = redirect {
        c = c.set_redirect_uri(RedirectUrl::new(r.to_string()).map_err(|_| ApiError::internal("the loopback redirect URI is not a URL"))?);
    }
    Ok(c)
}

/// The HTTP client behind every token, refresh and revoke request: follows no redirects, times
/// out, and remembers the last status (to tell a 401 from other failures).
#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    last_status: Arc<AtomicU16>,
}

impl Http {
    fn new() -> Result<Self, ApiError> {
        let client = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::internal(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self { client, last_status: Arc::new(AtomicU16::new(0)) })
    }

    async fn call(&self, req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
        let req = reqwest::Request::try_from(req)?;
        let resp = self.client.execute(req).await?;
        let status = resp.status();
        self.last_status.store(status.as_u16(), Ordering::SeqCst);
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        let mut out = http::Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }

    fn status(&self) -> u16 {
        self.last_status.load(Ordering::SeqCst)
    }
}

/// A failed token or refresh request, in words without secrets.
struct TokenFailure {
    code: &'static str,
    message: String,
    /// The provider no longer accepts the grant (`invalid_grant`, HTTP 401): reconnect.
    grant_refused: bool,
}

fn token_failure(e: RequestTokenError<reqwest::Error, BasicErrorResponse>, status: u16, name: &str, secrets: &[&str]) -> TokenFailure {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let desc = r.error_description().map(|d| format!(": {}", scrub(d, secrets))).unwrap_or_default();
            TokenFailure {
                code: "provider_refused",
                message: format!("{name} refused the token request ({}{desc})", r.error().as_ref()),
                grant_refused: *r.error() == BasicErrorResponseType::InvalidGrant || status == 401,
            }
        }
        RequestTokenError::Request(e) => TokenFailure {
            code: "provider_unreachable",
            message: scrub(&format!("could not reach {name}'s token endpoint: {}", e.without_url()), secrets),
            grant_refused: false,
        },
        RequestTokenError::Parse(..) => TokenFailure {
            code: "provider_error",
            message: format!("{name} answered the token request with HTTP {status} and a body Switchboard could not read"),
            grant_refused: status == 401,
        },
        RequestTokenError::Other(s) => TokenFailure {
            code: "provider_error",
            message: format!("{name} answered the token request with HTTP {status} ({})", scrub(&s, secrets)),
            grant_refused: status == 401,
        },
    }
}

/// Granted scopes from a token response (split on the provider's separator too), or `requested`.
fn granted_scopes(resp: &oauth2::basic::BasicTokenResponse, separator: &str, requested: &[String]) -> Vec<String> {
    match resp.scopes() {
        Some(list) if !list.is_empty() => {
            let mut out: Vec<String> = Vec::new();
            for s in list.iter().flat_map(|s| s.as_str().split(separator).map(str::to_string).collect::<Vec<_>>()) {
                let s = s.trim().to_string();
                if !s.is_empty() && !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        }
        _ => requested.to_vec(),
    }
}

fn expiry(resp: &oauth2::basic::BasicTokenResponse, now_ms: i64) -> Option<i64> {
    resp.expires_in().map(|d| now_ms.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

/// Everything the listener task needs to finish one flow.
struct FlowCtx {
    app: App,
    flow_id: String,
    actor_id: String,
    entry: ProviderEntry,
    mode: AuthMode,
    client: FlowClient,
    verifier: PkceCodeVerifier,
    state: OneTimeState,
    label: String,
    scopes: Vec<String>,
    callback_path: String,
    issuer: String,
    sends_iss: Option<bool>,
}

struct Callback {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

fn parse_callback(query: &str) -> Callback {
    let mut c = Callback { state: None, code: None, error: None, error_description: None, iss: None };
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "state" => c.state = v,
            "code" => c.code = v,
            "error" => c.error = v,
            "error_description" => c.error_description = v,
            "iss" => c.iss = v,
            _ => {}
        }
    }
    c
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#x27;")
}

fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Switchboard: {t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>{t}</h1><p>{x}</p></body></html>",
        t = html_escape(title),
        x = html_escape(text)
    )
}

/// Reads one request head; returns the request target of a `GET`, `Err(status)` otherwise.
async fn read_target(stream: &mut TcpStream) -> Result<String, u16> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read = async {
        loop {
            let n = stream.read(&mut chunk).await.map_err(|_| 400u16)?;
            if n == 0 {
                return Err(400u16);
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok(());
            }
            if buf.len() > MAX_REQUEST_HEAD {
                return Err(431u16);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read).await.map_err(|_| 408u16)??;
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Ok(target.to_string()),
        (Some(_), Some(_)) => Err(405),
        _ => Err(400),
    }
}

async fn respond(stream: &mut TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Serves the loopback redirect of one flow until it finishes or [`LISTENER_TIMEOUT`] passes.
async fn serve_callback(mut ctx: FlowCtx, listener: TcpListener) {
    let deadline = tokio::time::Instant::now() + LISTENER_TIMEOUT;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = tokio::time::sleep_until(deadline) => {
                ctx.app.oauth_runtime().finish(&ctx.flow_id, OAuthFlowStatus::Expired);
                audit_flow_end(&ctx, "expired", None).await;
                return;
            }
        };
        let Ok((mut stream, _)) = accepted else { continue };
        let target = match read_target(&mut stream).await {
            Ok(t) => t,
            Err(status) => {
                respond(&mut stream, status, &page("Not a sign-in response", "Switchboard expected the provider's sign-in response here.")).await;
                continue;
            }
        };
        let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
        if path != ctx.callback_path {
            respond(&mut stream, 404, &page("Not found", "This address only receives the provider's sign-in response.")).await;
            continue;
        }
        let cb = parse_callback(query);
        let now = ctx.app.clock().now_ms();
        if let Err(why) = ctx.state.redeem(cb.state.as_deref(), now) {
            tracing::warn!(flow = %ctx.flow_id, provider = %ctx.entry.id, refusal = ?why, "refused an OAuth callback");
            respond(
                &mut stream,
                400,
                &page("Sign-in response refused", &format!("Switchboard refused this sign-in response: {}. Nothing was connected.", why.words())),
            )
            .await;
            continue;
        }
        let result = complete(&mut ctx, cb).await;
        let (status, body) = match &result {
            Ok(c) => (200, page("Connected", &format!("Connected {} as '{}' — you can close this tab.", ctx.entry.name, c.id))),
            Err((_, message)) => (400, page("Not connected", &format!("{message}. You can close this tab."))),
        };
        let flow_status = match result {
            Ok(connection) => OAuthFlowStatus::Connected { connection },
            Err((code, message)) => {
                audit_flow_end(&ctx, "failed", Some(&code)).await;
                OAuthFlowStatus::Failed { code, message }
            }
        };
        ctx.app.oauth_runtime().finish(&ctx.flow_id, flow_status);
        respond(&mut stream, status, &body).await;
        return;
    }
}

async fn audit_flow_end(ctx: &FlowCtx, outcome: &str, code: Option<&str>) {
    let mut row = NewAuditRow::system(
        "connection.oauth_ended",
        serde_json::json!({ "flow": ctx.flow_id, "provider": ctx.entry.id, "outcome": outcome, "error_code": code }),
    );
    row.actor_kind = switchboard_core::ActorKind::User;
    row.actor_id = ctx.actor_id.clone();
    row.outcome = outcome.into();
    if let Err(e) = ctx.app.record(row, Durability::Normal).await {
        tracing::warn!(flow = %ctx.flow_id, error = %e, "could not audit the end of an OAuth flow");
    }
}

/// Finishes a flow whose `state` was accepted: consent, issuer, code exchange, connection.
async fn complete(ctx: &mut FlowCtx, cb: Callback) -> Result<ConnectionInfo, (String, String)> {
    let name = ctx.entry.name.clone();
    if let Some(error) = cb.error {
        if error == "access_denied" {
            return Err(("consent_denied".into(), format!("consent denied: access was declined at {name}, so nothing was connected")));
        }
        let desc = cb.error_description.map(|d| format!(": {}", shorten(&d, 200))).unwrap_or_default();
        return Err(("provider_refused".into(), format!("{name} did not authorize the connection ({}{desc})", shorten(&error, 60))));
    }
    if let Err(why) = check_iss(&ctx.issuer, ctx.sends_iss, cb.iss.as_deref()) {
        return Err(("issuer_mismatch".into(), why));
    }
    let Some(code) = cb.code.filter(|c| !c.is_empty()) else {
        return Err(("provider_error".into(), format!("{name}'s sign-in response carried neither a code nor an error")));
    };
    let http = Http::new().map_err(|e| (e.code.as_str().to_string(), e.message))?;
    let exec = |r| {
        let h = http.clone();
        async move { h.call(r).await }
    };
    let verifier = PkceCodeVerifier::new(ctx.verifier.secret().clone());
    let resp = ctx.client.exchange_code(AuthorizationCode::new(code.clone())).set_pkce_verifier(verifier).request_async(&exec).await.map_err(|e| {
        let f = token_failure(e, http.status(), &name, &[&code, ctx.verifier.secret()]);
        (f.code.to_string(), f.message)
    })?;
    let now = ctx.app.clock().now_ms();
    let o = ctx.entry.oauth.as_ref().map_or(" ", |o| o.scope_separator.as_str());
    let tokens = StoredTokens {
        access_token: resp.access_token().secret().clone(),
        refresh_token: resp.refresh_token().map(|r| r.secret().clone()),
        expires_at_ms: expiry(&resp, now),
        token_type: resp.token_type().as_ref().to_string(),
        scopes: granted_scopes(&resp, o, &ctx.scopes),
        obtained_at_ms: now,
    };
    ctx.app.insert_oauth_connection(&ctx.actor_id, &ctx.entry, ctx.mode, &ctx.label, &tokens).await.map_err(|e| (e.code.as_str().to_string(), e.message))
}

impl App {
    /// The catalog entry `provider_id`, or `not_found` saying where the list is.
    fn catalog_entry(&self, provider_id: &str) -> Result<ProviderEntry, ApiError> {
        self.provider_catalog().providers.iter().find(|p| p.id == provider_id).cloned().ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("there is no provider '{provider_id}' in the catalog; `switchboard providers` lists them (sandbox entries need `serve --sandbox`)"),
            )
        })
    }

    /// The OAuth app for `entry`: the simulated provider's registered app, or the user's own
    /// from the keychain.
    async fn client_creds(&self, entry: &ProviderEntry) -> Result<Option<ClientCreds>, ApiError> {
        if let Some(c) = self.sandbox_client(&entry.id) {
            return Ok(Some(ClientCreds { client_id: c.client_id.clone(), client_secret: c.client_secret.clone().map(Sensitive::new) }));
        }
        let secrets = self.secrets().clone();
        let key = client_secret_key(&entry.id);
        let Some(raw) = blocking(move || Ok(secrets.get(&key)?)).await? else { return Ok(None) };
        let stored: StoredClient = serde_json::from_str(raw.expose()).map_err(|_| {
            ApiError::internal(format!("the OAuth app stored for {} is unreadable; store it again (PUT /api/control/v1/oauth-clients/{})", entry.name, entry.id))
        })?;
        Ok(Some(ClientCreds { client_id: stored.client_id, client_secret: stored.client_secret.map(Sensitive::new) }))
    }

    /// Starts connecting `provider_id` with OAuth in the system browser. See the module docs.
    pub async fn oauth_start(
        &self,
        actor_id: &str,
        provider_id: &str,
        label: Option<&str>,
        scopes: Option<&[String]>,
        open_browser: bool,
    ) -> Result<OAuthStart, ApiError> {
        let entry = self.catalog_entry(provider_id)?;
        let (Some(mode), Some(o)) = (entry.auth_modes.iter().copied().find(|m| m.is_oauth()), entry.oauth.clone()) else {
            let offered: Vec<&str> = entry.auth_modes.iter().map(|m| m.as_str()).collect();
            return Err(ApiError::bad_request(format!(
                "{} does not connect with OAuth (it offers: {}). {}",
                entry.name,
                offered.join(", "),
                alternative(&entry)
            )));
        };
        if entry.urls().iter().any(|(f, u)| *f != "docs_url" && u.contains('{')) {
            return Err(ApiError::bad_request(format!(
                "connecting {} with OAuth needs account-specific addresses, which Switchboard does not ask for yet. {}",
                entry.name,
                alternative(&entry)
            )));
        }
        let is_sandbox = self.sandbox_client(&entry.id).is_some();
        let creds = self.client_creds(&entry).await?;
        check_loopback(&entry, &o, is_sandbox, creds.as_ref().is_some_and(|c| c.client_secret.is_none()))?;
        let Some(creds) = creds else {
            return Err(ApiError::bad_request(format!(
                "Switchboard has no OAuth app for {name}: register one with {name} (redirect URL http://127.0.0.1, any port) and store its client id{secret} with `PUT /api/control/v1/oauth-clients/{id}` {{\"client_id\": …{secret_field}}}. {alt}",
                name = entry.name,
                id = entry.id,
                secret = if o.token_auth == TokenAuth::None { "" } else { " and secret" },
                secret_field = if o.token_auth == TokenAuth::None { "" } else { ", \"client_secret\": …" },
                alt = alternative(&entry),
            )));
        };
        if o.token_auth != TokenAuth::None && creds.client_secret.is_none() {
            return Err(ApiError::bad_request(format!(
                "{} needs the OAuth app's client secret at the token step, and none is stored for it: store the client id and secret with `PUT /api/control/v1/oauth-clients/{}`",
                entry.name, entry.id
            )));
        }
        let label = label.map(str::trim).filter(|l| !l.is_empty()).unwrap_or(&entry.name).to_string();
        if label.chars().count() > LABEL_MAX || label.chars().any(char::is_control) {
            return Err(ApiError::bad_request(format!("a label must be at most {LABEL_MAX} characters on one line")));
        }
        let scopes = choose_scopes(&entry, scopes)?;
        let issuer = expected_issuer(&o.authorize_url).ok_or_else(|| bad_url("authorize URL", &entry))?;

        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| ApiError::internal(format!("cannot open a loopback port for the sign-in response: {e}")))?;
        let port = listener.local_addr().map_err(|e| ApiError::internal(format!("cannot read the loopback port: {e}")))?.port();
        let redirect = redirect_uri(port, &entry.id);
        let client = oauth_client(&entry, &o, &creds, Some(&redirect))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_token();
        let mut req = client.authorize_url(|| CsrfToken::new(state.expose().clone())).set_pkce_challenge(challenge);
        if !scopes.is_empty() {
            req = req.add_extra_param("scope", scopes.join(&o.scope_separator));
        }
        for p in &o.authorize_params {
            req = req.add_extra_param(p.name.clone(), p.value.clone());
        }
        let (authorize_url, _) = req.url();

        let now = self.clock().now_ms();
        let expires_at_ms = now + i64::try_from(LISTENER_TIMEOUT.as_millis()).unwrap_or(i64::MAX);
        let flow_id = format!("oauth-{}", &random_token().expose()[..16]);
        let mut row = NewAuditRow::system(
            "connection.oauth_started",
            serde_json::json!({ "flow": flow_id, "provider": entry.id, "scopes": scopes, "redirect_uri": redirect, "browser": open_browser }),
        );
        row.actor_kind = switchboard_core::ActorKind::User;
        row.actor_id = actor_id.into();
        self.record(row, Durability::Normal).await?;
        {
            let mut flows = self.oauth_runtime().flows();
            flows.retain(|_, f| now - f.started_ms < FLOW_KEEP_MS || matches!(*f.status.borrow(), OAuthFlowStatus::Pending { .. }));
            let (tx, _) = watch::channel(OAuthFlowStatus::Pending { expires_at_ms });
            flows.insert(flow_id.clone(), Flow { status: tx, started_ms: now });
        }
        let ctx = FlowCtx {
            app: self.clone(),
            flow_id: flow_id.clone(),
            actor_id: actor_id.to_string(),
            entry: entry.clone(),
            mode,
            client,
            verifier,
            state: OneTimeState::new(state, now),
            label,
            scopes,
            callback_path: format!("{CALLBACK_PREFIX}{}", entry.id),
            issuer,
            sends_iss: o.sends_iss,
        };
        tokio::spawn(serve_callback(ctx, listener));
        let url = authorize_url.to_string();
        let browser_opened = open_browser && {
            match open::that_detached(&url) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(flow = %flow_id, error = %e, "could not open the system browser for an OAuth sign-in");
                    false
                }
            }
        };
        Ok(OAuthStart { flow_id, provider: entry.id, authorize_url: url, redirect_uri: redirect, expires_at_ms, browser_opened })
    }

    /// Where flow `flow_id` stands.
    pub fn oauth_status(&self, flow_id: &str) -> Result<OAuthFlowStatus, ApiError> {
        self.oauth_runtime().flows().get(flow_id).map(|f| f.status.borrow().clone()).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("there is no OAuth sign-in '{flow_id}' in this gateway (flows do not survive a restart)"))
        })
    }

    /// Like [`Self::oauth_status`], but while the flow is pending waits up to `wait` (at most
    /// [`MAX_WAIT`]) for it to finish.
    pub async fn oauth_wait(&self, flow_id: &str, wait: Duration) -> Result<OAuthFlowStatus, ApiError> {
        let rx = self.oauth_runtime().flows().get(flow_id).map(|f| f.status.subscribe());
        let Some(mut rx) = rx else { return self.oauth_status(flow_id) };
        let finished = tokio::time::timeout(wait.min(MAX_WAIT), rx.wait_for(|s| !matches!(s, OAuthFlowStatus::Pending { .. }))).await;
        match finished {
            Ok(Ok(s)) => Ok(s.clone()),
            _ => self.oauth_status(flow_id),
        }
    }

    /// Stores the tokens (keychain first) and commits the connection with its audit row.
    async fn insert_oauth_connection(
        &self,
        actor_id: &str,
        entry: &ProviderEntry,
        mode: AuthMode,
        label: &str,
        tokens: &StoredTokens,
    ) -> Result<ConnectionInfo, ApiError> {
        let value = tokens.to_secret()?;
        let _guard = ADD_LOCK.lock().await;
        let db = self.db().clone();
        let provider = entry.id.clone();
        let id = blocking(move || Ok(stored::next_id(&*db.reader()?, &provider)?)).await?;
        {
            let secrets = self.secrets().clone();
            let secret = secret_key(&id);
            blocking(move || Ok(secrets.set(&secret, &value)?)).await?;
        }
        let now = tokens.obtained_at_ms;
        let new = NewConnection {
            id: id.clone(),
            provider: entry.id.clone(),
            label: label.to_string(),
            auth_mode: mode.as_str().into(),
            granted_scopes: tokens.scopes.clone(),
            token_expires_at_ms: tokens.expires_at_ms,
            now_ms: now,
        };
        let summary = serde_json::json!({
            "connection": id, "provider": entry.id, "label": label, "auth_mode": mode.as_str(), "scopes": tokens.scopes,
            "refresh_token": tokens.refresh_token.is_some(), "stored_in": self.secrets().describe()
        });
        let row = NewAuditRow::user("connection.added", actor_id, summary).on_connection(&id).with_outcome("ok");
        self.commit_new_connection(new, row).await
    }

    /// The value to put in a provider request for `connection_id`: the pasted key, or the OAuth
    /// access token (refreshed first when it expires within [`REFRESH_MARGIN_MS`]).
    pub async fn connection_credential(&self, connection_id: &str) -> Result<Sensitive<String>, ApiError> {
        let record = self.connection_record(connection_id).await?;
        self.credential_of(&record).await
    }

    /// [`Self::connection_credential`] for a connection record the caller already read.
    pub(crate) async fn credential_of(&self, record: &switchboard_store::connections::ConnectionRecord) -> Result<Sensitive<String>, ApiError> {
        let connection_id = record.id.as_str();
        if record.removed_at_ms.is_some() {
            return Err(ApiError::new(ErrorCode::Conflict, format!("connection '{connection_id}' was removed; add it again to use it")));
        }
        let is_oauth = serde_json::from_value::<AuthMode>(serde_json::Value::String(record.auth_mode.clone())).is_ok_and(AuthMode::is_oauth);
        let read = || async {
            let secrets = self.secrets().clone();
            let key = secret_key(connection_id);
            blocking(move || Ok(secrets.get(&key)?)).await?.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ReconnectNeeded,
                    format!("the credential of connection '{connection_id}' is no longer in the keychain; remove the connection and add it again"),
                )
            })
        };
        if !is_oauth {
            return read().await;
        }
        let needs_refresh = |t: &StoredTokens, now: i64| t.expires_at_ms.is_some_and(|e| e - now <= REFRESH_MARGIN_MS);
        let tokens = StoredTokens::from_secret(&read().await?)?;
        if !needs_refresh(&tokens, self.clock().now_ms()) {
            return Ok(Sensitive::new(tokens.access_token));
        }
        let lock = self.oauth_runtime().refresh_lock(connection_id);
        let _guard = lock.lock().await;
        // Another caller may have refreshed while this one waited.
        let tokens = StoredTokens::from_secret(&read().await?)?;
        if !needs_refresh(&tokens, self.clock().now_ms()) {
            return Ok(Sensitive::new(tokens.access_token));
        }
        self.refresh(&record.provider, connection_id, tokens).await
    }

    /// Refreshes an OAuth connection's tokens; the caller holds its refresh lock.
    async fn refresh(&self, provider_id: &str, connection_id: &str, old: StoredTokens) -> Result<Sensitive<String>, ApiError> {
        let entry = self.catalog_entry(provider_id)?;
        let o = entry.oauth.clone().ok_or_else(|| ApiError::internal(format!("{} has no OAuth endpoints in the catalog", entry.name)))?;
        let Some(refresh_token) = old.refresh_token.clone() else {
            return self.mark_reconnect(connection_id, &entry, "the access token expired and the provider gave no refresh token; connect the account again").await;
        };
        let creds = self.client_creds(&entry).await?.ok_or_else(|| {
            ApiError::bad_request(format!("the OAuth app for {} is no longer stored, so its token cannot be refreshed; store it again (PUT /api/control/v1/oauth-clients/{})", entry.name, entry.id))
        })?;
        let client = oauth_client(&entry, &o, &creds, None)?;
        let http = Http::new()?;
        let exec = |r| {
            let h = http.clone();
            async move { h.call(r).await }
        };
        let rt = RefreshToken::new(refresh_token.clone());
        let result = client.exchange_refresh_token(&rt).request_async(&exec).await;
        let now = self.clock().now_ms();
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                let f = token_failure(e, http.status(), &entry.name, &[&refresh_token]);
                if f.grant_refused {
                    return self.mark_reconnect(connection_id, &entry, &format!("{}; connect the account again", f.message)).await;
                }
                self.record_refresh(connection_id, &entry, "error", Some(f.code), None, Some((f.code, f.message.clone(), stored::ERROR)))
                    .await?;
                let code = if f.code == "provider_unreachable" { ErrorCode::ProviderUnreachable } else { ErrorCode::ProviderError };
                return Err(ApiError::new(code, f.message));
            }
        };
        let rotated = resp.refresh_token().is_some_and(|r| r.secret() != &refresh_token);
        let new = StoredTokens {
            access_token: resp.access_token().secret().clone(),
            refresh_token: resp.refresh_token().map(|r| r.secret().clone()).or(Some(refresh_token)),
            expires_at_ms: expiry(&resp, now),
            token_type: resp.token_type().as_ref().to_string(),
            scopes: if resp.scopes().is_some() { granted_scopes(&resp, &o.scope_separator, &old.scopes) } else { old.scopes.clone() },
            obtained_at_ms: now,
        };
        // One write replaces the whole item: the rotated refresh token is durable before the old
        // one is dropped from memory.
        let value = new.to_secret()?;
        {
            let secrets = self.secrets().clone();
            let key = secret_key(connection_id);
            blocking(move || Ok(secrets.set(&key, &value)?)).await?;
        }
        self.record_refresh(connection_id, &entry, "ok", None, Some((new.expires_at_ms, rotated)), None).await?;
        Ok(Sensitive::new(new.access_token))
    }

    async fn mark_reconnect(&self, connection_id: &str, entry: &ProviderEntry, message: &str) -> Result<Sensitive<String>, ApiError> {
        self.record_refresh(connection_id, entry, "reconnect_needed", Some("reconnect_needed"), None, Some(("reconnect_needed", message.to_string(), stored::RECONNECT_NEEDED)))
            .await?;
        Err(ApiError::new(ErrorCode::ReconnectNeeded, format!("connection '{connection_id}' needs to be connected again: {message}")))
    }

    /// Audits a refresh (NORMAL) together with what it changes in the connection row.
    async fn record_refresh(
        &self,
        connection_id: &str,
        entry: &ProviderEntry,
        outcome: &str,
        error_code: Option<&str>,
        success: Option<(Option<i64>, bool)>,
        failure: Option<(&str, String, &'static str)>,
    ) -> Result<(), ApiError> {
        let mut row = NewAuditRow::system(
            "connection.token_refreshed",
            serde_json::json!({
                "connection": connection_id, "provider": entry.id, "error_code": error_code,
                "expires_at_ms": success.and_then(|s| s.0), "refresh_token_rotated": success.map(|s| s.1),
            }),
        );
        row.connection_id = Some(connection_id.into());
        row.outcome = outcome.into();
        let id = connection_id.to_string();
        let now = self.clock().now_ms();
        let failure = failure.map(|(c, m, s)| (c.to_string(), m, s));
        self.writer()
            .transact(Durability::Normal, move |conn, audit| {
                audit.append(&row)?;
                if let Some((expires, _)) = success {
                    stored::set_token_expiry(conn, &id, expires)?;
                    stored::record_success(conn, &id, now)?;
                }
                if let Some((code, message, status)) = &failure {
                    stored::record_error(conn, &id, code, message, now, status)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Revokes an OAuth connection's grant at the provider (RFC 7009, by refresh token, else
    /// access token). `Ok(())` when the provider confirmed; `Err(why not)` otherwise, in words.
    pub(crate) async fn revoke_at_provider(&self, provider_id: &str, tokens: &StoredTokens) -> Result<(), String> {
        let entry = self.catalog_entry(provider_id).map_err(|_| format!("provider '{provider_id}' is not in this gateway's catalog"))?;
        let o = entry.oauth.clone().ok_or_else(|| format!("{} has no OAuth endpoints in the catalog", entry.name))?;
        let Some(url) = o.revoke_url.clone() else {
            return Err(format!("{} has no documented revocation endpoint; revoke Switchboard's access in {}'s settings", entry.name, entry.name));
        };
        let creds = self.client_creds(&entry).await.ok().flatten().ok_or_else(|| format!("no OAuth app is stored for {} to revoke with", entry.name))?;
        let (token, hint) = match &tokens.refresh_token {
            Some(r) => (r.as_str(), "refresh_token"),
            None => (tokens.access_token.as_str(), "access_token"),
        };
        // RFC 7009 by hand: the oauth2 crate refuses non-https revocation endpoints, and the
        // simulated providers and test servers are loopback http.
        let http = Http::new().map_err(|e| e.message)?;
        let mut form: Vec<(&str, &str)> = vec![("token", token), ("token_type_hint", hint)];
        let secret = creds.client_secret.as_ref().map(|s| s.expose().as_str());
        let basic = o.token_auth == TokenAuth::ClientSecretBasic;
        if !basic {
            form.push(("client_id", &creds.client_id));
            if let Some(s) = secret {
                form.push(("client_secret", s));
            }
        }
        for attempt in 0..2 {
            let mut req = http.client.post(&url).form(&form);
            if basic {
                req = req.basic_auth(&creds.client_id, secret);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) if r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE && attempt == 0 => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(r) => return Err(format!("{} answered the revocation with HTTP {}", entry.name, r.status().as_u16())),
                Err(e) => return Err(scrub(&format!("could not reach {} to revoke: {}", entry.name, e.without_url()), &[token])),
            }
        }
        Err(format!("{} was unavailable (HTTP 503) for the revocation", entry.name))
    }

    /// Stores the user's own OAuth app for `provider_id` in the keychain (replacing any). Audited
    /// `oauth_client.set` (FULL) without the id or secret.
    pub async fn oauth_client_set(
        &self,
        actor_id: &str,
        provider_id: &str,
        client_id: &str,
        client_secret: Option<Sensitive<String>>,
    ) -> Result<OAuthClientInfo, ApiError> {
        let entry = self.catalog_entry(provider_id)?;
        if entry.oauth.is_none() || self.sandbox_client(&entry.id).is_some() {
            return Err(ApiError::bad_request(format!(
                "{} {}",
                entry.name,
                if entry.oauth.is_none() { "does not connect with OAuth" } else { "uses the simulated provider's own OAuth app" }
            )));
        }
        let client_id = client_id.trim();
        let secret = client_secret.map(|s| s.expose().trim().to_string()).filter(|s| !s.is_empty());
        let bad = |s: &str| s.is_empty() || s.len() > 512 || s.chars().any(|c| c.is_control() || c.is_whitespace());
        if bad(client_id) || secret.as_deref().is_some_and(bad) {
            return Err(ApiError::bad_request("the client id (and secret) must be one line without spaces, at most 512 characters"));
        }
        let has_client_secret = secret.is_some();
        let value = serde_json::to_string(&StoredClient { client_id: client_id.to_string(), client_secret: secret })
            .map(Sensitive::new)
            .map_err(|e| ApiError::internal(format!("cannot encode the OAuth app: {e}")))?;
        let key = client_secret_key(&entry.id);
        let previous = {
            let secrets = self.secrets().clone();
            let key = key.clone();
            blocking(move || {
                let prev = secrets.get(&key)?;
                secrets.set(&key, &value)?;
                Ok(prev)
            })
            .await?
        };
        let mut row = NewAuditRow::system("oauth_client.set", serde_json::json!({ "provider": entry.id, "has_client_secret": has_client_secret }));
        row.actor_kind = switchboard_core::ActorKind::User;
        row.actor_id = actor_id.into();
        if let Err(e) = self.record(row, Durability::Full).await {
            let secrets = self.secrets().clone();
            let _ = blocking(move || {
                match previous {
                    Some(p) => secrets.set(&key, &p)?,
                    None => secrets.delete(&key)?,
                }
                Ok(())
            })
            .await;
            return Err(e);
        }
        Ok(OAuthClientInfo { provider: entry.id, has_client_secret })
    }

    /// The providers for which the user's own OAuth app is stored (never the id or secret).
    pub async fn oauth_clients_list(&self) -> Result<Vec<OAuthClientInfo>, ApiError> {
        let ids: Vec<String> =
            self.provider_catalog().providers.iter().filter(|p| p.oauth.is_some() && self.sandbox_client(&p.id).is_none()).map(|p| p.id.clone()).collect();
        let secrets = self.secrets().clone();
        blocking(move || {
            let mut out = Vec::new();
            for id in ids {
                if let Some(raw) = secrets.get(&client_secret_key(&id))? {
                    let has_client_secret = serde_json::from_str::<StoredClient>(raw.expose()).is_ok_and(|c| c.client_secret.is_some());
                    out.push(OAuthClientInfo { provider: id, has_client_secret });
                }
            }
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_accepted_once_and_only_its_own() {
        let mut s = OneTimeState::new(Sensitive::new("state-abc".into()), 1_000);
        assert_eq!(s.redeem(None, 1_001), Err(StateRefusal::Missing), "a response without state must be refused");
        assert_eq!(s.redeem(Some("state-xyz"), 1_001), Err(StateRefusal::Mismatch), "another flow's state must be refused");
        assert_eq!(s.redeem(Some("state-abc"), 1_002), Ok(()), "the flow's own state should be accepted");
        assert_eq!(s.redeem(Some("state-abc"), 1_003), Err(StateRefusal::Used), "a replayed state must be refused");
    }

    #[test]
    fn a_state_expires_after_ten_minutes() {
        let mut s = OneTimeState::new(Sensitive::new("state-abc".into()), 0);
        assert_eq!(s.redeem(Some("state-abc"), STATE_TTL_MS), Err(StateRefusal::Expired), "a state older than 10 minutes must be refused");
        let mut s = OneTimeState::new(Sensitive::new("state-abc".into()), 0);
        assert_eq!(s.redeem(Some("state-abc"), STATE_TTL_MS - 1), Ok(()), "a state just under 10 minutes old is still valid");
    }

    #[test]
    fn iss_must_name_the_server_switchboard_sent_the_user_to() {
        let expected = expected_issuer("https://accounts.example.com/o/oauth2/auth").expect("a URL");
        assert_eq!(expected, "https://accounts.example.com");
        assert!(check_iss(&expected, Some(true), Some("https://accounts.example.com")).is_ok(), "the right issuer is accepted");
        assert!(check_iss(&expected, Some(true), Some("https://accounts.example.com/")).is_ok(), "a trailing slash is the same issuer");
        let e = check_iss(&expected, None, Some("https://evil.example.net")).expect_err("a different issuer must be refused");
        assert!(e.contains("evil.example.net") && e.contains("mix-up"), "the refusal should name the foreign issuer: {e}");
        assert!(check_iss(&expected, Some(true), None).is_err(), "a provider that always sends iss must have sent it");
        assert!(check_iss(&expected, None, None).is_ok(), "a provider not known to send iss may omit it");
        assert!(check_iss(&expected, Some(false), None).is_ok(), "a provider that never sends iss may omit it");
    }

    #[test]
    fn redirect_uri_is_the_loopback_ip_literal_with_a_per_provider_path() {
        assert_eq!(redirect_uri(53124, "hubspot-sandbox"), "http://127.0.0.1:53124/oauth/callback/hubspot-sandbox");
        assert!(!redirect_uri(1, "x").contains("localhost"), "RFC 8252 recommends the IP literal, not localhost");
    }

    #[test]
    fn the_real_hubspot_is_refused_with_the_private_app_token_alternative() {
        let hubspot = switchboard_connectors::catalog().get("hubspot").expect("hubspot").clone();
        let o = hubspot.oauth.clone().expect("hubspot has oauth");
        let e = check_loopback(&hubspot, &o, false, false).expect_err("HubSpot accepts loopback redirects for testing only");
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert!(e.message.contains("private-app token") && e.message.contains("--api-key-stdin"), "the refusal should name the alternative: {}", e.message);
        assert!(check_loopback(&hubspot, &o, true, false).is_ok(), "the sandbox runs as HubSpot's test app, which accepts loopback");
    }

    #[test]
    fn callback_parameters_are_read_from_the_query() {
        let c = parse_callback("code=abc&state=s%2B1&iss=https%3A%2F%2Fa.example&error_description=x");
        assert_eq!((c.code.as_deref(), c.state.as_deref(), c.iss.as_deref()), (Some("abc"), Some("s+1"), Some("https://a.example")));
        assert!(c.error.is_none());
    }

    #[test]
    fn provider_text_never_carries_a_secret() {
        assert_eq!(scrub("bad code code-123 here", &["code-123"]), "bad code [redacted] here");
    }
}
