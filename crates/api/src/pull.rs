//! The pull fallback: a desktop is often unreachable from the internet, so each provider's events
//! can also be read from its API, from a cursor kept in SQLite.
//!
//! | provider | what is read | cursor (`pull_cursors`) | first pull |
//! |---|---|---|---|
//! | Stripe | `GET /v1/events` (`stripe_list_events`), walking toward newer events with `ending_before` | the newest event id seen and its time | events created since the connection was made |
//! | Gmail | `users.history.list` (`gmail_list_history`) | the history id; a start Gmail no longer keeps answers 404, and the pull resyncs from `users.getProfile` and says so in its report and audit row | the profile's history id: changes from now on |
//! | Slack | `conversations.history` with `oldest`, for every channel the bot is in (`slack_list_channels`, `slack_channel_history`) | per channel, the newest message ts | messages since the connection was made |
//! | HubSpot | `POST /crm/v3/objects/contacts/search` with `lastmodifieddate GTE cursor`, oldest first (`hubspot_search_contacts`) | the newest modification time seen | contacts changed since the connection was made |
//!
//! Every request is one connector action sent through the same paced client, rate-limit budget,
//! scope check and keychain credential as an agent's call (`send_to_provider`). Events and the
//! cursor that moved past them commit in one transaction (with a `pull.received` audit row per
//! new event), so a pull stopped at any point (a crash, a restart) resumes from a cursor that
//! matches what was stored: no gap, and no duplicate (an event seen again is de-duplicated by its
//! id). One pull per connection runs at a time. A pull is audited `events.pull` before its first
//! request (`outcome=started`) and after its last (its report, or the error).
//!
//! Pulls run on demand ([`App::events_pull`]: control API, CLI) and, for connections that have
//! it switched on ([`App::events_pull_schedule_set`], every [`DEFAULT_PULL_EVERY_S`] s unless
//! set), periodically in the gateway; the loop stops with the gateway.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard_connectors::ProviderEntry;
use switchboard_core::{ActorKind, ApiError, ErrorCode, NewAuditRow};
use switchboard_store::Durability;
use switchboard_store::connections::ConnectionRecord;
use switchboard_store::events::{self as stored, NewEvent};
use switchboard_webhooks::Event;
use ts_rs::TS;

use crate::App;
use crate::gateway::blocking;

/// The interval a periodic pull gets when none is given.
pub const DEFAULT_PULL_EVERY_S: i64 = 60;
/// Shortest and longest periodic-pull intervals.
pub const MIN_PULL_EVERY_S: i64 = 15;
pub const MAX_PULL_EVERY_S: i64 = 86_400;
/// How often the periodic loop looks for due pulls.
const TICK: Duration = Duration::from_secs(5);
/// How long shutdown waits for a running pull before cutting it off (its committed part stays).
const STOP_WAIT: Duration = Duration::from_secs(10);
/// Most pages one stream reads in one pull; the rest is read next time, from the cursor.
const MAX_PAGES: usize = 50;
/// Most events a first pull (or a resync) reads back in time.
const CATCH_UP_CAP: usize = 1_000;
/// How the paced client's fair queue names pulls (they share the connection's budget).
const PULL_QUEUE: &str = "switchboard:pull";
/// How often old de-duplication keys are forgotten.
const PRUNE_EVERY_MS: i64 = 3_600_000;

/// Who runs a pull: a person (`user`, `cli`/`browser`) or the gateway's schedule (`system`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullActor {
    pub kind: ActorKind,
    pub id: String,
}

impl PullActor {
    pub fn user(id: &str) -> Self {
        Self {
            kind: ActorKind::User,
            id: id.into(),
        }
    }
    pub fn schedule() -> Self {
        Self {
            kind: ActorKind::System,
            id: "pull-schedule".into(),
        }
    }
}

/// One stream of a pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StreamReport {
    /// `events` (Stripe), `history` (Gmail), `channel:C…` (Slack), `contacts` (HubSpot).
    pub stream: String,
    pub cursor_before: Option<String>,
    pub cursor_after: Option<String>,
    pub stored: u32,
    pub duplicates: u32,
    /// The provider no longer had the cursor's position (Gmail's 404, a Stripe event gone):
    /// the pull started again from what the provider still has; see `note`.
    pub resynced: bool,
    pub note: Option<String>,
}

/// What one pull did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PullReport {
    /// Correlates the pull's audit rows.
    pub pull_id: String,
    pub connection: String,
    pub provider: String,
    pub streams: Vec<StreamReport>,
    pub stored: u32,
    pub duplicates: u32,
    /// Requests sent to the provider.
    pub requests: u32,
}

/// A connection's periodic pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PullSchedule {
    pub connection: String,
    pub enabled: bool,
    /// The interval while enabled.
    #[ts(type = "number | null")]
    pub every_seconds: Option<i64>,
}

/// One lock per connection, and the periodic loop.
#[derive(Default)]
pub(crate) struct PullRuntime {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stopping: AtomicBool,
    wake: tokio::sync::Notify,
}

impl PullRuntime {
    fn lock_for(&self, connection: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(connection.to_string())
            .or_default()
            .clone()
    }

    /// Stops the periodic loop, waiting for a running pull a little.
    pub(crate) async fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let abort = task.abort_handle();
            if tokio::time::timeout(STOP_WAIT, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

fn new_pull_id() -> String {
    let b: [u8; 12] = rand::random();
    format!("pull_{}", hex::encode(b))
}

/// The providers with a pull path (the real id; `-sandbox` entries pull like their provider).
fn pull_kind(provider: &str) -> Option<&'static str> {
    match provider
        .strip_suffix(ProviderEntry::SANDBOX_SUFFIX)
        .unwrap_or(provider)
    {
        "stripe" => Some("stripe"),
        "gmail" => Some("gmail"),
        "slack" => Some("slack"),
        "hubspot" => Some("hubspot"),
        _ => None,
    }
}

/// A running pull of one connection.
struct Pull<'a> {
    app: &'a App,
    record: ConnectionRecord,
    entry: ProviderEntry,
    actor: PullActor,
    pull_id: String,
    requests: u32,
}

impl Pull<'_> {
    /// Sends one connector action; the provider's status and body, whatever the status.
    async fn send(&mut self, tool: &str, input: Value) -> Result<(u16, Vec<u8>), ApiError> {
        let action = switchboard_connectors::action(tool)
            .filter(|a| a.serves(&self.record.provider))
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "the pull needs the action {tool}, which does not serve {}",
                    self.record.provider
                ))
            })?;
        crate::calls::check_connection(action, &self.record).map_err(|r| {
            ApiError::new(
                r.code,
                format!("the pull cannot read {}: {}", self.entry.name, r.message),
            )
        })?;
        let call = (action.build)(&input).map_err(|m| {
            ApiError::internal(format!("the pull built a request {tool} refuses: {m}"))
        })?;
        self.requests += 1;
        self.app
            .send_to_provider(
                &self.entry,
                &self.record,
                PULL_QUEUE,
                action,
                &call,
                &self.pull_id,
            )
            .await
    }

    /// [`Pull::send`] that must succeed: a JSON body, or the provider's refusal as an error.
    async fn read(&mut self, tool: &str, input: Value) -> Result<Value, ApiError> {
        let (status, body) = self.send(tool, input).await?;
        self.expect_ok(status, &body)
    }

    fn expect_ok(&self, status: u16, body: &[u8]) -> Result<Value, ApiError> {
        let name = &self.entry.name;
        if !(200..300).contains(&status) {
            let words = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| {
                    ["/message", "/error/message", "/error"]
                        .iter()
                        .find_map(|p| v.pointer(p).and_then(Value::as_str).map(str::to_string))
                })
                .unwrap_or_default();
            let code = if status == 401 {
                ErrorCode::ReconnectNeeded
            } else {
                ErrorCode::ProviderError
            };
            return Err(ApiError::new(
                code,
                format!(
                    "{name} answered HTTP {status} to the pull{}",
                    if words.is_empty() {
                        String::new()
                    } else {
                        format!(": {words}")
                    }
                ),
            ));
        }
        if let Some(f) = switchboard_connectors::failure_in_success(&self.record.provider, body) {
            let code = if f.credential_refused {
                ErrorCode::ReconnectNeeded
            } else {
                ErrorCode::ProviderError
            };
            return Err(ApiError::new(
                code,
                format!("{name} answered {} to the pull", f.message),
            ));
        }
        serde_json::from_slice(body).map_err(|_| {
            ApiError::new(
                ErrorCode::ProviderError,
                format!("{name} answered the pull with a body that is not JSON"),
            )
        })
    }

    async fn cursor(&self, stream: &str) -> Result<Option<String>, ApiError> {
        let db = self.app.db().clone();
        let (id, stream) = (self.record.id.clone(), stream.to_string());
        blocking(move || Ok(stored::cursor(&*db.reader()?, &id, &stream)?)).await
    }

    /// Stores `events` (in this order) and moves `stream`'s cursor in one transaction, with a
    /// `pull.received` audit row per new event.
    async fn commit(
        &self,
        report: &mut StreamReport,
        events: Vec<Event>,
        cursor: Option<String>,
    ) -> Result<(), ApiError> {
        let (id, provider, stream) = (
            self.record.id.clone(),
            self.record.provider.clone(),
            report.stream.clone(),
        );
        let (actor, pull_id) = (self.actor.clone(), self.pull_id.clone());
        let now = self.app.clock().now_ms();
        let moved = cursor.clone();
        let (new, dup) = self
            .app
            .writer()
            .transact(Durability::Full, move |conn, audit| {
                let (mut new, mut dup) = (0u32, 0u32);
                for e in events {
                    let row = NewEvent {
                        connection_id: id.clone(),
                        provider: provider.clone(),
                        event_id: e.id.clone(),
                        event_type: e.event_type.clone(),
                        occurred_at_ms: e.occurred_at_ms,
                        received_at_ms: now,
                        source: stored::PULL,
                        payload: e.payload.to_string(),
                    };
                    let Some(seq) = stored::insert_if_new(conn, &row)? else {
                        dup += 1;
                        continue;
                    };
                    new += 1;
                    let mut a = NewAuditRow::system(
                        "pull.received",
                        json!({ "event_id": e.id, "type": e.event_type, "seq": seq, "source": "pull", "pull": pull_id, "stream": stream }),
                    );
                    a.actor_kind = actor.kind;
                    a.actor_id = actor.id.clone();
                    a.connection_id = Some(id.clone());
                    a.decision = "allow".into();
                    a.outcome = "stored".into();
                    a.trigger = Some(format!("event:{}", e.id));
                    a.correlation_id = Some(e.id.clone());
                    a.provider_ids = vec![e.id];
                    audit.append(&a)?;
                }
                if let Some(c) = &cursor {
                    stored::set_cursor(conn, &id, &stream, c, now)?;
                }
                Ok((new, dup))
            })
            .await?;
        report.stored += new;
        report.duplicates += dup;
        if moved.is_some() {
            report.cursor_after = moved;
        }
        Ok(())
    }
}

fn stream_report(stream: &str, before: Option<String>) -> StreamReport {
    StreamReport {
        stream: stream.into(),
        cursor_after: before.clone(),
        cursor_before: before,
        stored: 0,
        duplicates: 0,
        resynced: false,
        note: None,
    }
}

// ---- Stripe

/// Where the Stripe stream stands: the newest event seen, or (before any) the time to start at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StripeCursor {
    #[serde(default)]
    last: Option<String>,
    /// Unix seconds: the newest event's creation time, or the start time.
    created: i64,
}

fn stripe_cursor(c: &StripeCursor) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// Reads every event created at or after `since` (oldest first, at most [`CATCH_UP_CAP`]).
async fn stripe_since(
    p: &mut Pull<'_>,
    since: i64,
    report: &mut StreamReport,
) -> Result<Vec<Event>, ApiError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut input = json!({ "created_gte": since, "limit": 100 });
        if let Some(a) = &after {
            input["starting_after"] = json!(a);
        }
        let page = p.read("stripe_list_events", input).await?;
        let events = switchboard_webhooks::pull::stripe_events(&page).map_err(|e| {
            ApiError::new(
                ErrorCode::ProviderError,
                format!("Stripe's event list: {e}"),
            )
        })?;
        after = events.last().map(|e| e.id.clone());
        all.extend(events);
        if page["has_more"] != true || after.is_none() {
            break;
        }
        if all.len() >= CATCH_UP_CAP {
            report.note = Some(format!(
                "more than {CATCH_UP_CAP} events since then: only the newest {CATCH_UP_CAP} were read"
            ));
            break;
        }
    }
    all.reverse();
    Ok(all)
}

async fn commit_stripe(
    p: &Pull<'_>,
    report: &mut StreamReport,
    events: Vec<Event>,
) -> Result<(), ApiError> {
    for chunk in events.chunks(100) {
        let Some(last) = chunk.last() else { continue };
        let cursor = StripeCursor {
            last: Some(last.id.clone()),
            created: last.occurred_at_ms / 1000,
        };
        p.commit(report, chunk.to_vec(), Some(stripe_cursor(&cursor)))
            .await?;
    }
    Ok(())
}

async fn pull_stripe(p: &mut Pull<'_>) -> Result<Vec<StreamReport>, ApiError> {
    const STREAM: &str = "events";
    let before = p.cursor(STREAM).await?;
    let mut report = stream_report(STREAM, before.clone());
    let cursor = match &before {
        Some(text) => serde_json::from_str::<StripeCursor>(text).map_err(|_| {
            ApiError::new(
                ErrorCode::StorageCorrupt,
                format!("the Stripe pull cursor of '{}' is unreadable", p.record.id),
            )
        })?,
        None => StripeCursor {
            last: None,
            created: p.record.created_at_ms / 1000,
        },
    };
    let Some(mut newest) = cursor.last.clone() else {
        let events = stripe_since(p, cursor.created, &mut report).await?;
        if events.is_empty() {
            p.commit(&mut report, Vec::new(), Some(stripe_cursor(&cursor)))
                .await?;
        }
        commit_stripe(p, &mut report, events).await?;
        return Ok(vec![report]);
    };
    for _ in 0..MAX_PAGES {
        let (status, body) = p
            .send(
                "stripe_list_events",
                json!({ "ending_before": newest, "limit": 100 }),
            )
            .await?;
        let missing = status == 400
            && serde_json::from_slice::<Value>(&body)
                .ok()
                .is_some_and(|v| v["error"]["code"] == "resource_missing");
        if missing {
            // The cursor's event is gone (Stripe keeps 30 days): read everything since its time.
            report.resynced = true;
            report.note = Some(format!(
                "Stripe no longer lists event {newest}; read again every event since its time (duplicates are skipped)"
            ));
            let events = stripe_since(p, cursor.created, &mut report).await?;
            commit_stripe(p, &mut report, events).await?;
            break;
        }
        let page = p.expect_ok(status, &body)?;
        let mut events = switchboard_webhooks::pull::stripe_events(&page).map_err(|e| {
            ApiError::new(
                ErrorCode::ProviderError,
                format!("Stripe's event list: {e}"),
            )
        })?;
        let Some(top) = events.first().map(|e| e.id.clone()) else {
            break;
        };
        events.reverse();
        commit_stripe(p, &mut report, events).await?;
        newest = top;
        if page["has_more"] != true {
            break;
        }
    }
    Ok(vec![report])
}

// ---- Gmail

async fn gmail_profile_history(p: &mut Pull<'_>) -> Result<String, ApiError> {
    let profile = p.read("gmail_get_profile", json!({})).await?;
    profile["historyId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ApiError::new(ErrorCode::ProviderError, "Gmail's profile has no historyId"))
}

async fn pull_gmail(p: &mut Pull<'_>) -> Result<Vec<StreamReport>, ApiError> {
    const STREAM: &str = "history";
    let before = p.cursor(STREAM).await?;
    let mut report = stream_report(STREAM, before.clone());
    let Some(start) = before else {
        let hid = gmail_profile_history(p).await?;
        report.note = Some(format!(
            "watching the mailbox from history id {hid}: changes from now on are pulled"
        ));
        p.commit(&mut report, Vec::new(), Some(hid)).await?;
        return Ok(vec![report]);
    };
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut input = json!({ "start_history_id": start, "max_results": 100 });
        if let Some(t) = &token {
            input["page_token"] = json!(t);
        }
        let (status, body) = p.send("gmail_list_history", input).await?;
        if status == 404 {
            let hid = gmail_profile_history(p).await?;
            report.resynced = true;
            report.note = Some(format!(
                "Gmail no longer keeps the mailbox history from id {start}: resynced from the profile's history id {hid}; changes between the two were not pulled"
            ));
            p.commit(&mut report, Vec::new(), Some(hid)).await?;
            break;
        }
        let page = p.expect_ok(status, &body)?;
        let events = switchboard_webhooks::pull::gmail_history(&page, p.app.clock().now_ms())
            .map_err(|e| {
                ApiError::new(ErrorCode::ProviderError, format!("Gmail's history: {e}"))
            })?;
        token = page["nextPageToken"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        // Within a run the next page continues from the same start; what is stored as the
        // cursor is the last record read, so a stopped pull resumes right after it.
        let cursor = match &token {
            Some(_) => page["history"]
                .as_array()
                .and_then(|h| h.last())
                .and_then(|r| r["id"].as_str())
                .map(str::to_string),
            None => page["historyId"].as_str().map(str::to_string),
        };
        p.commit(&mut report, events, cursor).await?;
        if token.is_none() {
            break;
        }
    }
    Ok(vec![report])
}

// ---- Slack

/// The ids of the channels the bot is a member of.
async fn slack_channels(p: &mut Pull<'_>) -> Result<Vec<String>, ApiError> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut input = json!({ "limit": 200, "exclude_archived": true });
        if let Some(c) = &cursor {
            input["cursor"] = json!(c);
        }
        let page = p.read("slack_list_channels", input).await?;
        for c in page["channels"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if c["is_member"] == true
                && let Some(id) = c["id"].as_str()
            {
                ids.push(id.to_string());
            }
        }
        cursor = page
            .pointer("/response_metadata/next_cursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    Ok(ids)
}

async fn pull_slack(p: &mut Pull<'_>) -> Result<Vec<StreamReport>, ApiError> {
    let mut reports = Vec::new();
    for channel in slack_channels(p).await? {
        let stream = format!("channel:{channel}");
        let before = p.cursor(&stream).await?;
        let mut report = stream_report(&stream, before.clone());
        let oldest = before.unwrap_or_else(|| format!("{}.000000", p.record.created_at_ms / 1000));
        let mut events: Vec<Event> = Vec::new();
        let mut page_cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut input = json!({ "channel": channel, "oldest": oldest, "limit": 200 });
            if let Some(c) = &page_cursor {
                input["cursor"] = json!(c);
            }
            let page = p.read("slack_channel_history", input).await?;
            events.extend(
                switchboard_webhooks::pull::slack_messages(&channel, &page).map_err(|e| {
                    ApiError::new(ErrorCode::ProviderError, format!("Slack's history: {e}"))
                })?,
            );
            page_cursor = page
                .pointer("/response_metadata/next_cursor")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            if page_cursor.is_none() {
                break;
            }
        }
        // Slack lists newest first; store oldest first, and move the cursor to the newest ts.
        events.sort_by(|a, b| {
            a.occurred_at_ms
                .cmp(&b.occurred_at_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        let newest = events
            .iter()
            .filter_map(|e| e.payload["ts"].as_str())
            .max_by(|a, b| slack_ts_order(a, b))
            .map(str::to_string)
            .unwrap_or(oldest);
        p.commit(&mut report, events, Some(newest)).await?;
        reports.push(report);
    }
    Ok(reports)
}

/// Orders Slack timestamps (`"1712345678.000200"`) by time.
fn slack_ts_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |t: &str| {
        let (s, f) = t.split_once('.').unwrap_or((t, ""));
        (s.parse::<u64>().unwrap_or(0), format!("{f:0<6}"))
    };
    key(a).cmp(&key(b))
}

// ---- HubSpot

async fn pull_hubspot(p: &mut Pull<'_>) -> Result<Vec<StreamReport>, ApiError> {
    const STREAM: &str = "contacts";
    let before = p.cursor(STREAM).await?;
    let mut report = stream_report(STREAM, before.clone());
    let since: i64 = match &before {
        Some(c) => c.parse().map_err(|_| {
            ApiError::new(
                ErrorCode::StorageCorrupt,
                format!("the HubSpot pull cursor of '{}' is unreadable", p.record.id),
            )
        })?,
        None => p.record.created_at_ms,
    };
    let mut after: Option<String> = None;
    let mut newest = since;
    for _ in 0..MAX_PAGES {
        let mut input = json!({
            "filters": [{ "property": "lastmodifieddate", "operator": "GTE", "value": since.to_string() }],
            "sorts": [{ "property": "lastmodifieddate", "direction": "ASCENDING" }],
            "limit": 100,
        });
        if let Some(a) = &after {
            input["after"] = json!(a);
        }
        let page = p.read("hubspot_search_contacts", input).await?;
        let events = switchboard_webhooks::pull::hubspot_contacts(&page).map_err(|e| {
            ApiError::new(ErrorCode::ProviderError, format!("HubSpot's search: {e}"))
        })?;
        newest = events
            .iter()
            .map(|e| e.occurred_at_ms)
            .fold(newest, i64::max);
        after = page
            .pointer("/paging/next/after")
            .and_then(Value::as_str)
            .map(str::to_string);
        // GTE, not GT: a contact changed in the cursor's own millisecond after the last pull is
        // read again rather than missed (the one seen before is a duplicate and skipped).
        p.commit(&mut report, events, Some(newest.to_string()))
            .await?;
        if after.is_none() {
            break;
        }
    }
    Ok(vec![report])
}

impl App {
    /// Pulls `connection_id`'s new events now. See the module docs.
    pub async fn events_pull(
        &self,
        actor: &PullActor,
        connection_id: &str,
    ) -> Result<PullReport, ApiError> {
        let record = self.connection_record(connection_id).await?;
        if record.removed_at_ms.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("connection '{connection_id}' was removed; connect the account again"),
            ));
        }
        let Some(kind) = pull_kind(&record.provider) else {
            return Err(ApiError::bad_request(format!(
                "Switchboard has no pull for {} connections yet (it pulls Stripe, Gmail, Slack and HubSpot)",
                record.provider
            )));
        };
        let entry = self.provider_entry(&record)?;
        let lock = self.pulls().lock_for(connection_id);
        let _one_at_a_time = lock.lock().await;
        let pull_id = new_pull_id();
        let row = |outcome: &str, summary: Value| {
            let mut r = NewAuditRow::system("events.pull", summary);
            r.actor_kind = actor.kind;
            r.actor_id = actor.id.clone();
            r.connection_id = Some(connection_id.to_string());
            r.correlation_id = Some(pull_id.clone());
            r.tier = Some(switchboard_core::Tier::Read);
            r.decision = "allow".into();
            r.outcome = outcome.into();
            r
        };
        self.writer()
            .append(
                row(
                    "started",
                    json!({ "pull": pull_id, "provider": record.provider }),
                ),
                Durability::Normal,
            )
            .await?;
        let mut p = Pull {
            app: self,
            record: record.clone(),
            entry,
            actor: actor.clone(),
            pull_id: pull_id.clone(),
            requests: 0,
        };
        let result = match kind {
            "stripe" => pull_stripe(&mut p).await,
            "gmail" => pull_gmail(&mut p).await,
            "slack" => pull_slack(&mut p).await,
            _ => pull_hubspot(&mut p).await,
        };
        let requests = p.requests;
        match result {
            Ok(streams) => {
                let report = PullReport {
                    pull_id: pull_id.clone(),
                    connection: connection_id.into(),
                    provider: record.provider.clone(),
                    stored: streams.iter().map(|s| s.stored).sum(),
                    duplicates: streams.iter().map(|s| s.duplicates).sum(),
                    requests,
                    streams,
                };
                let resynced = report.streams.iter().any(|s| s.resynced);
                let summary = json!({ "pull": pull_id, "stored": report.stored, "duplicates": report.duplicates, "requests": requests, "resynced": resynced, "streams": report.streams });
                self.writer()
                    .append(
                        row(if resynced { "resynced" } else { "ok" }, summary),
                        Durability::Normal,
                    )
                    .await?;
                Ok(report)
            }
            Err(e) => {
                let summary = json!({ "pull": pull_id, "requests": requests, "error": e.message });
                if let Err(a) = self
                    .writer()
                    .append(row(e.code.as_str(), summary), Durability::Normal)
                    .await
                {
                    tracing::error!(pull = %pull_id, error = %a, "a pull failed and its outcome row could not be written");
                }
                Err(e)
            }
        }
    }

    /// Switches `connection_id`'s periodic pull on (every `every_seconds`, default
    /// [`DEFAULT_PULL_EVERY_S`]) or off; audited with the change.
    pub async fn events_pull_schedule_set(
        &self,
        actor_id: &str,
        connection_id: &str,
        enabled: bool,
        every_seconds: Option<i64>,
    ) -> Result<PullSchedule, ApiError> {
        let record = self.connection_record(connection_id).await?;
        if record.removed_at_ms.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("connection '{connection_id}' was removed; connect the account again"),
            ));
        }
        if pull_kind(&record.provider).is_none() {
            return Err(ApiError::bad_request(format!(
                "Switchboard has no pull for {} connections yet (it pulls Stripe, Gmail, Slack and HubSpot)",
                record.provider
            )));
        }
        let every = every_seconds.unwrap_or(DEFAULT_PULL_EVERY_S);
        if enabled && !(MIN_PULL_EVERY_S..=MAX_PULL_EVERY_S).contains(&every) {
            return Err(ApiError::bad_request(format!(
                "a periodic pull runs every {MIN_PULL_EVERY_S} to {MAX_PULL_EVERY_S} seconds (got {every})"
            )));
        }
        let setting = enabled.then_some(every);
        let now = self.clock().now_ms();
        let row = NewAuditRow::user(
            "connection.pull_schedule_set",
            actor_id,
            json!({ "connection": connection_id, "enabled": enabled, "every_seconds": setting }),
        )
        .on_connection(connection_id)
        .with_outcome("ok");
        let id = connection_id.to_string();
        self.writer()
            .transact(Durability::Full, move |conn, audit| {
                audit.append(&row)?;
                stored::set_schedule(conn, &id, setting, now)
            })
            .await?;
        // A newly switched-on pull runs at the loop's next look, not a whole interval later.
        self.pulls().wake.notify_waiters();
        Ok(PullSchedule {
            connection: connection_id.into(),
            enabled,
            every_seconds: setting,
        })
    }

    /// `connection_id`'s periodic pull setting.
    pub async fn events_pull_schedule(
        &self,
        connection_id: &str,
    ) -> Result<PullSchedule, ApiError> {
        self.connection_record(connection_id).await?;
        let db = self.db().clone();
        let id = connection_id.to_string();
        let every = blocking(move || Ok(stored::schedule(&*db.reader()?, &id)?)).await?;
        Ok(PullSchedule {
            connection: connection_id.into(),
            enabled: every.is_some(),
            every_seconds: every,
        })
    }

    /// Runs every switched-on pull when due until the gateway stops; forgets de-duplication keys
    /// past their window once an hour.
    pub(crate) fn spawn_pull_schedule(&self) {
        let app = self.clone();
        let task = tokio::spawn(async move {
            let mut last_run: HashMap<String, i64> = HashMap::new();
            let mut last_prune = i64::MIN;
            while !app.pulls().stopping.load(Ordering::SeqCst) {
                let woken = app.pulls().wake.notified();
                let db = app.db().clone();
                let due = match blocking(move || Ok(stored::schedules(&*db.reader()?)?)).await {
                    Ok(list) => list,
                    Err(e) => {
                        tracing::warn!(error = %e.message, "could not read the periodic pull schedules");
                        Vec::new()
                    }
                };
                for (id, every) in due {
                    if app.pulls().stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let now = app.clock().now_ms();
                    if last_run
                        .get(&id)
                        .is_some_and(|t| now - t < every.saturating_mul(1000))
                    {
                        continue;
                    }
                    last_run.insert(id.clone(), now);
                    if let Err(e) = app.events_pull(&PullActor::schedule(), &id).await {
                        tracing::warn!(connection = %id, code = %e.code, error = %e.message, "a periodic pull failed; it runs again at its next interval");
                    }
                }
                let now = app.clock().now_ms();
                if now.saturating_sub(last_prune) >= PRUNE_EVERY_MS {
                    last_prune = now;
                    let before = now - stored::DEDUPE_KEEP_MS;
                    if let Err(e) = app
                        .writer()
                        .transact(Durability::Normal, move |conn, _| {
                            stored::prune_keys(conn, before)
                        })
                        .await
                    {
                        tracing::warn!(error = %e, "could not forget old event de-duplication keys");
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(TICK) => {}
                    () = woken => {}
                }
            }
        });
        *self.pulls().task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pull_paths_are_the_four_providers_and_their_sandboxes() {
        for (provider, kind) in [
            ("stripe", "stripe"),
            ("stripe-sandbox", "stripe"),
            ("gmail-sandbox", "gmail"),
            ("slack", "slack"),
            ("hubspot-sandbox", "hubspot"),
        ] {
            assert_eq!(pull_kind(provider), Some(kind), "{provider}");
        }
        assert_eq!(
            pull_kind("shopify"),
            None,
            "a provider without a pull path says so"
        );
    }

    #[test]
    fn slack_timestamps_order_by_time_not_text() {
        assert_eq!(
            slack_ts_order("1712345678.000200", "1712345678.0003"),
            std::cmp::Ordering::Less
        );
        assert_eq!(
            slack_ts_order("999999999.9", "1000000000.0"),
            std::cmp::Ordering::Less,
            "more digits is later"
        );
        let c = StripeCursor {
            last: Some("evt_1".into()),
            created: 5,
        };
        assert_eq!(
            serde_json::from_str::<StripeCursor>(&stripe_cursor(&c)).ok(),
            Some(c),
            "the Stripe cursor round-trips"
        );
    }
}
