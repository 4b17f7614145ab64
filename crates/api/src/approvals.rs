//! The approval queue and the outbox: outbound and destructive actions wait for a person, and
//! what a person approved runs exactly once.
//!
//! - **Queue.** An agent call the policy engine queues ([`crate::policies`]) becomes a draft: the
//!   approval row and its audit row (`decision=queue`, the rule in the summary) commit together
//!   with FULL durability before the agent hears back; the agent gets the approval id and can ask
//!   `approval_status`. A desktop notice announces the draft.
//! - **Decide.** A person approves (optionally with an edited input, which is checked like the
//!   agent's and is what executes; both versions stay in the row and the audit), rejects with a
//!   reason the agent sees, or lets it expire. The decision is guarded in SQL, so two approvers
//!   cannot both win.
//! - **Outbox.** Approval and an outbox row keyed by the call id commit in one FULL transaction
//!   *before* the provider is called. The executor claims a row (`ready → in_flight`, committed),
//!   sends it through the connection's paced budget with the key as `Idempotency-Key` where the
//!   provider honours one (Stripe), and records the result with the audit outcome row.
//! - **Crash.** A row found `in_flight` at start-up may or may not have reached the provider. If
//!   the provider de-duplicates by idempotency key it is re-sent under the same key (the provider
//!   applies it at most once); otherwise it becomes `unknown` and its approval
//!   `needs_confirmation`: a person checks the provider and says whether it went out
//!   ([`App::approval_confirm`]). It is never re-sent blindly.
//! - While agents are paused the executor holds every row; nothing leaves until `resume`.
//!
//! Every row of one action shares the agent call's id as correlation id: trigger → decision →
//! approval → provider request → result.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_connectors::{ActionSpec, PreviewKind};
use switchboard_core::{ActorKind, ApiError, ErrorCode, NewAuditRow, Tier};
use switchboard_store::approvals::{self as stored, ApprovalRecord, ClientRequestRecord, OutboxRecord};
use switchboard_store::connections::{self as stored_connections, ConnectionRecord};
use switchboard_store::{Durability, StoreError};
use ts_rs::TS;

use crate::App;
use crate::agents::AgentId;
use crate::calls::{CallResult, CallState, agent_row, audited_input, settle};
use crate::gateway::blocking;
use crate::types::Notice;

/// How long a draft waits for a person before it expires.
pub const APPROVAL_TTL: Duration = Duration::from_secs(24 * 3600);
/// Most drafts one bulk approval may decide.
const BULK_MAX: usize = 100;
/// How often the executor looks for work even when nothing woke it (expiry, resumed agents).
const EXECUTOR_TICK: Duration = Duration::from_secs(1);

/// Where a draft stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waits for a person.
    Pending,
    /// Approved; the outbox is sending it.
    Approved,
    Rejected,
    Expired,
    /// The provider accepted it; `result` holds its answer.
    Executed,
    /// The provider refused it or it could not be sent; `result` holds the error.
    Failed,
    /// The process stopped while the request may have left: a person must check the provider
    /// and confirm whether it went out. It is never re-sent on its own.
    NeedsConfirmation,
}

impl ApprovalStatus {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "expired" => Self::Expired,
            "executed" => Self::Executed,
            "failed" => Self::Failed,
            "needs_confirmation" => Self::NeedsConfirmation,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Executed => "executed",
            Self::Failed => "failed",
            Self::NeedsConfirmation => "needs_confirmation",
        }
    }
}

/// One labelled value of a draft's preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PreviewField {
    pub label: String,
    pub value: String,
}

/// One property a draft changes on an existing record: its value now → the value it will have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PropertyChange {
    pub property: String,
    /// The record's value when the draft was queued (`null`: not set at the provider).
    pub old: Option<String>,
    /// Whether `old` was read; false when the record could not be read (see
    /// `Preview.old_unknown`) or the property was added by an edit after it was read.
    pub old_known: bool,
    pub new: String,
}

/// A draft shown as what it is: an email with its headers and body, a chat message in its
/// channel, a CRM change (old → new for an existing record), an invoice, a refund. Values are
/// the agent's (or approver's) input, shown as text; `html` is provider-bound HTML that the UI
/// renders only in a sandboxed frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Preview {
    /// `email`, `chat_message`, `crm_change`, `invoice`, `refund`, `credit`, `calendar_event` or `action`.
    pub kind: String,
    /// One line: what will happen.
    pub title: String,
    pub fields: Vec<PreviewField>,
    /// Plain-text body, if any.
    pub text: Option<String>,
    /// HTML body, if any (untrusted: render sandboxed, scripts off).
    pub html: Option<String>,
    /// For a change to an existing record: each property it changes, old → new.
    pub changes: Vec<PropertyChange>,
    /// Why the record's current values could not be read when the draft was queued, if so.
    pub old_unknown: Option<String>,
}

/// A draft as the approvals screen and `switchboard approvals show` see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApprovalInfo {
    pub id: String,
    /// The agent call it came from: the correlation id of every row of this action.
    pub call_id: String,
    pub agent: String,
    pub connection: String,
    pub tool: String,
    pub tier: Tier,
    pub description: String,
    pub status: ApprovalStatus,
    /// The rule that queued it (e.g. `default:outbound-queues`).
    pub rule: String,
    #[ts(type = "Record<string, unknown>")]
    pub input: Value,
    /// What the approver changed the input to (what executed), if they edited it.
    #[ts(type = "Record<string, unknown> | null")]
    pub edited_input: Option<Value>,
    pub preview: Preview,
    #[ts(type = "number")]
    pub created_at_ms: i64,
    #[ts(type = "number")]
    pub expires_at_ms: i64,
    pub decided_by: Option<String>,
    #[ts(type = "number | null")]
    pub decided_at_ms: Option<i64>,
    /// The rejection reason.
    pub reason: Option<String>,
    /// The provider's answer (executed) or `{code, message}` (failed).
    #[ts(type = "unknown")]
    pub result: Option<Value>,
    #[ts(type = "number | null")]
    pub finished_at_ms: Option<i64>,
}

/// What `approvals approve` takes: an optional edited input (the whole input, checked like the
/// agent's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    #[serde(default)]
    #[ts(type = "Record<string, unknown> | null")]
    pub edit: Option<Value>,
}

/// What `approvals reject` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why; the agent sees it.
    pub reason: String,
}

/// What a person says about a draft whose outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// `true`: it reached the provider (found there); `false`: it did not, send it now.
    pub sent: bool,
}

/// What an agent sees of its own draft (`approval_status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AgentApprovalStatus {
    pub approval_id: String,
    pub tool: String,
    pub connection: String,
    pub status: ApprovalStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The provider's answer once executed, or `{code, message}` when it failed.
    #[ts(type = "unknown")]
    pub result: Option<Value>,
    /// Whether a person changed the input before approving.
    pub edited: bool,
    #[ts(type = "number")]
    pub expires_at_ms: i64,
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn info(a: ApprovalRecord) -> ApprovalInfo {
    let action = switchboard_connectors::action(&a.tool);
    let input = parse_json(&a.input);
    let edited_input = a.edited_input.as_deref().map(parse_json);
    let before = a.before.as_deref().map(parse_json);
    let preview = preview(action, &a.tool, edited_input.as_ref().unwrap_or(&input), before.as_ref());
    ApprovalInfo {
        description: action.map(|x| x.description.to_string()).unwrap_or_default(),
        tier: Tier::parse(&a.tier).unwrap_or(Tier::Write),
        status: ApprovalStatus::parse(&a.status).unwrap_or(ApprovalStatus::Failed),
        result: a.result.as_deref().map(parse_json),
        id: a.id,
        call_id: a.call_id,
        agent: a.agent,
        connection: a.connection_id,
        tool: a.tool,
        rule: a.rule,
        input,
        edited_input,
        preview,
        created_at_ms: a.created_at_ms,
        expires_at_ms: a.expires_at_ms,
        decided_by: a.decided_by,
        decided_at_ms: a.decided_at_ms,
        reason: a.reason,
        finished_at_ms: a.finished_at_ms,
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The draft as a person reads it, built from the input (so it is exactly what will be sent) and,
/// for a change to an existing record, from `before`: the record's values read when the draft
/// was queued (`{"values": {…}, "unknown": reason|null}`). The kind comes from the action catalog.
pub fn preview(action: Option<&ActionSpec>, tool: &str, input: &Value, before: Option<&Value>) -> Preview {
    let preview_kind = action.map_or(PreviewKind::Action, |a| a.preview);
    let kind = preview_kind.as_str();
    let mut changes = Vec::new();
    let mut old_unknown = None;
    if let (PreviewKind::CrmUpdate { .. }, Some(a)) = (preview_kind, action) {
        let values = before.and_then(|b| b.get("values")).and_then(Value::as_object);
        old_unknown = match before {
            None => Some("the record was not read when this draft was queued".to_string()),
            Some(b) => b.get("unknown").and_then(Value::as_str).map(str::to_string),
        };
        for (property, new) in changed_properties(a, input) {
            let old = values.and_then(|v| v.get(&property));
            changes.push(PropertyChange {
                old_known: old.is_some(),
                old: old.filter(|v| !v.is_null()).map(text_of),
                new: text_of(&new),
                property,
            });
        }
    }
    let mut fields = Vec::new();
    let (mut text, mut html) = (None, None);
    if let Some(o) = input.as_object() {
        for (k, v) in o {
            match k.as_str() {
                "text" if kind == "email" || kind == "chat_message" => text = Some(text_of(v)),
                "html" => html = Some(text_of(v)),
                "properties" if v.is_object() && !changes.is_empty() => {}
                "properties" if v.is_object() => {
                    for (p, pv) in v.as_object().into_iter().flatten() {
                        fields.push(PreviewField { label: p.clone(), value: format!("→ {}", text_of(pv)) });
                    }
                }
                _ => fields.push(PreviewField { label: k.replace('_', " "), value: text_of(v) }),
            }
        }
    }
    let field = |name: &str| input.get(name).map(text_of).filter(|s| !s.is_empty());
    let title = match kind {
        "email" => format!(
            "Email to {}{}",
            field("to").unwrap_or_else(|| "(recipients of the draft)".into()),
            field("subject").map(|s| format!(": {s}")).unwrap_or_default()
        ),
        "chat_message" => format!("Message in {}", field("channel").or_else(|| field("user")).unwrap_or_else(|| "Slack".into())),
        "refund" => format!(
            "Refund {} of {}",
            field("amount").map_or_else(|| "in full".to_string(), |a| format!("{a} (minor units)")),
            field("charge_id").or_else(|| field("payment_intent_id")).or_else(|| field("charge")).unwrap_or_else(|| "a payment".into())
        ),
        _ => action.map_or_else(|| tool.to_string(), |a| a.description.trim_end_matches('.').to_string()),
    };
    Preview { kind: kind.into(), title, fields, text, html, changes, old_unknown }
}

/// The properties a record update sets and their new values: the `properties` of the request
/// body the action builds from `input` (empty when the input does not build).
fn changed_properties(action: &ActionSpec, input: &Value) -> Vec<(String, Value)> {
    (action.build)(input)
        .ok()
        .and_then(|c| c.json)
        .and_then(|j| j.get("properties").and_then(Value::as_object).cloned())
        .map(|o| o.into_iter().collect())
        .unwrap_or_default()
}

fn user_row(action: &str, actor_id: &str, a: &ApprovalRecord, outcome: &str, summary: Value) -> NewAuditRow {
    let mut row = NewAuditRow::system(action, summary);
    row.actor_kind = ActorKind::User;
    row.actor_id = actor_id.into();
    row.correlation_id = Some(a.call_id.clone());
    row.connection_id = Some(a.connection_id.clone());
    row.tier = Tier::parse(&a.tier);
    row.decision = "none".into();
    row.outcome = outcome.into();
    row
}

fn system_row(action: &str, a: &OutboxRecord, outcome: &str, summary: Value) -> NewAuditRow {
    let mut row = NewAuditRow::system(action, summary);
    row.correlation_id = Some(a.call_id.clone());
    row.connection_id = Some(a.connection_id.clone());
    row.outcome = outcome.into();
    row
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("there is no approval '{id}'; `switchboard approvals list` shows them"))
}

/// An agent call the policy decision did not simply allow: it is queued for a person
/// ([`App::queue_for_approval`]) or sent under an auto-send policy ([`App::auto_send`]).
pub(crate) struct DecidedCall<'a> {
    pub agent: &'a AgentId,
    pub action: &'static ActionSpec,
    pub connection: &'a ConnectionRecord,
    pub input: Value,
    pub call_id: String,
    /// What started the call (`http:POST …`, `event:<id>`), carried by its audit rows.
    pub trigger: &'a str,
    /// The rule that decided (`default:outbound-queues`, `policy:<id>`).
    pub rule: &'a str,
    /// The agent's `client_request_id`, to remember the answer under.
    pub client_request: Option<ClientRequestRecord>,
    /// The account definitions the input was checked against, if any.
    pub checked_against: Option<&'static str>,
}

impl App {
    /// Turns a held agent call into a pending draft (see the module docs).
    pub(crate) async fn queue_for_approval(&self, call: DecidedCall<'_>) -> Result<CallResult, ApiError> {
        let DecidedCall { agent, action, connection, input, call_id, trigger, rule, client_request, checked_against } = call;
        let now = self.clock().now_ms();
        let ttl = i64::try_from(APPROVAL_TTL.as_millis()).unwrap_or(i64::MAX);
        let record = ApprovalRecord {
            id: crate::calls::new_id("apr"),
            call_id: call_id.clone(),
            agent: agent.name.clone(),
            connection_id: connection.id.clone(),
            tool: action.tool_name(),
            tier: action.tier.as_str().into(),
            input: input.to_string(),
            edited_input: None,
            rule: rule.into(),
            status: "pending".into(),
            created_at_ms: now,
            expires_at_ms: now.saturating_add(ttl),
            decided_by: None,
            decided_at_ms: None,
            reason: None,
            result: None,
            finished_at_ms: None,
            before: self.record_before(&agent.name, action, connection, &input, &call_id).await,
        };
        let mut summary = serde_json::json!({
            "tool": record.tool, "call_id": call_id, "approval_id": record.id, "rule": rule, "input": audited_input(&input),
        });
        if let Some(path) = checked_against {
            summary["checked_against"] = Value::String(path.into());
        }
        let row = agent_row(&agent.name, action, trigger, &call_id, "queue", "pending_approval", Some(&connection.id), summary);
        let stored_record = record.clone();
        let client_request = client_request.map(|c| ClientRequestRecord { approval_id: Some(record.id.clone()), ..c });
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::insert_approval(conn, &stored_record)?;
                if let Some(c) = &client_request
                    && !stored::insert_client_request(conn, c)?
                {
                    return Err(StoreError::Conflict("this client_request_id was just used by another request".into()));
                }
                Ok(())
            })
            .await?;
        let shown = info(record.clone());
        self.notify(Notice {
            kind: "approval_queued".into(),
            title: format!("{} asks to send: {}", agent.name, shown.preview.title),
            body: format!("Open Approvals to review it. It expires if nobody decides within {} hours.", APPROVAL_TTL.as_secs() / 3600),
            connection: Some(connection.id.clone()),
        });
        Ok(pending_result(&record))
    }

    /// For a draft that changes an existing record: the record's current values of the properties
    /// it changes, read through the connection (paced, with its credential) and audited as a
    /// lookup (`approval.lookup`), as `{"values": {…}, "unknown": reason|null}`. A record that
    /// cannot be read leaves the old values unknown, and the draft says so; it never blocks it.
    async fn record_before(&self, agent: &str, action: &ActionSpec, connection: &ConnectionRecord, input: &Value, call_id: &str) -> Option<String> {
        let PreviewKind::CrmUpdate { read_tool, id_field } = action.preview else { return None };
        let properties: Vec<String> = changed_properties(action, input).into_iter().map(|(p, _)| p).collect();
        let read = switchboard_connectors::action(read_tool)?;
        let holds_scopes = read.scopes.iter().all(|s| connection.granted_scopes.iter().any(|g| g == s));
        let values = if holds_scopes {
            self.read_record(agent, read, connection, (id_field, input.get(id_field)), &properties, call_id).await
        } else {
            Err(format!("the connection does not hold {} to read the record", read.scopes.join(", ")))
        };
        let (values, unknown) = match values {
            Ok(v) => (v, None),
            Err(why) => (serde_json::Map::new(), Some(why)),
        };
        let mut row = NewAuditRow::system(
            "approval.lookup",
            serde_json::json!({ "for": action.tool_name(), "call_id": call_id, "looked_up": read_tool, "properties": properties, "scope_held": holds_scopes, "unknown": unknown }),
        );
        row.correlation_id = Some(call_id.to_string());
        row.connection_id = Some(connection.id.clone());
        row.outcome = if unknown.is_none() { "ok".into() } else { "unknown".into() };
        if let Err(e) = self.writer().append(row, Durability::Normal).await {
            tracing::warn!(error = %e, "could not audit the read of a record's current values; they are shown as unknown");
            return Some(serde_json::json!({ "values": {}, "unknown": "the read could not be audited" }).to_string());
        }
        Some(serde_json::json!({ "values": values, "unknown": unknown }).to_string())
    }

    /// `properties` of the record as the provider holds them now (`null` when unset); the record
    /// is named to `read` by the same input field (`contact_id`, `deal_id`) the update names it by.
    async fn read_record(
        &self,
        agent: &str,
        read: &ActionSpec,
        connection: &ConnectionRecord,
        (id_field, id): (&str, Option<&Value>),
        properties: &[String],
        call_id: &str,
    ) -> Result<serde_json::Map<String, Value>, String> {
        let catalog = self.provider_catalog();
        let entry = catalog.providers.iter().find(|p| p.id == connection.provider).ok_or("the connection's provider is not in this gateway's catalog")?;
        let mut input = serde_json::json!({ "properties": properties });
        input[id_field] = id.cloned().unwrap_or(Value::Null);
        let call = (read.build)(&input).map_err(|m| format!("the record could not be named: {m}"))?;
        let (status, body) = self.send_to_provider(entry, connection, agent, read, &call, &format!("{call_id}-lookup")).await.map_err(|e| e.message)?;
        if !(200..300).contains(&status) {
            return Err(format!("{} answered HTTP {status} when the record was read", entry.name));
        }
        let record: Value = serde_json::from_slice(&body).map_err(|_| "the record's answer was not JSON".to_string())?;
        let held = record.get("properties").and_then(Value::as_object).ok_or("the record's answer carries no properties")?;
        Ok(properties.iter().map(|p| (p.clone(), held.get(p).cloned().unwrap_or(Value::Null))).collect())
    }

    /// The current answer for a draft, as the agent call that created it would give it.
    pub(crate) async fn pending_answer(&self, approval_id: &str) -> Result<CallResult, ApiError> {
        let a = self.approval_record(approval_id).await?;
        Ok(pending_result(&a))
    }

    async fn approval_record(&self, id: &str) -> Result<ApprovalRecord, ApiError> {
        let db = self.db().clone();
        let key = id.to_string();
        blocking(move || Ok(stored::get_approval(&*db.reader()?, &key)?)).await?.ok_or_else(|| not_found(id))
    }

    /// Drafts newest first (expired ones marked first), optionally one status.
    pub async fn approvals_list(&self, status: Option<ApprovalStatus>, limit: u32) -> Result<Vec<ApprovalInfo>, ApiError> {
        self.expire_due().await?;
        let db = self.db().clone();
        let limit = limit.clamp(1, 1000);
        let rows = blocking(move || Ok(stored::list_approvals(&*db.reader()?, status.map(ApprovalStatus::as_str), None, limit)?)).await?;
        Ok(rows.into_iter().map(info).collect())
    }

    /// How many drafts wait for a person (the navigation and tray badge).
    pub async fn approvals_pending_count(&self) -> Result<u64, ApiError> {
        self.expire_due().await?;
        let db = self.db().clone();
        blocking(move || Ok(stored::count_pending(&*db.reader()?)?)).await
    }

    pub async fn approval_get(&self, id: &str) -> Result<ApprovalInfo, ApiError> {
        self.expire_due().await?;
        Ok(info(self.approval_record(id).await?))
    }

    /// What `agent` may see of its own draft; another agent's draft is `not_found`.
    pub async fn approval_status_for_agent(&self, agent: &AgentId, id: &str) -> Result<AgentApprovalStatus, ApiError> {
        self.expire_due().await?;
        let a = self.approval_record(id).await?;
        if a.agent != agent.name {
            return Err(not_found(id));
        }
        let i = info(a);
        Ok(AgentApprovalStatus {
            approval_id: i.id,
            tool: i.tool,
            connection: i.connection,
            status: i.status,
            reason: i.reason,
            result: i.result,
            edited: i.edited_input.is_some(),
            expires_at_ms: i.expires_at_ms,
        })
    }

    /// Approves a pending draft, optionally with an edited input; the approval and its outbox
    /// row commit durably before anything is sent.
    pub async fn approval_approve(&self, actor_id: &str, id: &str, req: ApproveRequest) -> Result<ApprovalInfo, ApiError> {
        let a = self.approval_record(id).await?;
        let Some(action) = switchboard_connectors::action(&a.tool) else {
            return Err(ApiError::internal(format!("draft '{id}' names an action this version does not know ({})", a.tool)));
        };
        if let Some(edit) = &req.edit {
            (action.build)(edit).map_err(|m| ApiError::bad_request(format!("the edited {}: {m}", a.tool)))?;
        }
        let now = self.clock().now_ms();
        let original = parse_json(&a.input);
        let executes = req.edit.clone().unwrap_or_else(|| original.clone());
        let mut summary = serde_json::json!({ "approval_id": a.id, "tool": a.tool, "agent": a.agent, "edited": req.edit.is_some() });
        if let Some(edit) = &req.edit {
            summary["original_input"] = audited_input(&original);
            summary["edited_input"] = audited_input(edit);
        }
        let row = user_row("approval.approved", actor_id, &a, "approved", summary);
        let outbox = OutboxRecord {
            key: a.call_id.clone(),
            approval_id: Some(a.id.clone()),
            rule: format!("approval:{}", a.id),
            call_id: a.call_id.clone(),
            agent: a.agent.clone(),
            connection_id: a.connection_id.clone(),
            tool: a.tool.clone(),
            input: executes.to_string(),
            state: "ready".into(),
            attempts: 0,
            created_at_ms: now,
            started_at_ms: None,
            finished_at_ms: None,
            http_status: None,
            result: None,
        };
        let edited = req.edit.map(|e| e.to_string());
        let (key, actor) = (a.id.clone(), actor_id.to_string());
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                if !stored::decide(conn, &key, "approved", &actor, now, None, edited.as_deref())? {
                    return Err(StoreError::Conflict(format!("draft '{key}' is no longer pending (decided or expired); reload it")));
                }
                audit.append(&row)?;
                stored::insert_outbox(conn, &outbox)
            })
            .await?;
        crate::failpoint::hit("approve.committed");
        self.wake_outbox();
        self.approval_get(id).await
    }

    /// Approves several drafts at once. Only identical low-risk drafts qualify: the same tool on
    /// the same connection, not a delete and not a money movement (refunds, credits).
    pub async fn approvals_approve_bulk(&self, actor_id: &str, ids: &[String]) -> Result<Vec<ApprovalInfo>, ApiError> {
        if ids.is_empty() || ids.len() > BULK_MAX {
            return Err(ApiError::bad_request(format!("bulk approval takes 1 to {BULK_MAX} draft ids")));
        }
        let mut drafts = Vec::new();
        for id in ids {
            drafts.push(self.approval_record(id).await?);
        }
        let first = &drafts[0];
        let low_risk = |a: &ApprovalRecord| {
            let destructive = switchboard_connectors::action(&a.tool).is_none_or(crate::policies::destructive);
            !destructive && a.tool == first.tool && a.connection_id == first.connection_id
        };
        if let Some(odd) = drafts.iter().find(|a| !low_risk(a)) {
            return Err(ApiError::bad_request(format!(
                "draft '{}' cannot be approved in bulk: bulk approval takes only drafts of one tool on one connection, never deletes, refunds or credits; approve it on its own",
                odd.id
            )));
        }
        let mut out = Vec::new();
        for a in drafts {
            out.push(self.approval_approve(actor_id, &a.id, ApproveRequest::default()).await?);
        }
        Ok(out)
    }

    /// Rejects a pending draft; the agent sees the reason.
    pub async fn approval_reject(&self, actor_id: &str, id: &str, req: RejectRequest) -> Result<ApprovalInfo, ApiError> {
        let reason = req.reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > 2000 {
            return Err(ApiError::bad_request("give a reason (1 to 2000 characters); the agent sees it"));
        }
        let a = self.approval_record(id).await?;
        let now = self.clock().now_ms();
        let row = user_row("approval.rejected", actor_id, &a, "rejected", serde_json::json!({ "approval_id": a.id, "tool": a.tool, "agent": a.agent, "reason": reason }));
        let (key, actor) = (a.id.clone(), actor_id.to_string());
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                if !stored::decide(conn, &key, "rejected", &actor, now, Some(&reason), None)? {
                    return Err(StoreError::Conflict(format!("draft '{key}' is no longer pending (decided or expired); reload it")));
                }
                audit.append(&row)
            })
            .await?;
        self.approval_get(id).await
    }

    /// Settles a draft whose outcome was unknown after a crash: `sent` means a person found the
    /// effect at the provider (recorded as executed); otherwise it is sent now, once.
    pub async fn approval_confirm(&self, actor_id: &str, id: &str, req: ConfirmRequest) -> Result<ApprovalInfo, ApiError> {
        let a = self.approval_record(id).await?;
        if a.status != "needs_confirmation" {
            return Err(ApiError::new(ErrorCode::Conflict, format!("draft '{id}' is {}, not waiting for a confirmation", a.status)));
        }
        let now = self.clock().now_ms();
        let row = user_row("approval.confirmed", actor_id, &a, if req.sent { "sent" } else { "resend" }, serde_json::json!({ "approval_id": a.id, "sent": req.sent }));
        let (key, call_id) = (a.id.clone(), a.call_id.clone());
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                if req.sent {
                    let note = serde_json::json!({ "confirmed_by_person": true }).to_string();
                    stored::finish_outbox(conn, &call_id, "done", None, Some(&note), now)?;
                    stored::finish_approval(conn, &key, "executed", Some(&note), now)?;
                } else if !stored::move_outbox(conn, &call_id, "unknown", "ready", now)? {
                    return Err(StoreError::Conflict(format!("draft '{key}''s outbox row is not waiting for a confirmation")));
                } else {
                    conn.execute("UPDATE approvals SET status = 'approved' WHERE id = ?1 AND status = 'needs_confirmation'", [&key])?;
                }
                Ok(())
            })
            .await?;
        self.wake_outbox();
        self.approval_get(id).await
    }

    /// One action's causal chain, oldest first: every audit row sharing its call id (trigger →
    /// decision → approval → provider request → result). `id` is a call id or an approval id.
    pub async fn audit_chain(&self, id: &str) -> Result<Vec<switchboard_core::AuditRow>, ApiError> {
        let call_id = if id.starts_with("apr_") { self.approval_record(id).await?.call_id } else { id.to_string() };
        let db = self.db().clone();
        let rows = blocking(move || {
            let conn = db.reader()?;
            let mut rows = switchboard_store::audit::chain(&conn, &call_id)?;
            // A call made in response to a provider event starts with the event's arrival.
            if let Some(event_id) = rows.first().and_then(|r| r.trigger.as_deref()).and_then(|t| t.strip_prefix("event:")).map(str::to_string) {
                let arrival: Vec<_> = switchboard_store::audit::chain(&conn, &event_id)?
                    .into_iter()
                    .filter(|r| (r.action == "webhook.received" || r.action == "pull.received") && r.decision == "allow")
                    .collect();
                rows.splice(0..0, arrival);
            }
            Ok(rows)
        })
        .await?;
        if rows.is_empty() {
            return Err(ApiError::new(ErrorCode::NotFound, format!("no audit rows carry the id '{id}'")));
        }
        Ok(rows)
    }

    /// Marks drafts past their time expired (one audit row each).
    async fn expire_due(&self) -> Result<(), ApiError> {
        let now = self.clock().now_ms();
        let db = self.db().clone();
        let due = blocking(move || Ok(stored::due_for_expiry(&*db.reader()?, now)?)).await?;
        for a in due {
            let row = user_row("approval.expired", "gateway", &a, "expired", serde_json::json!({ "approval_id": a.id, "tool": a.tool, "agent": a.agent }));
            let row = NewAuditRow { actor_kind: ActorKind::System, ..row };
            let key = a.id.clone();
            self.writer()
                .transact(Durability::Normal, move |conn, audit| {
                    if stored::expire(conn, &key, now)? {
                        audit.append(&row)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(())
    }

    pub(crate) fn wake_outbox(&self) {
        self.outbox_wake().notify_one();
    }

    /// Settles rows a previous process left in flight, then runs the executor until shutdown.
    pub(crate) fn spawn_outbox_executor(&self) {
        let app = self.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = app.recover_outbox().await {
                tracing::error!(code = %e.code, error = %e.message, "could not settle the outbox rows left in flight; they stay as they are");
            }
            loop {
                if !app.agents_paused() {
                    if let Err(e) = app.run_outbox().await {
                        tracing::error!(code = %e.code, error = %e.message, "the outbox executor could not read its rows; retrying");
                    }
                    let _ = app.expire_due().await;
                }
                let wake = app.outbox_wake();
                let _ = tokio::time::timeout(EXECUTOR_TICK, wake.notified()).await;
            }
        });
        self.set_outbox_task(task);
    }

    /// Rows in flight when the last process stopped: re-sent under the same idempotency key
    /// where the provider honours one, otherwise `unknown` for a person (never re-sent blindly).
    async fn recover_outbox(&self) -> Result<(), ApiError> {
        let db = self.db().clone();
        let stuck = blocking(move || Ok(stored::outbox_in_state(&*db.reader()?, "in_flight")?)).await?;
        for o in stuck {
            let idempotent_at_provider =
                switchboard_connectors::action(&o.tool).is_some_and(|a| (a.build)(&parse_json(&o.input)).is_ok_and(|c| c.idempotency_key) || a.idempotent);
            let now = self.clock().now_ms();
            let key = o.key.clone();
            let approval = o.approval_id.clone();
            if idempotent_at_provider {
                let row = system_row("outbox.resume", &o, "resend_same_key", serde_json::json!({ "key": o.key, "tool": o.tool, "attempts": o.attempts }));
                self.writer()
                    .transact(Durability::Full, move |conn, audit| {
                        audit.append(&row)?;
                        stored::move_outbox(conn, &key, "in_flight", "ready", now).map(|_| ())
                    })
                    .await?;
            } else {
                let row = system_row(
                    "outbox.unknown",
                    &o,
                    "needs_confirmation",
                    serde_json::json!({ "key": o.key, "tool": o.tool, "why": "the process stopped after the request may have left; the provider has no idempotency key to re-send it safely" }),
                );
                self.writer()
                    .transact(Durability::Full, move |conn, audit| {
                        audit.append(&row)?;
                        stored::move_outbox(conn, &key, "in_flight", "unknown", now)?;
                        if let Some(id) = &approval {
                            stored::finish_approval(conn, id, "needs_confirmation", None, now)?;
                        }
                        Ok(())
                    })
                    .await?;
                self.notify(Notice {
                    kind: "approval_needs_confirmation".into(),
                    title: format!("Check whether {} went out", o.tool),
                    body: "Switchboard stopped while sending an approved action. Check the provider, then confirm it in Approvals.".into(),
                    connection: Some(o.connection_id.clone()),
                });
            }
        }
        Ok(())
    }

    /// Sends every ready row, oldest first.
    async fn run_outbox(&self) -> Result<(), ApiError> {
        let db = self.db().clone();
        let ready = blocking(move || Ok(stored::outbox_in_state(&*db.reader()?, "ready")?)).await?;
        for o in ready {
            if self.agents_paused() {
                break;
            }
            self.execute_outbox(o).await?;
        }
        Ok(())
    }

    /// Claims one row, sends it and records the outcome.
    async fn execute_outbox(&self, o: OutboxRecord) -> Result<(), ApiError> {
        let action = switchboard_connectors::action(&o.tool);
        let input = parse_json(&o.input);
        let now = self.clock().now_ms();
        let catalog = self.provider_catalog();
        let connection = {
            let db = self.db().clone();
            let id = o.connection_id.clone();
            blocking(move || Ok(stored_connections::get(&*db.reader()?, &id)?)).await?
        };
        let prepared = match (action, connection) {
            (None, _) => Err(format!("this version does not know the action {}", o.tool)),
            (_, None) => Err(format!("connection '{}' no longer exists", o.connection_id)),
            (_, Some(c)) if c.removed_at_ms.is_some() => Err(format!("connection '{}' was removed", o.connection_id)),
            (Some(a), Some(c)) => match (catalog.providers.iter().find(|p| p.id == c.provider).cloned(), (a.build)(&input)) {
                (None, _) => Err(format!("provider '{}' is not in this gateway's catalog", c.provider)),
                (_, Err(m)) => Err(m),
                (Some(entry), Ok(call)) => Ok((a, c, entry, call)),
            },
        };
        let summary = serde_json::json!({ "key": o.key, "tool": o.tool, "approval_id": o.approval_id, "attempt": o.attempts + 1 });
        let claim_row = match &prepared {
            Ok((a, c, _, call)) => {
                let mut s = summary.clone();
                s["method"] = Value::String(call.method.into());
                s["path"] = Value::String(call.path.clone());
                agent_row(&o.agent, a, "outbox", &o.call_id, "allow", "started", Some(&c.id), s)
            }
            Err(_) => system_row("outbox.send", &o, "started", summary.clone()),
        };
        let key = o.key.clone();
        let claimed = self
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                if !stored::move_outbox(conn, &key, "ready", "in_flight", now)? {
                    return Ok(false);
                }
                audit.append(&claim_row)?;
                Ok(true)
            })
            .await?;
        if !claimed {
            return Ok(());
        }
        crate::failpoint::hit("outbox.claimed");
        let (a, connection, entry, call) = match prepared {
            Ok(p) => p,
            Err(message) => {
                let err = ApiError::new(ErrorCode::Conflict, format!("the approved {} could not be sent: {message}", o.tool));
                self.finish_outbox_row(&o, "failed", None, &serde_json::json!({ "error": err }), "failed", system_row("outbox.failed", &o, "failed", serde_json::json!({ "key": o.key, "error": err.message })))
                    .await;
                return Ok(());
            }
        };
        let _ = self.send_claimed(&o, a, &connection, &entry, &call).await;
        Ok(())
    }

    /// Sends a claimed (in flight, committed) outbox row and records its outcome: the outbox
    /// row, its approval if any, the audit outcome row and the connection's health.
    async fn send_claimed(
        &self,
        o: &OutboxRecord,
        a: &'static ActionSpec,
        connection: &ConnectionRecord,
        entry: &switchboard_connectors::ProviderEntry,
        call: &switchboard_connectors::HttpCall,
    ) -> Result<CallResult, ApiError> {
        let started = Instant::now();
        let sent = self.send_to_provider(entry, connection, &o.agent, a, call, &o.key).await;
        crate::failpoint::hit("outbox.sent");
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (outcome, result, health) = settle(entry, connection, &o.tool, &o.call_id, sent);
        let status = result.as_ref().map(|r| r.status).ok();
        let mut summary = serde_json::json!({ "tool": o.tool, "call_id": o.call_id, "approval_id": o.approval_id, "status": status, "elapsed_ms": elapsed_ms });
        let (state, approval_status, stored_result) = match &result {
            Ok(r) => ("done", "executed", r.result.clone()),
            Err(e) => {
                summary["error"] = Value::String(e.message.clone());
                ("failed", "failed", serde_json::json!({ "error": e }))
            }
        };
        let outcome_row = agent_row(&o.agent, a, "outbox", &o.call_id, "none", outcome, Some(&connection.id), summary);
        self.finish_outbox_row(o, state, status.map(i64::from), &stored_result, approval_status, outcome_row).await;
        let (id, at, ok) = (connection.id.clone(), self.clock().now_ms(), result.is_ok());
        let _ = self
            .writer()
            .transact(Durability::Normal, move |conn, _| match health {
                Some((code, message, status)) => stored_connections::record_error(conn, &id, code, &message, at, status),
                None if ok => stored_connections::record_call_success(conn, &id, at),
                None => Ok(()),
            })
            .await;
        crate::failpoint::hit("outbox.recorded");
        result
    }

    /// Runs an outbound call an auto-send policy allowed: the decision row and an outbox row
    /// (already in flight, keyed by the call id) commit together before the provider is called,
    /// so a crash leaves it to the same recovery as an approved draft.
    pub(crate) async fn auto_send(&self, call: DecidedCall<'_>, entry: &switchboard_connectors::ProviderEntry) -> Result<CallResult, ApiError> {
        let DecidedCall { agent, action, connection, input, call_id, trigger, rule, client_request, checked_against } = call;
        let call = (action.build)(&input).map_err(|m| ApiError::bad_request(format!("{}: {m}", action.tool_name())))?;
        let now = self.clock().now_ms();
        let o = OutboxRecord {
            key: call_id.clone(),
            approval_id: None,
            rule: rule.into(),
            call_id: call_id.clone(),
            agent: agent.name.clone(),
            connection_id: connection.id.clone(),
            tool: action.tool_name(),
            input: input.to_string(),
            state: "in_flight".into(),
            attempts: 1,
            created_at_ms: now,
            started_at_ms: Some(now),
            finished_at_ms: None,
            http_status: None,
            result: None,
        };
        let mut summary = serde_json::json!({
            "tool": o.tool, "call_id": call_id, "rule": rule, "method": call.method, "path": call.path, "input": audited_input(&input),
        });
        if let Some(path) = checked_against {
            summary["checked_against"] = Value::String(path.into());
        }
        let row = agent_row(&agent.name, action, trigger, &call_id, "allow", "started", Some(&connection.id), summary);
        let stored_row = o.clone();
        let first = client_request.clone();
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                if let Some(c) = &first
                    && !stored::insert_client_request(conn, c)?
                {
                    return Err(StoreError::Conflict("this client_request_id was just used by another request".into()));
                }
                stored::insert_outbox(conn, &stored_row)
            })
            .await?;
        let result = self.send_claimed(&o, action, connection, entry, &call).await;
        if let Some(c) = client_request {
            let answer = crate::calls::remembered_answer(&result);
            let _ = self.writer().transact(Durability::Normal, move |conn, _| stored::set_client_request_result(conn, &c.agent, &c.client_request_id, &answer)).await;
        }
        result
    }

    async fn finish_outbox_row(&self, o: &OutboxRecord, state: &str, http_status: Option<i64>, result: &Value, approval_status: &str, row: NewAuditRow) {
        let now = self.clock().now_ms();
        let (key, approval, state, approval_status, result) =
            (o.key.clone(), o.approval_id.clone(), state.to_string(), approval_status.to_string(), result.to_string());
        let recorded = self
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::finish_outbox(conn, &key, &state, http_status, Some(&result), now)?;
                if let Some(id) = &approval {
                    stored::finish_approval(conn, id, &approval_status, Some(&result), now)?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = recorded {
            // The call happened; the row stays in flight and is settled at the next start.
            tracing::error!(key = %o.key, error = %e, "an approved action was sent but its outcome could not be recorded");
        }
    }
}

/// The answer an agent gets for a draft (at queue time and on a repeated client_request_id).
fn pending_result(a: &ApprovalRecord) -> CallResult {
    let status = ApprovalStatus::parse(&a.status).unwrap_or(ApprovalStatus::Pending);
    let message = match status {
        ApprovalStatus::Pending => "a person must approve this before it runs; ask approval_status with the approval id",
        ApprovalStatus::Approved => "approved; it is being sent",
        ApprovalStatus::Executed => "approved and sent; approval_status has the provider's answer",
        ApprovalStatus::Rejected => "a person rejected it; approval_status has the reason",
        ApprovalStatus::Expired => "nobody approved it in time; it expired and was not sent",
        ApprovalStatus::Failed => "approved, but the provider refused it; approval_status has the error",
        ApprovalStatus::NeedsConfirmation => "approved; a person is confirming whether it went out",
    };
    CallResult {
        call_id: a.call_id.clone(),
        tool: a.tool.clone(),
        connection: a.connection_id.clone(),
        state: CallState::PendingApproval,
        status: 202,
        result: serde_json::json!({ "approval_id": a.id, "status": status.as_str(), "expires_at_ms": a.expires_at_ms, "message": message }),
        approval_id: Some(a.id.clone()),
    }
}
