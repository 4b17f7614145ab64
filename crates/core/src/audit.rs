//! Audit vocabulary: who acted ([`ActorKind`]), at what permission [`Tier`], and the row shapes
//! written to and read from the hash-chained `audit_log` table.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Who caused an action. Every mutation names one (DESIGN.md §3, principle 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    Agent,
    Webhook,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Agent => "agent",
            Self::Webhook => "webhook",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "agent" => Some(Self::Agent),
            "webhook" => Some(Self::Webhook),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

/// Permission tier of an action. No tier implies another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Read,
    Write,
    Delete,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// An audit row as the caller describes it, before the store gives it an id, a timestamp and its
/// place in the hash chain. `summary` must already be redacted: it never holds a secret.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditRow {
    pub actor_kind: ActorKind,
    pub actor_id: String,
    /// The event or request that caused this row (e.g. `http:GET /api/control/v1/status`).
    pub trigger: Option<String>,
    pub correlation_id: Option<String>,
    pub connection_id: Option<String>,
    /// Dotted action name, e.g. `gateway.start`, `control.login`.
    pub action: String,
    pub tier: Option<Tier>,
    /// What policy decided: `allow`, `queue`, `deny`, or `none` for bookkeeping rows.
    pub decision: String,
    /// What happened: `ok`, `error`, `pending`, ...
    pub outcome: String,
    pub provider_ids: Vec<String>,
    pub latency_ms: Option<i64>,
    pub summary: serde_json::Value,
}

impl NewAuditRow {
    /// A bookkeeping row by the system actor (start, stop, token creation).
    pub fn system(action: impl Into<String>, summary: serde_json::Value) -> Self {
        Self {
            actor_kind: ActorKind::System,
            actor_id: "gateway".into(),
            trigger: None,
            correlation_id: None,
            connection_id: None,
            action: action.into(),
            tier: None,
            decision: "none".into(),
            outcome: "ok".into(),
            provider_ids: Vec::new(),
            latency_ms: None,
            summary,
        }
    }

    /// A row for something a person did; `actor_id` says who and where (`cli:alex`,
    /// `window:alex`, `browser:Robin Ortiz`).
    pub fn user(action: impl Into<String>, actor_id: impl Into<String>, summary: serde_json::Value) -> Self {
        Self { actor_kind: ActorKind::User, actor_id: actor_id.into(), ..Self::system(action, summary) }
    }

    /// The connection the row is about.
    #[must_use]
    pub fn on_connection(mut self, connection_id: impl Into<String>) -> Self {
        self.connection_id = Some(connection_id.into());
        self
    }

    /// The grant tier the row is about.
    #[must_use]
    pub fn with_tier(mut self, tier: Tier) -> Self {
        self.tier = Some(tier);
        self
    }

    #[must_use]
    pub fn with_outcome(mut self, outcome: impl Into<String>) -> Self {
        self.outcome = outcome.into();
        self
    }
}

/// A committed audit row, as stored and as shown in the UI and exports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AuditRow {
    #[ts(type = "number")]
    pub id: i64,
    /// UTC milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub ts_ms: i64,
    pub actor_kind: ActorKind,
    pub actor_id: String,
    pub trigger: Option<String>,
    pub correlation_id: Option<String>,
    pub connection_id: Option<String>,
    pub action: String,
    pub tier: Option<Tier>,
    pub decision: String,
    pub outcome: String,
    pub provider_ids: Vec<String>,
    #[ts(type = "number | null")]
    pub latency_ms: Option<i64>,
    #[ts(type = "unknown")]
    pub summary: serde_json::Value,
    /// Hex SHA-256 of the previous row (64 zeros for the first row).
    pub prev_hash: String,
    /// Hex SHA-256 over this row's canonical encoding and `prev_hash`.
    pub hash: String,
}

/// Filters for listing and searching the audit log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct AuditQuery {
    /// Free text; every word must match (`word*` matches a prefix).
    pub text: Option<String>,
    pub actor_kind: Option<ActorKind>,
    pub decision: Option<String>,
    /// Only rows by this agent (`actor_kind = agent` and this name).
    pub agent: Option<String>,
    /// Only rows about this connection id.
    pub connection: Option<String>,
    pub tier: Option<Tier>,
    /// What happened (`ok`, `error`, `pending_approval`, ...).
    pub outcome: Option<String>,
    /// Only rows at or after this time (UTC ms).
    #[ts(type = "number | null")]
    pub since_ms: Option<i64>,
    /// Only rows before this time (UTC ms).
    #[ts(type = "number | null")]
    pub until_ms: Option<i64>,
    /// Only rows older than this id (for paging).
    #[ts(type = "number | null")]
    pub before_id: Option<i64>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u32>,
}

impl AuditQuery {
    /// Whether the query narrows the log (text or any filter), so it is answered through the
    /// search index and the filter table rather than by paging the log itself.
    pub fn is_narrowed(&self) -> bool {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        self.text.is_some()
            || self.actor_kind.is_some()
            || set(&self.decision)
            || set(&self.agent)
            || set(&self.connection)
            || self.tier.is_some()
            || set(&self.outcome)
            || self.since_ms.is_some()
            || self.until_ms.is_some()
    }
}

/// One page of audit rows, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass as `before_id` to get the next (older) page; `null` when there is none.
    #[ts(type = "number | null")]
    pub next_before_id: Option<i64>,
}

/// The first row where verification failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct BadRow {
    #[ts(type = "number")]
    pub id: i64,
    pub reason: String,
}

/// The result of verifying the audit hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct VerifyReport {
    pub intact: bool,
    #[ts(type = "number")]
    pub rows: i64,
    pub head_hash: Option<String>,
    pub first_bad: Option<BadRow>,
    /// One sentence for people.
    pub message: String,
}
