//! Live change events for the window and browsers: one broadcast ([`App::live`]) of small
//! [`LiveEvent`]s, derived from what the audit writer commits, so every change that matters to a
//! screen (a draft created, decided or executed; an audit row; a connection's pacing; grants; the
//! pause switch) is announced exactly where it is recorded, with no polling.
//!
//! The source is the writer's head: each commit group wakes one task that reads the rows the group
//! appended and turns them into events. Nothing is read while nobody listens. The HTTP server
//! streams the events as Server-Sent Events, the desktop shell re-emits them as Tauri events and
//! drives the tray count from them.
//!
//! To announce a new kind of change: give it a variant here and derive it in [`events_for`] from
//! the audit row(s) the change already writes.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use switchboard_core::{ActorKind, AuditRow};
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::gateway::{App, blocking};

/// One change a screen may want to show at once. `kind` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A draft was created, decided (approved, rejected, confirmed, expired) or executed.
    Approval {
        /// `created`, `decided` or `executed`.
        change: String,
        approval_id: String,
        /// Drafts waiting for a person after this change.
        #[ts(type = "number")]
        pending: u64,
    },
    /// Audit rows were committed; `seq` is the newest row's id.
    Audit {
        #[ts(type = "number")]
        seq: i64,
        #[ts(type = "number")]
        rows: u64,
    },
    /// A call on this connection went through its rate-limit budget (budget left, queue and
    /// recent 429s may have changed).
    RateLimit { connection: String },
    /// An agent's grants changed.
    Grants { agent: String },
    /// Every agent was paused or resumed.
    Pause { paused: bool },
}

impl LiveEvent {
    /// The `kind` tag, as the SSE event name and the Tauri event payload carry it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Approval { .. } => "approval",
            Self::Audit { .. } => "audit",
            Self::RateLimit { .. } => "rate_limit",
            Self::Grants { .. } => "grants",
            Self::Pause { .. } => "pause",
        }
    }
}

/// What one draft-related row says about its draft, if anything.
fn approval_change(row: &AuditRow) -> Option<(&'static str, String)> {
    let id = row.summary.get("approval_id")?.as_str()?.to_string();
    let change = if row.outcome == "pending_approval" {
        "created"
    } else if row.action.starts_with("approval.") {
        "decided"
    } else if row.outcome == "started" {
        return None;
    } else {
        "executed"
    };
    Some((change, id))
}

/// The events a commit group's rows announce, except the pending count (filled in by the
/// caller): approvals in row order, then one event per connection, agent and pause change.
pub fn events_for(rows: &[AuditRow]) -> Vec<LiveEvent> {
    let mut out = Vec::new();
    let mut connections = BTreeSet::new();
    let mut agents = BTreeSet::new();
    for row in rows {
        if let Some((change, approval_id)) = approval_change(row) {
            out.push(LiveEvent::Approval {
                change: change.into(),
                approval_id,
                pending: 0,
            });
        }
        if row.actor_kind == ActorKind::Agent
            && row.tier.is_some()
            && let Some(c) = &row.connection_id
        {
            connections.insert(c.clone());
        }
        if row.action.starts_with("grant.") || row.action == "access.granted" {
            let agent = row
                .summary
                .get("agent")
                .and_then(|a| a.as_str())
                .unwrap_or_default();
            agents.insert(agent.to_string());
        }
        match row.action.as_str() {
            "agents.paused" => out.push(LiveEvent::Pause { paused: true }),
            "agents.resumed" => out.push(LiveEvent::Pause { paused: false }),
            _ => {}
        }
    }
    out.extend(
        connections
            .into_iter()
            .map(|connection| LiveEvent::RateLimit { connection }),
    );
    out.extend(agents.into_iter().map(|agent| LiveEvent::Grants { agent }));
    if let Some(last) = rows.last() {
        out.push(LiveEvent::Audit {
            seq: last.id,
            rows: rows.len() as u64,
        });
    }
    out
}

impl App {
    /// Live change events (see the module docs). A receiver that falls more than 256 events
    /// behind gets `Lagged` and should re-read what it shows.
    pub fn live(&self) -> broadcast::Receiver<LiveEvent> {
        self.live_sender().subscribe()
    }

    /// Follows the writer's head and announces what each commit group appended.
    pub(crate) fn spawn_live(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        let mut head = self.writer().head();
        tokio::spawn(async move {
            let mut seen = head.borrow_and_update().id;
            while head.changed().await.is_ok() {
                let now = head.borrow_and_update().id;
                if now <= seen {
                    continue;
                }
                let after = seen;
                seen = now;
                if app.live_sender().receiver_count() == 0 {
                    continue;
                }
                if let Err(e) = app.announce(after, now).await {
                    tracing::debug!(code = %e.code, "live events for rows {after}..{now} skipped: {}", e.message);
                }
            }
        })
    }

    async fn announce(&self, after: i64, through: i64) -> Result<(), switchboard_core::ApiError> {
        let db = self.db().clone();
        let mut from = after;
        while from < through {
            let rows = {
                let db = db.clone();
                blocking(move || {
                    Ok(switchboard_store::audit::rows_between(
                        &*db.reader()?,
                        from,
                        through,
                    )?)
                })
                .await?
            };
            let Some(last) = rows.last() else { break };
            from = last.id;
            let mut events = events_for(&rows);
            if events
                .iter()
                .any(|e| matches!(e, LiveEvent::Approval { .. }))
            {
                let n = self.approvals_pending_count().await?;
                for e in &mut events {
                    if let LiveEvent::Approval { pending, .. } = e {
                        *pending = n;
                    }
                }
            }
            for e in events {
                let _ = self.live_sender().send(e);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::Tier;

    fn row(
        id: i64,
        kind: ActorKind,
        action: &str,
        outcome: &str,
        summary: serde_json::Value,
    ) -> AuditRow {
        AuditRow {
            id,
            ts_ms: 0,
            actor_kind: kind,
            actor_id: "x".into(),
            trigger: None,
            correlation_id: None,
            connection_id: Some("conn_1".into()),
            action: action.into(),
            tier: Some(Tier::Write),
            decision: "none".into(),
            outcome: outcome.into(),
            provider_ids: vec![],
            latency_ms: None,
            summary,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn a_draft_its_decision_and_its_send_are_each_announced_once() {
        let rows = [
            row(
                1,
                ActorKind::Agent,
                "gmail_send_draft",
                "pending_approval",
                json!({ "approval_id": "apr_1" }),
            ),
            row(
                2,
                ActorKind::User,
                "approval.approved",
                "approved",
                json!({ "approval_id": "apr_1" }),
            ),
            row(
                3,
                ActorKind::Agent,
                "gmail_send_draft",
                "started",
                json!({ "approval_id": "apr_1" }),
            ),
            row(
                4,
                ActorKind::Agent,
                "gmail_send_draft",
                "ok",
                json!({ "approval_id": "apr_1" }),
            ),
        ];
        let events = events_for(&rows);
        let changes: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Approval { change, .. } => Some(change.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            changes,
            ["created", "decided", "executed"],
            "the claim row (started) is not a change a person sees"
        );
        assert!(
            events.contains(&LiveEvent::RateLimit {
                connection: "conn_1".into()
            }),
            "an agent's call on a connection moves its budget"
        );
        assert_eq!(
            events.last(),
            Some(&LiveEvent::Audit { seq: 4, rows: 4 }),
            "the audit event names the newest row"
        );
    }

    #[test]
    fn grants_and_the_pause_switch_are_announced() {
        let mut grant = row(
            7,
            ActorKind::User,
            "grant.set",
            "ok",
            json!({ "agent": "inbox-bot" }),
        );
        grant.tier = None;
        let pause = row(8, ActorKind::User, "agents.paused", "ok", json!({}));
        let events = events_for(&[grant, pause]);
        assert!(
            events.contains(&LiveEvent::Grants {
                agent: "inbox-bot".into()
            }),
            "a grant change should name its agent: {events:?}"
        );
        assert!(
            events.contains(&LiveEvent::Pause { paused: true }),
            "pausing should be announced: {events:?}"
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, LiveEvent::RateLimit { .. })),
            "a person's rows do not move a budget"
        );
        assert!(events_for(&[]).is_empty(), "no rows, no events");
    }

    #[test]
    fn the_wire_shape_is_tagged_by_kind() {
        let v = serde_json::to_value(LiveEvent::Approval {
            change: "created".into(),
            approval_id: "apr_9".into(),
            pending: 2,
        })
        .expect("serialize");
        assert_eq!(
            v,
            json!({ "kind": "approval", "change": "created", "approval_id": "apr_9", "pending": 2 })
        );
        assert_eq!(LiveEvent::Pause { paused: false }.kind(), "pause");
    }
}
