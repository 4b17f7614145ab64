//! Inbound provider events, as pure functions: nothing here does I/O.
//!
//! - [`verify`] checks one delivery's signature over the **raw** request bytes with the
//!   provider's scheme ([`Scheme`]: Stripe `v1`, Slack `v0`, HubSpot v3, Standard Webhooks),
//!   compares in constant time (`hmac`'s `verify_slice`), and refuses a timestamp more than
//!   [`TOLERANCE_MS`] from `now` (either way). A refusal is a typed [`Rejection`]: a missing or
//!   malformed header, a stale timestamp, a forged signature, or an unusable secret.
//! - [`parse`] turns a verified delivery into events in one normalised shape ([`Event`]: the
//!   provider's event id, its type, when it happened, its payload), or Slack's
//!   `url_verification` challenge. [`pull`] turns the pages a pull reads (Stripe's event list,
//!   Gmail's history, Slack channel history, HubSpot's recently modified contacts) into the same
//!   shape, so an agent cannot tell a webhook from a pull except by its `source`.
//! - Event ids are what de-duplication keys on. A Slack message has the same id whichever path
//!   brought it (`message:{channel}:{ts}`), and a Stripe event keeps Stripe's `evt_…` id on both
//!   paths, so an event seen twice is stored once.
//!
//! Must not depend on: the store, the keychain, HTTP clients or servers, the connectors catalog
//! (the API layer maps a catalog scheme name onto [`Scheme`] with [`Scheme::parse`]). Secrets
//! arrive as `&str` for the length of one call and are never kept, printed or put in an error.
//!
//! How to add a provider: add a [`Scheme`] variant and its arm in [`verify`] (parse the headers
//! into a typed form first, refuse what does not parse with [`Rejection::MalformedHeader`], check
//! the timestamp, then compare with `verify_slice`); add its arm in [`parse`] (the event id the
//! provider repeats on retries, the type, the time); and cover valid, forged, stale (±301 s),
//! body-altered, header-missing and malformed-header deliveries and the provider's own published
//! example, if it has one, with unit tests.

mod events;
pub mod pull;
mod verify;

pub use events::{Event, Parsed, parse};
pub use verify::{
    Rejection, TOLERANCE_MS, Verified, hubspot_v3_signature, slack_v0_signature,
    standard_signature, stripe_v1_signature, verify,
};

/// How a provider signs its deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=…]`: hex HMAC-SHA256 over `"{t}.{body}"`
    /// under the endpoint secret (`whsec_…`, used as is); any `v1` may match.
    StripeV1,
    /// `X-Slack-Signature: v0=<hex>` with `X-Slack-Request-Timestamp` (unix s): hex HMAC-SHA256
    /// over `"v0:{ts}:{body}"` under the app's signing secret.
    SlackV0,
    /// `X-HubSpot-Signature-v3` with `X-HubSpot-Request-Timestamp` (unix **ms**): base64
    /// HMAC-SHA256 over `method + uri + body + timestamp` under the app's client secret, where
    /// the URI has HubSpot's listed percent-escapes decoded.
    HubspotV3,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp` (unix s), `webhook-signature` (a
    /// space-separated list of `v1,<base64>`): HMAC-SHA256 over `"{id}.{timestamp}.{body}"`
    /// under the base64-decoded secret (`whsec_` prefix optional).
    StandardWebhooks,
}

impl Scheme {
    /// The catalog's name for the scheme (`[providers.webhook] scheme`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StripeV1 => "stripe_v1",
            Self::SlackV0 => "slack_v0",
            Self::HubspotV3 => "hubspot_v3",
            Self::StandardWebhooks => "standard_webhooks",
        }
    }

    /// The scheme for a catalog name; `None` for schemes Switchboard does not verify.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::StripeV1,
            Self::SlackV0,
            Self::HubspotV3,
            Self::StandardWebhooks,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// Request headers, looked up case-insensitively. Values are kept as received (a value that is
/// not UTF-8 is kept lossily, so it fails verification rather than counting as absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one header (a repeated name keeps every value; [`Headers::get`] returns the first).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0
            .push((name.into().to_ascii_lowercase(), value.into()));
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut h = Self::new();
        for (k, v) in iter {
            h.insert(k, v);
        }
        h
    }
}

/// One inbound delivery exactly as received.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// `POST`.
    pub method: &'a str,
    /// The full URI the provider addressed (`http://127.0.0.1:PORT/hooks/hubspot-1`): HubSpot
    /// signs it.
    pub uri: &'a str,
    pub headers: &'a Headers,
    /// The raw body: every scheme signs these bytes, so they are never re-serialised.
    pub body: &'a [u8],
}
