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

/// The agents with a grant that lapsed in `(after, now]`, each once.
fn lapsed(grants: &[GrantRecord], after: i64, now: i64) -> Vec<String> {
    let mut agents: Vec<String> =
        grants.iter().filter(|g| g.expires_at_ms.is_some_and(|e| e > after && e <= now)).map(|g| g.agent.clone()).collect();
    agents.sort();
    agents.dedup();
    agents
}

/// When the next grant lapses, if any grant is still to lapse after `now`.
fn next_lapse(grants: &[GrantRecord], now: i64) -> Option<i64> {
    grants.iter().filter_map(|g| g.expires_at_ms).filter(|&e| e > now).min()
}

/// The longest the lapse watcher sleeps before it looks again, so a wall-clock jump (a suspended
/// laptop, a corrected clock) delays a notice by at most this much.
const LAPSE_RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

/// How soon the lapse watcher tries again after it could not read the grants.
const LAPSE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

impl App {
    /// Tells connected agents (and the live screens) when one of their grants lapses. An
    /// expiring grant changes an agent's tools as surely as a revoke, but no person's action
    /// announces it, so this task sleeps until the next expiry and then sends the agent's
    /// `tools/list_changed` and a live `grants` event. A grant set or revoked meanwhile wakes it
    /// to look again.
    pub(crate) fn spawn_lapse_notices(&self) {
        let app = self.clone();
        let task = tokio::spawn(async move {
            let mut changes = app.grant_changes();
            let mut after = app.clock().now_ms();
            loop {
                let db = app.db().clone();
                let grants = match blocking(move || Ok(stored::list(&*db.reader()?, None)?)).await {
                    Ok(g) => g,
                    Err(e) => {
                        // Keep `after` where it is, so a grant that lapses meanwhile is still announced.
                        tracing::warn!(code = %e.code, error = %e.message, "could not read grants to announce the ones that lapse; retrying");
                        tokio::time::sleep(LAPSE_RETRY).await;
                        continue;
                    }
                };
                let now = app.clock().now_ms();
                for agent in lapsed(&grants, after, now) {
                    app.grants_changed(&agent);
                    // No audit row marks a lapse, so the live screens hear of it here.
                    let _ = app.live_sender().send(crate::live::LiveEvent::Grants { agent });
                }
                after = now;
                let wait = next_lapse(&grants, now)
                    .map_or(LAPSE_RECHECK, |e| std::time::Duration::from_millis(u64::try_from(e - now).unwrap_or(0)).min(LAPSE_RECHECK));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    r = changes.recv() => if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) { return },
                }
            }
        });
        self.set_lapse_task(task);
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(agent: &str, expires_at_ms: Option<i64>) -> GrantRecord {
        GrantRecord {
            agent: agent.into(),
            connection_id: "c".into(),
            tier: "read".into(),
            actions: None,
            expires_at_ms,
            granted_at_ms: 0,
            granted_by: "user".into(),
        }
    }

    #[test]
    fn each_agent_whose_grant_lapsed_since_the_last_look_is_announced_once() {
        let grants = [grant("a", Some(100)), grant("a", Some(150)), grant("b", Some(200)), grant("c", None), grant("d", Some(50))];
        assert_eq!(lapsed(&grants, 60, 150), vec!["a".to_string()], "only grants that lapsed after the last look and by now count, each agent once");
        assert_eq!(lapsed(&grants, 150, 200), vec!["b".to_string()], "a grant lapsing exactly now counts; one announced before does not");
        assert!(lapsed(&grants, 200, 10_000).is_empty(), "a grant without expiry never lapses");
    }

    #[test]
    fn the_watcher_wakes_at_the_next_expiry_still_ahead() {
        let grants = [grant("a", Some(100)), grant("b", Some(300)), grant("c", None)];
        assert_eq!(next_lapse(&grants, 0), Some(100));
        assert_eq!(next_lapse(&grants, 100), Some(300), "a grant lapsing now is no longer ahead");
        assert_eq!(next_lapse(&grants, 300), None, "nothing left to lapse: the watcher only rechecks");
    }
}
