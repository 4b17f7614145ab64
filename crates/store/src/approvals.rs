//! The approval queue, the outbox and agents' client request ids (migration 0006).
//!
//! Writes run inside [`crate::Writer::transact`] so each state change commits together with the
//! audit row that describes it. State moves are guarded in SQL (`WHERE status = 'pending'`), so
//! two approvers racing on one draft cannot both win: the loser's update changes no row.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreError;

/// One stored approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    pub id: String,
    pub call_id: String,
    pub agent: String,
    pub connection_id: String,
    pub tool: String,
    pub tier: String,
    /// JSON of the input as the agent sent it.
    pub input: String,
    /// JSON of the input as the approver edited it.
    pub edited_input: Option<String>,
    pub rule: String,
    /// `pending`, `approved`, `rejected`, `expired`, `executed`, `failed` or `needs_confirmation`.
    pub status: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub reason: Option<String>,
    /// JSON of the provider's result (executed) or `{code, message}` (failed).
    pub result: Option<String>,
    pub finished_at_ms: Option<i64>,
    /// JSON of the current values of the properties the draft changes, read when it was queued
    /// (`{"values": {…}, "unknown": reason|null}`); `None` when it changes no existing record.
    pub before: Option<String>,
}

const APPROVAL_COLUMNS: &str = "id, call_id, agent, connection_id, tool, tier, input, edited_input, rule, status, \
     created_at_ms, expires_at_ms, decided_by, decided_at_ms, reason, result, finished_at_ms, before";

fn approval_from_row(r: &Row<'_>) -> rusqlite::Result<ApprovalRecord> {
    Ok(ApprovalRecord {
        id: r.get(0)?,
        call_id: r.get(1)?,
        agent: r.get(2)?,
        connection_id: r.get(3)?,
        tool: r.get(4)?,
        tier: r.get(5)?,
        input: r.get(6)?,
        edited_input: r.get(7)?,
        rule: r.get(8)?,
        status: r.get(9)?,
        created_at_ms: r.get(10)?,
        expires_at_ms: r.get(11)?,
        decided_by: r.get(12)?,
        decided_at_ms: r.get(13)?,
        reason: r.get(14)?,
        result: r.get(15)?,
        finished_at_ms: r.get(16)?,
        before: r.get(17)?,
    })
}

pub fn insert_approval(conn: &Connection, a: &ApprovalRecord) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
    ))?
    .execute(params![
        a.id,
        a.call_id,
        a.agent,
        a.connection_id,
        a.tool,
        a.tier,
        a.input,
        a.edited_input,
        a.rule,
        a.status,
        a.created_at_ms,
        a.expires_at_ms,
        a.decided_by,
        a.decided_at_ms,
        a.reason,
        a.result,
        a.finished_at_ms,
        a.before
    ])?;
    Ok(())
}

pub fn get_approval(conn: &Connection, id: &str) -> Result<Option<ApprovalRecord>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = ?1"))?
        .query_row(params![id], approval_from_row)
        .optional()?)
}

/// Approvals newest first, optionally one status and/or one agent, at most `limit`.
pub fn list_approvals(conn: &Connection, status: Option<&str>, agent: Option<&str>, limit: u32) -> Result<Vec<ApprovalRecord>, StoreError> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR agent = ?2) \
             ORDER BY created_at_ms DESC, id DESC LIMIT ?3"
        ))?
        .query_map(params![status, agent, limit], approval_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// How many approvals wait for a person.
pub fn count_pending(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.prepare_cached("SELECT count(*) FROM approvals WHERE status = 'pending'")?.query_row([], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Records a person's decision on a pending approval (`approved` or `rejected`); false when it
/// was no longer pending (decided, expired or unknown id), in which case nothing changed.
pub fn decide(
    conn: &Connection,
    id: &str,
    status: &str,
    decided_by: &str,
    at_ms: i64,
    reason: Option<&str>,
    edited_input: Option<&str>,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE approvals SET status = ?2, decided_by = ?3, decided_at_ms = ?4, reason = ?5, edited_input = ?6 \
             WHERE id = ?1 AND status = 'pending' AND expires_at_ms > ?4",
        )?
        .execute(params![id, status, decided_by, at_ms, reason, edited_input])?;
    Ok(n == 1)
}

/// Pending approvals whose time ran out, oldest first.
pub fn due_for_expiry(conn: &Connection, now_ms: i64) -> Result<Vec<ApprovalRecord>, StoreError> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {APPROVAL_COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at_ms <= ?1 ORDER BY expires_at_ms"
        ))?
        .query_map(params![now_ms], approval_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Marks one pending approval expired; false when it was not pending.
pub fn expire(conn: &Connection, id: &str, at_ms: i64) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("UPDATE approvals SET status = 'expired', finished_at_ms = ?2 WHERE id = ?1 AND status = 'pending'")?
        .execute(params![id, at_ms])?;
    Ok(n == 1)
}

/// Records how an approved action ended: `executed`, `failed` or `needs_confirmation`
/// (from `approved`, or from `needs_confirmation` once a person settles it).
pub fn finish_approval(conn: &Connection, id: &str, status: &str, result: Option<&str>, at_ms: i64) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE approvals SET status = ?2, result = ?3, finished_at_ms = ?4 \
             WHERE id = ?1 AND status IN ('approved', 'needs_confirmation')",
        )?
        .execute(params![id, status, result, at_ms])?;
    Ok(n == 1)
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// The stable idempotency key.
    pub key: String,
    pub approval_id: Option<String>,
    /// `approval:<id>` or `policy:<id>`: what let it run.
    pub rule: String,
    pub call_id: String,
    pub agent: String,
    pub connection_id: String,
    pub tool: String,
    /// JSON of the input that executes.
    pub input: String,
    /// `ready`, `in_flight`, `done`, `failed` or `unknown`.
    pub state: String,
    pub attempts: i64,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub http_status: Option<i64>,
    pub result: Option<String>,
}

const OUTBOX_COLUMNS: &str =
    "key, approval_id, rule, call_id, agent, connection_id, tool, input, state, attempts, created_at_ms, started_at_ms, finished_at_ms, http_status, result";

fn outbox_from_row(r: &Row<'_>) -> rusqlite::Result<OutboxRecord> {
    Ok(OutboxRecord {
        key: r.get(0)?,
        approval_id: r.get(1)?,
        rule: r.get(2)?,
        call_id: r.get(3)?,
        agent: r.get(4)?,
        connection_id: r.get(5)?,
        tool: r.get(6)?,
        input: r.get(7)?,
        state: r.get(8)?,
        attempts: r.get(9)?,
        created_at_ms: r.get(10)?,
        started_at_ms: r.get(11)?,
        finished_at_ms: r.get(12)?,
        http_status: r.get(13)?,
        result: r.get(14)?,
    })
}

pub fn insert_outbox(conn: &Connection, o: &OutboxRecord) -> Result<(), StoreError> {
    conn.prepare_cached(&format!("INSERT INTO outbox ({OUTBOX_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"))?
        .execute(params![
            o.key,
            o.approval_id,
            o.rule,
            o.call_id,
            o.agent,
            o.connection_id,
            o.tool,
            o.input,
            o.state,
            o.attempts,
            o.created_at_ms,
            o.started_at_ms,
            o.finished_at_ms,
            o.http_status,
            o.result
        ])?;
    Ok(())
}

pub fn get_outbox(conn: &Connection, key: &str) -> Result<Option<OutboxRecord>, StoreError> {
    Ok(conn.prepare_cached(&format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE key = ?1"))?.query_row(params![key], outbox_from_row).optional()?)
}

pub fn outbox_for_approval(conn: &Connection, approval_id: &str) -> Result<Option<OutboxRecord>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE approval_id = ?1 ORDER BY created_at_ms DESC LIMIT 1"))?
        .query_row(params![approval_id], outbox_from_row)
        .optional()?)
}

/// Outbox rows in one state, oldest first.
pub fn outbox_in_state(conn: &Connection, state: &str) -> Result<Vec<OutboxRecord>, StoreError> {
    let rows = conn
        .prepare_cached(&format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state = ?1 ORDER BY created_at_ms, key"))?
        .query_map(params![state], outbox_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Moves a row from `from` to `to` (recording the start of an attempt when `to` is
/// `in_flight`); false when the row was not in `from`.
pub fn move_outbox(conn: &Connection, key: &str, from: &str, to: &str, at_ms: i64) -> Result<bool, StoreError> {
    let n = if to == "in_flight" {
        conn.prepare_cached("UPDATE outbox SET state = ?3, attempts = attempts + 1, started_at_ms = ?4 WHERE key = ?1 AND state = ?2")?
            .execute(params![key, from, to, at_ms])?
    } else {
        conn.prepare_cached("UPDATE outbox SET state = ?3 WHERE key = ?1 AND state = ?2")?.execute(params![key, from, to])?
    };
    Ok(n == 1)
}

/// Records the end of an attempt: `done`, `failed` or `unknown`, with the provider's status and
/// result (or the error) as JSON. Only from `in_flight` or `unknown`.
pub fn finish_outbox(conn: &Connection, key: &str, state: &str, http_status: Option<i64>, result: Option<&str>, at_ms: i64) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET state = ?2, http_status = ?3, result = ?4, finished_at_ms = ?5 WHERE key = ?1 AND state IN ('in_flight', 'unknown')",
        )?
        .execute(params![key, state, http_status, result, at_ms])?;
    Ok(n == 1)
}

/// How many outbox rows `rule` let run since `since_ms` (auto-send caps).
pub fn count_by_rule_since(conn: &Connection, rule: &str, since_ms: i64) -> Result<u32, StoreError> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM outbox WHERE rule = ?1 AND created_at_ms > ?2")?
        .query_row(params![rule, since_ms], |r| r.get(0))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Stored policies `(id, body JSON, created_at_ms, created_by)`, by id.
pub fn list_policies(conn: &Connection) -> Result<Vec<(String, String, i64, String)>, StoreError> {
    let rows = conn
        .prepare_cached("SELECT id, body, created_at_ms, created_by FROM policies ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Adds or replaces a policy.
pub fn upsert_policy(conn: &Connection, id: &str, body: &str, at_ms: i64, by: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO policies (id, body, created_at_ms, created_by) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, created_at_ms = excluded.created_at_ms, created_by = excluded.created_by",
    )?
    .execute(params![id, body, at_ms, by])?;
    Ok(())
}

pub fn delete_policy(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached("DELETE FROM policies WHERE id = ?1")?.execute(params![id])? == 1)
}

/// An agent's request for more access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequestRecord {
    pub id: String,
    pub agent: String,
    pub connection_id: String,
    pub tier: String,
    pub actions: Option<Vec<String>>,
    pub reason: String,
    /// `pending`, `granted` or `dismissed`.
    pub status: String,
    pub created_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
}

fn access_from_row(r: &Row<'_>) -> rusqlite::Result<AccessRequestRecord> {
    let actions: Option<String> = r.get(4)?;
    Ok(AccessRequestRecord {
        id: r.get(0)?,
        agent: r.get(1)?,
        connection_id: r.get(2)?,
        tier: r.get(3)?,
        // An unreadable list asks for nothing specific; the request still shows its tier.
        actions: actions.and_then(|a| serde_json::from_str(&a).ok()),
        reason: r.get(5)?,
        status: r.get(6)?,
        created_at_ms: r.get(7)?,
        decided_by: r.get(8)?,
        decided_at_ms: r.get(9)?,
    })
}

const ACCESS_COLUMNS: &str = "id, agent, connection_id, tier, actions, reason, status, created_at_ms, decided_by, decided_at_ms";

pub fn insert_access_request(conn: &Connection, a: &AccessRequestRecord) -> Result<(), StoreError> {
    let actions = a.actions.as_ref().map(|x| serde_json::Value::from(x.clone()).to_string());
    conn.prepare_cached(&format!("INSERT INTO access_requests ({ACCESS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"))?
        .execute(params![a.id, a.agent, a.connection_id, a.tier, actions, a.reason, a.status, a.created_at_ms, a.decided_by, a.decided_at_ms])?;
    Ok(())
}

pub fn get_access_request(conn: &Connection, id: &str) -> Result<Option<AccessRequestRecord>, StoreError> {
    Ok(conn.prepare_cached(&format!("SELECT {ACCESS_COLUMNS} FROM access_requests WHERE id = ?1"))?.query_row(params![id], access_from_row).optional()?)
}

/// Access requests newest first, optionally one status.
pub fn list_access_requests(conn: &Connection, status: Option<&str>) -> Result<Vec<AccessRequestRecord>, StoreError> {
    let rows = conn
        .prepare_cached(&format!("SELECT {ACCESS_COLUMNS} FROM access_requests WHERE (?1 IS NULL OR status = ?1) ORDER BY created_at_ms DESC, id DESC LIMIT 500"))?
        .query_map(params![status], access_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Settles a pending request (`granted` or `dismissed`); false when it was not pending.
pub fn decide_access_request(conn: &Connection, id: &str, status: &str, by: &str, at_ms: i64) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("UPDATE access_requests SET status = ?2, decided_by = ?3, decided_at_ms = ?4 WHERE id = ?1 AND status = 'pending'")?
        .execute(params![id, status, by, at_ms])?;
    Ok(n == 1)
}

/// An agent's earlier request under one `client_request_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequestRecord {
    pub agent: String,
    pub client_request_id: String,
    pub tool: String,
    /// SHA-256 (hex) of the canonical input: a reused id with another input is refused.
    pub input_hash: String,
    pub call_id: String,
    pub approval_id: Option<String>,
    /// JSON of the call's result once it ran directly (not queued).
    pub result: Option<String>,
    pub created_at_ms: i64,
}

pub fn get_client_request(conn: &Connection, agent: &str, client_request_id: &str) -> Result<Option<ClientRequestRecord>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT agent, client_request_id, tool, input_hash, call_id, approval_id, result, created_at_ms \
             FROM client_requests WHERE agent = ?1 AND client_request_id = ?2",
        )?
        .query_row(params![agent, client_request_id], |r| {
            Ok(ClientRequestRecord {
                agent: r.get(0)?,
                client_request_id: r.get(1)?,
                tool: r.get(2)?,
                input_hash: r.get(3)?,
                call_id: r.get(4)?,
                approval_id: r.get(5)?,
                result: r.get(6)?,
                created_at_ms: r.get(7)?,
            })
        })
        .optional()?)
}

/// Records the first request under an id; false when the id was taken already.
pub fn insert_client_request(conn: &Connection, c: &ClientRequestRecord) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO client_requests (agent, client_request_id, tool, input_hash, call_id, approval_id, result, created_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![c.agent, c.client_request_id, c.tool, c.input_hash, c.call_id, c.approval_id, c.result, c.created_at_ms])?;
    Ok(n == 1)
}

pub fn set_client_request_result(conn: &Connection, agent: &str, client_request_id: &str, result: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE client_requests SET result = ?3 WHERE agent = ?1 AND client_request_id = ?2")?
        .execute(params![agent, client_request_id, result])?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("sqlite");
        crate::migrations::apply(&mut conn).expect("migrate");
        conn
    }

    fn approval(id: &str, expires: i64) -> ApprovalRecord {
        ApprovalRecord {
            id: id.into(),
            call_id: format!("call_{id}"),
            agent: "sales-bot".into(),
            connection_id: "gmail-1".into(),
            tool: "gmail_send_message".into(),
            tier: "write".into(),
            input: r#"{"to":"ada@example.com"}"#.into(),
            edited_input: None,
            rule: "default:outbound-queues".into(),
            status: "pending".into(),
            created_at_ms: 1_000,
            expires_at_ms: expires,
            decided_by: None,
            decided_at_ms: None,
            reason: None,
            result: None,
            finished_at_ms: None,
            before: None,
        }
    }

    #[test]
    fn only_one_decision_wins_and_expired_drafts_cannot_be_approved() {
        let c = db();
        insert_approval(&c, &approval("apr_1", 10_000)).unwrap();
        assert!(decide(&c, "apr_1", "approved", "ada", 2_000, None, Some(r#"{"to":"bob@example.com"}"#)).unwrap());
        assert!(!decide(&c, "apr_1", "rejected", "bob", 2_001, Some("no"), None).unwrap(), "a second decision must change nothing");
        let a = get_approval(&c, "apr_1").unwrap().unwrap();
        assert_eq!((a.status.as_str(), a.decided_by.as_deref()), ("approved", Some("ada")));
        assert_eq!(a.edited_input.as_deref(), Some(r#"{"to":"bob@example.com"}"#), "the edited version is kept beside the original");

        insert_approval(&c, &approval("apr_2", 5_000)).unwrap();
        assert!(!decide(&c, "apr_2", "approved", "ada", 5_000, None, None).unwrap(), "a draft past its expiry cannot be approved");
        assert_eq!(due_for_expiry(&c, 5_000).unwrap().len(), 1);
        assert!(expire(&c, "apr_2", 5_000).unwrap());
        assert_eq!(count_pending(&c).unwrap(), 0);
        assert_eq!(list_approvals(&c, Some("expired"), None, 10).unwrap().len(), 1);
    }

    #[test]
    fn outbox_rows_move_only_from_the_expected_state() {
        let c = db();
        insert_approval(&c, &approval("apr_1", 10_000)).unwrap();
        let row = OutboxRecord {
            key: "ob_apr_1".into(),
            approval_id: Some("apr_1".into()),
            rule: "approval:apr_1".into(),
            call_id: "call_apr_1".into(),
            agent: "sales-bot".into(),
            connection_id: "gmail-1".into(),
            tool: "gmail_send_message".into(),
            input: "{}".into(),
            state: "ready".into(),
            attempts: 0,
            created_at_ms: 1,
            started_at_ms: None,
            finished_at_ms: None,
            http_status: None,
            result: None,
        };
        insert_outbox(&c, &row).unwrap();
        assert!(insert_outbox(&c, &row).is_err(), "one idempotency key is one outbox row");
        assert!(move_outbox(&c, "ob_apr_1", "ready", "in_flight", 5).unwrap());
        assert!(!move_outbox(&c, "ob_apr_1", "ready", "in_flight", 6).unwrap(), "a row already in flight cannot be claimed twice");
        assert!(finish_outbox(&c, "ob_apr_1", "done", Some(200), Some("{}"), 7).unwrap());
        assert!(!finish_outbox(&c, "ob_apr_1", "failed", Some(500), None, 8).unwrap(), "a finished row stays finished");
        let o = get_outbox(&c, "ob_apr_1").unwrap().unwrap();
        assert_eq!((o.state.as_str(), o.attempts, o.http_status), ("done", 1, Some(200)));
        assert_eq!(outbox_for_approval(&c, "apr_1").unwrap().map(|o| o.key), Some("ob_apr_1".into()));
    }

    #[test]
    fn a_client_request_id_is_taken_once() {
        let c = db();
        let r = ClientRequestRecord {
            agent: "sales-bot".into(),
            client_request_id: "req-1".into(),
            tool: "gmail_send_message".into(),
            input_hash: "abc".into(),
            call_id: "call_1".into(),
            approval_id: None,
            result: None,
            created_at_ms: 1,
        };
        assert!(insert_client_request(&c, &r).unwrap());
        assert!(!insert_client_request(&c, &ClientRequestRecord { call_id: "call_2".into(), ..r.clone() }).unwrap());
        set_client_request_result(&c, "sales-bot", "req-1", r#"{"ok":true}"#).unwrap();
        let got = get_client_request(&c, "sales-bot", "req-1").unwrap().unwrap();
        assert_eq!((got.call_id.as_str(), got.result.as_deref()), ("call_1", Some(r#"{"ok":true}"#)));
    }
}
