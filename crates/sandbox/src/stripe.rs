//! Stripe, simulated (test mode): secret and restricted keys (`sk_test_…`, `rk_test_…`) sent as
//! `Authorization: Bearer`, the `/v1` customers, subscriptions, invoices, invoice items, charges,
//! payment intents, refunds, credit notes (module `credit_notes`), customer balance transactions and
//! events endpoints with Stripe's list shape (`object: "list"`, `data`, `has_more`, `url`,
//! `starting_after` / `ending_before`), `expand[]` (module `expand`), form-encoded bodies with the
//! bracket syntax (`metadata[key]`, `lines[0][amount]`), Stripe's error bodies
//! (`parameter_unknown`, `parameter_missing`, `parameter_invalid_integer`, `resource_missing`,
//! `idempotency_error`, the restricted-key 403), `Idempotency-Key` replay, and the test-mode
//! rate limit (25 requests per second per account) with Stripe's 429.
//!
//! Every change emits Stripe's `event` object (`customer.created`, `invoice.created`,
//! `invoice.finalized`, `invoice.payment_succeeded`, `invoice.paid`, …), listed by
//! `GET /v1/events` newest first with `type` / `types[]`, `created[gt|gte|lt|lte]` and the
//! cursors, and delivered in the background to each webhook endpoint that enabled its type
//! (`POST /v1/webhook_endpoints`, secret keys only, or [`StripeSim::subscribe`]), signed with
//! that endpoint's `whsec_…` exactly as Stripe signs ([`sign_event`]).
//!
//! The seeded account is deterministic in ids and amounts; timestamps are offsets from the UTC
//! day the server started, so an "overdue" invoice is overdue and an active subscription renews
//! in the future whenever the sandbox runs.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::ratelimit::SlidingWindow;
use crate::webhooks::{Outbox, Signed, Subscriber};
use crate::{SandboxContext, SimulatedProvider, Stats};

mod credit_notes;
mod expand;

/// A secret key of the sandbox account: every permission.
pub const SECRET_KEY: &str = "sk_test_51SbxSwitchboardSecretKey000000000000000001";
/// A restricted key with read permissions only (customers, invoices, subscriptions, charges,
/// payment intents, credit notes, events).
pub const READ_ONLY_KEY: &str = "rk_test_51SbxSwitchboardReadOnly00000000000000000001";
/// A restricted key for billing work: the read permissions plus invoice, customer, credit note
/// and charge (refund) writes.
pub const BILLING_KEY: &str = "rk_test_51SbxSwitchboardBilling000000000000000000001";
/// A restricted key that may read customers and nothing else.
pub const CUSTOMERS_ONLY_KEY: &str = "rk_test_51SbxSwitchboardCustomers0000000000000000001";
/// The webhook endpoint secret the sandbox signs events with.
pub const WEBHOOK_SECRET: &str = "whsec_sbxSwitchboardWebhookSecret0001";
/// Stripe API version the shapes follow (the spec subset's `info.version`).
pub const API_VERSION: &str = "2023-08-16";
/// The sandbox account id (in restricted-key errors).
pub const ACCOUNT_ID: &str = "acct_1SbxSwitchboard";

/// The seeded customer with several subscriptions (active, past_due, canceled).
pub const MULTI_SUB_CUSTOMER: &str = "cus_SbxAdaLovelace";
/// The seeded customer with an overdue (open, past its due date) invoice.
pub const OVERDUE_CUSTOMER: &str = "cus_SbxGraceHopper";
/// Email of [`OVERDUE_CUSTOMER`].
pub const OVERDUE_EMAIL: &str = "grace@cobol.example";
/// The overdue invoice.
pub const OVERDUE_INVOICE: &str = "in_SbxGraceOverdue01";
/// A succeeded, unrefunded charge of 5,000 cents.
pub const REFUNDABLE_CHARGE: &str = "ch_SbxAlanRefundable1";
/// Number of seeded customers.
pub const SEEDED_CUSTOMERS: usize = 10;

const READ_PERMISSIONS: &[&str] = &[
    "customer_read",
    "invoice_read",
    "subscription_read",
    "charge_read",
    "payment_intent_read",
    "credit_note_read",
    "event_read",
];
const WRITE_PERMISSIONS: &[&str] = &["customer_write", "invoice_write", "credit_note_write", "charge_write"];

/// Rules of the simulated Stripe account.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// Keys and their permissions (`None`: a secret key, every permission).
    pub keys: Vec<(String, Option<Vec<String>>)>,
    /// Requests per rolling window. Default 25 per second: Stripe's documented test-mode limit.
    pub rate_limit_max: u32,
    /// Window length (1 s).
    pub rate_limit_interval: Duration,
    /// Fault knob: for each path listed (e.g. `/v1/refunds`), the first POST to it is applied
    /// but its answer is lost: the caller gets Stripe's 500 `api_error` instead. This is the
    /// failure `Idempotency-Key` exists for; a retry with the same key gets the saved answer.
    pub lose_first_answer_on: Vec<String>,
}

impl Default for StripeConfig {
    fn default() -> Self {
        let owned = |l: &[&str]| l.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let mut billing = owned(READ_PERMISSIONS);
        billing.extend(owned(WRITE_PERMISSIONS));
        Self {
            keys: vec![
                (SECRET_KEY.into(), None),
                (READ_ONLY_KEY.into(), Some(owned(READ_PERMISSIONS))),
                (BILLING_KEY.into(), Some(billing)),
                (CUSTOMERS_ONLY_KEY.into(), Some(vec!["customer_read".into()])),
            ],
            rate_limit_max: 25,
            rate_limit_interval: Duration::from_secs(1),
            lose_first_answer_on: Vec::new(),
        }
    }
}

impl StripeConfig {
    /// The same account with a different limit.
    pub fn with_rate_limit(mut self, max: u32, interval: Duration) -> Self {
        self.rate_limit_max = max;
        self.rate_limit_interval = interval;
        self
    }
}

/// The simulated Stripe provider (`stripe-sandbox`). Clones share one account ([`StripeSim`]).
#[derive(Debug, Clone, Default)]
pub struct StripeSandbox {
    /// Its rules.
    pub config: StripeConfig,
    sim: StripeSim,
}

impl StripeSandbox {
    /// A simulated Stripe account with these rules.
    pub fn new(config: StripeConfig) -> Self {
        Self { config, sim: StripeSim::default() }
    }

    /// The account's state and webhook endpoints, shared with every server started from this
    /// provider (or a clone of it).
    pub fn simulator(&self) -> StripeSim {
        self.sim.clone()
    }
}

/// The simulated account itself: its objects, events and webhook endpoints. Cheap to clone.
#[derive(Clone)]
pub struct StripeSim {
    data: Arc<Mutex<Data>>,
    outbox: Arc<Outbox>,
}

impl Default for StripeSim {
    fn default() -> Self {
        let outbox = Arc::new(Outbox::default());
        Self { data: Arc::new(Mutex::new(Data::seed(day_anchor(), outbox.clone()))), outbox }
    }
}

impl std::fmt::Debug for StripeSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSim").field("outbox", &self.outbox).finish_non_exhaustive()
    }
}

impl StripeSim {
    /// Adds a webhook endpoint for every event type at `url`, signed with [`WEBHOOK_SECRET`]
    /// (as a person does in the Dashboard); its `we_…` id.
    pub fn subscribe(&self, url: &str) -> String {
        let id = lock(&self.data).new_id("we");
        self.outbox.subscribe(Subscriber { id: id.clone(), url: url.into(), secret: WEBHOOK_SECRET.into(), events: vec!["*".into()] });
        id
    }

    /// The webhook deliveries and their subscribers.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// A person adds a customer in the Dashboard (`customer.created`); the new customer.
    pub fn create_customer(&self, name: &str, email: &str) -> Value {
        let mut d = lock(&self.data);
        let id = d.new_id("cus");
        let c = customer(&id, name, email, now());
        d.customers.push(c.clone());
        d.emit("customer.created", &c, None);
        c
    }

    /// Every event the account has, oldest first.
    pub fn events(&self) -> Vec<Value> {
        lock(&self.data).events.clone()
    }
}

impl SimulatedProvider for StripeSandbox {
    fn id(&self) -> &'static str {
        "stripe-sandbox"
    }

    fn router(&self, ctx: SandboxContext) -> Router {
        let shared = Arc::new(Shared {
            keys: self.config.keys.clone(),
            limiter: SlidingWindow::new(self.config.rate_limit_max, self.config.rate_limit_interval),
            data: self.sim.data.clone(),
            idempotency: Mutex::new(HashMap::new()),
            lose: Mutex::new(self.config.lose_first_answer_on.clone()),
            stats: ctx.stats,
        });
        Router::new().route("/v1/{*rest}", any(dispatch)).with_state(shared)
    }
}

// ---- webhooks -------------------------------------------------------------------------------

/// The `Stripe-Signature` header value for `payload` sent at unix time `timestamp`:
/// `t={timestamp},v1={hex HMAC-SHA256(secret, "{timestamp}.{payload}")}`, as Stripe signs.
pub fn sign_event(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature_v1(secret, timestamp, payload))
}

/// The hex `v1` signature alone.
pub fn signature_v1(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// A Stripe `event` object of `event_type` (e.g. `invoice.finalized`) about `object`.
pub fn event(id: &str, event_type: &str, created: i64, object: Value, idempotency_key: Option<&str>) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": request_id(), "idempotency_key": idempotency_key },
        "type": event_type,
    })
}

// ---- state ----------------------------------------------------------------------------------

struct Shared {
    keys: Vec<(String, Option<Vec<String>>)>,
    limiter: SlidingWindow,
    data: Arc<Mutex<Data>>,
    /// (key, Idempotency-Key) → the first request's fingerprint and answer.
    idempotency: Mutex<HashMap<(String, String), Saved>>,
    /// Paths whose next applied POST answer is lost (see [`StripeConfig::lose_first_answer_on`]).
    lose: Mutex<Vec<String>>,
    stats: Arc<Stats>,
}

struct Saved {
    fingerprint: String,
    status: StatusCode,
    body: Value,
}

type St = State<Arc<Shared>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn day_anchor() -> i64 {
    let n = now();
    n - n.rem_euclid(86_400)
}

fn request_id() -> String {
    let b: [u8; 7] = rand::random();
    format!("req_{}", hex::encode(b))
}

const DAY: i64 = 86_400;

struct Data {
    customers: Vec<Value>,
    subscriptions: Vec<Value>,
    invoices: Vec<Value>,
    invoice_items: Vec<Value>,
    charges: Vec<Value>,
    payment_intents: Vec<Value>,
    refunds: Vec<Value>,
    balance_transactions: Vec<Value>,
    credit_notes: Vec<Value>,
    events: Vec<Value>,
    /// A draft invoice's `days_until_due`, applied when it is finalized (Stripe keeps it on the
    /// invoice; API 2023-08-16 does not show it).
    due_in_days: HashMap<String, i64>,
    next: u64,
    /// Webhook endpoints and deliveries: every emitted event goes out through it.
    outbox: Arc<Outbox>,
}

fn customer(id: &str, name: &str, email: &str, created: i64) -> Value {
    json!({
        "id": id, "object": "customer", "address": null, "balance": 0, "created": created,
        "currency": "usd", "default_source": null, "delinquent": false, "description": null,
        "discount": null, "email": email, "invoice_prefix": id[4..12].to_uppercase(),
        "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null },
        "livemode": false, "metadata": {}, "name": name, "next_invoice_sequence": 1, "phone": null,
        "preferred_locales": [], "shipping": null, "tax_exempt": "none", "test_clock": null,
    })
}

#[allow(clippy::too_many_arguments)]
fn subscription(id: &str, cus: &str, status: &str, nickname: &str, amount: i64, start: i64, period_end: i64, latest_invoice: &str) -> Value {
    let price = format!("price_Sbx{}", &id[7..]);
    let canceled = status == "canceled";
    // The plan is the item's price (Stripe's API 2023-08-16 has no top-level `plan`).
    let item = json!({
        "id": format!("si_Sbx{}", &id[7..]), "object": "subscription_item", "created": start, "metadata": {}, "billing_thresholds": null,
        "price": {
            "id": price, "object": "price", "active": true, "billing_scheme": "per_unit", "created": start, "currency": "usd",
            "livemode": false, "lookup_key": null, "metadata": {}, "nickname": nickname, "product": format!("prod_Sbx{}", &id[7..]),
            "recurring": { "aggregate_usage": null, "interval": "month", "interval_count": 1, "usage_type": "licensed" },
            "tax_behavior": "unspecified", "type": "recurring", "unit_amount": amount, "unit_amount_decimal": amount.to_string(),
        },
        "quantity": 1, "subscription": id, "tax_rates": [],
    });
    let mut sub = json!({
        "id": id, "object": "subscription", "customer": cus, "status": status, "created": start,
        "start_date": start, "billing_cycle_anchor": start,
        "current_period_start": period_end - 30 * DAY, "current_period_end": period_end,
        "cancel_at": null, "cancel_at_period_end": false,
        "canceled_at": if canceled { json!(period_end) } else { Value::Null },
        "ended_at": if canceled { json!(period_end) } else { Value::Null },
        "collection_method": "charge_automatically", "currency": "usd", "days_until_due": null,
        "description": null, "discount": null, "latest_invoice": latest_invoice, "livemode": false, "metadata": {},
        "items": { "object": "list", "data": [item], "has_more": false, "url": format!("/v1/subscription_items?subscription={id}") },
    });
    let rest = json!({
        "automatic_tax": { "enabled": false }, "default_payment_method": null, "default_tax_rates": [],
        "cancellation_details": { "comment": null, "feedback": null, "reason": if canceled { json!("cancellation_requested") } else { Value::Null } },
        "pause_collection": null, "payment_settings": { "payment_method_options": null, "payment_method_types": null, "save_default_payment_method": null },
        "pending_update": null, "schedule": null, "trial_end": null, "trial_start": null, "test_clock": null,
    });
    if let (Some(a), Value::Object(b)) = (sub.as_object_mut(), rest) {
        a.extend(b);
    }
    sub
}

struct InvoiceSeed<'a> {
    id: &'a str,
    customer: &'a Value,
    status: &'a str,
    collection: &'a str,
    amount: i64,
    created: i64,
    due: Option<i64>,
    subscription: Option<&'a str>,
    description: &'a str,
}

fn invoice(s: &InvoiceSeed<'_>) -> Value {
    let paid = s.status == "paid";
    let draft = s.status == "draft";
    let line = json!({
        "id": format!("il_{}", &s.id[3..]), "object": "line_item", "amount": s.amount, "currency": "usd",
        "description": s.description, "discountable": true, "livemode": false, "metadata": {}, "quantity": 1,
        "period": { "start": s.created, "end": s.created + 30 * DAY }, "proration": false,
        "type": if s.subscription.is_some() { "subscription" } else { "invoiceitem" },
        "subscription": s.subscription,
    });
    let lines = if draft && s.amount == 0 { vec![] } else { vec![line] };
    let transitions = json!({
        "finalized_at": if draft { Value::Null } else { json!(s.created + 3600) },
        "marked_uncollectible_at": if s.status == "uncollectible" { json!(s.created + 40 * DAY) } else { Value::Null },
        "paid_at": if paid { json!(s.created + 7200) } else { Value::Null },
        "voided_at": null,
    });
    let number = if draft { Value::Null } else { json!(format!("{}-{:04}", s.customer["invoice_prefix"].as_str().unwrap_or("SBX"), s.created % 10_000)) };
    let mut head = json!({
        "id": s.id, "object": "invoice", "account_country": "US", "account_name": "Switchboard Demo Co",
        "amount_due": s.amount, "amount_paid": if paid { s.amount } else { 0 },
        "amount_remaining": if paid { 0 } else { s.amount }, "attempt_count": i32::from(s.collection == "charge_automatically" && !draft),
        "attempted": s.collection == "charge_automatically" && !draft, "auto_advance": !draft && !paid && s.status != "uncollectible",
        "billing_reason": if s.subscription.is_some() { "subscription_cycle" } else { "manual" },
        "charge": null, "collection_method": s.collection, "created": s.created, "currency": "usd",
        "customer": s.customer["id"], "customer_email": s.customer["email"], "customer_name": s.customer["name"],
        "description": null, "discount": null, "due_date": s.due,
        "ending_balance": if draft { Value::Null } else { json!(0) }, "starting_balance": 0,
        "hosted_invoice_url": if draft { Value::Null } else { json!(format!("https://invoice.stripe.com/i/acct_sbx/test_{}", s.id)) },
        "invoice_pdf": if draft { Value::Null } else { json!(format!("https://pay.stripe.com/invoice/acct_sbx/test_{}/pdf", s.id)) },
    });
    let rest = json!({
        "last_finalization_error": null,
        "lines": { "object": "list", "data": lines, "has_more": false, "url": format!("/v1/invoices/{}/lines", s.id) },
        "amount_shipping": 0, "automatic_tax": { "enabled": false, "status": null }, "default_tax_rates": [],
        "payment_settings": { "default_mandate": null, "payment_method_options": null, "payment_method_types": null },
        "livemode": false, "metadata": {},
        "number": number,
        "paid": paid, "paid_out_of_band": false, "payment_intent": null,
        "post_payment_credit_notes_amount": 0, "pre_payment_credit_notes_amount": 0,
        "period_start": s.created, "period_end": s.created, "status": s.status,
        "status_transitions": transitions,
        "subscription": s.subscription, "subtotal": s.amount, "subtotal_excluding_tax": s.amount, "tax": null,
        "total": s.amount, "total_excluding_tax": s.amount, "total_discount_amounts": [], "total_tax_amounts": [],
        "webhooks_delivered_at": s.created, "test_clock": null,
    });
    if let (Some(a), Value::Object(b)) = (head.as_object_mut(), rest) {
        a.extend(b);
    }
    head
}

#[allow(clippy::too_many_arguments)]
fn charge(id: &str, cus: &str, amount: i64, status: &str, created: i64, pi: Option<&str>, inv: Option<&str>, description: &str) -> Value {
    let ok = status == "succeeded";
    json!({
        "id": id, "object": "charge", "amount": amount, "amount_captured": if ok { amount } else { 0 },
        "amount_refunded": 0, "balance_transaction": if ok { json!(format!("txn_{}", &id[3..])) } else { Value::Null },
        "billing_details": { "address": null, "email": null, "name": null, "phone": null },
        "captured": ok, "created": created, "currency": "usd", "customer": cus, "description": description,
        "disputed": false, "failure_code": if ok { Value::Null } else { json!("card_declined") },
        "failure_message": if ok { Value::Null } else { json!("Your card was declined.") },
        "invoice": inv, "livemode": false, "metadata": {},
        "outcome": { "network_status": if ok { "approved_by_network" } else { "declined_by_network" }, "reason": if ok { Value::Null } else { json!("generic_decline") }, "risk_level": "normal", "seller_message": if ok { "Payment complete." } else { "The bank did not return any further details with this decline." }, "type": if ok { "authorized" } else { "issuer_declined" } },
        "paid": ok, "payment_intent": pi, "payment_method": format!("pm_{}", &id[3..]),
        "receipt_email": null, "receipt_url": format!("https://pay.stripe.com/receipts/acct_sbx/{id}"),
        "refunded": false, "refunds": { "object": "list", "data": [], "has_more": false, "url": format!("/v1/charges/{id}/refunds") },
        "status": status,
    })
}

fn payment_intent(id: &str, cus: &str, amount: i64, status: &str, created: i64, latest_charge: &str, inv: Option<&str>) -> Value {
    let ok = status == "succeeded";
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_received": if ok { amount } else { 0 }, "capture_method": "automatic",
        "client_secret": format!("{id}_secret_sbx"), "confirmation_method": "automatic", "created": created,
        "currency": "usd", "customer": cus, "description": null, "invoice": inv,
        "last_payment_error": if ok { Value::Null } else { json!({ "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined.", "type": "card_error" }) },
        "latest_charge": latest_charge, "livemode": false, "metadata": {}, "next_action": null,
        "payment_method": if ok { json!(format!("pm_{}", &latest_charge[3..])) } else { Value::Null },
        "payment_method_types": ["card"], "status": status,
    })
}

impl Data {
    fn seed(t: i64, outbox: Arc<Outbox>) -> Self {
        let people = [
            (MULTI_SUB_CUSTOMER, "Ada Lovelace", "ada@analytical.example"),
            (OVERDUE_CUSTOMER, "Grace Hopper", OVERDUE_EMAIL),
            ("cus_SbxAlanTuring0", "Alan Turing", "alan@bletchley.example"),
            ("cus_SbxKathJohnson", "Katherine Johnson", "katherine@orbit.example"),
            ("cus_SbxEdsgerDijks", "Edsger Dijkstra", "edsger@paths.example"),
            ("cus_SbxBarbaraLisk", "Barbara Liskov", "barbara@clu.example"),
            ("cus_SbxDonaldKnuth", "Donald Knuth", "don@tex.example"),
            ("cus_SbxMargaretHam", "Margaret Hamilton", "margaret@apollo.example"),
            ("cus_SbxLinusTorval", "Linus Torvalds", "linus@kernel.example"),
            ("cus_SbxFrancesAlle", "Frances Allen", "frances@compilers.example"),
        ];
        // Older customers first in `created`; lists sort newest first.
        let customers: Vec<Value> = people
            .iter()
            .enumerate()
            .map(|(i, (id, name, email))| customer(id, name, email, t - (400 - 30 * i64::try_from(i).unwrap_or(0)) * DAY))
            .collect();
        let c = |id: &str| customers.iter().find(|c| c["id"] == id).cloned().unwrap_or(Value::Null);
        let ada = c(MULTI_SUB_CUSTOMER);
        let grace = c(OVERDUE_CUSTOMER);
        let alan = c("cus_SbxAlanTuring0");
        let kath = c("cus_SbxKathJohnson");

        let mut subscriptions = vec![
            subscription("sub_SbxAdaPro00001", MULTI_SUB_CUSTOMER, "active", "Pro (monthly)", 4900, t - 200 * DAY, t + 12 * DAY, "in_SbxAdaProPaid01"),
            subscription("sub_SbxAdaSeats0001", MULTI_SUB_CUSTOMER, "past_due", "Extra seats (monthly)", 2500, t - 120 * DAY, t + 3 * DAY, "in_SbxAdaSeatsDue1"),
            subscription("sub_SbxAdaLegacy001", MULTI_SUB_CUSTOMER, "canceled", "Legacy starter", 900, t - 380 * DAY, t - 90 * DAY, "in_SbxAdaLegacy01"),
            subscription("sub_SbxAlanTeam0001", "cus_SbxAlanTuring0", "active", "Team (monthly)", 9900, t - 150 * DAY, t + 20 * DAY, "in_SbxAlanTeam001"),
        ];
        for (i, p) in people.iter().enumerate().skip(4) {
            let id = format!("sub_SbxBasic{i:07}");
            let inv = format!("in_SbxBasicPaid{i:03}");
            subscriptions.push(subscription(&id, p.0, "active", "Basic (monthly)", 1900, t - 100 * DAY, t + i64::try_from(i).unwrap_or(0) * DAY, &inv));
        }
        let mut invoices = vec![
            invoice(&InvoiceSeed { id: "in_SbxAdaProPaid01", customer: &ada, status: "paid", collection: "charge_automatically", amount: 4900, created: t - 18 * DAY, due: None, subscription: Some("sub_SbxAdaPro00001"), description: "Pro (monthly)" }),
            invoice(&InvoiceSeed { id: "in_SbxAdaSeatsDue1", customer: &ada, status: "open", collection: "charge_automatically", amount: 2500, created: t - 27 * DAY, due: None, subscription: Some("sub_SbxAdaSeats0001"), description: "Extra seats (monthly)" }),
            invoice(&InvoiceSeed { id: "in_SbxAdaLegacy01", customer: &ada, status: "paid", collection: "charge_automatically", amount: 900, created: t - 120 * DAY, due: None, subscription: Some("sub_SbxAdaLegacy001"), description: "Legacy starter" }),
            invoice(&InvoiceSeed { id: OVERDUE_INVOICE, customer: &grace, status: "open", collection: "send_invoice", amount: 120_000, created: t - 50 * DAY, due: Some(t - 20 * DAY), subscription: None, description: "Annual support plan" }),
            invoice(&InvoiceSeed { id: "in_SbxGracePaid001", customer: &grace, status: "paid", collection: "send_invoice", amount: 30_000, created: t - 140 * DAY, due: Some(t - 110 * DAY), subscription: None, description: "Onboarding workshop" }),
            invoice(&InvoiceSeed { id: "in_SbxAlanTeam001", customer: &alan, status: "paid", collection: "charge_automatically", amount: 9900, created: t - 10 * DAY, due: None, subscription: Some("sub_SbxAlanTeam0001"), description: "Team (monthly)" }),
            invoice(&InvoiceSeed { id: "in_SbxKathUncoll01", customer: &kath, status: "uncollectible", collection: "send_invoice", amount: 45_000, created: t - 200 * DAY, due: Some(t - 170 * DAY), subscription: None, description: "Consulting, March" }),
        ];
        for (i, p) in people.iter().enumerate().skip(4) {
            let cus = c(p.0);
            let id = format!("in_SbxBasicPaid{i:03}");
            let sub = format!("sub_SbxBasic{i:07}");
            invoices.push(invoice(&InvoiceSeed { id: &id, customer: &cus, status: "paid", collection: "charge_automatically", amount: 1900, created: t - (30 - i64::try_from(i).unwrap_or(0)) * DAY, due: None, subscription: Some(&sub), description: "Basic (monthly)" }));
        }
        let charges = vec![
            charge("ch_SbxAdaProPaid01", MULTI_SUB_CUSTOMER, 4900, "succeeded", t - 18 * DAY, Some("pi_SbxAdaProPaid01"), Some("in_SbxAdaProPaid01"), "Subscription update"),
            charge("ch_SbxAdaSeatsFail1", MULTI_SUB_CUSTOMER, 2500, "failed", t - 26 * DAY, Some("pi_SbxAdaSeatsDue1"), Some("in_SbxAdaSeatsDue1"), "Subscription update"),
            charge("ch_SbxAdaSeatsFail2", MULTI_SUB_CUSTOMER, 2500, "failed", t - 23 * DAY, Some("pi_SbxAdaSeatsDue1"), Some("in_SbxAdaSeatsDue1"), "Subscription update"),
            charge(REFUNDABLE_CHARGE, "cus_SbxAlanTuring0", 5000, "succeeded", t - 5 * DAY, Some("pi_SbxAlanRefundable"), None, "Workshop seat"),
            charge("ch_SbxAlanTeam0001", "cus_SbxAlanTuring0", 9900, "succeeded", t - 10 * DAY, Some("pi_SbxAlanTeam0001"), Some("in_SbxAlanTeam001"), "Subscription update"),
            charge("ch_SbxGracePaid001", OVERDUE_CUSTOMER, 30_000, "succeeded", t - 112 * DAY, Some("pi_SbxGracePaid001"), Some("in_SbxGracePaid001"), "Invoice payment"),
        ];
        let payment_intents = vec![
            payment_intent("pi_SbxAdaProPaid01", MULTI_SUB_CUSTOMER, 4900, "succeeded", t - 18 * DAY, "ch_SbxAdaProPaid01", Some("in_SbxAdaProPaid01")),
            payment_intent("pi_SbxAdaSeatsDue1", MULTI_SUB_CUSTOMER, 2500, "requires_payment_method", t - 26 * DAY, "ch_SbxAdaSeatsFail2", Some("in_SbxAdaSeatsDue1")),
            payment_intent("pi_SbxAlanRefundable", "cus_SbxAlanTuring0", 5000, "succeeded", t - 5 * DAY, REFUNDABLE_CHARGE, None),
            payment_intent("pi_SbxAlanTeam0001", "cus_SbxAlanTuring0", 9900, "succeeded", t - 10 * DAY, "ch_SbxAlanTeam0001", Some("in_SbxAlanTeam001")),
            payment_intent("pi_SbxGracePaid001", OVERDUE_CUSTOMER, 30_000, "succeeded", t - 112 * DAY, "ch_SbxGracePaid001", Some("in_SbxGracePaid001")),
        ];
        // An invoice paid (or attempted) by card names its payment intent and latest charge.
        for pi in &payment_intents {
            if let Some(inv) = invoices.iter_mut().find(|i| pi["invoice"].as_str().is_some_and(|id| i["id"] == id)) {
                inv["payment_intent"] = pi["id"].clone();
                inv["charge"] = pi["latest_charge"].clone();
            }
        }
        Self {
            customers,
            subscriptions,
            invoices,
            invoice_items: vec![],
            charges,
            payment_intents,
            refunds: vec![],
            balance_transactions: vec![],
            credit_notes: vec![],
            events: vec![],
            due_in_days: HashMap::new(),
            next: 1,
            outbox,
        }
    }

    fn new_id(&mut self, prefix: &str) -> String {
        let n = self.next;
        self.next += 1;
        format!("{prefix}_SbxNew{n:010}")
    }

    /// Records an event and sends it to every webhook endpoint that listens for its type, signed
    /// with that endpoint's secret as Stripe signs (`Stripe-Signature: t=…,v1=…`).
    fn emit(&mut self, event_type: &str, object: &Value, idem: Option<&str>) {
        let id = self.new_id("evt");
        let e = event(&id, event_type, now(), object.clone(), idem);
        let body = e.to_string().into_bytes();
        self.events.push(e);
        self.outbox.send(event_type, std::slice::from_ref(&id), |sub| {
            let t = now();
            Signed {
                headers: vec![
                    ("content-type".into(), "application/json; charset=utf-8".into()),
                    ("user-agent".into(), "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into()),
                    ("stripe-signature".into(), sign_event(&sub.secret, t, &body)),
                ],
                body: body.clone(),
            }
        });
    }
}

// ---- errors ---------------------------------------------------------------------------------

/// A Stripe error answer; `saved` says whether an idempotent replay stores it (Stripe saves a
/// result only once the endpoint started executing, not for parameter validation failures).
struct StripeError {
    status: StatusCode,
    body: Value,
    saved: bool,
}

fn err(status: StatusCode, kind: &str, code: Option<&str>, param: Option<&str>, message: String) -> StripeError {
    let mut e = json!({ "type": kind, "message": message });
    if let Some(c) = code {
        e["code"] = json!(c);
        e["doc_url"] = json!(format!("https://stripe.com/docs/error-codes/{}", c.replace('_', "-")));
    }
    if let Some(p) = param {
        e["param"] = json!(p);
    }
    e["request_log_url"] = json!(format!("https://dashboard.stripe.com/test/logs/{}", request_id()));
    StripeError { status, body: json!({ "error": e }), saved: true }
}

fn invalid(code: &str, param: &str, message: String) -> StripeError {
    let mut e = err(StatusCode::BAD_REQUEST, "invalid_request_error", Some(code), Some(param), message);
    e.saved = false;
    e
}

fn missing(param: &str) -> StripeError {
    invalid("parameter_missing", param, format!("Missing required param: {param}."))
}

fn no_such(kind: &str, param: &str, id: &str) -> StripeError {
    err(StatusCode::NOT_FOUND, "invalid_request_error", Some("resource_missing"), Some(param), format!("No such {kind}: '{id}'"))
}

fn respond(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn masked(key: &str) -> String {
    let prefix = key.get(..8).unwrap_or("");
    let tail = key.get(key.len().saturating_sub(4)..).unwrap_or("");
    format!("{prefix}{}{tail}", "*".repeat(key.len().saturating_sub(12)))
}

// ---- parameters -----------------------------------------------------------------------------

struct Params(Vec<(String, String)>);

impl Params {
    fn parse(bytes: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(bytes).into_owned().collect())
    }
    /// The parameter's top-level name: `metadata[key]` → `metadata`, `expand[]` → `expand`.
    fn root(name: &str) -> &str {
        name.split('[').next().unwrap_or(name)
    }
    fn check_known(&self, known: &[&str]) -> Result<(), StripeError> {
        match self.0.iter().find(|(k, _)| !known.contains(&Self::root(k)) && Self::root(k) != "expand") {
            Some((k, _)) => Err(invalid("parameter_unknown", k, format!("Received unknown parameter: {k}"))),
            None => Ok(()),
        }
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// Every value of a list parameter (`types[]=a&types[]=b`, or `types[0]=a`).
    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k.strip_prefix(name).and_then(|r| r.strip_prefix('[')).and_then(|r| r.strip_suffix(']')).is_some_and(|i| i.bytes().all(|b| b.is_ascii_digit())))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// `created` as Stripe takes it: an exact time, or any of `created[gt|gte|lt|lte]`.
    fn created_filter(&self) -> Result<impl Fn(&Value) -> bool + use<>, StripeError> {
        let exact = self.int("created")?;
        let mut bounds = Vec::new();
        for op in ["gt", "gte", "lt", "lte"] {
            if let Some(v) = self.int(&format!("created[{op}]"))? {
                bounds.push((op, v));
            }
        }
        Ok(move |x: &Value| {
            let c = x["created"].as_i64().unwrap_or(0);
            exact.is_none_or(|e| c == e)
                && bounds.iter().all(|(op, v)| match *op {
                    "gt" => c > *v,
                    "gte" => c >= *v,
                    "lt" => c < *v,
                    _ => c <= *v,
                })
        })
    }
    fn required(&self, name: &str) -> Result<&str, StripeError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| missing(name))
    }
    fn int(&self, name: &str) -> Result<Option<i64>, StripeError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| invalid("parameter_invalid_integer", name, format!("Invalid integer: {v}"))),
        }
    }
    fn boolean(&self, name: &str) -> Result<Option<bool>, StripeError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(invalid("parameter_invalid_boolean", name, format!("Invalid boolean: {v}"))),
        }
    }
    fn metadata(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.0 {
            if let Some(inner) = k.strip_prefix("metadata[").and_then(|r| r.strip_suffix(']')) {
                m.insert(inner.to_string(), json!(v));
            }
        }
        Value::Object(m)
    }
    fn fingerprint(&self) -> String {
        let mut p = self.0.clone();
        p.sort();
        p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
    }
}

// ---- dispatch -------------------------------------------------------------------------------

struct Ctx<'a> {
    permissions: Option<&'a [String]>,
    key: &'a str,
    idempotency_key: Option<String>,
}

impl Ctx<'_> {
    fn need(&self, permission: &str) -> Result<(), StripeError> {
        match self.permissions {
            Some(p) if !p.iter().any(|x| x == permission) => Err(err(
                StatusCode::FORBIDDEN,
                "invalid_request_error",
                None,
                None,
                format!(
                    "The provided key '{}' does not have the required permissions for this endpoint on account '{ACCOUNT_ID}'. Having the 'rak_{permission}' permission would allow this request to continue.",
                    masked(self.key)
                ),
            )),
            _ => Ok(()),
        }
    }
}

async fn dispatch(State(s): St, method: Method, OriginalUri(uri): OriginalUri, headers: HeaderMap, body: Bytes) -> Response {
    let req_id = request_id();
    let mut resp = handle(&s, &method, &uri, &headers, &body);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&req_id) {
        h.insert("request-id", v);
    }
    h.insert("stripe-version", HeaderValue::from_static(API_VERSION));
    resp
}

fn handle(s: &Shared, method: &Method, uri: &axum::http::Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    let Some(key) = auth.filter(|k| !k.is_empty()) else {
        let e = err(StatusCode::UNAUTHORIZED, "invalid_request_error", None, None,
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.".into());
        return respond(e.status, &e.body);
    };
    let Some((key, permissions)) = s.keys.iter().find(|(k, _)| k == key) else {
        let e = err(StatusCode::UNAUTHORIZED, "invalid_request_error", None, None, format!("Invalid API Key provided: {}", masked(key)));
        return respond(e.status, &e.body);
    };
    let d = s.limiter.check();
    if !d.allowed {
        s.stats.rate_limited.fetch_add(1, Ordering::SeqCst);
        let e = err(StatusCode::TOO_MANY_REQUESTS, "invalid_request_error", Some("rate_limit"), None,
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.".into());
        let mut r = respond(e.status, &e.body);
        r.headers_mut().insert("stripe-rate-limited-reason", HeaderValue::from_static("global-rate"));
        return r;
    }
    let path = uri.path().trim_start_matches("/v1/").trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.split('/').collect();
    let mut params = Params::parse(uri.query().unwrap_or("").as_bytes());
    if *method == Method::POST {
        params.0.extend(Params::parse(body).0);
    }
    let idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let ctx = Ctx { permissions: permissions.as_deref(), key, idempotency_key: idempotency_key.clone() };

    if *method == Method::POST
        && let Some(ik) = &idempotency_key
    {
        if ik.len() > 255 {
            let e = invalid("idempotency_key_too_long", "Idempotency-Key", "Idempotency-Key must be at most 255 characters.".into());
            return respond(e.status, &e.body);
        }
        let fingerprint = format!("{} {}?{}", method, uri.path(), params.fingerprint());
        let slot = (key.clone(), ik.clone());
        if let Some(saved) = lock(&s.idempotency).get(&slot) {
            if saved.fingerprint != fingerprint {
                let e = err(StatusCode::BAD_REQUEST, "idempotency_error", None, None, format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{ik}' if you meant to execute a different request."
                ));
                return respond(e.status, &e.body);
            }
            let mut r = respond(saved.status, &saved.body);
            r.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            if let Ok(v) = HeaderValue::from_str(ik) {
                r.headers_mut().insert("idempotency-key", v);
            }
            return r;
        }
        let (status, body, saved) = match route(s, &ctx, method, &segments, &params) {
            Ok(v) => (StatusCode::OK, v, true),
            Err(e) => (e.status, e.body, e.saved),
        };
        if saved {
            lock(&s.idempotency).insert(slot, Saved { fingerprint, status, body: body.clone() });
        }
        if status == StatusCode::OK && answer_lost(s, uri.path()) {
            return lost_answer();
        }
        let mut r = respond(status, &body);
        if let Ok(v) = HeaderValue::from_str(ik) {
            r.headers_mut().insert("idempotency-key", v);
        }
        return r;
    }
    match route(s, &ctx, method, &segments, &params) {
        Ok(_) if *method == Method::POST && answer_lost(s, uri.path()) => lost_answer(),
        Ok(v) => respond(StatusCode::OK, &v),
        Err(e) => respond(e.status, &e.body),
    }
}

fn answer_lost(s: &Shared, path: &str) -> bool {
    let mut lose = lock(&s.lose);
    match lose.iter().position(|p| p == path) {
        Some(i) => {
            lose.remove(i);
            true
        }
        None => false,
    }
}

fn lost_answer() -> Response {
    let e = err(StatusCode::INTERNAL_SERVER_ERROR, "api_error", None, None, "An unknown error occurred".into());
    respond(e.status, &e.body)
}

fn route(s: &Shared, ctx: &Ctx<'_>, method: &Method, seg: &[&str], p: &Params) -> Result<Value, StripeError> {
    let mut d = lock(&s.data);
    let answer = endpoint(&mut d, ctx, method, seg, p)?;
    expand::apply(&d, answer, p)
}

fn endpoint(d: &mut Data, ctx: &Ctx<'_>, method: &Method, seg: &[&str], p: &Params) -> Result<Value, StripeError> {
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    match seg {
        ["customers"] if get => {
            ctx.need("customer_read")?;
            p.check_known(&["email", "limit", "starting_after", "ending_before", "created", "test_clock"])?;
            let email = p.get("email");
            let items: Vec<&Value> = d.customers.iter().filter(|c| email.is_none_or(|e| c["email"] == e)).collect();
            list(p, items, "/v1/customers", "customer")
        }
        ["customers", id] if get => {
            ctx.need("customer_read")?;
            p.check_known(&[])?;
            d.customers.iter().find(|c| c["id"] == *id).cloned().ok_or_else(|| no_such("customer", "id", id))
        }
        ["customers", id, "balance_transactions"] if post => {
            ctx.need("customer_write")?;
            p.check_known(&["amount", "currency", "description", "metadata"])?;
            let amount = p.int("amount")?.ok_or_else(|| missing("amount"))?;
            let currency = p.required("currency")?.to_lowercase();
            let description = p.get("description").map(str::to_string);
            let metadata = p.metadata();
            let pos = d.customers.iter().position(|c| c["id"] == *id).ok_or_else(|| no_such("customer", "customer", id))?;
            let balance = d.customers[pos]["balance"].as_i64().unwrap_or(0) + amount;
            d.customers[pos]["balance"] = json!(balance);
            let txn_id = d.new_id("cbtxn");
            let txn = json!({
                "id": txn_id, "object": "customer_balance_transaction", "amount": amount, "created": now(),
                "credit_note": null, "currency": currency, "customer": id, "description": description,
                "ending_balance": balance, "invoice": null, "livemode": false, "metadata": metadata, "type": "adjustment",
            });
            d.balance_transactions.push(txn.clone());
            let cust = d.customers[pos].clone();
            d.emit("customer.updated", &cust, ctx.idempotency_key.as_deref());
            Ok(txn)
        }
        ["customers", id, "balance_transactions"] if get => {
            ctx.need("customer_read")?;
            p.check_known(&["limit", "starting_after", "ending_before", "created", "invoice"])?;
            let items: Vec<&Value> = d.balance_transactions.iter().filter(|t| t["customer"] == *id).collect();
            list(p, items, &format!("/v1/customers/{id}/balance_transactions"), "customer_balance_transaction")
        }
        ["subscriptions"] if get => {
            ctx.need("subscription_read")?;
            p.check_known(&["customer", "status", "price", "plan", "limit", "starting_after", "ending_before", "created", "collection_method", "current_period_end", "current_period_start", "test_clock", "automatic_tax"])?;
            const STATUSES: &[&str] = &["active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid"];
            let status = p.get("status");
            if let Some(st) = status.filter(|st| !STATUSES.contains(st)) {
                return Err(invalid("parameter_invalid_string", "status", format!("Invalid status: must be one of {}; got '{st}'", STATUSES.join(", "))));
            }
            let customer = p.get("customer");
            let items: Vec<&Value> = d
                .subscriptions
                .iter()
                .filter(|x| customer.is_none_or(|c| x["customer"] == c))
                .filter(|x| match status {
                    // Stripe leaves canceled subscriptions out unless asked for them.
                    None => x["status"] != "canceled",
                    Some("all") => true,
                    Some("ended") => x["status"] == "canceled" || x["status"] == "incomplete_expired",
                    Some(st) => x["status"] == st,
                })
                .collect();
            list(p, items, "/v1/subscriptions", "subscription")
        }
        ["subscriptions", id] if get => {
            ctx.need("subscription_read")?;
            p.check_known(&[])?;
            d.subscriptions.iter().find(|x| x["id"] == *id).cloned().ok_or_else(|| no_such("subscription", "id", id))
        }
        ["invoices"] if get => {
            ctx.need("invoice_read")?;
            p.check_known(&["customer", "status", "subscription", "collection_method", "limit", "starting_after", "ending_before", "created", "due_date"])?;
            let status = p.get("status");
            if let Some(st) = status.filter(|st| !["draft", "open", "paid", "uncollectible", "void"].contains(st)) {
                return Err(invalid("parameter_invalid_string", "status", format!("Invalid status: must be one of draft, open, paid, uncollectible, or void; got '{st}'")));
            }
            let (customer, sub, cm) = (p.get("customer"), p.get("subscription"), p.get("collection_method"));
            let items: Vec<&Value> = d
                .invoices
                .iter()
                .filter(|x| customer.is_none_or(|c| x["customer"] == c))
                .filter(|x| status.is_none_or(|st| x["status"] == st))
                .filter(|x| sub.is_none_or(|v| x["subscription"] == v))
                .filter(|x| cm.is_none_or(|v| x["collection_method"] == v))
                .collect();
            list(p, items, "/v1/invoices", "invoice")
        }
        ["invoices", id] if get => {
            ctx.need("invoice_read")?;
            p.check_known(&[])?;
            d.invoices.iter().find(|x| x["id"] == *id).cloned().ok_or_else(|| no_such("invoice", "id", id))
        }
        ["invoices"] if post => create_invoice(d, ctx, p),
        ["invoiceitems"] if post => create_invoice_item(d, ctx, p),
        ["invoices", id, "finalize"] if post => finalize_invoice(d, ctx, p, id),
        ["invoices", id, "send"] if post => send_invoice(d, ctx, p, id),
        ["charges"] if get => {
            ctx.need("charge_read")?;
            p.check_known(&["customer", "payment_intent", "limit", "starting_after", "ending_before", "created", "transfer_group"])?;
            let (customer, pi) = (p.get("customer"), p.get("payment_intent"));
            let items: Vec<&Value> = d.charges.iter().filter(|x| customer.is_none_or(|c| x["customer"] == c)).filter(|x| pi.is_none_or(|v| x["payment_intent"] == v)).collect();
            list(p, items, "/v1/charges", "charge")
        }
        ["charges", id] if get => {
            ctx.need("charge_read")?;
            p.check_known(&[])?;
            d.charges.iter().find(|x| x["id"] == *id).cloned().ok_or_else(|| no_such("charge", "id", id))
        }
        ["payment_intents"] if get => {
            ctx.need("payment_intent_read")?;
            p.check_known(&["customer", "limit", "starting_after", "ending_before", "created"])?;
            let customer = p.get("customer");
            let items: Vec<&Value> = d.payment_intents.iter().filter(|x| customer.is_none_or(|c| x["customer"] == c)).collect();
            list(p, items, "/v1/payment_intents", "payment_intent")
        }
        ["payment_intents", id] if get => {
            ctx.need("payment_intent_read")?;
            p.check_known(&["client_secret"])?;
            d.payment_intents.iter().find(|x| x["id"] == *id).cloned().ok_or_else(|| no_such("payment_intent", "intent", id))
        }
        ["refunds"] if post => refund(d, ctx, p),
        ["credit_notes"] if post => credit_notes::create(d, ctx, p),
        ["credit_notes"] if get => {
            ctx.need("credit_note_read")?;
            p.check_known(&["customer", "invoice", "limit", "starting_after", "ending_before"])?;
            let (customer, invoice) = (p.get("customer"), p.get("invoice"));
            let items: Vec<&Value> = d.credit_notes.iter().filter(|x| customer.is_none_or(|c| x["customer"] == c)).filter(|x| invoice.is_none_or(|i| x["invoice"] == i)).collect();
            list(p, items, "/v1/credit_notes", "credit_note")
        }
        ["credit_notes", id] if get => {
            ctx.need("credit_note_read")?;
            p.check_known(&[])?;
            d.credit_notes.iter().find(|x| x["id"] == *id).cloned().ok_or_else(|| no_such("credit_note", "id", id))
        }
        ["refunds"] if get => {
            ctx.need("charge_read")?;
            p.check_known(&["charge", "payment_intent", "limit", "starting_after", "ending_before", "created"])?;
            let (ch, pi) = (p.get("charge"), p.get("payment_intent"));
            let items: Vec<&Value> = d.refunds.iter().filter(|x| ch.is_none_or(|c| x["charge"] == c)).filter(|x| pi.is_none_or(|v| x["payment_intent"] == v)).collect();
            list(p, items, "/v1/refunds", "refund")
        }
        ["events"] if get => {
            ctx.need("event_read")?;
            p.check_known(&["type", "types", "limit", "starting_after", "ending_before", "created", "delivery_success"])?;
            let ty = p.get("type");
            let types = p.all("types");
            if ty.is_some() && !types.is_empty() {
                return Err(invalid("parameter_invalid_string", "types", "You may only specify one of these parameters: type, types.".into()));
            }
            if types.len() > 20 {
                return Err(invalid("parameter_invalid_string", "types", "types may contain at most 20 event types.".into()));
            }
            let created = p.created_filter()?;
            let items: Vec<&Value> = d
                .events
                .iter()
                .filter(|x| ty.is_none_or(|t| type_matches(t, x["type"].as_str().unwrap_or(""))))
                .filter(|x| types.is_empty() || types.iter().any(|t| type_matches(t, x["type"].as_str().unwrap_or(""))))
                .filter(|x| created(x))
                .collect();
            list(p, items, "/v1/events", "event")
        }
        ["events", id] if get => {
            ctx.need("event_read")?;
            p.check_known(&[])?;
            d.events.iter().find(|x| x["id"] == *id).cloned().ok_or_else(|| no_such("event", "id", id))
        }
        ["customers"] if post => {
            ctx.need("customer_write")?;
            p.check_known(&["email", "name", "description", "metadata", "phone"])?;
            let id = d.new_id("cus");
            let mut c = customer(&id, p.get("name").unwrap_or(""), p.get("email").unwrap_or(""), now());
            for f in ["name", "email"] {
                if p.get(f).is_none() {
                    c[f] = Value::Null;
                }
            }
            c["description"] = json!(p.get("description"));
            c["phone"] = json!(p.get("phone"));
            c["metadata"] = p.metadata();
            d.customers.push(c.clone());
            d.emit("customer.created", &c, ctx.idempotency_key.as_deref());
            Ok(c)
        }
        ["invoices", id, "pay"] if post => pay_invoice(d, ctx, p, id),
        ["webhook_endpoints"] if post => {
            ctx.need("webhook_write")?;
            p.check_known(&["url", "enabled_events", "description", "metadata", "api_version", "connect"])?;
            let url = p.required("url")?.to_string();
            if !(url.starts_with("https://") || url.starts_with("http://")) || url::Url::parse(&url).is_err() {
                return Err(invalid("url_invalid", "url", format!("Invalid URL: {url}")));
            }
            let events: Vec<String> = p.all("enabled_events").into_iter().map(str::to_string).collect();
            if events.is_empty() {
                return Err(missing("enabled_events"));
            }
            let id = d.new_id("we");
            let secret = format!("whsec_{}", crate::random_token("").replace(['-', '_'], ""));
            d.outbox.subscribe(Subscriber { id: id.clone(), url: url.clone(), secret: secret.clone(), events: events.clone() });
            let mut endpoint = webhook_endpoint(&id, &url, &events, p.get("description"));
            endpoint["metadata"] = p.metadata();
            endpoint["secret"] = json!(secret);
            Ok(endpoint)
        }
        ["webhook_endpoints"] if get => {
            ctx.need("webhook_read")?;
            p.check_known(&["limit", "starting_after", "ending_before"])?;
            let endpoints: Vec<Value> = d.outbox.subscribers().iter().map(|x| webhook_endpoint(&x.id, &x.url, &x.events, None)).collect();
            list(p, endpoints.iter().collect(), "/v1/webhook_endpoints", "webhook_endpoint")
        }
        ["webhook_endpoints", id] if *method == Method::DELETE => {
            ctx.need("webhook_write")?;
            if !d.outbox.unsubscribe(id) {
                return Err(no_such("webhook_endpoint", "id", id));
            }
            Ok(json!({ "id": id, "object": "webhook_endpoint", "deleted": true }))
        }
        _ => Err(err(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            None,
            format!("Unrecognized request URL ({method}: /v1/{}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", seg.join("/")),
        )),
    }
}

/// One page of a Stripe list: newest first, `limit` 1..=100 (default 10), `starting_after` /
/// `ending_before` object ids.
fn list(p: &Params, mut items: Vec<&Value>, url: &str, kind: &str) -> Result<Value, StripeError> {
    let limit = match p.int("limit")? {
        None => 10,
        Some(n) if (1..=100).contains(&n) => usize::try_from(n).unwrap_or(10),
        Some(n) => return Err(invalid("parameter_invalid_integer", "limit", format!("This value must be between 1 and 100 (it currently is '{n}')."))),
    };
    // Newest first; ties by id, descending, so pages are stable.
    items.sort_by(|a, b| {
        let ka = (a["created"].as_i64().unwrap_or(0), a["id"].as_str().unwrap_or(""));
        let kb = (b["created"].as_i64().unwrap_or(0), b["id"].as_str().unwrap_or(""));
        kb.cmp(&ka)
    });
    let position = |param: &str, id: &str| items.iter().position(|x| x["id"] == id).ok_or_else(|| {
        let mut e = err(StatusCode::BAD_REQUEST, "invalid_request_error", Some("resource_missing"), Some(param), format!("No such {kind}: '{id}'"));
        e.saved = false;
        e
    });
    let (page, has_more): (Vec<Value>, bool) = match (p.get("starting_after"), p.get("ending_before")) {
        (Some(_), Some(_)) => return Err(invalid("parameter_invalid_string", "ending_before", "You may only specify one of these parameters: ending_before, starting_after.".into())),
        (Some(after), None) => {
            let start = position("starting_after", after)? + 1;
            let end = (start + limit).min(items.len());
            (items[start..end].iter().map(|v| (*v).clone()).collect(), end < items.len())
        }
        (None, Some(before)) => {
            let end = position("ending_before", before)?;
            let start = end.saturating_sub(limit);
            (items[start..end].iter().map(|v| (*v).clone()).collect(), start > 0)
        }
        (None, None) => {
            let end = limit.min(items.len());
            (items[..end].iter().map(|v| (*v).clone()).collect(), end < items.len())
        }
    };
    Ok(json!({ "object": "list", "data": page, "has_more": has_more, "url": url }))
}

/// `evt.type` matches a `type` filter, which may end in `.*` (`invoice.*`).
fn type_matches(filter: &str, event_type: &str) -> bool {
    match filter.strip_suffix('*') {
        Some(prefix) => event_type.starts_with(prefix),
        None => filter == event_type,
    }
}

fn webhook_endpoint(id: &str, url: &str, events: &[String], description: Option<&str>) -> Value {
    json!({
        "id": id, "object": "webhook_endpoint", "api_version": API_VERSION, "application": null, "created": now(),
        "description": description, "enabled_events": events, "livemode": false, "metadata": {}, "status": "enabled", "url": url,
    })
}

/// `POST /v1/invoices/{id}/pay`: an open invoice is paid (out of band, in the sandbox), which
/// Stripe announces as `invoice.payment_succeeded` and `invoice.paid`.
fn pay_invoice(d: &mut Data, ctx: &Ctx<'_>, p: &Params, id: &str) -> Result<Value, StripeError> {
    ctx.need("invoice_write")?;
    p.check_known(&["paid_out_of_band", "payment_method", "source", "forgive", "off_session", "mandate"])?;
    let pos = d.invoices.iter().position(|x| x["id"] == id).ok_or_else(|| no_such("invoice", "invoice", id))?;
    let status = d.invoices[pos]["status"].as_str().unwrap_or("").to_string();
    if status != "open" {
        return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", Some("invoice_not_editable"), None, format!("Invoice {id} is {status}; only an open invoice can be paid.")));
    }
    let t = now();
    let inv = &mut d.invoices[pos];
    let due = inv["amount_remaining"].as_i64().unwrap_or(0);
    inv["status"] = json!("paid");
    inv["paid"] = json!(true);
    inv["amount_paid"] = json!(inv["amount_paid"].as_i64().unwrap_or(0) + due);
    inv["amount_remaining"] = json!(0);
    inv["paid_out_of_band"] = json!(p.boolean("paid_out_of_band")?.unwrap_or(false));
    inv["status_transitions"]["paid_at"] = json!(t);
    let inv = inv.clone();
    d.emit("invoice.payment_succeeded", &inv, ctx.idempotency_key.as_deref());
    d.emit("invoice.paid", &inv, ctx.idempotency_key.as_deref());
    Ok(inv)
}

fn create_invoice(d: &mut Data, ctx: &Ctx<'_>, p: &Params) -> Result<Value, StripeError> {
    ctx.need("invoice_write")?;
    p.check_known(&[
        "customer", "auto_advance", "collection_method", "currency", "days_until_due", "due_date", "description",
        "footer", "metadata", "pending_invoice_items_behavior", "subscription", "statement_descriptor",
    ])?;
    let cus_id = p.required("customer")?.to_string();
    let auto_advance = p.boolean("auto_advance")?.unwrap_or(false);
    let collection = p.get("collection_method").unwrap_or("charge_automatically").to_string();
    if !["charge_automatically", "send_invoice"].contains(&collection.as_str()) {
        return Err(invalid("parameter_invalid_string", "collection_method", format!("Invalid collection_method: must be one of charge_automatically or send_invoice; got '{collection}'")));
    }
    let days = p.int("days_until_due")?;
    let due_date = p.int("due_date")?;
    if collection == "charge_automatically" && (days.is_some() || due_date.is_some()) {
        return Err(invalid("parameter_invalid_string", if days.is_some() { "days_until_due" } else { "due_date" }, "Invoices with collection_method=charge_automatically cannot have a due date; use collection_method=send_invoice.".into()));
    }
    if collection == "send_invoice" && days.is_none() && due_date.is_none() {
        return Err(missing("days_until_due"));
    }
    if days.is_some_and(|n| !(0..=730).contains(&n)) {
        return Err(invalid("parameter_invalid_integer", "days_until_due", "days_until_due must be between 0 and 730.".into()));
    }
    let behavior = p.get("pending_invoice_items_behavior").unwrap_or("exclude").to_string();
    if !["exclude", "include"].contains(&behavior.as_str()) {
        return Err(invalid("parameter_invalid_string", "pending_invoice_items_behavior", format!("Invalid pending_invoice_items_behavior: must be one of exclude or include; got '{behavior}'")));
    }
    let currency = p.get("currency").unwrap_or("usd").to_lowercase();
    let description = p.get("description").map(str::to_string);
    let metadata = p.metadata();
    let cus = d.customers.iter().find(|c| c["id"] == cus_id.as_str()).cloned().ok_or_else(|| no_such("customer", "customer", &cus_id))?;
    let id = d.new_id("in");
    let t = now();
    let mut inv = invoice(&InvoiceSeed { id: &id, customer: &cus, status: "draft", collection: &collection, amount: 0, created: t, due: due_date, subscription: None, description: "" });
    inv["auto_advance"] = json!(auto_advance);
    inv["currency"] = json!(currency);
    inv["description"] = json!(description);
    inv["metadata"] = metadata;
    if let Some(n) = days {
        d.due_in_days.insert(id.clone(), n);
    }
    inv["billing_reason"] = json!("manual");
    if behavior == "include" {
        let pending: Vec<usize> = d.invoice_items.iter().enumerate().filter(|(_, it)| it["customer"] == cus_id.as_str() && it["invoice"].is_null()).map(|(i, _)| i).collect();
        for i in pending {
            d.invoice_items[i]["invoice"] = json!(id);
            add_line(&mut inv, &d.invoice_items[i]);
        }
    }
    d.invoices.push(inv.clone());
    d.emit("invoice.created", &inv, ctx.idempotency_key.as_deref());
    Ok(inv)
}

fn add_line(inv: &mut Value, item: &Value) {
    let amount = item["amount"].as_i64().unwrap_or(0);
    let line = json!({
        "id": format!("il_{}", &item["id"].as_str().unwrap_or("ii_x")[3..]), "object": "line_item", "amount": amount,
        "currency": item["currency"], "description": item["description"], "discountable": true, "invoice_item": item["id"], "livemode": false,
        "metadata": item["metadata"], "quantity": item["quantity"], "period": item["period"], "proration": false,
        "type": "invoiceitem", "subscription": null,
    });
    if let Some(data) = inv["lines"]["data"].as_array_mut() {
        data.push(line);
    }
    for f in ["subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax", "amount_due", "amount_remaining"] {
        inv[f] = json!(inv[f].as_i64().unwrap_or(0) + amount);
    }
}

fn create_invoice_item(d: &mut Data, ctx: &Ctx<'_>, p: &Params) -> Result<Value, StripeError> {
    ctx.need("invoice_write")?;
    p.check_known(&["customer", "amount", "currency", "description", "invoice", "metadata", "quantity", "unit_amount", "unit_amount_decimal", "period", "price", "discountable", "subscription"])?;
    let cus_id = p.required("customer")?.to_string();
    let amount = p.int("amount")?;
    let unit_amount = p.int("unit_amount")?;
    let quantity = p.int("quantity")?.unwrap_or(1);
    let amount = match (amount, unit_amount) {
        (Some(a), None) => a,
        (None, Some(u)) => u * quantity,
        (Some(_), Some(_)) => return Err(invalid("parameter_invalid_integer", "unit_amount", "You may only specify one of these parameters: amount, unit_amount.".into())),
        (None, None) => return Err(missing("amount")),
    };
    let currency = p.get("currency").map(str::to_lowercase);
    let description = p.get("description").map(str::to_string);
    let invoice_id = p.get("invoice").map(str::to_string);
    let metadata = p.metadata();
    if !d.customers.iter().any(|c| c["id"] == cus_id.as_str()) {
        return Err(no_such("customer", "customer", &cus_id));
    }
    let inv_pos = match &invoice_id {
        None => None,
        Some(iid) => {
            let pos = d.invoices.iter().position(|x| x["id"] == iid.as_str()).ok_or_else(|| no_such("invoice", "invoice", iid))?;
            let inv = &d.invoices[pos];
            if inv["customer"] != cus_id.as_str() {
                return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", None, Some("invoice"), format!("The invoice {iid} belongs to a different customer.")));
            }
            if inv["status"] != "draft" {
                return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", Some("invoice_not_editable"), Some("invoice"), format!("You can only add invoice items to draft invoices; invoice {iid} is {}.", inv["status"].as_str().unwrap_or("finalized"))));
            }
            Some(pos)
        }
    };
    let currency = match (currency, inv_pos) {
        (Some(c), Some(pos)) if d.invoices[pos]["currency"] != c.as_str() => {
            return Err(invalid("parameter_invalid_string", "currency", format!("The currency of the invoice item ({c}) must match the invoice's currency ({}).", d.invoices[pos]["currency"].as_str().unwrap_or(""))));
        }
        (Some(c), _) => c,
        (None, Some(pos)) => d.invoices[pos]["currency"].as_str().unwrap_or("usd").to_string(),
        (None, None) => return Err(missing("currency")),
    };
    let id = d.new_id("ii");
    let t = now();
    let item = json!({
        "id": id, "object": "invoiceitem", "amount": amount, "currency": currency, "customer": cus_id, "date": t,
        "description": description, "discountable": true, "discounts": [], "invoice": invoice_id, "livemode": false,
        "metadata": metadata, "period": { "start": t, "end": t }, "price": null, "proration": false, "quantity": quantity,
        "subscription": null, "tax_rates": [], "test_clock": null, "unit_amount": amount / quantity.max(1), "unit_amount_decimal": (amount / quantity.max(1)).to_string(),
    });
    if let Some(pos) = inv_pos {
        add_line(&mut d.invoices[pos], &item);
    }
    d.invoice_items.push(item.clone());
    d.emit("invoiceitem.created", &item, ctx.idempotency_key.as_deref());
    Ok(item)
}

fn finalize_invoice(d: &mut Data, ctx: &Ctx<'_>, p: &Params, id: &str) -> Result<Value, StripeError> {
    ctx.need("invoice_write")?;
    p.check_known(&["auto_advance"])?;
    let auto_advance = p.boolean("auto_advance")?;
    let pos = d.invoices.iter().position(|x| x["id"] == id).ok_or_else(|| no_such("invoice", "invoice", id))?;
    if d.invoices[pos]["status"] != "draft" {
        return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", Some("invoice_not_editable"), None, "This invoice is already finalized, you can't re-finalize a non-draft invoice.".into()));
    }
    let t = now();
    let due_in_days = d.due_in_days.get(id).copied();
    let inv = &mut d.invoices[pos];
    let prefix = inv["customer"].as_str().and_then(|c| c.get(4..12)).unwrap_or("SBX").to_uppercase();
    inv["number"] = json!(format!("{prefix}-{:04}", t % 10_000));
    inv["status_transitions"]["finalized_at"] = json!(t);
    inv["hosted_invoice_url"] = json!(format!("https://invoice.stripe.com/i/acct_sbx/test_{id}"));
    inv["invoice_pdf"] = json!(format!("https://pay.stripe.com/invoice/acct_sbx/test_{id}/pdf"));
    inv["ending_balance"] = json!(0);
    if let Some(a) = auto_advance {
        inv["auto_advance"] = json!(a);
    }
    if let Some(days) = due_in_days {
        inv["due_date"] = json!(t + days * DAY);
    }
    if inv["total"].as_i64().unwrap_or(0) == 0 {
        // A zero-amount invoice is paid as soon as it is finalized.
        inv["status"] = json!("paid");
        inv["paid"] = json!(true);
        inv["status_transitions"]["paid_at"] = json!(t);
    } else {
        inv["status"] = json!("open");
    }
    let inv = inv.clone();
    d.emit("invoice.finalized", &inv, ctx.idempotency_key.as_deref());
    Ok(inv)
}

fn send_invoice(d: &mut Data, ctx: &Ctx<'_>, p: &Params, id: &str) -> Result<Value, StripeError> {
    ctx.need("invoice_write")?;
    p.check_known(&[])?;
    let pos = d.invoices.iter().position(|x| x["id"] == id).ok_or_else(|| no_such("invoice", "invoice", id))?;
    let inv = &d.invoices[pos];
    if inv["collection_method"] != "send_invoice" {
        return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", None, None, "You can only manually send an invoice if its collection method is 'send_invoice'.".into()));
    }
    if inv["status"] != "open" {
        return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", Some("invoice_not_editable"), None, format!("You can only send an open invoice; invoice {id} is {}. Finalize a draft invoice first.", inv["status"].as_str().unwrap_or(""))));
    }
    let inv = inv.clone();
    d.emit("invoice.sent", &inv, ctx.idempotency_key.as_deref());
    Ok(inv)
}

fn refund(d: &mut Data, ctx: &Ctx<'_>, p: &Params) -> Result<Value, StripeError> {
    ctx.need("charge_write")?;
    p.check_known(&["charge", "payment_intent", "amount", "reason", "metadata", "refund_application_fee", "reverse_transfer", "instructions_email"])?;
    let amount = p.int("amount")?;
    let reason = p.get("reason").map(str::to_string);
    if let Some(r) = reason.as_deref().filter(|r| !["duplicate", "fraudulent", "requested_by_customer"].contains(r)) {
        return Err(invalid("parameter_invalid_string", "reason", format!("Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer; got '{r}'")));
    }
    let metadata = p.metadata();
    let charge_id = match (p.get("charge"), p.get("payment_intent")) {
        (Some(_), Some(_)) => return Err(invalid("parameter_invalid_string", "payment_intent", "You cannot specify both charge and payment_intent; use one of them.".into())),
        (None, None) => return Err(missing("charge")),
        (Some(c), None) => c.to_string(),
        (None, Some(pi)) => {
            let intent = d.payment_intents.iter().find(|x| x["id"] == pi).ok_or_else(|| no_such("payment_intent", "payment_intent", pi))?;
            if intent["status"] != "succeeded" {
                return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", None, Some("payment_intent"), format!("This PaymentIntent ({pi}) does not have a successful charge to refund.")));
            }
            intent["latest_charge"].as_str().unwrap_or_default().to_string()
        }
    };
    let pos = d.charges.iter().position(|x| x["id"] == charge_id.as_str()).ok_or_else(|| no_such("charge", "charge", &charge_id))?;
    let ch = &d.charges[pos];
    if ch["status"] != "succeeded" {
        return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", None, Some("charge"), format!("Charge {charge_id} has not succeeded and cannot be refunded.")));
    }
    let captured = ch["amount_captured"].as_i64().unwrap_or(0);
    let refunded = ch["amount_refunded"].as_i64().unwrap_or(0);
    let left = captured - refunded;
    if left <= 0 {
        return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", Some("charge_already_refunded"), None, format!("Charge {charge_id} has already been refunded.")));
    }
    let amount = amount.unwrap_or(left);
    if amount <= 0 {
        return Err(invalid("parameter_invalid_integer", "amount", "Refund amount must be a positive integer in the smallest currency unit.".into()));
    }
    if amount > left {
        return Err(err(StatusCode::BAD_REQUEST, "invalid_request_error", Some("amount_too_large"), Some("amount"), format!(
            "Refund amount (${}.{:02}) is greater than unrefunded amount on charge (${}.{:02})", amount / 100, amount % 100, left / 100, left % 100
        )));
    }
    let id = d.new_id("re");
    let ch = &d.charges[pos];
    let refund = json!({
        "id": id, "object": "refund", "amount": amount, "balance_transaction": format!("txn_{}", &id[3..]),
        "charge": charge_id, "created": now(), "currency": ch["currency"], "metadata": metadata,
        "payment_intent": ch["payment_intent"], "reason": reason, "receipt_number": null,
        "source_transfer_reversal": null, "status": "succeeded", "transfer_reversal": null,
    });
    let ch = &mut d.charges[pos];
    ch["amount_refunded"] = json!(refunded + amount);
    ch["refunded"] = json!(refunded + amount == captured);
    if let Some(list) = ch["refunds"]["data"].as_array_mut() {
        list.insert(0, refund.clone());
    }
    let ch = ch.clone();
    d.refunds.push(refund.clone());
    d.emit("charge.refunded", &ch, ctx.idempotency_key.as_deref());
    Ok(refund)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_stripe_does() {
        // Computed independently: printf '1700000000.{"id":"evt_1"}' | openssl dgst -sha256 -hmac whsec_test
        let header = sign_event("whsec_test", 1_700_000_000, br#"{"id":"evt_1"}"#);
        assert_eq!(header, format!("t=1700000000,v1={}", EXPECTED_V1));
        assert_ne!(signature_v1("whsec_test", 1_700_000_001, br#"{"id":"evt_1"}"#), EXPECTED_V1, "the timestamp is signed");
        assert_ne!(signature_v1("whsec_other", 1_700_000_000, br#"{"id":"evt_1"}"#), EXPECTED_V1, "the secret matters");
        let e = event("evt_1", "invoice.finalized", 1, json!({ "id": "in_1", "object": "invoice" }), Some("k"));
        assert_eq!((e["object"].as_str(), e["data"]["object"]["id"].as_str(), e["type"].as_str()), (Some("event"), Some("in_1"), Some("invoice.finalized")));
    }

    const EXPECTED_V1: &str = "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925";

    #[test]
    fn seed_has_the_promised_shapes() {
        let d = Data::seed(day_anchor(), Arc::new(Outbox::default()));
        assert_eq!(d.customers.len(), SEEDED_CUSTOMERS);
        let subs: Vec<&str> = d.subscriptions.iter().filter(|s| s["customer"] == MULTI_SUB_CUSTOMER).filter_map(|s| s["status"].as_str()).collect();
        assert_eq!(subs, vec!["active", "past_due", "canceled"]);
        let overdue = d.invoices.iter().find(|i| i["id"] == OVERDUE_INVOICE).expect("overdue invoice");
        assert!(overdue["status"] == "open" && overdue["due_date"].as_i64().expect("due") < now());
        assert_eq!(masked(SECRET_KEY).len(), SECRET_KEY.len());
        assert!(masked(SECRET_KEY).starts_with("sk_test_") && !masked(SECRET_KEY).contains("Switchboard"));
    }
}
