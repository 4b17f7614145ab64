//! Agents asking for more: the two tools every agent holds whatever its grants —
//! `request_access` (connection, tier, optional tools, reason) and `approval_status` — and the
//! person's side (`switchboard requests list | grant ID | dismiss ID`).
//!
//! A request changes nothing by itself: it is a line in front of a person ("agent X asks for
//! write on HubSpot: <reason>"). Only a person's `grant` creates the grant, through the same
//! path as `switchboard grants set` (audited, FULL). The reason is the agent's text and is only
//! ever shown as text.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_connectors::ActionInfo;
use switchboard_core::{ActorKind, ApiError, ErrorCode, NewAuditRow, Tier};
use switchboard_store::approvals::{self as stored, AccessRequestRecord};
use switchboard_store::{Durability, StoreError, connections as stored_connections};
use ts_rs::TS;

use crate::App;
use crate::agents::AgentId;
use crate::calls::{CallResult, CallState};
use crate::gateway::blocking;
use crate::grants::GrantRequest;
use crate::types::Notice;

/// The tool every agent has for asking a person for a grant.
pub const REQUEST_ACCESS: &str = "request_access";
/// The tool every agent has for following its drafts.
pub const APPROVAL_STATUS: &str = "approval_status";
const REASON_MAX: usize = 500;

/// An access request as the Agents screen and `switchboard requests list` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AccessRequestInfo {
    pub id: String,
    pub agent: String,
    pub connection: String,
    pub tier: Tier,
    /// Tools it asks for; `null` = every action of the tier.
    pub actions: Option<Vec<String>>,
    /// The agent's words (text only).
    pub reason: String,
    /// `pending`, `granted` or `dismissed`.
    pub status: String,
    #[ts(type = "number")]
    pub created_at_ms: i64,
    pub decided_by: Option<String>,
    #[ts(type = "number | null")]
    pub decided_at_ms: Option<i64>,
}

fn info(r: AccessRequestRecord) -> AccessRequestInfo {
    AccessRequestInfo {
        tier: Tier::parse(&r.tier).unwrap_or(Tier::Read),
        id: r.id,
        agent: r.agent,
        connection: r.connection_id,
        actions: r.actions,
        reason: r.reason,
        status: r.status,
        created_at_ms: r.created_at_ms,
        decided_by: r.decided_by,
        decided_at_ms: r.decided_at_ms,
    }
}

/// The built-in tools, as `GET /tools` lists them for every agent.
pub fn builtin_tools() -> Vec<ActionInfo> {
    vec![
        ActionInfo {
            tool: REQUEST_ACCESS.into(),
            provider: "switchboard".into(),
            name: REQUEST_ACCESS.into(),
            description: "Ask a person for a grant you do not hold: one tier (read, write or delete) on one connection, optionally only some tools, with your reason. A person decides; nothing changes until they do.".into(),
            tier: Tier::Read,
            scopes: vec![],
            outbound: false,
            idempotent: true,
            input_schema: json!({ "type": "object", "additionalProperties": false, "required": ["connection", "tier", "reason"], "properties": {
                "connection": { "type": "string", "description": "The connection id, e.g. \"hubspot-1\" (a denial names it)." },
                "tier": { "type": "string", "enum": ["read", "write", "delete"], "description": "The tier you need. No tier implies another." },
                "actions": { "type": "array", "items": { "type": "string" }, "description": "Only these tools (e.g. [\"hubspot_update_deal_stage\"]); leave out for every tool of the tier." },
                "reason": { "type": "string", "minLength": 1, "maxLength": REASON_MAX, "description": "Why, in one or two sentences a person reads." },
            }}),
        },
        ActionInfo {
            tool: APPROVAL_STATUS.into(),
            provider: "switchboard".into(),
            name: APPROVAL_STATUS.into(),
            description: "Where one of your drafts stands: pending, approved, rejected (with the reason), expired, executed (with the provider's result) or failed.".into(),
            tier: Tier::Read,
            scopes: vec![],
            outbound: false,
            idempotent: true,
            input_schema: json!({ "type": "object", "additionalProperties": false, "required": ["approval_id"], "properties": {
                "approval_id": { "type": "string", "description": "The id a queued call returned (\"apr_…\")." },
            }}),
        },
    ]
}

fn str_field<'a>(input: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    input.get(name).and_then(Value::as_str).ok_or_else(|| ApiError::bad_request(format!("'{name}' is required and must be a string")))
}

impl App {
    /// Runs one of the built-in tools for an agent; `None` when `tool` is not one of them.
    pub(crate) async fn builtin_call(&self, agent: &AgentId, tool: &str, input: &Value) -> Option<Result<CallResult, ApiError>> {
        let call_id = crate::calls::new_id("call");
        let answer = |result: Result<Value, ApiError>| {
            result.map(|v| CallResult { call_id: call_id.clone(), tool: tool.into(), connection: String::new(), state: CallState::Done, status: 200, result: v, approval_id: None })
        };
        match tool {
            REQUEST_ACCESS => Some(answer(self.request_access(agent, input).await.and_then(|r| serde_json::to_value(r).map_err(|e| ApiError::internal(e.to_string()))))),
            APPROVAL_STATUS => {
                let r = match str_field(input, "approval_id") {
                    Ok(id) => self.approval_status_for_agent(agent, id).await.and_then(|s| serde_json::to_value(s).map_err(|e| ApiError::internal(e.to_string()))),
                    Err(e) => Err(e),
                };
                Some(answer(r))
            }
            _ => None,
        }
    }

    /// Records an agent's request for a grant (or returns its pending twin) and tells a person.
    pub async fn request_access(&self, agent: &AgentId, input: &Value) -> Result<AccessRequestInfo, ApiError> {
        let Some(o) = input.as_object() else {
            return Err(ApiError::bad_request("the input must be an object with connection, tier and reason"));
        };
        if let Some(k) = o.keys().find(|k| !["connection", "tier", "actions", "reason"].contains(&k.as_str())) {
            return Err(ApiError::bad_request(format!("unknown field '{k}'; request_access takes connection, tier, actions and reason")));
        }
        let connection_id = str_field(input, "connection")?.to_string();
        let tier = Tier::parse(str_field(input, "tier")?).ok_or_else(|| ApiError::bad_request("'tier' must be read, write or delete"))?;
        let reason = str_field(input, "reason")?.trim().to_string();
        if reason.is_empty() || reason.chars().count() > REASON_MAX {
            return Err(ApiError::bad_request(format!("'reason' must be 1 to {REASON_MAX} characters")));
        }
        if reason.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ApiError::bad_request("'reason' must be plain text without control characters"));
        }
        let actions: Option<Vec<String>> = match o.get("actions") {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(
                a.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| ApiError::bad_request("'actions' must be a list of tool names"))).collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err(ApiError::bad_request("'actions' must be a list of tool names")),
        };
        let db = self.db().clone();
        let (cid, name) = (connection_id.clone(), agent.name.clone());
        let (connection, pending) = blocking(move || {
            let conn = db.reader()?;
            let pending = stored::list_access_requests(&conn, Some("pending"))?.into_iter().filter(|r| r.agent == name && r.connection_id == cid).collect::<Vec<_>>();
            Ok((stored_connections::get(&conn, &cid)?, pending))
        })
        .await?;
        let connection = match connection {
            Some(c) if c.removed_at_ms.is_none() => c,
            _ => return Err(ApiError::new(ErrorCode::NotFound, format!("there is no connection '{connection_id}'"))),
        };
        for tool in actions.iter().flatten() {
            match switchboard_connectors::action(tool) {
                Some(a) if a.serves(&connection.provider) && a.tier == tier => {}
                _ => return Err(ApiError::bad_request(format!("'{tool}' is not a {} action of connection '{connection_id}'", tier.as_str()))),
            }
        }
        if let Some(twin) = pending.into_iter().find(|r| r.tier == tier.as_str() && r.actions == actions) {
            return Ok(info(twin));
        }
        let record = AccessRequestRecord {
            id: crate::calls::new_id("req"),
            agent: agent.name.clone(),
            connection_id: connection_id.clone(),
            tier: tier.as_str().into(),
            actions,
            reason,
            status: "pending".into(),
            created_at_ms: self.clock().now_ms(),
            decided_by: None,
            decided_at_ms: None,
        };
        let mut row = NewAuditRow::system("access.requested", json!({ "request_id": record.id, "tier": tier.as_str(), "actions": record.actions, "reason": record.reason }));
        row.actor_kind = ActorKind::Agent;
        row.actor_id = agent.name.clone();
        row.connection_id = Some(connection_id.clone());
        row.tier = Some(tier);
        row.outcome = "pending".into();
        let stored_record = record.clone();
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::insert_access_request(conn, &stored_record)
            })
            .await?;
        self.notify(Notice {
            kind: "access_requested".into(),
            title: format!("{} asks for {} on {}", agent.name, tier.as_str(), if connection.label.is_empty() { connection_id.clone() } else { connection.label.clone() }),
            body: record.reason.clone(),
            connection: Some(connection_id),
        });
        Ok(info(record))
    }

    /// Agents' access requests with `status` pending, granted or dismissed; `None`, empty or
    /// `all` means every status. Any other status is `bad_request`.
    pub async fn access_requests_list(&self, status: Option<&str>) -> Result<Vec<AccessRequestInfo>, ApiError> {
        let status = match status {
            None | Some("" | "all") => None,
            Some(s @ ("pending" | "granted" | "dismissed")) => Some(s.to_string()),
            Some(other) => return Err(ApiError::bad_request(format!("unknown status '{other}'; use pending, granted, dismissed or all"))),
        };
        let db = self.db().clone();
        let rows = blocking(move || Ok(stored::list_access_requests(&*db.reader()?, status.as_deref())?)).await?;
        Ok(rows.into_iter().map(info).collect())
    }

    /// Grants what the request asks for (as `grants set` would) and marks it granted.
    pub async fn access_request_grant(&self, actor_id: &str, id: &str) -> Result<AccessRequestInfo, ApiError> {
        let r = self.pending_access_request(id).await?;
        let tier = Tier::parse(&r.tier).ok_or_else(|| ApiError::internal("stored request has an unknown tier"))?;
        self.grant_set(actor_id, GrantRequest { agent: r.agent.clone(), connection: r.connection_id.clone(), tier, actions: r.actions.clone(), expires_at_ms: None })
            .await?;
        self.settle_access_request(actor_id, &r, "granted").await
    }

    /// Dismisses a request; nothing is granted.
    pub async fn access_request_dismiss(&self, actor_id: &str, id: &str) -> Result<AccessRequestInfo, ApiError> {
        let r = self.pending_access_request(id).await?;
        self.settle_access_request(actor_id, &r, "dismissed").await
    }

    async fn pending_access_request(&self, id: &str) -> Result<AccessRequestRecord, ApiError> {
        let db = self.db().clone();
        let key = id.to_string();
        let r = blocking(move || Ok(stored::get_access_request(&*db.reader()?, &key)?))
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("there is no access request '{id}'; `switchboard requests list` shows them")))?;
        if r.status != "pending" {
            return Err(ApiError::new(ErrorCode::Conflict, format!("access request '{id}' was already {}", r.status)));
        }
        Ok(r)
    }

    async fn settle_access_request(&self, actor_id: &str, r: &AccessRequestRecord, status: &str) -> Result<AccessRequestInfo, ApiError> {
        let now = self.clock().now_ms();
        let mut row = NewAuditRow::system(format!("access.{status}"), json!({ "request_id": r.id, "agent": r.agent, "tier": r.tier, "actions": r.actions }));
        row.actor_kind = ActorKind::User;
        row.actor_id = actor_id.into();
        row.connection_id = Some(r.connection_id.clone());
        row.tier = Tier::parse(&r.tier);
        let (key, by, st) = (r.id.clone(), actor_id.to_string(), status.to_string());
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                if !stored::decide_access_request(conn, &key, &st, &by, now)? {
                    return Err(StoreError::Conflict(format!("access request '{key}' was decided meanwhile")));
                }
                audit.append(&row)
            })
            .await?;
        Ok(AccessRequestInfo { status: status.into(), decided_by: Some(actor_id.into()), decided_at_ms: Some(now), ..info(r.clone()) })
    }
}
