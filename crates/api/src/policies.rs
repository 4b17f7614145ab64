//! Auto-send policies and the permission decision of every agent call.
//!
//! [`App::decide_call`] turns one agent call into a `switchboard_policy::Request` — typed facts
//! extracted by code from the call's input (recipients, channel, amount, template tag; never
//! free text), the agent's grants, the pause switch, each policy's recent use — and asks the
//! pure `switchboard_policy::decide`. The decision's rule goes into the audit row.
//!
//! Policies are stored as JSON (`policies` table), added from a TOML or JSON file
//! (`switchboard policies add FILE`, checked by `switchboard_policy::parse_*` against the
//! connector actions), removed by id; each change commits with its audit row (FULL).
//!
//! Facts the input does not carry are looked up only when a policy of the calling agent needs
//! them: an invoice's amount due (read from Stripe through the connection) and whether every
//! recipient has an upcoming meeting in a connected Google Calendar (audited `policy.lookup`). A lookup that fails leaves the fact unknown, so the condition fails closed.
//!
//! Which write actions are destructive (they take something back, so no policy may let them go
//! alone) is listed here, next to the connector actions' tiers: a refund and a credit.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_connectors::ActionSpec;
use switchboard_core::{ApiError, ErrorCode, NewAuditRow, Tier};
use switchboard_policy::{ActionKind, Channel, Decision, EmailAddress, Facts, Money, Policy, PolicyUsage, Preset, TemplateTag, Usage};
use switchboard_store::Durability;
use switchboard_store::approvals as stored;
use switchboard_store::grants::GrantRecord;
use ts_rs::TS;

use crate::App;
use crate::gateway::blocking;

/// Invoice sends whose amount an auto-send policy may bound; the amount is read from Stripe.
const INVOICE_SENDS: &[&str] = &["stripe_send_invoice", "stripe_finalize_invoice"];

/// Write actions that take something back: a person approves each one, whatever a policy says.
const DESTRUCTIVE_WRITES: &[&str] = &["stripe_refund", "stripe_credit_customer_balance", "stripe_create_credit_note"];

/// Whether `action` takes something back (a delete, a refund, a credit).
pub fn destructive(action: &ActionSpec) -> bool {
    action.tier == Tier::Delete || DESTRUCTIVE_WRITES.contains(&action.tool_name().as_str())
}

/// The connector action named `tool`, as the policy checker sees it.
pub fn action_kind(tool: &str) -> Option<ActionKind> {
    switchboard_connectors::action(tool).map(|a| ActionKind { tier: a.tier, outbound: a.outbound, destructive: destructive(a) })
}

/// A stored policy as the UI and `switchboard policies list` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PolicyInfo {
    pub policy: Policy,
    #[ts(type = "number")]
    pub created_at_ms: i64,
    pub created_by: String,
    /// Calls it let go alone in the last hour and day.
    pub usage: PolicyUsage,
}

/// What `POST /policies` takes: the policy file's text, TOML or JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// `toml` or `json`.
    pub format: String,
    pub text: String,
}

fn addresses(v: Option<&Value>) -> Result<Vec<EmailAddress>, ()> {
    let items: Vec<&Value> = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
    };
    items
        .into_iter()
        .map(|x| {
            // Calendar attendees are objects with an email; mail recipients are strings.
            let s = x.as_str().or_else(|| x.get("email").and_then(Value::as_str)).ok_or(())?;
            EmailAddress::parse(s.trim()).map_err(|_| ())
        })
        .collect()
}

/// The typed facts of a call, read by code from its input. A field that does not parse is
/// unknown (`None`), so any condition on it fails closed.
pub fn facts(input: &Value, template_tag: Option<&str>) -> Facts {
    let mut recipients = Some(Vec::new());
    for field in ["to", "cc", "bcc", "attendees"] {
        match (addresses(input.get(field)), recipients.as_mut()) {
            (Ok(found), Some(all)) => all.extend(found),
            _ => recipients = None,
        }
    }
    let recipients = recipients.filter(|r| !r.is_empty());
    let channel = input.get("channel").and_then(Value::as_str).and_then(|c| Channel::parse(c).ok());
    let amount = match (input.get("amount").and_then(Value::as_i64), input.get("currency").and_then(Value::as_str)) {
        (Some(a), Some(c)) => Money::new(a, c).ok(),
        _ => None,
    };
    Facts {
        recipients,
        // Looked up in the calendar only when a policy needs it (see `decide_call`).
        recipient_has_booked_meeting: None,
        channel,
        amount,
        template_tag: template_tag.and_then(|t| TemplateTag::parse(t).ok()),
    }
}

fn to_policy_grant(g: &GrantRecord) -> Option<switchboard_policy::Grant> {
    Some(switchboard_policy::Grant {
        agent: g.agent.clone(),
        connection_id: g.connection_id.clone(),
        tier: Tier::parse(&g.tier)?,
        actions: g.actions.clone(),
        expires_at_ms: g.expires_at_ms,
    })
}

/// A ready-made policy as `GET /policies/presets` answers it: the preset and its TOML text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PolicyPreset {
    /// Stable key, e.g. `appointment-confirmations`.
    pub key: String,
    pub title: String,
    /// What it lets go alone, in one or two sentences.
    pub description: String,
    pub policy: Policy,
    /// The same policy as a TOML policy file, ready to edit and add.
    pub toml: String,
}

impl PolicyPreset {
    fn from_preset(p: Preset) -> Result<Self, ApiError> {
        let toml = toml::to_string_pretty(&p.policy).map_err(|e| ApiError::internal(format!("cannot write preset '{}' as TOML: {e}", p.key)))?;
        Ok(Self { key: p.key, title: p.title, description: p.description, policy: p.policy, toml })
    }
}

fn parse_stored(body: &str) -> Option<Policy> {
    serde_json::from_str(body).ok()
}

impl App {
    /// Every stored policy with its recent use.
    pub async fn policies_list(&self) -> Result<Vec<PolicyInfo>, ApiError> {
        let db = self.db().clone();
        let now = self.clock().now_ms();
        blocking(move || {
            let conn = db.reader()?;
            let mut out = Vec::new();
            for (id, body, created_at_ms, created_by) in stored::list_policies(&conn)? {
                let Some(policy) = parse_stored(&body) else {
                    tracing::warn!(policy = %id, "a stored policy is unreadable; it allows nothing");
                    continue;
                };
                let usage = usage_of(&conn, &policy.id, now)?;
                out.push(PolicyInfo { policy, created_at_ms, created_by, usage });
            }
            Ok(out)
        })
        .await
    }

    /// Adds (or replaces, by id) a policy from a TOML or JSON file's text.
    pub async fn policy_add(&self, actor_id: &str, file: PolicyFile) -> Result<PolicyInfo, ApiError> {
        let catalog = |tool: &str| action_kind(tool);
        let parsed = match file.format.as_str() {
            "toml" => switchboard_policy::parse_toml(&file.text, &catalog),
            "json" => switchboard_policy::parse_json(&file.text, &catalog),
            other => return Err(ApiError::bad_request(format!("policy format '{other}' is not known; use toml or json"))),
        };
        let policy = parsed.map_err(|e| ApiError::bad_request(e.to_string()))?;
        let db = self.db().clone();
        let agent = policy.agent.clone();
        let known = blocking(move || Ok(switchboard_store::agents::list(&*db.reader()?)?.into_iter().any(|a| a.name == agent && a.revoked_at_ms.is_none()))).await?;
        if !known {
            return Err(ApiError::new(ErrorCode::NotFound, format!("policy '{}' names agent '{}', which does not exist (or was revoked)", policy.id, policy.agent)));
        }
        let body = serde_json::to_string(&policy).map_err(|e| ApiError::internal(e.to_string()))?;
        let now = self.clock().now_ms();
        let row = NewAuditRow::user("policy.added", actor_id, serde_json::json!({ "policy": policy }));
        let (id, by, text) = (policy.id.clone(), actor_id.to_string(), body);
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::upsert_policy(conn, &id, &text, now, &by)
            })
            .await?;
        Ok(PolicyInfo { policy, created_at_ms: now, created_by: actor_id.into(), usage: PolicyUsage::default() })
    }

    /// Removes a policy; `not_found` when there is none with that id.
    pub async fn policy_remove(&self, actor_id: &str, id: &str) -> Result<(), ApiError> {
        let row = NewAuditRow::user("policy.removed", actor_id, serde_json::json!({ "id": id }));
        let key = id.to_string();
        let removed = self
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                let existed = stored::delete_policy(conn, &key)?;
                if existed {
                    audit.append(&row)?;
                }
                Ok(existed)
            })
            .await?;
        if removed { Ok(()) } else { Err(ApiError::new(ErrorCode::NotFound, format!("there is no policy '{id}'; `switchboard policies list` shows them"))) }
    }

    /// The ready-made policies for `agent`, to edit and add, each also as the TOML file text a
    /// person edits (the Settings screen's text box, `switchboard policies add FILE`).
    pub fn policy_presets(&self, agent: &str) -> Result<Vec<PolicyPreset>, ApiError> {
        switchboard_policy::presets(agent).into_iter().map(PolicyPreset::from_preset).collect()
    }

    /// The permission decision for one call (see the module docs).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn decide_call(
        &self,
        agent: &str,
        action: &ActionSpec,
        connection: &switchboard_store::connections::ConnectionRecord,
        entry: &switchboard_connectors::ProviderEntry,
        grants: &[GrantRecord],
        input: &Value,
        template_tag: Option<&str>,
        call_id: &str,
    ) -> Result<Decision, ApiError> {
        let now = self.clock().now_ms();
        let mut request = switchboard_policy::Request {
            agent: agent.into(),
            connection_id: connection.id.clone(),
            provider: connection.provider.clone(),
            tool: action.tool_name(),
            tier: action.tier,
            outbound: action.outbound,
            destructive: destructive(action),
            paused: self.agents_paused(),
            now: switchboard_policy::Now::utc(now),
            facts: facts(input, template_tag),
        };
        let grants: Vec<switchboard_policy::Grant> = grants.iter().filter_map(to_policy_grant).collect();
        let (policies, usage) = if request.needs_approval() && !request.is_destructive() {
            let db = self.db().clone();
            let agent = agent.to_string();
            blocking(move || {
                let conn = db.reader()?;
                let mut policies = Vec::new();
                let mut usage = Usage::default();
                for (_, body, _, _) in stored::list_policies(&conn)? {
                    if let Some(p) = parse_stored(&body).filter(|p| p.agent == agent) {
                        usage.set(p.id.clone(), usage_of(&conn, &p.id, now)?);
                        policies.push(p);
                    }
                }
                Ok((policies, usage))
            })
            .await?
        } else {
            (Vec::new(), Usage::default())
        };
        // Facts the input does not carry, looked up only when a policy of this agent needs them.
        let tool = action.tool_name();
        let wants_amount = policies.iter().any(|p| p.enabled && p.conditions.amount_at_most.is_some() && p.actions.contains(&tool));
        if wants_amount && request.facts.amount.is_none() && INVOICE_SENDS.contains(&tool.as_str()) {
            request.facts.amount = self.invoice_amount(agent, connection, entry, input, &tool, call_id).await;
        }
        let wants_meeting = policies.iter().any(|p| p.enabled && p.conditions.recipient_has_booked_meeting == Some(true) && p.actions.contains(&tool));
        if wants_meeting && let Some(recipients) = request.facts.recipients.clone() {
            request.facts.recipient_has_booked_meeting = self.booked_meetings(agent, &recipients, &tool, call_id).await;
        }
        Ok(switchboard_policy::decide(&request, &grants, &policies, &usage))
    }

    /// Whether every recipient is an attendee of an upcoming event in a connected Google
    /// Calendar, read through each calendar connection (paced, with its credential) and audited
    /// as a lookup. `None` (so the condition fails closed) when no calendar connection can be
    /// read.
    async fn booked_meetings(&self, agent: &str, recipients: &[EmailAddress], tool: &str, call_id: &str) -> Option<bool> {
        let list = switchboard_connectors::action("google-calendar_list_events")?;
        let catalog = self.provider_catalog();
        let db = self.db().clone();
        let calendars: Vec<_> = blocking(move || Ok(switchboard_store::connections::list(&*db.reader()?)?))
            .await
            .ok()?
            .into_iter()
            .filter(|c| c.removed_at_ms.is_none() && list.serves(&c.provider) && list.scopes.iter().all(|s| c.granted_scopes.iter().any(|g| g == s)))
            .collect();
        let now = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.clock().now_ms()) * 1_000_000).ok()?;
        let time_min = now.format(&time::format_description::well_known::Rfc3339).ok()?;
        let mut read_any = false;
        let mut all_booked = true;
        for r in recipients {
            let email = r.to_string().to_lowercase();
            let mut booked = false;
            for c in &calendars {
                let Some(entry) = catalog.providers.iter().find(|p| p.id == c.provider) else { continue };
                let Ok(call) = (list.build)(&serde_json::json!({ "time_min": time_min, "q": email, "max_results": 50 })) else { continue };
                if let Ok((status, body)) = self.send_to_provider(entry, c, agent, list, &call, &format!("{call_id}-lookup")).await
                    && (200..300).contains(&status)
                    && let Ok(page) = serde_json::from_slice::<Value>(&body)
                {
                    read_any = true;
                    booked |= page["items"].as_array().into_iter().flatten().any(|e| {
                        e["status"] != "cancelled"
                            && e["attendees"].as_array().into_iter().flatten().any(|a| a["email"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(&email)))
                    });
                }
            }
            all_booked &= booked;
        }
        let found = read_any.then_some(all_booked);
        let mut row = NewAuditRow::system(
            "policy.lookup",
            serde_json::json!({ "for": tool, "call_id": call_id, "looked_up": "google-calendar_list_events", "calendars": calendars.len(), "recipient_has_booked_meeting": found }),
        );
        row.correlation_id = Some(call_id.to_string());
        row.outcome = if found.is_some() { "ok".into() } else { "unknown".into() };
        if let Err(e) = self.writer().append(row, Durability::Normal).await {
            tracing::warn!(error = %e, "could not audit a policy lookup; the fact is treated as unknown");
            return None;
        }
        found
    }

    /// The amount due of the invoice a send names, read from Stripe through the connection
    /// (paced, with its credential) and audited as a lookup; `None` (so an amount condition
    /// fails closed) when the connection may not read invoices or Stripe does not answer.
    async fn invoice_amount(
        &self,
        agent: &str,
        connection: &switchboard_store::connections::ConnectionRecord,
        entry: &switchboard_connectors::ProviderEntry,
        input: &Value,
        tool: &str,
        call_id: &str,
    ) -> Option<Money> {
        let get = switchboard_connectors::action("stripe_get_invoice")?;
        let holds_scopes = get.scopes.iter().all(|s| connection.granted_scopes.iter().any(|g| g == s));
        let call = (get.build)(&serde_json::json!({ "invoice_id": input.get("invoice_id")? })).ok()?;
        let amount = if holds_scopes {
            match self.send_to_provider(entry, connection, agent, get, &call, &format!("{call_id}-lookup")).await {
                Ok((status, body)) if (200..300).contains(&status) => serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                    Money::new(v.get("amount_due")?.as_i64()?, v.get("currency")?.as_str()?).ok()
                }),
                _ => None,
            }
        } else {
            None
        };
        let mut row = NewAuditRow::system(
            "policy.lookup",
            serde_json::json!({ "for": tool, "call_id": call_id, "looked_up": "stripe_get_invoice", "amount": amount.as_ref().map(ToString::to_string), "scope_held": holds_scopes }),
        );
        row.correlation_id = Some(call_id.to_string());
        row.connection_id = Some(connection.id.clone());
        row.outcome = if amount.is_some() { "ok".into() } else { "unknown".into() };
        if let Err(e) = self.writer().append(row, Durability::Normal).await {
            tracing::warn!(error = %e, "could not audit a policy lookup; the fact is treated as unknown");
            return None;
        }
        amount
    }
}

/// Calls policy `policy_id` let go alone in the last hour and day (from the outbox).
fn usage_of(conn: &switchboard_store::Connection, policy_id: &str, now: i64) -> Result<PolicyUsage, ApiError> {
    let rule = format!("policy:{policy_id}");
    Ok(PolicyUsage {
        last_hour: stored::count_by_rule_since(conn, &rule, now - 3_600_000)?,
        last_day: stored::count_by_rule_since(conn, &rule, now - 86_400_000)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_come_from_typed_fields_and_unknown_shapes_stay_unknown() {
        let f = facts(&json!({ "to": ["ann@acme.example"], "cc": "bob@acme.example", "subject": "grant me delete" }), Some("survey"));
        let got: Vec<String> = f.recipients.expect("recipients").iter().map(ToString::to_string).collect();
        assert_eq!(got, ["ann@acme.example", "bob@acme.example"], "to and cc are both recipients");
        assert_eq!(f.template_tag.map(|t| t.as_str().to_string()), Some("survey".into()));
        let f = facts(&json!({ "to": ["Ann <ann@acme.example>"] }), None);
        assert!(f.recipients.is_none(), "an address that does not parse makes the recipients unknown, so no domain rule can match");
        let f = facts(&json!({ "attendees": [{ "email": "ann@acme.example" }], "amount": 5000, "currency": "usd" }), None);
        assert_eq!(f.recipients.map(|r| r.len()), Some(1), "calendar attendees are recipients");
        assert!(f.amount.is_some(), "amount with its currency is a fact");
        assert!(facts(&json!({ "amount": 5000 }), None).amount.is_none(), "an amount without currency is unknown");
    }

    #[test]
    fn refunds_credits_and_deletes_are_destructive() {
        for tool in ["stripe_refund", "stripe_credit_customer_balance", "slack_delete_message"] {
            assert!(action_kind(tool).is_some_and(|k| k.destructive), "{tool} must never go out without a person");
        }
        assert!(action_kind("slack_post_message").is_some_and(|k| !k.destructive && k.outbound));
    }
}
