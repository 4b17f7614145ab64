//! Least-privilege grants: which agent may use which connection at which tier.
//!
//! A new agent holds nothing. A person grants one tier at a time (`read`, `write`, `delete`);
//! no tier implies another, so an agent with `write` still cannot read, and one with `read`
//! cannot archive. A grant can be narrowed to named actions (tool names) and given an expiry;
//! an expired grant is kept (so the UI can show it) but allows nothing.
//!
//! Every change commits with its audit row (FULL durability) before it takes effect; the agent
//! call path reads grants from the database on each call, so a revoke applies to the very next
//! call.

use serde::{Deserialize, Serialize};
use switchboard_core::{ApiError, ErrorCode, NewAuditRow, Tier};
use switchboard_store::grants::{self as stored, GrantRecord};
use switchboard_store::{Durability, agents as stored_agents, connections as stored_connections};
use ts_rs::TS;

use crate::App;
use crate::gateway::blocking;

/// A grant as the UI and `switchboard grants list` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GrantInfo {
    pub agent: String,
    pub connection: String,
    pub tier: Tier,
    /// Tool names this grant is narrowed to; `null` = every action of the tier.
    pub actions: Option<Vec<String>>,
    #[ts(type = "number | null")]
    pub expires_at_ms: Option<i64>,
    /// Past its expiry: it allows nothing.
    pub expired: bool,
    #[ts(type = "number")]
    pub granted_at_ms: i64,
    pub granted_by: String,
}

/// What `grants set` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct GrantRequest {
    pub agent: String,
    pub connection: String,
    pub tier: Tier,
    /// Narrow to these tool names (each must be an action of this tier for this provider).
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    /// UTC milliseconds after which the grant allows nothing.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub expires_at_ms: Option<i64>,
}

pub(crate) fn info(g: GrantRecord, now_ms: i64) -> GrantInfo {
    GrantInfo {
        expired: g.expires_at_ms.is_some_and(|e| e <= now_ms),
        tier: Tier::parse(&g.tier).unwrap_or(Tier::Read),
        agent: g.agent,
        connection: g.connection_id,
        actions: g.actions,
        expires_at_ms: g.expires_at_ms,
        granted_at_ms: g.granted_at_ms,
        granted_by: g.granted_by,
    }
}

/// Whether `grant` lets `tool` run at `now_ms`.
pub(crate) fn allows(g: &GrantRecord, tool: &str, now_ms: i64) -> bool {
    g.expires_at_ms.is_none_or(|e| e > now_ms) && g.actions.as_ref().is_none_or(|a| a.iter().any(|t| t == tool))
}

impl App {
    /// Every grant, or one agent's.
    pub async fn grants_list(&self, agent: Option<&str>) -> Result<Vec<GrantInfo>, ApiError> {
        let db = self.db().clone();
        let agent = agent.map(str::to_string);
        let rows = blocking(move || Ok(stored::list(&*db.reader()?, agent.as_deref())?)).await?;
        let now = self.clock().now_ms();
        Ok(rows.into_iter().map(|g| info(g, now)).collect())
    }

    /// Grants one tier of one connection to one agent (replacing an earlier grant of that tier).
    pub async fn grant_set(&self, actor_id: &str, req: GrantRequest) -> Result<GrantInfo, ApiError> {
        let now = self.clock().now_ms();
        if req.expires_at_ms.is_some_and(|e| e <= now) {
            return Err(ApiError::bad_request("the expiry is in the past; give a future time or none"));
        }
        let db = self.db().clone();
        let (agent_name, connection_id) = (req.agent.clone(), req.connection.clone());
        let (agent, connection) = blocking(move || {
            let conn = db.reader()?;
            let agent = stored_agents::list(&conn)?.into_iter().find(|a| a.name == agent_name);
            Ok((agent, stored_connections::get(&conn, &connection_id)?))
        })
        .await?;
        match agent {
            None => {
                return Err(ApiError::new(ErrorCode::NotFound, format!("there is no agent '{}'; `switchboard agents list` shows them", req.agent)));
            }
            Some(a) if a.revoked_at_ms.is_some() => {
                return Err(ApiError::new(ErrorCode::Conflict, format!("agent '{}' was revoked; add a new agent instead", req.agent)));
            }
            Some(_) => {}
        }
        let connection = match connection {
            Some(c) if c.removed_at_ms.is_none() => c,
            Some(_) => return Err(ApiError::new(ErrorCode::Conflict, format!("connection '{}' was removed; connect the account again", req.connection))),
            None => {
                return Err(ApiError::new(
                    ErrorCode::NotFound,
                    format!("there is no connection '{}'; `switchboard connections list` shows them", req.connection),
                ));
            }
        };
        if let Some(actions) = &req.actions {
            if actions.is_empty() {
                return Err(ApiError::bad_request("an empty action list would allow nothing; leave it out to allow every action of the tier"));
            }
            for tool in actions {
                match switchboard_connectors::action(tool) {
                    Some(a) if a.serves(&connection.provider) && a.tier == req.tier => {}
                    Some(a) if a.serves(&connection.provider) => {
                        return Err(ApiError::bad_request(format!("'{tool}' is a {} action, not {}", a.tier.as_str(), req.tier.as_str())));
                    }
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "'{tool}' is not an action of {}; `GET /api/agent/v1/tools` and `switchboard providers` list them",
                            connection.provider
                        )));
                    }
                }
            }
        }
        let record = GrantRecord {
            agent: req.agent.clone(),
            connection_id: req.connection.clone(),
            tier: req.tier.as_str().into(),
            actions: req.actions.clone(),
            expires_at_ms: req.expires_at_ms,
            granted_at_ms: now,
            granted_by: actor_id.into(),
        };
        let row = NewAuditRow::user(
            "grant.set",
            actor_id,
            serde_json::json!({ "agent": req.agent, "connection": req.connection, "tier": req.tier.as_str(), "actions": req.actions, "expires_at_ms": req.expires_at_ms }),
        )
        .on_connection(&req.connection)
        .with_tier(req.tier);
        let stored_record = record.clone();
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::upsert(conn, &stored_record)
            })
            .await?;
        self.grants_changed(&record.agent);
        Ok(info(record, now))
    }

    /// Revokes one tier; `not_found` when the agent did not hold it.
    pub async fn grant_revoke(&self, actor_id: &str, agent: &str, connection: &str, tier: Tier) -> Result<(), ApiError> {
        let row = NewAuditRow::user(
            "grant.revoked",
            actor_id,
            serde_json::json!({ "agent": agent, "connection": connection, "tier": tier.as_str() }),
        )
        .on_connection(connection)
        .with_tier(tier);
        let (a, c) = (agent.to_string(), connection.to_string());
        let existed = self
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                if stored::get(conn, &a, &c, tier.as_str())?.is_none() {
                    return Ok(false);
                }
                audit.append(&row)?;
                stored::delete(conn, &a, &c, tier.as_str())
            })
            .await?;
        if existed {
            self.grants_changed(agent);
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::NotFound, format!("agent '{agent}' holds no {} grant on '{connection}'", tier.as_str())))
        }
    }
}
