//! Agent identities and the pause switch.
//!
//! Each agent has a name and its own bearer token (`sb_agent_…`), shown once when it is added.
//! Only the token's SHA-256 is stored (`agents.token_hash`); the gateway keeps the active agents'
//! hashes in memory, so checking a token costs a hash and a map lookup, and a revoke takes effect
//! for the very next request. Agent tokens and the control token are different kinds: neither
//! opens the other's API.
//!
//! The pause switch (`settings.agents_paused`) stops every agent at once and survives a restart.
//! A paused agent's request is refused with `paused` after its token is checked, and that refusal
//! is audited (`agent.call`, decision `deny`, outcome `paused`); bad tokens are not audited.
//!
//! Every change (add, revoke, pause, resume) commits with its audit row (FULL durability) before
//! it takes effect in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchboard_core::{ActorKind, ApiError, ErrorCode, NewAuditRow, Sensitive};
use switchboard_store::{Database, Durability, agents as stored, settings};
use ts_rs::TS;

use crate::App;
use crate::gateway::blocking;

/// Every agent token starts with this, so people (and secret scanners) can tell it apart from
/// the control token.
pub const TOKEN_PREFIX: &str = "sb_agent_";
/// Longest agent name.
pub const NAME_MAX: usize = 64;
/// How often at most an agent's `last_seen_ms` is written to the database (it is exact in memory).
const LAST_SEEN_PERSIST_EVERY_MS: i64 = 60_000;

/// An agent as the UI and `switchboard agents list` show it. Never carries the token or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AgentInfo {
    pub name: String,
    /// UTC milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub created_at_ms: i64,
    /// When it was revoked; `null` while its token works.
    #[ts(type = "number | null")]
    pub revoked_at_ms: Option<i64>,
    /// Its last authenticated request; `null` if it never made one.
    #[ts(type = "number | null")]
    pub last_seen_ms: Option<i64>,
}

/// Answer to adding an agent: the token, shown this once. It is never stored or shown again.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewAgent {
    pub name: String,
    pub token: String,
}

impl std::fmt::Debug for NewAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAgent").field("name", &self.name).field("token", &"<redacted>").finish()
    }
}

/// `GET /api/agent/v1/whoami`: which agent this token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AgentWhoami {
    pub name: String,
    pub paused: bool,
}

/// Whether every agent is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PauseState {
    pub paused: bool,
}

/// An authenticated agent, handed to agent-facing use cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentId {
    pub id: i64,
    pub name: String,
}

/// The in-memory view of the active agents and the pause switch.
pub(crate) struct AgentRegistry {
    active: RwLock<HashMap<[u8; 32], Arc<Active>>>,
    paused: AtomicBool,
}

struct Active {
    id: i64,
    name: String,
    hash: [u8; 32],
    last_seen_ms: AtomicI64,
    persisted_ms: AtomicI64,
}

impl AgentRegistry {
    /// Reads the active agents and the pause switch (blocking).
    pub(crate) fn load(db: &Database) -> Result<Self, ApiError> {
        let conn = db.reader()?;
        let mut active = HashMap::new();
        for a in stored::list(&conn)? {
            if a.revoked_at_ms.is_some() {
                continue;
            }
            let Some(hash) = decode_hash(&a.token_hash) else {
                // Fail closed for this agent alone: its token cannot be checked, so it cannot be used.
                tracing::warn!(agent = %a.name, "agent token hash is unreadable; this agent is refused until it is revoked and added again");
                continue;
            };
            let seen = a.last_seen_ms.unwrap_or(0);
            active.insert(
                hash,
                Arc::new(Active { id: a.id, name: a.name, hash, last_seen_ms: AtomicI64::new(seen), persisted_ms: AtomicI64::new(seen) }),
            );
        }
        let paused = match settings::get(&conn, settings::AGENTS_PAUSED)?.as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                // Unknown value: stay paused rather than let agents run by accident.
                tracing::warn!(value = other, "unreadable agents_paused setting; agents stay paused until `switchboard resume`");
                true
            }
        };
        Ok(Self { active: RwLock::new(active), paused: AtomicBool::new(paused) })
    }

    fn find(&self, hash: &[u8; 32]) -> Option<Arc<Active>> {
        let map = self.active.read().unwrap_or_else(|p| p.into_inner());
        map.get(hash).filter(|a| bool::from(a.hash.ct_eq(hash))).cloned()
    }

    fn last_seen(&self, id: i64) -> Option<i64> {
        let map = self.active.read().unwrap_or_else(|p| p.into_inner());
        map.values().find(|a| a.id == id).map(|a| a.last_seen_ms.load(Ordering::Relaxed)).filter(|&t| t > 0)
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn decode_hash(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

/// 1–64 characters of `A–Z a–z 0–9 . _ -`.
pub fn validate_name(name: &str) -> Result<(), ApiError> {
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > NAME_MAX || !ok_chars {
        return Err(ApiError::bad_request(format!(
            "an agent name must be 1 to {NAME_MAX} characters of letters, digits, '.', '_' or '-' (got {name:?})"
        )));
    }
    Ok(())
}

enum Change {
    Done(i64),
    Unknown,
    Unchanged,
}

impl App {
    /// Every agent, revoked ones included, oldest first. Never the token or its hash.
    pub async fn agents_list(&self) -> Result<Vec<AgentInfo>, ApiError> {
        let db = self.db().clone();
        let records = blocking(move || Ok(stored::list(&*db.reader()?)?)).await?;
        let registry = self.agents();
        Ok(records
            .into_iter()
            .map(|a| {
                let in_memory = registry.last_seen(a.id);
                AgentInfo {
                    last_seen_ms: a.last_seen_ms.max(in_memory),
                    name: a.name,
                    created_at_ms: a.created_at_ms,
                    revoked_at_ms: a.revoked_at_ms,
                }
            })
            .collect())
    }

    /// Adds an agent and returns its token, once. A name in use (even by a revoked agent, so
    /// the audit log stays unambiguous) is a `conflict`.
    pub async fn agent_add(&self, actor_id: &str, name: &str) -> Result<NewAgent, ApiError> {
        validate_name(name)?;
        let token = Sensitive::new(format!("{TOKEN_PREFIX}{}", crate::auth::random_token().expose()));
        let hash = digest(token.expose());
        let hash_hex = hex::encode(hash);
        let now = self.clock().now_ms();
        let row = NewAuditRow::user("agent.added", actor_id, serde_json::json!({ "agent": name }));
        let owned = name.to_string();
        let change = self
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                if stored::find_by_name(conn, &owned)?.is_some() {
                    return Ok(Change::Unchanged);
                }
                audit.append(&row)?;
                Ok(Change::Done(stored::insert(conn, &owned, &hash_hex, now)?))
            })
            .await?;
        let Change::Done(id) = change else {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("an agent named '{name}' already exists (revoked agents keep their name); pick another name"),
            ));
        };
        let active = Arc::new(Active { id, name: name.into(), hash, last_seen_ms: AtomicI64::new(0), persisted_ms: AtomicI64::new(0) });
        self.agents().active.write().unwrap_or_else(|p| p.into_inner()).insert(hash, active);
        Ok(NewAgent { name: name.into(), token: token.expose().clone() })
    }

    /// Revokes an agent: its token stops working before this returns. Revoking a revoked agent
    /// changes nothing; an unknown name is `not_found`.
    pub async fn agent_revoke(&self, actor_id: &str, name: &str) -> Result<(), ApiError> {
        let now = self.clock().now_ms();
        let row = NewAuditRow::user("agent.revoked", actor_id, serde_json::json!({ "agent": name }));
        let owned = name.to_string();
        let change = self
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                let Some(a) = stored::find_by_name(conn, &owned)? else { return Ok(Change::Unknown) };
                if a.revoked_at_ms.is_some() {
                    return Ok(Change::Unchanged);
                }
                audit.append(&row)?;
                stored::revoke(conn, a.id, now)?;
                Ok(Change::Done(a.id))
            })
            .await?;
        match change {
            Change::Done(id) => {
                self.agents().active.write().unwrap_or_else(|p| p.into_inner()).retain(|_, a| a.id != id);
                self.grants_changed(name);
                Ok(())
            }
            Change::Unchanged => Ok(()),
            Change::Unknown => Err(ApiError::new(
                ErrorCode::NotFound,
                format!("there is no agent named '{name}'; `switchboard agents list` shows them"),
            )),
        }
    }

    /// Checks the `Authorization` header of an agent request (`Bearer sb_agent_…`) as
    /// [`Self::authenticate_agent`] does; a missing or non-bearer header is `unauthorized` too.
    /// The REST agent API and the MCP endpoint both authenticate through here.
    pub fn authenticate_agent_header(&self, authorization: Option<&str>) -> Result<AgentId, ApiError> {
        let token = authorization.and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "this endpoint needs an agent token as `Authorization: Bearer sb_agent_…` (`switchboard agents add NAME` creates one)",
            )
        })?;
        self.authenticate_agent(token)
    }

    /// Checks an agent token (SHA-256, then a constant-time comparison of digests). Unknown,
    /// revoked and control tokens are all `unauthorized`. Updates the agent's last-seen time.
    pub fn authenticate_agent(&self, token: &str) -> Result<AgentId, ApiError> {
        let refused = || {
            ApiError::new(
                ErrorCode::Unauthorized,
                "this endpoint needs a valid agent token (`switchboard agents add NAME` creates one); revoked tokens and the control token are refused",
            )
        };
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(refused());
        }
        let agent = self.agents().find(&digest(token)).ok_or_else(refused)?;
        let now = self.clock().now_ms();
        agent.last_seen_ms.fetch_max(now, Ordering::Relaxed);
        let persisted = agent.persisted_ms.load(Ordering::Relaxed);
        if now - persisted >= LAST_SEEN_PERSIST_EVERY_MS
            && agent.persisted_ms.compare_exchange(persisted, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            let writer = self.writer().clone();
            let id = agent.id;
            // Bookkeeping, not an action: no audit row, and a failure only delays the next write.
            tokio::spawn(async move {
                if let Err(e) = writer.transact(Durability::Normal, move |conn, _| stored::touch(conn, id, now)).await {
                    tracing::debug!(error = %e, "could not record an agent's last-seen time");
                }
            });
        }
        Ok(AgentId { id: agent.id, name: agent.name.clone() })
    }

    /// Lets an authenticated agent's request through unless every agent is paused. A refusal is
    /// audited (`agent.call`, `deny`, `paused`); `trigger` names the request.
    pub async fn admit_agent(&self, agent: &AgentId, trigger: &str) -> Result<(), ApiError> {
        if !self.agents_paused() {
            return Ok(());
        }
        let mut row = NewAuditRow::system("agent.call", serde_json::json!({ "agent": agent.name }));
        row.actor_kind = ActorKind::Agent;
        row.actor_id = agent.name.clone();
        row.trigger = Some(trigger.chars().take(200).collect());
        row.decision = "deny".into();
        row.outcome = "paused".into();
        if let Err(e) = self.writer().append(row, Durability::Normal).await {
            tracing::warn!(error = %e, "could not audit a paused agent's refused request");
        }
        Err(ApiError::new(
            ErrorCode::Paused,
            "every agent is paused by the person running Switchboard; nothing was done. Retry later",
        ))
    }

    /// What `GET /api/agent/v1/whoami` answers.
    pub fn agent_whoami(&self, agent: &AgentId) -> AgentWhoami {
        AgentWhoami { name: agent.name.clone(), paused: self.agents_paused() }
    }

    /// Pauses every agent at once; persisted, so it survives a restart.
    pub async fn pause_agents(&self, actor_id: &str) -> Result<PauseState, ApiError> {
        self.set_paused(actor_id, true).await
    }

    /// Lets every agent go again.
    pub async fn resume_agents(&self, actor_id: &str) -> Result<PauseState, ApiError> {
        self.set_paused(actor_id, false).await
    }

    pub fn agents_paused(&self) -> bool {
        self.agents().paused.load(Ordering::SeqCst)
    }

    async fn set_paused(&self, actor_id: &str, paused: bool) -> Result<PauseState, ApiError> {
        let action = if paused { "agents.paused" } else { "agents.resumed" };
        let row = NewAuditRow::user(action, actor_id, serde_json::json!({ "was_paused": self.agents_paused() }));
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                settings::set(conn, settings::AGENTS_PAUSED, if paused { "1" } else { "0" })
            })
            .await?;
        self.agents().paused.store(paused, Ordering::SeqCst);
        Ok(PauseState { paused })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_are_short_and_plain() {
        for good in ["a", "inbox-bot", "claude.desktop_2", &"x".repeat(NAME_MAX)] {
            assert!(validate_name(good).is_ok(), "{good:?} should be a valid agent name");
        }
        for bad in ["", "has space", "slash/name", "ünïcode", "semi;colon", &"x".repeat(NAME_MAX + 1)] {
            let e = validate_name(bad).expect_err(bad);
            assert_eq!(e.code, ErrorCode::BadRequest, "{bad:?} should be refused as a bad_request");
        }
    }

    #[test]
    fn stored_hashes_round_trip_and_garbage_is_refused() {
        let d = digest("sb_agent_example");
        assert_eq!(decode_hash(&hex::encode(d)), Some(d));
        assert_eq!(decode_hash("not hex"), None);
        assert_eq!(decode_hash("abcd"), None, "a short hash must not decode");
    }

    #[test]
    fn the_new_agent_token_never_prints_in_debug() {
        let n = NewAgent { name: "bot".into(), token: "sb_agent_secret".into() };
        assert!(!format!("{n:?}").contains("sb_agent_secret"), "Debug printed the token");
    }
}
