//! Live rate-limit status per connection, for the UI's chart and scripts: the budget in force
//! (the catalog's, or lower when the provider reported lower), calls that may still go in the
//! current window, calls queued and in flight, recent 429s, a `Retry-After` pause, and
//! per-minute history for the last hour. Every connection's budget is shared by all agents; for a
//! provider paced per API method (Slack) the calls, queues and 429s of every method's budget are
//! added to the connection's.

use serde::Serialize;
use switchboard_core::{ApiError, ErrorCode};
use switchboard_http::{Bucket, LimiterStatus};
use ts_rs::TS;

use crate::App;

/// One connection's pacing, live.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ConnectionLimits {
    pub connection: String,
    pub provider: String,
    pub label: String,
    pub status: LimiterStatus,
    /// Per-minute calls sent, 429s received and largest queue, oldest first (60 buckets).
    pub history: Vec<Bucket>,
}

impl App {
    /// Every live connection's pacing (connections of providers missing from this gateway's
    /// catalog, e.g. sandbox ones without `--sandbox`, are left out).
    pub async fn rate_limits(&self) -> Result<Vec<ConnectionLimits>, ApiError> {
        let catalog = self.provider_catalog();
        let mut out = Vec::new();
        for c in self.connections_list().await? {
            if c.removed_at_ms.is_some() {
                continue;
            }
            let Some(entry) = catalog.providers.iter().find(|p| p.id == c.provider) else { continue };
            self.ensure_budget(&c.id, entry);
            let (Some(mut status), Some(mut history)) = (self.paced().status(&c.id), self.paced().history(&c.id)) else { continue };
            // A provider paced per API method (Slack) waits in budgets `{id}/{method}[/{resource}]`:
            // their calls, queues and 429s are this connection's too.
            let prefix = format!("{}/", c.id);
            for key in self.paced().accounts().into_iter().filter(|k| k.starts_with(&prefix)) {
                if let (Some(s), Some(h)) = (self.paced().status(&key), self.paced().history(&key)) {
                    status.calls_queued += s.calls_queued;
                    status.calls_in_flight += s.calls_in_flight;
                    status.recent_429s += s.recent_429s;
                    for (mine, theirs) in history.iter_mut().zip(h) {
                        mine.calls_sent += theirs.calls_sent;
                        mine.throttled += theirs.throttled;
                        mine.max_queue_depth = mine.max_queue_depth.max(theirs.max_queue_depth);
                    }
                }
            }
            out.push(ConnectionLimits { connection: c.id, provider: c.provider, label: c.label, status, history });
        }
        Ok(out)
    }

    /// One connection's pacing.
    pub async fn rate_limit(&self, id: &str) -> Result<ConnectionLimits, ApiError> {
        self.rate_limits().await?.into_iter().find(|l| l.connection == id).ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("there is no live connection '{id}' in this gateway; `switchboard connections list` shows them"))
        })
    }
}
