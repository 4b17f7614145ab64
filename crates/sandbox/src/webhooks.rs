//! Webhook delivery for simulated providers: who is subscribed, and the signed POSTs.
//!
//! A provider keeps one [`Outbox`]. When its simulated state changes (an invoice is paid, a
//! message is posted, a contact is created) it calls [`Outbox::send`] with a closure that signs
//! the delivery for one subscriber exactly as the real provider signs it. Each delivery is its
//! own task, so the API answer that caused it never waits for the subscriber. Every attempt is
//! recorded ([`Outbox::deliveries`]), and [`Outbox::settle`] waits until none is in flight, so a
//! test can say "after the deliveries landed".
//!
//! Subscriptions are made the provider's way: Stripe's `POST /v1/webhook_endpoints` (and
//! [`crate::stripe::StripeSim::subscribe`] for the app-level endpoint), Slack's Event
//! Subscriptions request URL with its `url_verification` handshake
//! ([`crate::slack::SlackSim::set_request_url`]), HubSpot's app target URL.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;

/// How long one delivery may take before it counts as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// One subscribed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// The provider's id for the subscription (`we_…` for Stripe).
    pub id: String,
    pub url: String,
    /// What the deliveries are signed with (Stripe's endpoint secret, Slack's signing secret,
    /// HubSpot's client secret).
    pub secret: String,
    /// Event types it receives; `*` is every type.
    pub events: Vec<String>,
}

impl Subscriber {
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == event_type)
    }
}

/// A request ready to send: headers and the exact bytes that were signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub subscriber: String,
    pub url: String,
    pub event_type: String,
    /// The provider event ids it carried.
    pub event_ids: Vec<String>,
    /// The subscriber's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why it failed, when it did not get an answer.
    pub error: Option<String>,
}

/// A provider's subscribers and its delivery log.
#[derive(Default)]
pub struct Outbox {
    subscribers: Mutex<Vec<Subscriber>>,
    log: Mutex<Vec<DeliveryRecord>>,
    in_flight: AtomicUsize,
    idle: Notify,
    client: OnceLock<Option<reqwest::Client>>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("subscribers", &lock(&self.subscribers).len())
            .field("delivered", &lock(&self.log).len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Outbox {
    /// Adds (or replaces, by id) a subscriber.
    pub fn subscribe(&self, s: Subscriber) {
        let mut subs = lock(&self.subscribers);
        subs.retain(|x| x.id != s.id);
        subs.push(s);
    }

    /// Removes a subscriber; false when there was none with that id.
    pub fn unsubscribe(&self, id: &str) -> bool {
        let mut subs = lock(&self.subscribers);
        let before = subs.len();
        subs.retain(|x| x.id != id);
        subs.len() != before
    }

    pub fn subscribers(&self) -> Vec<Subscriber> {
        lock(&self.subscribers).clone()
    }

    /// Every delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        lock(&self.log).clone()
    }

    /// Waits until no delivery is in flight (or `timeout` passed); whether it is idle.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.idle.notified();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.in_flight.load(Ordering::SeqCst) == 0;
            }
        }
    }

    fn client(&self) -> Option<reqwest::Client> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .no_proxy()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(DELIVERY_TIMEOUT)
                    .build()
                    .ok()
            })
            .clone()
    }

    /// POSTs `signed` to `url` and waits for the answer: `(status, body)`.
    pub async fn post(&self, url: &str, signed: &Signed) -> Result<(u16, String), String> {
        let client = self
            .client()
            .ok_or("the delivery client could not be built")?;
        let mut req = client.post(url).body(signed.body.clone());
        for (k, v) in &signed.headers {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("could not deliver to {url}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Ok((status, body))
    }

    /// Delivers an event of `event_type` to every subscriber that wants it, each signed by
    /// `sign`, in the background. Returns how many deliveries were started.
    pub fn send(
        self: &Arc<Self>,
        event_type: &str,
        event_ids: &[String],
        sign: impl Fn(&Subscriber) -> Signed,
    ) -> usize {
        let targets: Vec<Subscriber> = lock(&self.subscribers)
            .iter()
            .filter(|s| s.wants(event_type))
            .cloned()
            .collect();
        let mut started = 0;
        for sub in targets {
            let signed = sign(&sub);
            let mut record = DeliveryRecord {
                subscriber: sub.id.clone(),
                url: sub.url.clone(),
                event_type: event_type.to_string(),
                event_ids: event_ids.to_vec(),
                status: None,
                error: None,
            };
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                record.error = Some("no async runtime to deliver from".into());
                lock(&self.log).push(record);
                continue;
            };
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let outbox = self.clone();
            runtime.spawn(async move {
                match outbox.post(&sub.url, &signed).await {
                    Ok((status, _)) => record.status = Some(status),
                    Err(e) => record.error = Some(e),
                }
                lock(&outbox.log).push(record);
                if outbox.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                    outbox.idle.notify_waiters();
                }
            });
            started += 1;
        }
        started
    }
}
