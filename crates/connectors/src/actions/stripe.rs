//! Stripe actions for billing and collections. Paths are below the catalog's
//! `api_base_url` (`https://api.stripe.com/v1`); query and body parameters are Stripe's own
//! (docs.stripe.com/api). Writes are form-encoded and carry an `Idempotency-Key`, so a retried
//! call is applied once.
//!
//! A customer "with all their subscriptions" is two calls: `stripe_get_customer`, then
//! `stripe_list_subscriptions` with the customer's id. The list asks for `status=all` (Stripe
//! leaves canceled subscriptions out otherwise) and up to 100 a page, and returns Stripe's
//! `has_more`: when it is true, call again with `starting_after` set to the last id.
//!
//! An invoice is built in steps, as Stripe builds it: `stripe_create_invoice` (a draft),
//! `stripe_create_invoice_item` once per line, `stripe_finalize_invoice`, `stripe_send_invoice`.
//!
//! A credit is given two ways: `stripe_credit_customer_balance` (a customer balance
//! transaction, not tied to an invoice) or `stripe_create_credit_note` against one finalized
//! invoice (Stripe's record of what was credited and why; it lowers an open invoice's amount
//! due, or on a paid invoice goes to the balance, a refund or outside Stripe).

use serde_json::{Map, Value, json};
use switchboard_core::Tier;

use super::{ActionSpec, PreviewKind, HttpCall, object, opt_limit, opt_string, refuse_unknown};

// ---- input checks

/// A Stripe object id such as `cus_NffrFeUfNV2Hib`: the expected prefix, then letters and
/// digits only, so it cannot change the request path.
fn stripe_id(o: &Map<String, Value>, field: &str, prefix: &str) -> Result<Option<String>, String> {
    let id = match o.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(format!("'{field}' must be a Stripe id such as \"{prefix}_NffrFeUfNV2Hib\"")),
    };
    let rest = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('_'));
    match rest {
        Some(r) if !r.is_empty() && id.len() <= 255 && r.bytes().all(|b| b.is_ascii_alphanumeric()) => Ok(Some(id.clone())),
        _ => Err(format!("'{field}' must be a Stripe id starting with \"{prefix}_\" followed by letters and digits")),
    }
}

fn required_id(o: &Map<String, Value>, field: &str, prefix: &str) -> Result<String, String> {
    stripe_id(o, field, prefix)?.ok_or_else(|| format!("'{field}' is required"))
}

/// A positive amount in the currency's smallest unit (cents).
fn amount(o: &Map<String, Value>, field: &str) -> Result<Option<u64>, String> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=99_999_999).contains(&n)) => Ok(n.as_u64()),
        Some(_) => Err(format!("'{field}' must be a whole number of cents from 1 to 99999999, e.g. 2500 for $25.00")),
    }
}

fn currency(o: &Map<String, Value>) -> Result<Option<String>, String> {
    match o.get("currency") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) => Ok(Some(s.to_ascii_lowercase())),
        Some(_) => Err("'currency' must be a three-letter ISO code such as \"usd\"".into()),
    }
}

fn one_of(o: &Map<String, Value>, field: &str, allowed: &[&str]) -> Result<Option<String>, String> {
    match opt_string(o, field)? {
        Some(v) if !allowed.contains(&v.as_str()) => Err(format!("'{field}' must be one of: {}", allowed.join(", "))),
        v => Ok(v),
    }
}

fn text(o: &Map<String, Value>, field: &str, max: usize) -> Result<Option<String>, String> {
    match opt_string(o, field)? {
        Some(v) if v.chars().count() > max => Err(format!("'{field}' must be at most {max} characters")),
        v => Ok(v),
    }
}

/// `limit` (default `default`) and `starting_after` for a Stripe list.
fn paging(o: &Map<String, Value>, query: &mut Vec<(String, String)>, default: u64, cursor_prefix: &str) -> Result<(), String> {
    query.push(("limit".into(), opt_limit(o, 100)?.unwrap_or(default).to_string()));
    if let Some(after) = stripe_id(o, "starting_after", cursor_prefix)? {
        query.push(("starting_after".into(), after));
    }
    Ok(())
}

const CREDIT_NOTE_REASONS: &[&str] = &["duplicate", "fraudulent", "order_change", "product_unsatisfactory"];

/// `metadata[key]=value` pairs: Stripe allows 50 keys of at most 40 characters, values of at
/// most 500; a key must not hold brackets (they would nest the form key).
fn metadata(o: &Map<String, Value>) -> Result<Vec<(String, String)>, String> {
    let Some(m) = o.get("metadata").filter(|m| !m.is_null()) else { return Ok(Vec::new()) };
    let Some(m) = m.as_object() else { return Err("'metadata' must be an object of short text values, e.g. {\"ticket\": \"T-1042\"}".into()) };
    if m.len() > 50 {
        return Err("'metadata' holds at most 50 keys".into());
    }
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) if !k.is_empty() && k.chars().count() <= 40 && !k.contains(['[', ']']) && s.chars().count() <= 500 => Ok((format!("metadata[{k}]"), s.clone())),
            _ => Err(format!("'metadata' key {k:?} must be 1 to 40 characters without brackets, with a text value of at most 500 characters")),
        })
        .collect()
}

/// Credit note `lines` in Stripe's bracket syntax: an invoice line (`invoice_line_item`, with a
/// `quantity` or an `amount`) or a custom line (`description` and `amount`).
fn credit_note_lines(lines: &Value) -> Result<Vec<(String, String)>, String> {
    let Some(list) = lines.as_array().filter(|l| !l.is_empty() && l.len() <= 50) else {
        return Err("'lines' must be a list of 1 to 50 lines".into());
    };
    let mut form = Vec::new();
    for (i, line) in list.iter().enumerate() {
        let l = line.as_object().ok_or_else(|| format!("'lines' item {i} must be an object"))?;
        refuse_unknown(l, &["invoice_line_item", "quantity", "amount", "description"]).map_err(|e| format!("'lines' item {i}: {e}"))?;
        let key = |f: &str| format!("lines[{i}][{f}]");
        let cents = amount(l, "amount").map_err(|e| format!("'lines' item {i}: {e}"))?;
        let quantity = match l.get("quantity") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=10_000).contains(&n)) => n.as_u64(),
            Some(_) => return Err(format!("'lines' item {i}: 'quantity' must be a whole number from 1 to 10000")),
        };
        match stripe_id(l, "invoice_line_item", "il").map_err(|e| format!("'lines' item {i}: {e}"))? {
            Some(item) => {
                if l.contains_key("description") {
                    return Err(format!("'lines' item {i}: an invoice line takes no 'description' (it keeps the invoice's)"));
                }
                if cents.is_none() && quantity.is_none() {
                    return Err(format!("'lines' item {i}: give the 'quantity' or the 'amount' to credit"));
                }
                form.push((key("type"), "invoice_line_item".to_string()));
                form.push((key("invoice_line_item"), item));
                if let Some(q) = quantity {
                    form.push((key("quantity"), q.to_string()));
                }
                if let Some(c) = cents {
                    form.push((key("amount"), c.to_string()));
                }
            }
            None => {
                let description = text(l, "description", 500).map_err(|e| format!("'lines' item {i}: {e}"))?.ok_or_else(|| format!("'lines' item {i}: a custom line needs a 'description' (or name an 'invoice_line_item')"))?;
                let cents = cents.ok_or_else(|| format!("'lines' item {i}: a custom line needs an 'amount' in cents"))?;
                if quantity.is_some() {
                    return Err(format!("'lines' item {i}: a custom line credits its 'amount' once; 'quantity' applies to invoice lines"));
                }
                form.push((key("type"), "custom_line_item".to_string()));
                form.push((key("description"), description));
                form.push((key("quantity"), "1".to_string()));
                form.push((key("unit_amount"), cents.to_string()));
            }
        }
    }
    Ok(form)
}

fn get(path: String, query: Vec<(String, String)>) -> HttpCall {
    HttpCall { method: "GET", path, query, ..HttpCall::default() }
}

fn post(path: String, form: Vec<(String, String)>) -> HttpCall {
    HttpCall { method: "POST", path, form: Some(form), idempotency_key: true, ..HttpCall::default() }
}

// ---- schemas

fn s_id(prefix: &str, what: &str) -> Value {
    json!({ "type": "string", "pattern": format!("^{prefix}_[A-Za-z0-9]+$"), "description": format!("The {what}'s Stripe id, e.g. \"{prefix}_NffrFeUfNV2Hib\".") })
}

fn s_limit(default: u64) -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": 100, "description": format!("Objects per page (default {default}).") })
}

fn s_after(prefix: &str) -> Value {
    json!({ "type": "string", "description": format!("Paging cursor: the id of the last object of the previous page (\"{prefix}_…\"), when that page said has_more.") })
}

fn s_metadata() -> Value {
    json!({ "type": "object", "maxProperties": 50, "additionalProperties": { "type": "string", "maxLength": 500 }, "description": "Your own labels kept on the Stripe object, e.g. {\"ticket\": \"T-1042\"} (keys up to 40 characters)." })
}

fn s_currency() -> Value {
    json!({ "type": "string", "pattern": "^[A-Za-z]{3}$", "description": "Three-letter ISO currency code, lowercase, e.g. \"usd\"." })
}

const P: &str = "stripe";

pub(super) const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        provider: P,
        name: "find_customer_by_email",
        description: "Find customers by exact email address (Stripe allows several customers with one email; newest first).",
        tier: Tier::Read,
        scopes: &["customer_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Action,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["email"], "properties": {
                "email": { "type": "string", "format": "email", "description": "The customer's email address, matched exactly (case-sensitive, as Stripe matches)." },
                "limit": s_limit(10),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["email", "limit"])?;
            let email = opt_string(o, "email")?.ok_or("'email' is required")?;
            if !email.contains('@') || email.len() > 512 || email.chars().any(char::is_whitespace) {
                return Err("'email' must be an email address such as \"ada@example.com\"".into());
            }
            let mut query = vec![("email".to_string(), email)];
            query.push(("limit".into(), opt_limit(o, 100)?.unwrap_or(10).to_string()));
            Ok(get("/customers".into(), query))
        },
    },
    ActionSpec {
        provider: P,
        name: "get_customer",
        description: "Get one customer: name, email, balance (negative is credit), delinquent flag, currency.",
        tier: Tier::Read,
        scopes: &["customer_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Action,
        input_schema: || json!({ "type": "object", "additionalProperties": false, "required": ["customer_id"], "properties": { "customer_id": s_id("cus", "customer") } }),
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id"])?;
            Ok(get(format!("/customers/{}", required_id(o, "customer_id", "cus")?), vec![]))
        },
    },
    ActionSpec {
        provider: P,
        name: "list_subscriptions",
        description: "List a customer's subscriptions with plan, status, current_period_end (renewal) and latest_invoice with its payment_intent (a failed payment shows in last_payment_error); every status by default, up to 100 a page.",
        tier: Tier::Read,
        scopes: &["subscription_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Action,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "customer_id": s_id("cus", "customer"),
                "status": { "type": "string", "enum": ["all", "active", "past_due", "unpaid", "canceled", "ended", "incomplete", "incomplete_expired", "trialing", "paused"], "description": "Only subscriptions in this status (default \"all\", which includes canceled ones)." },
                "limit": s_limit(100),
                "starting_after": s_after("sub"),
                "include_latest_payment": { "type": "boolean", "description": "Expand each subscription's latest_invoice and its payment_intent, so recent payment failures show in one call (default true)." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id", "status", "limit", "starting_after", "include_latest_payment"])?;
            let mut query = Vec::new();
            if let Some(c) = stripe_id(o, "customer_id", "cus")? {
                query.push(("customer".into(), c));
            }
            let status = one_of(o, "status", &["all", "active", "past_due", "unpaid", "canceled", "ended", "incomplete", "incomplete_expired", "trialing", "paused"])?;
            query.push(("status".into(), status.unwrap_or_else(|| "all".into())));
            paging(o, &mut query, 100, "sub")?;
            let expand = match o.get("include_latest_payment") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err("'include_latest_payment' must be true or false".into()),
            };
            if expand {
                // Stripe's expand: the invoice and its payment intent inline, three levels deep (the limit is four).
                query.push(("expand[]".into(), "data.latest_invoice.payment_intent".into()));
            }
            Ok(get("/subscriptions".into(), query))
        },
    },
    ActionSpec {
        provider: P,
        name: "list_events",
        description: "List the account's events (what changed: invoice.paid, customer.created, …), newest first; page with starting_after (older) or ending_before (newer), filter by types and creation time.",
        tier: Tier::Read,
        scopes: &["event_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Action,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "types": { "type": "array", "maxItems": 20, "items": { "type": "string" }, "description": "Only these event types, e.g. [\"invoice.paid\", \"customer.*\"]." },
                "created_gt": { "type": "integer", "description": "Only events created after this Unix time (seconds)." },
                "created_gte": { "type": "integer", "description": "Only events created at or after this Unix time (seconds)." },
                "limit": s_limit(10),
                "starting_after": s_after("evt"),
                "ending_before": { "type": "string", "description": "Paging cursor toward newer events: the id of the newest event already seen (\"evt_…\")." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["types", "created_gt", "created_gte", "limit", "starting_after", "ending_before"])?;
            let mut query = Vec::new();
            match o.get("types") {
                None | Some(Value::Null) => {}
                Some(Value::Array(list)) if list.len() <= 20 => {
                    for t in list {
                        match t.as_str() {
                            Some(t) if !t.is_empty() && t.len() <= 100 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"._*".contains(&b)) => query.push(("types[]".into(), t.to_string())),
                            _ => return Err("'types' must list event types such as \"invoice.paid\" or \"customer.*\"".into()),
                        }
                    }
                }
                Some(_) => return Err("'types' must be a list of at most 20 event types".into()),
            }
            for (field, param) in [("created_gt", "created[gt]"), ("created_gte", "created[gte]")] {
                match o.get(field) {
                    None | Some(Value::Null) => {}
                    Some(Value::Number(n)) if n.as_u64().is_some() => query.push((param.into(), n.to_string())),
                    Some(_) => return Err(format!("'{field}' must be a Unix time in seconds")),
                }
            }
            if o.get("starting_after").is_some() && o.get("ending_before").is_some() {
                return Err("give 'starting_after' or 'ending_before', not both".into());
            }
            if let Some(before) = stripe_id(o, "ending_before", "evt")? {
                query.push(("ending_before".into(), before));
            }
            paging(o, &mut query, 10, "evt")?;
            Ok(get("/events".into(), query))
        },
    },
    ActionSpec {
        provider: P,
        name: "list_invoices",
        description: "List invoices, newest first, by customer and/or status (draft, open, paid, uncollectible, void); an open invoice whose due_date has passed is past due.",
        tier: Tier::Read,
        scopes: &["invoice_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Invoice,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "customer_id": s_id("cus", "customer"),
                "status": { "type": "string", "enum": ["draft", "open", "paid", "uncollectible", "void"], "description": "Only invoices in this status." },
                "subscription_id": s_id("sub", "subscription"),
                "limit": s_limit(10),
                "starting_after": s_after("in"),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id", "status", "subscription_id", "limit", "starting_after"])?;
            let mut query = Vec::new();
            if let Some(c) = stripe_id(o, "customer_id", "cus")? {
                query.push(("customer".into(), c));
            }
            if let Some(s) = one_of(o, "status", &["draft", "open", "paid", "uncollectible", "void"])? {
                query.push(("status".into(), s));
            }
            if let Some(s) = stripe_id(o, "subscription_id", "sub")? {
                query.push(("subscription".into(), s));
            }
            paging(o, &mut query, 10, "in")?;
            Ok(get("/invoices".into(), query))
        },
    },
    ActionSpec {
        provider: P,
        name: "get_invoice",
        description: "Get one invoice: status, amounts due/paid/remaining, due_date, lines, hosted_invoice_url.",
        tier: Tier::Read,
        scopes: &["invoice_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Invoice,
        input_schema: || json!({ "type": "object", "additionalProperties": false, "required": ["invoice_id"], "properties": { "invoice_id": s_id("in", "invoice") } }),
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["invoice_id"])?;
            Ok(get(format!("/invoices/{}", required_id(o, "invoice_id", "in")?), vec![]))
        },
    },
    ActionSpec {
        provider: P,
        name: "list_charges",
        description: "List charges, newest first, by customer or payment intent; failed ones carry failure_code and failure_message, refunded ones amount_refunded.",
        tier: Tier::Read,
        scopes: &["charge_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Action,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "customer_id": s_id("cus", "customer"),
                "payment_intent_id": s_id("pi", "payment intent"),
                "limit": s_limit(10),
                "starting_after": s_after("ch"),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id", "payment_intent_id", "limit", "starting_after"])?;
            let mut query = Vec::new();
            if let Some(c) = stripe_id(o, "customer_id", "cus")? {
                query.push(("customer".into(), c));
            }
            if let Some(p) = stripe_id(o, "payment_intent_id", "pi")? {
                query.push(("payment_intent".into(), p));
            }
            paging(o, &mut query, 10, "ch")?;
            Ok(get("/charges".into(), query))
        },
    },
    ActionSpec {
        provider: P,
        name: "list_payment_intents",
        description: "List payment intents, newest first, optionally for one customer; last_payment_error explains a failed attempt.",
        tier: Tier::Read,
        scopes: &["payment_intent_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Action,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "customer_id": s_id("cus", "customer"),
                "limit": s_limit(10),
                "starting_after": s_after("pi"),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id", "limit", "starting_after"])?;
            let mut query = Vec::new();
            if let Some(c) = stripe_id(o, "customer_id", "cus")? {
                query.push(("customer".into(), c));
            }
            paging(o, &mut query, 10, "pi")?;
            Ok(get("/payment_intents".into(), query))
        },
    },
    ActionSpec {
        provider: P,
        name: "create_invoice",
        description: "Create a draft invoice the customer pays by the emailed link within days_until_due; add lines with create_invoice_item, then finalize and send it.",
        tier: Tier::Write,
        scopes: &["invoice_write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::Invoice,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["customer_id", "days_until_due"], "properties": {
                "customer_id": s_id("cus", "customer"),
                "days_until_due": { "type": "integer", "minimum": 1, "maximum": 730, "description": "Days after finalizing until payment is due, e.g. 30." },
                "currency": s_currency(),
                "description": { "type": "string", "maxLength": 1500, "description": "Memo shown on the invoice." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id", "days_until_due", "currency", "description"])?;
            let customer = required_id(o, "customer_id", "cus")?;
            let days = match o.get("days_until_due") {
                Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (1..=730).contains(&n)) => n.to_string(),
                None => return Err("'days_until_due' is required".into()),
                Some(_) => return Err("'days_until_due' must be a whole number of days from 1 to 730".into()),
            };
            let mut form = vec![
                ("customer".to_string(), customer),
                ("collection_method".into(), "send_invoice".into()),
                ("days_until_due".into(), days),
                // Finalizing and sending stay explicit steps a person can approve.
                ("auto_advance".into(), "false".into()),
            ];
            if let Some(c) = currency(o)? {
                form.push(("currency".into(), c));
            }
            if let Some(d) = text(o, "description", 1500)? {
                form.push(("description".into(), d));
            }
            Ok(post("/invoices".into(), form))
        },
    },
    ActionSpec {
        provider: P,
        name: "create_invoice_item",
        description: "Add one line (description and amount) to a customer's draft invoice.",
        tier: Tier::Write,
        scopes: &["invoice_write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::Invoice,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["customer_id", "invoice_id", "description", "amount"], "properties": {
                "customer_id": s_id("cus", "customer"),
                "invoice_id": s_id("in", "draft invoice"),
                "description": { "type": "string", "maxLength": 500, "description": "What the line is for, e.g. \"Training day, 12 May\"." },
                "amount": { "type": "integer", "minimum": 1, "description": "Line amount in the smallest currency unit (cents), e.g. 15000 for $150.00." },
                "currency": s_currency(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id", "invoice_id", "description", "amount", "currency"])?;
            let customer = required_id(o, "customer_id", "cus")?;
            let invoice = required_id(o, "invoice_id", "in")?;
            let description = text(o, "description", 500)?.ok_or("'description' is required")?;
            let cents = amount(o, "amount")?.ok_or("'amount' is required")?;
            let mut form = vec![
                ("customer".to_string(), customer),
                ("invoice".into(), invoice),
                ("description".into(), description),
                ("amount".into(), cents.to_string()),
            ];
            if let Some(c) = currency(o)? {
                form.push(("currency".into(), c));
            }
            Ok(post("/invoiceitems".into(), form))
        },
    },
    ActionSpec {
        provider: P,
        name: "finalize_invoice",
        description: "Finalize a draft invoice: it gets a number and due date, becomes open and can no longer be edited.",
        tier: Tier::Write,
        scopes: &["invoice_write"],
        outbound: true,
        idempotent: true,
        preview: PreviewKind::Invoice,
        input_schema: || json!({ "type": "object", "additionalProperties": false, "required": ["invoice_id"], "properties": { "invoice_id": s_id("in", "draft invoice") } }),
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["invoice_id"])?;
            Ok(post(format!("/invoices/{}/finalize", required_id(o, "invoice_id", "in")?), vec![]))
        },
    },
    ActionSpec {
        provider: P,
        name: "send_invoice",
        description: "Email an open invoice to the customer with its payment link.",
        tier: Tier::Write,
        scopes: &["invoice_write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::Invoice,
        input_schema: || json!({ "type": "object", "additionalProperties": false, "required": ["invoice_id"], "properties": { "invoice_id": s_id("in", "open invoice") } }),
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["invoice_id"])?;
            Ok(post(format!("/invoices/{}/send", required_id(o, "invoice_id", "in")?), vec![]))
        },
    },
    ActionSpec {
        provider: P,
        name: "credit_customer_balance",
        description: "Give a customer credit: it lowers what their next invoices charge (a customer balance transaction).",
        tier: Tier::Write,
        scopes: &["customer_write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::Credit,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["customer_id", "amount", "currency"], "properties": {
                "customer_id": s_id("cus", "customer"),
                "amount": { "type": "integer", "minimum": 1, "description": "Credit in the smallest currency unit (cents), a positive number, e.g. 2500 for $25.00." },
                "currency": s_currency(),
                "description": { "type": "string", "maxLength": 350, "description": "Why the credit is given (shown to the customer)." },
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id", "amount", "currency", "description"])?;
            let customer = required_id(o, "customer_id", "cus")?;
            let cents = amount(o, "amount")?.ok_or("'amount' is required")?;
            let cur = currency(o)?.ok_or("'currency' is required")?;
            // Stripe: a negative balance transaction is a credit to the customer.
            let mut form = vec![("amount".to_string(), format!("-{cents}")), ("currency".into(), cur)];
            if let Some(d) = text(o, "description", 350)? {
                form.push(("description".into(), d));
            }
            Ok(post(format!("/customers/{customer}/balance_transactions"), form))
        },
    },
    ActionSpec {
        provider: P,
        name: "create_credit_note",
        description: "Issue a credit note on a finalized invoice, by total amount or by lines: on an open invoice it lowers what is due; on a paid one the credit goes to the customer's balance (credit_amount), back to the card (refund_amount) or is recorded as settled outside Stripe (out_of_band_amount), which must add up to the total.",
        tier: Tier::Write,
        scopes: &["credit_note_write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::Credit,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "required": ["invoice_id"], "properties": {
                "invoice_id": s_id("in", "finalized invoice"),
                "amount": { "type": "integer", "minimum": 1, "description": "Total to credit in cents; give this or `lines`, not both. Stripe refuses more than the invoice has left to credit." },
                "lines": { "type": "array", "minItems": 1, "maxItems": 50, "description": "What is credited, instead of `amount`: an invoice line ({\"invoice_line_item\": \"il_…\", \"quantity\": 1} or with \"amount\" in cents) or a custom line ({\"description\": \"Service credit\", \"amount\": 500}).", "items": { "type": "object", "additionalProperties": false, "properties": {
                    "invoice_line_item": { "type": "string", "pattern": "^il_[A-Za-z0-9]+$", "description": "The invoice line's id (lines.data[].id of get_invoice)." },
                    "quantity": { "type": "integer", "minimum": 1, "description": "How many units of the invoice line to credit." },
                    "amount": { "type": "integer", "minimum": 1, "description": "Cents to credit on this line." },
                    "description": { "type": "string", "maxLength": 500, "description": "A custom line's text, e.g. \"Service credit for the outage\"." },
                }}},
                "reason": { "type": "string", "enum": CREDIT_NOTE_REASONS, "description": "Why, as Stripe records it." },
                "memo": { "type": "string", "maxLength": 500, "description": "Shown on the credit note PDF." },
                "credit_amount": { "type": "integer", "minimum": 1, "description": "Paid invoice: cents credited to the customer's balance (applied to their next invoice)." },
                "refund_amount": { "type": "integer", "minimum": 1, "description": "Paid invoice: cents refunded to the invoice's payment." },
                "out_of_band_amount": { "type": "integer", "minimum": 1, "description": "Paid invoice: cents settled outside Stripe." },
                "metadata": s_metadata(),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["invoice_id", "amount", "lines", "reason", "memo", "credit_amount", "refund_amount", "out_of_band_amount", "metadata"])?;
            let mut form = vec![("invoice".to_string(), required_id(o, "invoice_id", "in")?)];
            match (amount(o, "amount")?, o.get("lines").filter(|l| !l.is_null())) {
                (Some(_), Some(_)) => return Err("give either 'amount' or 'lines', not both".into()),
                (None, None) => return Err("'amount' or 'lines' is required: what the credit note credits".into()),
                (Some(cents), None) => form.push(("amount".into(), cents.to_string())),
                (None, Some(lines)) => form.extend(credit_note_lines(lines)?),
            }
            if let Some(r) = one_of(o, "reason", CREDIT_NOTE_REASONS)? {
                form.push(("reason".into(), r));
            }
            if let Some(m) = text(o, "memo", 500)? {
                form.push(("memo".into(), m));
            }
            for f in ["credit_amount", "refund_amount", "out_of_band_amount"] {
                if let Some(cents) = amount(o, f)? {
                    form.push((f.into(), cents.to_string()));
                }
            }
            form.extend(metadata(o)?);
            Ok(post("/credit_notes".into(), form))
        },
    },
    ActionSpec {
        provider: P,
        name: "list_credit_notes",
        description: "List credit notes, newest first, for a customer or an invoice: amounts, reason, memo, type (pre_payment or post_payment) and status (issued or void).",
        tier: Tier::Read,
        scopes: &["credit_note_read"],
        outbound: false,
        idempotent: true,
        preview: PreviewKind::Credit,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "customer_id": s_id("cus", "customer"),
                "invoice_id": s_id("in", "invoice"),
                "limit": s_limit(10),
                "starting_after": s_after("cn"),
            }})
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["customer_id", "invoice_id", "limit", "starting_after"])?;
            let mut query = Vec::new();
            if let Some(c) = stripe_id(o, "customer_id", "cus")? {
                query.push(("customer".into(), c));
            }
            if let Some(i) = stripe_id(o, "invoice_id", "in")? {
                query.push(("invoice".into(), i));
            }
            paging(o, &mut query, 10, "cn")?;
            Ok(get("/credit_notes".into(), query))
        },
    },
    ActionSpec {
        provider: P,
        name: "refund",
        description: "Refund a charge or payment intent, in full or in part; Stripe refuses more than is left to refund.",
        tier: Tier::Write,
        scopes: &["charge_write"],
        outbound: true,
        idempotent: false,
        preview: PreviewKind::Refund,
        input_schema: || {
            json!({ "type": "object", "additionalProperties": false, "properties": {
                "charge_id": s_id("ch", "charge"),
                "payment_intent_id": s_id("pi", "payment intent"),
                "amount": { "type": "integer", "minimum": 1, "description": "Cents to refund (default: everything not yet refunded)." },
                "reason": { "type": "string", "enum": ["duplicate", "fraudulent", "requested_by_customer"], "description": "Why, as Stripe records it." },
            }, "description": "Exactly one of charge_id and payment_intent_id." })
        },
        build: |input| {
            let o = object(input)?;
            refuse_unknown(o, &["charge_id", "payment_intent_id", "amount", "reason"])?;
            let mut form = match (stripe_id(o, "charge_id", "ch")?, stripe_id(o, "payment_intent_id", "pi")?) {
                (Some(c), None) => vec![("charge".to_string(), c)],
                (None, Some(p)) => vec![("payment_intent".to_string(), p)],
                (Some(_), Some(_)) => return Err("give either 'charge_id' or 'payment_intent_id', not both".into()),
                (None, None) => return Err("'charge_id' or 'payment_intent_id' is required".into()),
            };
            if let Some(cents) = amount(o, "amount")? {
                form.push(("amount".into(), cents.to_string()));
            }
            if let Some(r) = one_of(o, "reason", &["duplicate", "fraudulent", "requested_by_customer"])? {
                form.push(("reason".into(), r));
            }
            Ok(post("/refunds".into(), form))
        },
    },
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::action;

    fn build(tool: &str, input: serde_json::Value) -> Result<crate::HttpCall, String> {
        (action(tool).unwrap_or_else(|| panic!("{tool} exists")).build)(&input)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    #[test]
    fn reads_become_stripes_list_and_retrieve_requests() {
        let c = build("stripe_find_customer_by_email", json!({ "email": "grace@cobol.example" })).expect("valid");
        assert_eq!((c.method, c.path.as_str(), c.query.clone()), ("GET", "/customers", pairs(&[("email", "grace@cobol.example"), ("limit", "10")])));
        assert!(c.form.is_none() && !c.idempotency_key, "a read has no body and needs no key");
        let c = build("stripe_get_customer", json!({ "customer_id": "cus_Abc123" })).expect("valid");
        assert_eq!(c.path, "/customers/cus_Abc123");
        let c = build("stripe_list_subscriptions", json!({ "customer_id": "cus_Abc123" })).expect("valid");
        assert_eq!((c.path.as_str(), c.query), ("/subscriptions", pairs(&[("customer", "cus_Abc123"), ("status", "all"), ("limit", "100"), ("expand[]", "data.latest_invoice.payment_intent")])), "every subscription, canceled included, a full page, with the latest payment");
        let c = build("stripe_list_subscriptions", json!({ "include_latest_payment": false })).expect("valid");
        assert!(!c.query.iter().any(|(k, _)| k == "expand[]"), "the expansion can be turned off");
        let c = build("stripe_list_invoices", json!({ "customer_id": "cus_A1", "status": "open", "limit": 5, "starting_after": "in_Z9" })).expect("valid");
        assert_eq!(c.query, pairs(&[("customer", "cus_A1"), ("status", "open"), ("limit", "5"), ("starting_after", "in_Z9")]));
        assert_eq!(build("stripe_get_invoice", json!({ "invoice_id": "in_1" })).expect("valid").path, "/invoices/in_1");
        assert_eq!(build("stripe_list_charges", json!({ "payment_intent_id": "pi_1" })).expect("valid").query, pairs(&[("payment_intent", "pi_1"), ("limit", "10")]));
        assert_eq!(build("stripe_list_payment_intents", json!({})).expect("valid").path, "/payment_intents");
        let c = build("stripe_list_events", json!({ "types": ["invoice.paid", "customer.*"], "created_gte": 1_700_000_000, "limit": 100, "ending_before": "evt_1A" })).expect("valid");
        assert_eq!(
            (c.path.as_str(), c.query),
            ("/events", pairs(&[("types[]", "invoice.paid"), ("types[]", "customer.*"), ("created[gte]", "1700000000"), ("ending_before", "evt_1A"), ("limit", "100")]))
        );
        assert!(build("stripe_list_events", json!({ "types": ["invoice paid&x=1"] })).expect_err("bad type").contains("types"));
        assert!(build("stripe_list_events", json!({ "starting_after": "evt_1", "ending_before": "evt_2" })).is_err(), "one cursor direction at a time");
        assert!(build("stripe_list_events", json!({ "ending_before": "in_1" })).expect_err("wrong prefix").contains("ending_before"));
    }

    #[test]
    fn writes_are_form_encoded_and_carry_an_idempotency_key() {
        let c = build("stripe_create_invoice", json!({ "customer_id": "cus_A1", "days_until_due": 30, "currency": "USD" })).expect("valid");
        assert_eq!((c.method, c.path.as_str()), ("POST", "/invoices"));
        assert_eq!(c.form, Some(pairs(&[("customer", "cus_A1"), ("collection_method", "send_invoice"), ("days_until_due", "30"), ("auto_advance", "false"), ("currency", "usd")])));
        assert!(c.idempotency_key && c.json.is_none());
        let c = build("stripe_create_invoice_item", json!({ "customer_id": "cus_A1", "invoice_id": "in_1", "description": "Day", "amount": 15000 })).expect("valid");
        assert_eq!(c.form, Some(pairs(&[("customer", "cus_A1"), ("invoice", "in_1"), ("description", "Day"), ("amount", "15000")])));
        assert_eq!(build("stripe_finalize_invoice", json!({ "invoice_id": "in_1" })).expect("valid").path, "/invoices/in_1/finalize");
        assert_eq!(build("stripe_send_invoice", json!({ "invoice_id": "in_1" })).expect("valid").path, "/invoices/in_1/send");
        let c = build("stripe_credit_customer_balance", json!({ "customer_id": "cus_A1", "amount": 2500, "currency": "usd" })).expect("valid");
        assert_eq!((c.path.as_str(), c.form), ("/customers/cus_A1/balance_transactions", Some(pairs(&[("amount", "-2500"), ("currency", "usd")]))), "a credit is a negative balance transaction");
        let c = build("stripe_refund", json!({ "payment_intent_id": "pi_1", "amount": 100, "reason": "requested_by_customer" })).expect("valid");
        assert_eq!(c.form, Some(pairs(&[("payment_intent", "pi_1"), ("amount", "100"), ("reason", "requested_by_customer")])));
        let c = build("stripe_create_credit_note", json!({ "invoice_id": "in_1", "amount": 500, "reason": "order_change", "memo": "Late delivery", "metadata": { "ticket": "T-1" } })).expect("valid");
        assert_eq!((c.path.as_str(), c.idempotency_key), ("/credit_notes", true));
        assert_eq!(c.form, Some(pairs(&[("invoice", "in_1"), ("amount", "500"), ("reason", "order_change"), ("memo", "Late delivery"), ("metadata[ticket]", "T-1")])));
        let c = build("stripe_create_credit_note", json!({ "invoice_id": "in_1", "credit_amount": 700, "lines": [{ "invoice_line_item": "il_1", "quantity": 1 }, { "description": "Service credit", "amount": 200 }] })).expect("valid");
        assert_eq!(
            c.form,
            Some(pairs(&[
                ("invoice", "in_1"),
                ("lines[0][type]", "invoice_line_item"),
                ("lines[0][invoice_line_item]", "il_1"),
                ("lines[0][quantity]", "1"),
                ("lines[1][type]", "custom_line_item"),
                ("lines[1][description]", "Service credit"),
                ("lines[1][quantity]", "1"),
                ("lines[1][unit_amount]", "200"),
                ("credit_amount", "700"),
            ])),
            "lines go in Stripe's bracket syntax, numbered from 0"
        );
        let c = build("stripe_list_credit_notes", json!({ "invoice_id": "in_1" })).expect("valid");
        assert_eq!((c.method, c.path.as_str(), c.query), ("GET", "/credit_notes", pairs(&[("invoice", "in_1"), ("limit", "10")])));
        for a in crate::actions().iter().filter(|a| a.provider == "stripe" && a.tier != switchboard_core::Tier::Read) {
            assert!(a.outbound, "{}: every Stripe write changes the account", a.tool_name());
        }
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named_and_ids_cannot_escape_the_path() {
        for (tool, input, field) in [
            ("stripe_get_customer", json!({}), "customer_id"),
            ("stripe_get_customer", json!({ "customer_id": "cus_../../balance" }), "customer_id"),
            ("stripe_get_customer", json!({ "customer_id": "in_123" }), "customer_id"),
            ("stripe_get_invoice", json!({ "invoice_id": "in_1/pay" }), "invoice_id"),
            ("stripe_get_invoice", json!({ "invoice_id": "in_1?x=1" }), "invoice_id"),
            ("stripe_finalize_invoice", json!({ "invoice_id": "in_%2F" }), "invoice_id"),
            ("stripe_find_customer_by_email", json!({ "email": "not-an-email" }), "email"),
            ("stripe_find_customer_by_email", json!({ "email": "a@b.c", "limit": 101 }), "limit"),
            ("stripe_list_invoices", json!({ "status": "overdue" }), "status"),
            ("stripe_list_invoices", json!({ "starting_after": "cus_1" }), "starting_after"),
            ("stripe_list_subscriptions", json!({ "color": "red" }), "color"),
            ("stripe_list_subscriptions", json!({ "include_latest_payment": "yes" }), "include_latest_payment"),
            ("stripe_create_invoice", json!({ "customer_id": "cus_1" }), "days_until_due"),
            ("stripe_create_invoice", json!({ "customer_id": "cus_1", "days_until_due": 0 }), "days_until_due"),
            ("stripe_create_invoice", json!({ "customer_id": "cus_1", "days_until_due": 3, "currency": "dollars" }), "currency"),
            ("stripe_create_invoice_item", json!({ "customer_id": "cus_1", "invoice_id": "in_1", "description": "x", "amount": -5 }), "amount"),
            ("stripe_create_invoice_item", json!({ "customer_id": "cus_1", "invoice_id": "in_1", "description": "x", "amount": 1.5 }), "amount"),
            ("stripe_create_invoice_item", json!({ "customer_id": "cus_1", "invoice_id": "in_1", "amount": 5 }), "description"),
            ("stripe_credit_customer_balance", json!({ "customer_id": "cus_1", "amount": 5 }), "currency"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1" }), "amount"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1", "amount": 5, "lines": [{ "description": "x", "amount": 5 }] }), "lines"),
            ("stripe_create_credit_note", json!({ "amount": 5 }), "invoice_id"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1", "amount": 5, "reason": "because" }), "reason"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1", "lines": [{ "description": "x" }] }), "amount"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1", "lines": [{ "invoice_line_item": "il_1" }] }), "quantity"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1", "lines": [{ "invoice_line_item": "il_1/x", "quantity": 1 }] }), "invoice_line_item"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1", "lines": [] }), "lines"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1", "amount": 5, "metadata": { "a[b]": "x" } }), "metadata"),
            ("stripe_create_credit_note", json!({ "invoice_id": "in_1", "amount": 5, "metadata": { "n": 1 } }), "metadata"),
            ("stripe_list_credit_notes", json!({ "starting_after": "in_1" }), "starting_after"),
            ("stripe_refund", json!({}), "charge_id"),
            ("stripe_refund", json!({ "charge_id": "ch_1", "payment_intent_id": "pi_1" }), "payment_intent_id"),
            ("stripe_refund", json!({ "charge_id": "ch_1", "amount": "all" }), "amount"),
            ("stripe_refund", json!({ "charge_id": "ch_1", "reason": "because" }), "reason"),
        ] {
            let e = build(tool, input.clone()).expect_err(&format!("{tool} {input} must be refused"));
            assert!(e.contains(field), "{tool} {input}: the refusal should name '{field}': {e}");
        }
        assert!(build("stripe_get_customer", json!("cus_1")).is_err(), "a non-object input must be refused");
    }
}
