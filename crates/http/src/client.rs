//! [`PacedClient`]: the async HTTP client every provider call goes through.
//!
//! # How a call flows
//! 1. [`PacedClient::send`] puts a ticket in the account's [`AccountPacer`] (the agent's lane of
//!    the fair queue) and waits on a oneshot channel.
//! 2. One **driver task per account** owns the waiting: it polls the pacer, releases the tickets
//!    the limiter admits, fails those past their deadline, then sleeps until the pacer's
//!    `wake_at` or until it is notified (a new ticket, a response that changed the budget). No
//!    busy-wait: the task is idle on a `Notify` when nothing is queued. One task per account
//!    keeps each account's order and fairness decisions in one place, and an account that is
//!    paused by `Retry-After` cannot delay any other account.
//! 3. The caller sends the request (reqwest; redirects are not followed; per-request timeout),
//!    feeds the response's status and headers to the limiter ([`parse_signals`]): a 429 or
//!    `Retry-After` pauses the **whole account**, remaining-budget headers tune it.
//! 4. On 429, 408 and 5xx (and timeouts / network errors) it asks [`RetryPolicy::decide`]: a call
//!    that is not [`retry_safe`](OutboundRequest::retry_safe) is never retried; others get
//!    bounded, jittered backoff that never comes before `Retry-After`, and each retry queues
//!    again behind the account's budget. Retries must be *sent* before the call's deadline.
//!
//! # What a caller gets back
//! * `Ok(ProviderResponse)` for **every** answer the provider gave, including a final 429 or 5xx
//!   after retries ran out: the caller maps a non-success status to the public code
//!   `provider_error` (the body is the provider's own error, for the message).
//! * `Err(SendError::RateLimited)` → `rate_limited`: the call waited for budget past its
//!   deadline (or the account's queue was full) and **was not sent**.
//! * `Err(SendError::Unreachable)` → `provider_unreachable`: no answer (timeout, refused or
//!   broken connection) on the last attempt, after the retries the request allowed.
//! * `Err(SendError::UnknownAccount | InvalidRequest)` → `internal`: a wiring bug (no budget
//!   registered, a header that is not valid HTTP).
//!
//! Nothing here logs a header value, a URL query or a body: tracing carries the account, agent,
//! status, attempt number and time waited.
//!
//! # Cancellation
//! Dropping a `send` future is safe: a call in flight hands its slot back to the limiter; a call
//! still queued is skipped when its turn comes, but the budget slot it was given counts as spent
//! for that window (the provider may be counting differently, so erring low is the safe side).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use switchboard_core::{Clock, ErrorCode, Sensitive, SystemClock};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use crate::budget::Budget;
use crate::history::{Bucket, History};
use crate::limiter::{AccountLimiter, LimiterStatus};
use crate::queue::{AccountPacer, PacingError};
use crate::retry::{Attempt, Decision, Outcome, RetryPolicy};
use crate::signal::{parse_retry_after, parse_signals};

pub use reqwest::Method;

/// Settings shared by every account of one [`PacedClient`].
#[derive(Clone)]
pub struct ClientConfig {
    /// Longest one attempt may take, from connecting to the last byte of the body.
    pub request_timeout: Duration,
    /// Longest the TCP/TLS connect of one attempt may take (within `request_timeout`).
    pub connect_timeout: Duration,
    /// Retry policy for every call; its `max_total_delay` is further capped by each deadline.
    pub retry: RetryPolicy,
    /// Calls one account may hold waiting for budget; beyond that `send` fails `rate_limited`.
    pub queue_capacity: usize,
    /// Wall clock, for HTTP-date `Retry-After` values and the per-minute history.
    pub clock: Arc<dyn Clock>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            queue_capacity: 10_000,
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("queue_capacity", &self.queue_capacity)
            .finish_non_exhaustive()
    }
}

/// The credential header of a request. Its value prints as `<redacted>` and is marked
/// sensitive on the wire request, so neither our logs nor reqwest's show it.
#[derive(Clone, Debug)]
pub struct AuthHeader {
    pub name: String,
    pub value: Sensitive<String>,
}

impl AuthHeader {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: &str) -> Self {
        Self {
            name: "authorization".into(),
            value: Sensitive::new(format!("Bearer {token}")),
        }
    }
}

/// One provider request, ready to send.
#[derive(Clone)]
pub struct OutboundRequest {
    pub method: Method,
    /// Absolute `http`/`https` URL.
    pub url: String,
    /// Headers other than the credential (`content-type`, `idempotency-key`, …).
    pub headers: Vec<(String, String)>,
    pub auth: Option<AuthHeader>,
    pub body: Vec<u8>,
    /// `true` for a read, or a write carrying an idempotency key **the provider honours**
    /// (Stripe's `Idempotency-Key`): such a call may be sent again after a timeout, 429 or 5xx.
    /// `false` (any other write) is sent at most once.
    pub retry_safe: bool,
    /// What this call costs in the account's budget unit: 1 for request limits, the method's
    /// quota units where the provider counts those (Gmail `messages.send` = 100).
    pub units: u32,
}

impl OutboundRequest {
    /// A `GET` (retry-safe) of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url, true)
    }

    /// A request with no headers, credential or body yet.
    pub fn new(method: Method, url: impl Into<String>, retry_safe: bool) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            auth: None,
            body: Vec::new(),
            retry_safe,
            units: 1,
        }
    }

    /// The call's cost in the budget's unit (at least 1).
    pub fn units(mut self, units: u32) -> Self {
        self.units = units.max(1);
        self
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn auth(mut self, auth: AuthHeader) -> Self {
        self.auth = Some(auth);
        self
    }

    /// A JSON body, with its content type.
    pub fn json_body(mut self, body: Vec<u8>) -> Self {
        self.headers
            .push(("content-type".into(), "application/json".into()));
        self.body = body;
        self
    }
}

/// Headers and body are left out: they may carry personal data or echoed credentials.
impl fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("OutboundRequest")
            .field("method", &self.method)
            .field("url", &redacted_url(&self.url))
            .field("header_names", &names)
            .field("auth", &self.auth.as_ref().map(|a| a.name.as_str()))
            .field("body_len", &self.body.len())
            .field("retry_safe", &self.retry_safe)
            .finish()
    }
}

/// The provider's answer to the last attempt.
#[derive(Clone)]
pub struct ProviderResponse {
    pub status: u16,
    /// Header names are lower-case; values that are not UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Attempts sent, including this one.
    pub attempts: u32,
    /// Time spent waiting for the account's budget, over all attempts (backoff not included).
    pub waited_ms: u64,
}

impl ProviderResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for ProviderResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderResponse")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .field("waited_ms", &self.waited_ms)
            .finish_non_exhaustive()
    }
}

/// Why the provider could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unreachable {
    #[error("no answer within {timeout_ms} ms")]
    Timeout { timeout_ms: u64 },
    #[error("the connection could not be opened")]
    Connect,
    #[error("the connection broke before the answer was complete")]
    Broken,
}

/// Why [`PacedClient::send`] returned no provider answer. See [`SendError::code`].
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Waited for budget past the deadline, or the queue was full. The request was not sent.
    #[error(transparent)]
    RateLimited(#[from] PacingError),
    #[error(
        "the provider could not be reached after {attempts} attempt(s): {reason}{}",
        if *retry_safe { "" } else { " (a write is not re-sent: it may have been applied)" }
    )]
    Unreachable {
        attempts: u32,
        reason: Unreachable,
        retry_safe: bool,
    },
    #[error(
        "connection {account} has no rate-limit budget registered (or was removed while the call waited)"
    )]
    UnknownAccount { account: String },
    #[error("the provider request could not be built: {0}")]
    InvalidRequest(String),
}

impl SendError {
    /// The public error code: `rate_limited`, `provider_unreachable` or `internal`.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::RateLimited(_) => ErrorCode::RateLimited,
            Self::Unreachable { .. } => ErrorCode::ProviderUnreachable,
            Self::UnknownAccount { .. } | Self::InvalidRequest(_) => ErrorCode::Internal,
        }
    }
}

/// Async, cloneable (one `Arc` inside), owns one pacer per provider account. Create one per
/// gateway and share it; see the [module docs](self) for the flow and the error mapping.
#[derive(Clone)]
pub struct PacedClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    time: Timebase,
    accounts: Mutex<HashMap<String, Arc<Account>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for acct in lock(&self.accounts).values() {
            acct.stop();
        }
    }
}

/// The pacer's timeline (`Duration` since the client was built) and the wall clock.
#[derive(Clone)]
struct Timebase {
    origin: tokio::time::Instant,
    clock: Arc<dyn Clock>,
}

impl Timebase {
    fn now(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.origin)
    }
    fn of(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.origin.into_std())
    }
    fn instant(&self, at: Duration) -> tokio::time::Instant {
        self.origin + at
    }
    fn wall_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// A queued call: its wake-up channel and its cost in budget units.
type Ticket = (oneshot::Sender<Result<(), PacingError>>, u32);

struct Account {
    state: Mutex<AccountState>,
    wake: Notify,
    driver: Mutex<Option<JoinHandle<()>>>,
}

struct AccountState {
    pacer: AccountPacer<String, Ticket>,
    history: History,
    budget: Budget,
    removed: bool,
}

impl Account {
    fn stop(&self) {
        if let Some(d) = lock(&self.driver).take() {
            d.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded state stays consistent between statements; a panic elsewhere must not wedge
    // every later call on the account.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl PacedClient {
    /// A client with [`ClientConfig::default`].
    pub fn new() -> Result<Self, SendError> {
        Self::with_config(ClientConfig::default())
    }

    pub fn with_config(config: ClientConfig) -> Result<Self, SendError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| SendError::InvalidRequest(format!("HTTP client: {}", e.without_url())))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                time: Timebase {
                    origin: tokio::time::Instant::now(),
                    clock: config.clock.clone(),
                },
                config,
                accounts: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Starts pacing `account` (a connection id) under `budget`; for a provider documenting
    /// several limits pass [`Budget::tightest`] of them. Idempotent: registering again with the
    /// same budget keeps the account's state; a different budget replaces its limiter (calls
    /// already queued stay queued). Needs no runtime; the account's driver starts on first send.
    pub fn register(&self, account: &str, budget: Budget) {
        let mut accounts = lock(&self.inner.accounts);
        if let Some(acct) = accounts.get(account) {
            let mut st = lock(&acct.state);
            if st.budget != budget {
                st.pacer.limiter = AccountLimiter::new(budget, self.inner.time.now());
                st.budget = budget;
                drop(st);
                acct.wake.notify_one();
            }
            return;
        }
        let now = self.inner.time.now();
        accounts.insert(
            account.to_owned(),
            Arc::new(Account {
                state: Mutex::new(AccountState {
                    pacer: AccountPacer::new(budget, self.inner.config.queue_capacity, now),
                    history: History::new(),
                    budget,
                    removed: false,
                }),
                wake: Notify::new(),
                driver: Mutex::new(None),
            }),
        );
    }

    /// Stops pacing `account` (the connection was removed). Calls still waiting fail with
    /// [`SendError::UnknownAccount`]; its status and history are gone.
    pub fn forget(&self, account: &str) {
        let Some(acct) = lock(&self.inner.accounts).remove(account) else {
            return;
        };
        acct.stop();
        let mut st = lock(&acct.state);
        st.removed = true;
        // Dropping the queue drops every waiting ticket: their callers wake with an error.
        let budget = st.budget;
        st.pacer = AccountPacer::new(budget, 0, self.inner.time.now());
    }

    /// Live status of `account`: budget left, calls queued and in flight, recent 429s.
    pub fn status(&self, account: &str) -> Option<LimiterStatus> {
        let acct = self.get(account)?;
        let now = self.inner.time.now();
        let mut st = lock(&acct.state);
        Some(st.pacer.status(now))
    }

    /// The last hour of `account`, one [`Bucket`] per minute, oldest first (60 entries).
    pub fn history(&self, account: &str) -> Option<Vec<Bucket>> {
        let acct = self.get(account)?;
        let st = lock(&acct.state);
        Some(st.history.buckets(self.inner.time.wall_ms()))
    }

    /// Accounts currently registered.
    pub fn accounts(&self) -> Vec<String> {
        let mut v: Vec<String> = lock(&self.inner.accounts).keys().cloned().collect();
        v.sort();
        v
    }

    /// Sends `req` on `account`'s budget on behalf of `agent`, retrying as the request allows.
    /// `deadline`: the latest moment any attempt may be *sent*; a call still waiting for budget
    /// then fails `rate_limited` unsent. See the [module docs](self) for what each outcome means.
    pub async fn send(
        &self,
        account: &str,
        agent: &str,
        req: OutboundRequest,
        deadline: Instant,
    ) -> Result<ProviderResponse, SendError> {
        let acct = self.get(account).ok_or_else(|| SendError::UnknownAccount {
            account: account.to_owned(),
        })?;
        let (url, headers) = build(&req)?;
        self.ensure_driver(&acct);
        let time = &self.inner.time;
        let deadline_at = time.of(deadline);
        let mut waited = Duration::ZERO;
        let mut first_sent_at = None;
        let mut last: Option<Result<ProviderResponse, Unreachable>> = None;
        let mut number = 1u32;
        loop {
            // 1. Wait for the account's budget.
            let queued_at = time.now();
            let (tx, rx) = oneshot::channel();
            {
                let mut st = lock(&acct.state);
                if st.removed {
                    return Err(SendError::UnknownAccount {
                        account: account.to_owned(),
                    });
                }
                st.pacer
                    .enqueue(agent.to_owned(), (tx, req.units), queued_at, deadline_at)
                    .map_err(|(_, e)| SendError::RateLimited(e))?;
                let depth = st.pacer.queued();
                st.history.record_queue_depth(time.wall_ms(), depth);
            }
            acct.wake.notify_one();
            let admitted = rx.await;
            let sent_at = time.now();
            waited += sent_at.saturating_sub(queued_at);
            match admitted {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::info!(
                        account,
                        agent,
                        attempt = number,
                        waited_ms = millis(waited),
                        "call passed its deadline waiting for budget"
                    );
                    return match last {
                        Some(Ok(mut resp)) => {
                            resp.waited_ms = millis(waited);
                            Ok(resp)
                        }
                        Some(Err(reason)) => Err(SendError::Unreachable {
                            attempts: number - 1,
                            reason,
                            retry_safe: req.retry_safe,
                        }),
                        None => Err(SendError::RateLimited(e)),
                    };
                }
                Err(_) => {
                    return Err(SendError::UnknownAccount {
                        account: account.to_owned(),
                    });
                }
            }
            let first = *first_sent_at.get_or_insert(sent_at);

            // 2. Send it; the guard releases the in-flight slot if this future is dropped.
            let guard = InFlight {
                acct: &acct,
                time,
                units: req.units,
                armed: true,
            };
            tracing::debug!(
                account,
                agent,
                attempt = number,
                waited_ms = millis(waited),
                "sending provider request"
            );
            let result = self.execute(&req, url.clone(), headers.clone()).await;
            let now = time.now();
            let outcome = match &result {
                Ok(resp) => {
                    let wall = time.wall_ms();
                    let signals = parse_signals(resp.status, &resp.headers, wall);
                    {
                        let mut st = lock(&acct.state);
                        st.pacer.limiter.on_response_units(&signals, now, req.units);
                        if resp.status == 429 {
                            st.history.record_throttled(wall);
                        }
                    }
                    guard.disarm();
                    acct.wake.notify_one();
                    tracing::debug!(
                        account,
                        agent,
                        attempt = number,
                        status = resp.status,
                        "provider answered"
                    );
                    Outcome::Status {
                        code: resp.status,
                        retry_after: resp
                            .header("retry-after")
                            .and_then(|v| parse_retry_after(v, wall)),
                    }
                }
                Err(reason) => {
                    lock(&acct.state).pacer.limiter.on_no_response_units(now, req.units);
                    guard.disarm();
                    acct.wake.notify_one();
                    tracing::info!(account, agent, attempt = number, %reason, "provider unreachable");
                    match reason {
                        Unreachable::Timeout { .. } => Outcome::Timeout,
                        _ => Outcome::Network,
                    }
                }
            };
            last = Some(result.map(|mut r| {
                r.attempts = number;
                r.waited_ms = millis(waited);
                r
            }));

            // 3. Retry or hand back what happened.
            let policy = RetryPolicy {
                max_total_delay: self
                    .inner
                    .config
                    .retry
                    .max_total_delay
                    .min(deadline_at.saturating_sub(first)),
                ..self.inner.config.retry
            };
            let attempt = Attempt {
                number,
                first_sent_at: first,
                is_write: !req.retry_safe,
                idempotency_key_present: false,
            };
            let decision = policy.decide(&attempt, &outcome, now, &mut rand::rng());
            match decision {
                Decision::Retry { after } => {
                    tracing::info!(
                        account,
                        agent,
                        attempt = number,
                        backoff_ms = millis(after),
                        "retrying provider request"
                    );
                    tokio::time::sleep(after).await;
                    number += 1;
                }
                Decision::GiveUp(why) => {
                    tracing::debug!(account, agent, attempt = number, %why, "not retrying");
                    return match last {
                        Some(Ok(resp)) => Ok(resp),
                        Some(Err(reason)) => Err(SendError::Unreachable {
                            attempts: number,
                            reason,
                            retry_safe: req.retry_safe,
                        }),
                        // `last` was set just above.
                        None => Err(SendError::InvalidRequest("no attempt recorded".into())),
                    };
                }
            }
        }
    }

    fn get(&self, account: &str) -> Option<Arc<Account>> {
        lock(&self.inner.accounts).get(account).cloned()
    }

    fn ensure_driver(&self, acct: &Arc<Account>) {
        let mut driver = lock(&acct.driver);
        if driver.as_ref().is_none_or(|d| d.is_finished()) {
            *driver = Some(tokio::spawn(drive(acct.clone(), self.inner.time.clone())));
        }
    }

    async fn execute(
        &self,
        req: &OutboundRequest,
        url: reqwest::Url,
        headers: HeaderMap,
    ) -> Result<ProviderResponse, Unreachable> {
        let timeout = self.inner.config.request_timeout;
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                Unreachable::Timeout {
                    timeout_ms: millis(timeout),
                }
            } else if e.is_connect() {
                Unreachable::Connect
            } else {
                Unreachable::Broken
            }
        };
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), url)
            .headers(headers)
            .timeout(timeout);
        if !req.body.is_empty() {
            rb = rb.body(req.body.clone());
        }
        let resp = rb.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.bytes().await.map_err(classify)?.to_vec();
        Ok(ProviderResponse {
            status,
            headers,
            body,
            attempts: 1,
            waited_ms: 0,
        })
    }
}

/// Releases the limiter's in-flight slot if the sending future is dropped mid-request.
struct InFlight<'a> {
    acct: &'a Account,
    time: &'a Timebase,
    units: u32,
    armed: bool,
}

impl InFlight<'_> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.armed {
            lock(&self.acct.state)
                .pacer
                .limiter
                .on_no_response_units(self.time.now(), self.units);
            self.acct.wake.notify_one();
        }
    }
}

/// The account's driver: releases admitted tickets, fails expired ones, sleeps until the pacer
/// says or until woken.
async fn drive(acct: Arc<Account>, time: Timebase) {
    loop {
        let wake_at = {
            let mut st = lock(&acct.state);
            let now = time.now();
            let poll = st.pacer.poll_by(now, |t| t.1);
            let wall = time.wall_ms();
            for (_agent, (ticket, units)) in poll.ready {
                if ticket.send(Ok(())).is_ok() {
                    st.history.record_sent(wall);
                } else {
                    // The caller gave up while queued: hand the slot back.
                    st.pacer.limiter.on_no_response_units(now, units);
                }
            }
            for (_agent, (ticket, _), err) in poll.failed {
                let _ = ticket.send(Err(err));
            }
            poll.wake_at
        };
        match wake_at {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(time.instant(at)) => {}
                    () = acct.wake.notified() => {}
                }
            }
            None => acct.wake.notified().await,
        }
    }
}

fn build(req: &OutboundRequest) -> Result<(reqwest::Url, HeaderMap), SendError> {
    let url = reqwest::Url::parse(&req.url)
        .map_err(|e| SendError::InvalidRequest(format!("URL {}: {e}", redacted_url(&req.url))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SendError::InvalidRequest(format!(
            "URL scheme {} is not http or https",
            url.scheme()
        )));
    }
    let mut headers = HeaderMap::with_capacity(req.headers.len() + 1);
    for (name, value) in &req.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| SendError::InvalidRequest(format!("header name {name:?} is not valid")))?;
        let v = HeaderValue::from_str(value).map_err(|_| {
            SendError::InvalidRequest(format!("the value of header {name} is not valid"))
        })?;
        headers.append(n, v);
    }
    if let Some(auth) = &req.auth {
        let n = HeaderName::from_bytes(auth.name.as_bytes()).map_err(|_| {
            SendError::InvalidRequest(format!(
                "credential header name {:?} is not valid",
                auth.name
            ))
        })?;
        let mut v = HeaderValue::from_str(auth.value.expose()).map_err(|_| {
            SendError::InvalidRequest("the credential is not a valid header value".into())
        })?;
        v.set_sensitive(true);
        headers.insert(n, v);
    }
    Ok((url, headers))
}

/// Scheme, host and path only: a query may carry a key (`?hapikey=…`).
fn redacted_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_owned(),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_never_print_their_credential_body_or_query() {
        let req = OutboundRequest::new(
            Method::POST,
            "https://api.example.com/v1/things?api_key=canary-key",
            false,
        )
        .header("x-note", "canary-header")
        .auth(AuthHeader::bearer("canary-token"))
        .json_body(b"{\"secret\":\"canary-body\"}".to_vec());
        let shown = format!("{req:?}");
        for canary in ["canary-key", "canary-header", "canary-token", "canary-body"] {
            assert!(!shown.contains(canary), "{canary} leaked into {shown}");
        }
        assert!(shown.contains("api.example.com/v1/things"));
    }

    #[test]
    fn the_credential_header_is_marked_sensitive() {
        let req = OutboundRequest::get("http://127.0.0.1:1/x").auth(AuthHeader::bearer("t"));
        let (_, headers) = build(&req).expect("valid request");
        let v = headers.get("authorization").expect("auth header set");
        assert!(v.is_sensitive());
        assert_eq!(v.to_str().ok(), Some("Bearer t"));
    }

    #[test]
    fn bad_requests_are_refused_without_echoing_values() {
        let bad = OutboundRequest::get("http://127.0.0.1:1/x").header("x-a", "line\nbreak-canary");
        let err = build(&bad).expect_err("a newline is not a header value");
        assert!(!err.to_string().contains("canary"));
        assert_eq!(err.code(), ErrorCode::Internal);
        assert!(build(&OutboundRequest::get("file:///etc/passwd")).is_err());
    }
}
