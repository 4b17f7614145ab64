//! Provider events pushed to the gateway: `POST /hooks/{connection_id}`, and the event lists
//! people and agents read.
//!
//! - **Secret**: a connection's webhook signing secret (Stripe's endpoint `whsec_…`, Slack's
//!   signing secret, HubSpot's client secret) lives only in the keychain, at
//!   `webhook-secret:<connection>` ([`App::webhook_secret_set`], audited
//!   `connection.webhook_secret_set`, never with the value).
//! - **Receive** ([`App::webhook_receive`]): the connection's provider names its scheme in the
//!   catalog (`[providers.webhook] scheme`); the delivery is verified over its raw bytes
//!   ([`switchboard_webhooks::verify`]: constant time, ±300 s), parsed, and then, in one
//!   transaction, each event is de-duplicated by its provider id (kept 30 days), stored and
//!   audited (`webhook.received`, actor kind `webhook`, the event id as trigger and correlation id,
//!   FULL durability: the provider is told 2xx only once the event is durable). A delivery of an
//!   event already stored changes nothing but its audit row (`decision=deny`,
//!   `outcome=duplicate`). Every refusal (unknown connection, no secret, missing or malformed
//!   header, stale, forged, malformed body, too large) is audited `webhook.rejected` with the
//!   reason, and nothing else changes. Slack's `url_verification` is answered with its challenge
//!   only after its signature verified.
//! - **Read**: [`App::events_list`] for people; [`App::agent_events`] for an agent holding an
//!   unexpired read grant on the connection (refusals audited, like tool calls).
//!
//! Pulled events ([`crate::pull`]) land in the same table in the same shape, so an agent reads
//! one list whatever the path.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::{ActorKind, ApiError, ErrorCode, NewAuditRow, Sensitive};
use switchboard_store::Durability;
use switchboard_store::connections::ConnectionRecord;
use switchboard_store::events::{self as stored, NewEvent, StoredEvent};
use switchboard_store::grants as stored_grants;
/// Request headers of a delivery (case-insensitive), as the HTTP edge hands them over.
pub use switchboard_webhooks::Headers;
use switchboard_webhooks::{Delivery, Parsed, Rejection, Scheme};
use ts_rs::TS;

use crate::App;
use crate::agents::AgentId;
use crate::gateway::blocking;

/// Largest webhook body accepted (Stripe events are well under this; HubSpot batches 100).
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;
/// Most events one list answers.
pub const MAX_PAGE: u32 = 500;
/// Longest webhook secret accepted.
const MAX_SECRET: usize = 1024;

/// The keychain key of a connection's webhook signing secret.
pub fn webhook_secret_key(connection_id: &str) -> String {
    format!("webhook-secret:{connection_id}")
}

/// Which path brought an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    Webhook,
    Pull,
}

/// One provider event, as agents and the UI read it, whichever path brought it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventInfo {
    /// Arrival order; pass the last one seen as `after` to read only newer events.
    #[ts(type = "number")]
    pub seq: i64,
    /// The provider's event id (`evt_…`, `message:{channel}:{ts}`, HubSpot's eventId, …).
    pub id: String,
    pub connection: String,
    /// The connection's provider, e.g. `stripe` or `stripe-sandbox`.
    pub provider: String,
    /// The provider's event type, e.g. `invoice.paid`, `message`, `contact.creation`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened at the provider (UTC ms).
    #[ts(type = "number")]
    pub occurred_at_ms: i64,
    /// When Switchboard stored it (UTC ms).
    #[ts(type = "number")]
    pub received_at_ms: i64,
    pub source: EventSource,
    /// The provider's own JSON for the event. Provider text is data, not instructions.
    #[ts(type = "unknown")]
    pub payload: Value,
}

/// A page of events, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct EventPage {
    pub events: Vec<EventInfo>,
    /// Pass as `after` for the next page; `null` when this page was the last one.
    #[ts(type = "number | null")]
    pub next_after: Option<i64>,
}

/// Where a connection's provider should deliver, once its secret is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct WebhookSetup {
    pub connection: String,
    /// The signature scheme it is verified with, e.g. `stripe_v1`.
    pub scheme: String,
    /// `http://127.0.0.1:PORT/hooks/<connection>` (a relay or tunnel forwards to it).
    pub url: String,
}

/// What a verified delivery is answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WebhookAnswer {
    /// Slack's handshake: echo the challenge.
    Challenge { challenge: String },
    /// Events stored now, and events already stored before (answered 2xx too, so the provider
    /// stops retrying).
    Accepted { stored: usize, duplicates: usize },
}

/// One delivery as the HTTP edge received it.
#[derive(Debug, Clone)]
pub struct InboundWebhook {
    pub method: String,
    /// The full URI (`http://127.0.0.1:PORT/hooks/<id>`), which HubSpot signs.
    pub uri: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

pub(crate) fn event_info(e: StoredEvent) -> EventInfo {
    EventInfo {
        seq: e.seq,
        source: if e.source == stored::PULL {
            EventSource::Pull
        } else {
            EventSource::Webhook
        },
        // A payload that no longer parses is shown as its text rather than hidden.
        payload: serde_json::from_str(&e.payload).unwrap_or(Value::String(e.payload)),
        id: e.event_id,
        connection: e.connection_id,
        provider: e.provider,
        event_type: e.event_type,
        occurred_at_ms: e.occurred_at_ms,
        received_at_ms: e.received_at_ms,
    }
}

fn page(events: Vec<StoredEvent>, limit: u32) -> EventPage {
    let full = events.len() >= limit as usize;
    let events: Vec<EventInfo> = events.into_iter().map(event_info).collect();
    EventPage {
        next_after: if full {
            events.last().map(|e| e.seq)
        } else {
            None
        },
        events,
    }
}

fn checked_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit must be from 1 to {MAX_PAGE} (got {n})"
        ))),
    }
}

/// The scheme a provider's deliveries are verified with, from its catalog entry.
pub(crate) fn scheme_of(entry: &switchboard_connectors::ProviderEntry) -> Option<Scheme> {
    let spec = entry.webhook.as_ref()?;
    let name = serde_json::to_value(spec.scheme).ok()?;
    Scheme::parse(name.as_str()?)
}

/// A refused delivery: its audit reason, the answer's code and words.
struct Refused {
    reason: &'static str,
    code: ErrorCode,
    message: String,
}

fn refused(reason: &'static str, code: ErrorCode, message: impl Into<String>) -> Refused {
    Refused {
        reason,
        code,
        message: message.into(),
    }
}

fn from_rejection(r: &Rejection, connection: &str) -> Refused {
    let code = match r {
        Rejection::Forged | Rejection::Stale { .. } => ErrorCode::Unauthorized,
        Rejection::MissingHeader(_)
        | Rejection::MalformedHeader { .. }
        | Rejection::BadSecret(_) => ErrorCode::BadRequest,
    };
    let mut message = r.to_string();
    if matches!(r, Rejection::BadSecret(_)) {
        message = format!(
            "{message}; set connection '{connection}''s webhook secret again with `switchboard connections webhook-secret {connection} --stdin`"
        );
    }
    refused(r.reason(), code, message)
}

fn webhook_row(
    action: &str,
    actor: &str,
    connection: Option<&str>,
    decision: &str,
    outcome: &str,
    summary: Value,
) -> NewAuditRow {
    let mut row = NewAuditRow::system(action, summary);
    row.actor_kind = ActorKind::Webhook;
    row.actor_id = actor.into();
    row.connection_id = connection.map(str::to_string);
    row.decision = decision.into();
    row.outcome = outcome.into();
    row
}

impl App {
    /// Keeps `secret` as `connection_id`'s webhook signing secret, in the keychain only.
    pub async fn webhook_secret_set(
        &self,
        actor_id: &str,
        connection_id: &str,
        secret: Sensitive<String>,
    ) -> Result<WebhookSetup, ApiError> {
        let record = self.connection_record(connection_id).await?;
        if record.removed_at_ms.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("connection '{connection_id}' was removed; connect the account again"),
            ));
        }
        let entry = self.provider_entry(&record)?;
        let Some(scheme) = scheme_of(&entry) else {
            let named = entry
                .webhook
                .as_ref()
                .and_then(|w| serde_json::to_value(w.scheme).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "none".into());
            return Err(ApiError::bad_request(format!(
                "{} does not sign webhooks with a scheme Switchboard verifies (its scheme: {named}); use `switchboard events pull {connection_id}` instead (nothing was saved)",
                entry.name
            )));
        };
        let trimmed = secret.expose().trim();
        if trimmed.is_empty()
            || trimmed.len() > MAX_SECRET
            || trimmed.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(ApiError::bad_request(format!(
                "the webhook secret must be 1 to {MAX_SECRET} characters on one line without spaces: paste the signing secret {} shows (nothing was saved)",
                entry.name
            )));
        }
        let secret = Sensitive::new(trimmed.to_string());
        let secrets = self.secrets().clone();
        let key = webhook_secret_key(connection_id);
        let previous = blocking(move || {
            let previous = secrets.get(&key)?;
            secrets.set(&key, &secret)?;
            Ok(previous)
        })
        .await?;
        let url = format!("{}/hooks/{connection_id}", self.url());
        let row = NewAuditRow::user(
            "connection.webhook_secret_set",
            actor_id,
            serde_json::json!({ "connection": connection_id, "scheme": scheme.as_str(), "replaced": previous.is_some(), "stored_in": self.secrets().describe() }),
        )
        .on_connection(connection_id)
        .with_outcome("ok");
        if let Err(e) = self.writer().append(row, Durability::Full).await {
            // Unaudited changes do not stand: put back what was there.
            let secrets = self.secrets().clone();
            let key = webhook_secret_key(connection_id);
            let undo = blocking(move || match previous {
                Some(p) => Ok(secrets.set(&key, &p)?),
                None => Ok(secrets.delete(&key)?),
            })
            .await;
            if let Err(u) = undo {
                tracing::error!(connection = %connection_id, error = %u.message, "could not restore the previous webhook secret after the audit failed");
            }
            return Err(e.into());
        }
        Ok(WebhookSetup {
            connection: connection_id.into(),
            scheme: scheme.as_str().into(),
            url,
        })
    }

    pub(crate) fn provider_entry(
        &self,
        record: &ConnectionRecord,
    ) -> Result<switchboard_connectors::ProviderEntry, ApiError> {
        self.provider_catalog().providers.iter().find(|p| p.id == record.provider).cloned().ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("provider '{}' of connection '{}' is not in this gateway's catalog (sandbox providers need `serve --sandbox`)", record.provider, record.id),
            )
        })
    }

    /// Audits a refused delivery and returns the error to answer with.
    async fn reject_webhook(
        &self,
        connection_id: &str,
        known: bool,
        provider: &str,
        r: Refused,
    ) -> ApiError {
        let shown: String = connection_id.chars().take(100).collect();
        let row = webhook_row(
            "webhook.rejected",
            provider,
            known.then_some(connection_id),
            "deny",
            r.reason,
            serde_json::json!({ "connection": shown, "reason": r.reason, "message": r.message }),
        );
        if let Err(e) = self.writer().append(row, Durability::Normal).await {
            return e.into();
        }
        ApiError::new(r.code, r.message)
    }

    /// Records a delivery refused for its size before it was read.
    pub async fn webhook_too_large(&self, connection_id: &str) -> ApiError {
        let r = refused(
            "too_large",
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {} KiB", MAX_WEBHOOK_BYTES / 1024),
        );
        self.reject_webhook(connection_id, false, "unknown", r)
            .await
    }

    /// Verifies, de-duplicates, stores and audits one delivery. See the module docs.
    pub async fn webhook_receive(
        &self,
        connection_id: &str,
        inbound: InboundWebhook,
    ) -> Result<WebhookAnswer, ApiError> {
        let record = match self.connection_record(connection_id).await {
            Ok(r) if r.removed_at_ms.is_none() => r,
            Ok(_) => {
                return Err(self
                    .reject_webhook(
                        connection_id,
                        true,
                        "unknown",
                        refused(
                            "connection_removed",
                            ErrorCode::NotFound,
                            format!("connection '{connection_id}' was removed"),
                        ),
                    )
                    .await);
            }
            Err(e) if e.code == ErrorCode::NotFound => {
                return Err(self
                    .reject_webhook(
                        connection_id,
                        false,
                        "unknown",
                        refused(
                            "unknown_connection",
                            ErrorCode::NotFound,
                            "there is no such connection",
                        ),
                    )
                    .await);
            }
            Err(e) => return Err(e),
        };
        let provider = record.provider.clone();
        let entry = match self.provider_entry(&record) {
            Ok(e) => e,
            Err(e) => {
                return Err(self
                    .reject_webhook(
                        connection_id,
                        true,
                        &provider,
                        refused("provider_unavailable", ErrorCode::NotFound, e.message),
                    )
                    .await);
            }
        };
        let Some(scheme) = scheme_of(&entry) else {
            let r = refused(
                "unsupported_scheme",
                ErrorCode::BadRequest,
                format!(
                    "{} webhooks are not verified by Switchboard; use the pull instead",
                    entry.name
                ),
            );
            return Err(self.reject_webhook(connection_id, true, &provider, r).await);
        };
        let secrets = self.secrets().clone();
        let key = webhook_secret_key(connection_id);
        let Some(secret) = blocking(move || Ok(secrets.get(&key)?)).await? else {
            let r = refused(
                "no_webhook_secret",
                ErrorCode::BadRequest,
                format!(
                    "webhooks are not set up for connection '{connection_id}': set its signing secret with `switchboard connections webhook-secret {connection_id} --stdin`"
                ),
            );
            return Err(self.reject_webhook(connection_id, true, &provider, r).await);
        };
        let now = self.clock().now_ms();
        let delivery = Delivery {
            method: &inbound.method,
            uri: &inbound.uri,
            headers: &inbound.headers,
            body: &inbound.body,
        };
        if let Err(r) = switchboard_webhooks::verify(scheme, &delivery, secret.expose(), now) {
            return Err(self
                .reject_webhook(
                    connection_id,
                    true,
                    &provider,
                    from_rejection(&r, connection_id),
                )
                .await);
        }
        let parsed = match switchboard_webhooks::parse(scheme, &delivery) {
            Ok(p) => p,
            Err(why) => {
                return Err(self
                    .reject_webhook(
                        connection_id,
                        true,
                        &provider,
                        refused("malformed_body", ErrorCode::BadRequest, why),
                    )
                    .await);
            }
        };
        let events = match parsed {
            Parsed::UrlVerification { challenge } => {
                let row = webhook_row(
                    "webhook.url_verification",
                    &provider,
                    Some(connection_id),
                    "allow",
                    "ok",
                    serde_json::json!({ "connection": connection_id }),
                );
                self.writer().append(row, Durability::Normal).await?;
                return Ok(WebhookAnswer::Challenge { challenge });
            }
            Parsed::Events(events) => events,
        };
        let id = connection_id.to_string();
        let (stored_n, duplicates) = self
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                let (mut stored_n, mut duplicates) = (0, 0);
                for e in events {
                    let new = NewEvent {
                        connection_id: id.clone(),
                        provider: provider.clone(),
                        event_id: e.id.clone(),
                        event_type: e.event_type.clone(),
                        occurred_at_ms: e.occurred_at_ms,
                        received_at_ms: now,
                        source: stored::WEBHOOK,
                        payload: e.payload.to_string(),
                    };
                    let seq = stored::insert_if_new(conn, &new)?;
                    let (decision, outcome) = if seq.is_some() { ("allow", "stored") } else { ("deny", "duplicate") };
                    let mut row = webhook_row(
                        "webhook.received",
                        &provider,
                        Some(&id),
                        decision,
                        outcome,
                        serde_json::json!({ "event_id": e.id, "type": e.event_type, "seq": seq, "source": "webhook" }),
                    );
                    row.trigger = Some(format!("event:{}", e.id));
                    row.correlation_id = Some(e.id.clone());
                    row.provider_ids = vec![e.id];
                    audit.append(&row)?;
                    if seq.is_some() { stored_n += 1 } else { duplicates += 1 }
                }
                Ok((stored_n, duplicates))
            })
            .await?;
        Ok(WebhookAnswer::Accepted {
            stored: stored_n,
            duplicates,
        })
    }

    /// Events after `after`, oldest first: one connection's, or every connection's.
    pub async fn events_list(
        &self,
        connection: Option<&str>,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> Result<EventPage, ApiError> {
        let limit = checked_limit(limit)?;
        if let Some(c) = connection {
            self.connection_record(c).await?;
        }
        let db = self.db().clone();
        let connection = connection.map(str::to_string);
        let events = blocking(move || {
            Ok(stored::list(
                &*db.reader()?,
                connection.as_deref(),
                after.unwrap_or(0),
                limit,
            )?)
        })
        .await?;
        Ok(page(events, limit))
    }

    /// The newest `limit` events of `connection` (oldest of them first), for an agent holding an
    /// unexpired read grant on it; checked and audited as [`App::agent_events`].
    pub async fn agent_recent_events(
        &self,
        agent: &AgentId,
        connection: &str,
        limit: u32,
    ) -> Result<EventPage, ApiError> {
        let limit = checked_limit(Some(limit))?;
        let db = self.db().clone();
        let conn_id = connection.to_string();
        let after =
            blocking(move || Ok(stored::after_for_newest(&*db.reader()?, &conn_id, limit)?)).await?;
        self.agent_events(agent, connection, Some(after), Some(limit))
            .await
    }

    /// Events of `connection` for an agent holding an unexpired read grant on it. A refusal is
    /// audited (`decision=deny`), as is the read.
    pub async fn agent_events(
        &self,
        agent: &AgentId,
        connection: &str,
        after: Option<i64>,
        limit: Option<u32>,
    ) -> Result<EventPage, ApiError> {
        let limit = checked_limit(limit)?;
        let db = self.db().clone();
        let (name, conn_id) = (agent.name.clone(), connection.to_string());
        let grant =
            blocking(move || Ok(stored_grants::get(&*db.reader()?, &name, &conn_id, "read")?))
                .await?;
        let now = self.clock().now_ms();
        let mut row = NewAuditRow::system(
            "events.list",
            serde_json::json!({ "connection": connection, "after": after }),
        );
        row.actor_kind = ActorKind::Agent;
        row.actor_id = agent.name.clone();
        row.connection_id = Some(connection.to_string());
        row.tier = Some(switchboard_core::Tier::Read);
        if grant.is_none_or(|g| g.expires_at_ms.is_some_and(|e| e <= now)) {
            row.decision = "deny".into();
            row.outcome = ErrorCode::NotGranted.as_str().into();
            self.writer().append(row, Durability::Normal).await?;
            return Err(ApiError::new(
                ErrorCode::NotGranted,
                format!(
                    "agent '{}' holds no read grant on '{connection}', so it cannot read its events; a person can allow it with `switchboard grants set {} {connection} read`",
                    agent.name, agent.name
                ),
            ));
        }
        let page = self
            .events_list(Some(connection), after, Some(limit))
            .await?;
        row.decision = "allow".into();
        row.summary["events"] = serde_json::json!(page.events.len());
        self.writer().append(row, Durability::Normal).await?;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_names_a_verified_scheme_for_the_webhook_providers() {
        let catalog = switchboard_connectors::catalog();
        let scheme = |id: &str| scheme_of(catalog.get(id).expect("in the catalog"));
        assert_eq!(scheme("stripe"), Some(Scheme::StripeV1));
        assert_eq!(scheme("slack"), Some(Scheme::SlackV0));
        assert_eq!(scheme("hubspot"), Some(Scheme::HubspotV3));
        assert_eq!(
            scheme("gmail"),
            None,
            "Gmail pushes through Pub/Sub, which Switchboard does not verify: it is pulled"
        );
        assert_eq!(
            scheme_of(
                &catalog
                    .get("stripe")
                    .expect("stripe")
                    .sandboxed("http://127.0.0.1:1")
            ),
            Some(Scheme::StripeV1),
            "a sandbox entry keeps its provider's scheme"
        );
    }

    #[test]
    fn refusals_map_to_the_codes_providers_see() {
        assert_eq!(
            from_rejection(&Rejection::Forged, "c").code,
            ErrorCode::Unauthorized
        );
        assert_eq!(
            from_rejection(&Rejection::Stale { skew_s: 400 }, "c").code,
            ErrorCode::Unauthorized
        );
        assert_eq!(
            from_rejection(&Rejection::MissingHeader("Stripe-Signature"), "c").code,
            ErrorCode::BadRequest
        );
        assert!(
            from_rejection(&Rejection::BadSecret("it is empty"), "stripe-1")
                .message
                .contains("webhook-secret stripe-1")
        );
        assert!(
            checked_limit(Some(0)).is_err()
                && checked_limit(Some(501)).is_err()
                && checked_limit(None) == Ok(100)
        );
    }
}
