//! The `events`, `event_keys`, `pull_cursors` and `pull_schedules` tables (migration 0005).
//!
//! An event is stored at most once per connection: [`insert_if_new`] claims its key in
//! `event_keys` first and stores nothing when the key is already there. Writes run inside
//! [`crate::Writer::transact`] so an event, its audit row and (for pulls) the cursor that moved
//! past it commit together: after a crash a pull resumes from a cursor that matches the events
//! stored, with no gap and no duplicate.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreError;

/// How long a de-duplication key is kept: 30 days (at least the 72 hours providers retry for).
pub const DEDUPE_KEEP_MS: i64 = 30 * 24 * 3600 * 1000;

/// `source` values.
pub const WEBHOOK: &str = "webhook";
pub const PULL: &str = "pull";

/// An event to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub connection_id: String,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub occurred_at_ms: i64,
    pub received_at_ms: i64,
    /// [`WEBHOOK`] or [`PULL`].
    pub source: &'static str,
    /// The provider's JSON, as text.
    pub payload: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub connection_id: String,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub occurred_at_ms: i64,
    pub received_at_ms: i64,
    pub source: String,
    pub payload: String,
}

const COLUMNS: &str = "seq, connection_id, provider, event_id, event_type, occurred_at_ms, received_at_ms, source, payload";

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: r.get(0)?,
        connection_id: r.get(1)?,
        provider: r.get(2)?,
        event_id: r.get(3)?,
        event_type: r.get(4)?,
        occurred_at_ms: r.get(5)?,
        received_at_ms: r.get(6)?,
        source: r.get(7)?,
        payload: r.get(8)?,
    })
}

/// Stores `e` unless its (connection, event id) was seen before; the new row's `seq`, or
/// `None` for a duplicate.
pub fn insert_if_new(conn: &Connection, e: &NewEvent) -> Result<Option<i64>, StoreError> {
    let claimed = conn
        .prepare_cached("INSERT OR IGNORE INTO event_keys (connection_id, event_id, first_seen_ms) VALUES (?1, ?2, ?3)")?
        .execute(params![e.connection_id, e.event_id, e.received_at_ms])?;
    if claimed == 0 {
        return Ok(None);
    }
    conn.prepare_cached(
        "INSERT INTO events (connection_id, provider, event_id, event_type, occurred_at_ms, received_at_ms, source, payload) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![e.connection_id, e.provider, e.event_id, e.event_type, e.occurred_at_ms, e.received_at_ms, e.source, e.payload])?;
    Ok(Some(conn.last_insert_rowid()))
}

/// Whether (connection, event id) was stored within the de-duplication window.
pub fn seen(conn: &Connection, connection_id: &str, event_id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM event_keys WHERE connection_id = ?1 AND event_id = ?2")?
        .query_row(params![connection_id, event_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Events after `after_seq`, oldest first, at most `limit`; one connection's or every one's.
pub fn list(
    conn: &Connection,
    connection_id: Option<&str>,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<StoredEvent>, StoreError> {
    let limit = i64::from(limit);
    let rows = match connection_id {
        Some(c) => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE connection_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"))?
            .query_map(params![c, after_seq, limit], from_row)?
            .collect::<Result<Vec<_>, _>>()?,
        None => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"))?
            .query_map(params![after_seq, limit], from_row)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(rows)
}

/// The `after` that leaves only a connection's `newest` latest events: the sequence number of
/// the event just before them, or 0 when it has no more than that many.
pub fn after_for_newest(
    conn: &Connection,
    connection_id: &str,
    newest: u32,
) -> Result<i64, StoreError> {
    let seq: Option<i64> = conn
        .prepare_cached(
            "SELECT seq FROM events WHERE connection_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2",
        )?
        .query_map(params![connection_id, i64::from(newest)], |r| r.get(0))?
        .next()
        .transpose()?;
    Ok(seq.unwrap_or(0))
}

/// How many events a connection has.
pub fn count(conn: &Connection, connection_id: &str) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM events WHERE connection_id = ?1")?
        .query_row(params![connection_id], |r| r.get(0))?)
}

/// Forgets de-duplication keys first seen before `before_ms`; how many.
pub fn prune_keys(conn: &Connection, before_ms: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM event_keys WHERE first_seen_ms < ?1")?
        .execute(params![before_ms])?)
}

/// A pull stream's cursor.
pub fn cursor(
    conn: &Connection,
    connection_id: &str,
    stream: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT cursor FROM pull_cursors WHERE connection_id = ?1 AND stream = ?2")?
        .query_row(params![connection_id, stream], |r| r.get(0))
        .optional()?)
}

/// Every stream's cursor of a connection: `(stream, cursor, updated_at_ms)`.
pub fn cursors(
    conn: &Connection,
    connection_id: &str,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    let rows = conn
        .prepare_cached("SELECT stream, cursor, updated_at_ms FROM pull_cursors WHERE connection_id = ?1 ORDER BY stream")?
        .query_map(params![connection_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn set_cursor(
    conn: &Connection,
    connection_id: &str,
    stream: &str,
    cursor: &str,
    at_ms: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO pull_cursors (connection_id, stream, cursor, updated_at_ms) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = excluded.cursor, updated_at_ms = excluded.updated_at_ms",
    )?
    .execute(params![connection_id, stream, cursor, at_ms])?;
    Ok(())
}

/// Switches a connection's periodic pull on (every `every_seconds`) or off (`None`).
pub fn set_schedule(
    conn: &Connection,
    connection_id: &str,
    every_seconds: Option<i64>,
    at_ms: i64,
) -> Result<(), StoreError> {
    match every_seconds {
        Some(every) => conn
            .prepare_cached(
                "INSERT INTO pull_schedules (connection_id, every_seconds, set_at_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (connection_id) DO UPDATE SET every_seconds = excluded.every_seconds, set_at_ms = excluded.set_at_ms",
            )?
            .execute(params![connection_id, every, at_ms])?,
        None => conn.prepare_cached("DELETE FROM pull_schedules WHERE connection_id = ?1")?.execute(params![connection_id])?,
    };
    Ok(())
}

/// A connection's periodic pull interval, if it is switched on.
pub fn schedule(conn: &Connection, connection_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT every_seconds FROM pull_schedules WHERE connection_id = ?1")?
        .query_row(params![connection_id], |r| r.get(0))
        .optional()?)
}

/// Every switched-on periodic pull: `(connection, every_seconds)`.
pub fn schedules(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT connection_id, every_seconds FROM pull_schedules ORDER BY connection_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::migrations::apply(&mut conn).expect("migrate");
        conn
    }

    fn event(conn_id: &str, id: &str, at: i64) -> NewEvent {
        NewEvent {
            connection_id: conn_id.into(),
            provider: "stripe".into(),
            event_id: id.into(),
            event_type: "invoice.paid".into(),
            occurred_at_ms: at,
            received_at_ms: at,
            source: WEBHOOK,
            payload: "{}".into(),
        }
    }

    #[test]
    fn an_event_is_stored_once_per_connection() {
        let conn = db();
        let first = insert_if_new(&conn, &event("stripe-1", "evt_1", 1_000)).expect("insert");
        assert!(first.is_some(), "a new event is stored");
        assert_eq!(
            insert_if_new(&conn, &event("stripe-1", "evt_1", 2_000)).expect("again"),
            None,
            "a second delivery of the same event must not be stored"
        );
        assert!(
            insert_if_new(&conn, &event("stripe-2", "evt_1", 2_000))
                .expect("other")
                .is_some(),
            "another connection's event with the same id is its own"
        );
        assert_eq!(count(&conn, "stripe-1").expect("count"), 1);
        assert!(seen(&conn, "stripe-1", "evt_1").expect("seen"));
        let later = insert_if_new(&conn, &event("stripe-1", "evt_2", 3_000))
            .expect("insert")
            .expect("new");
        let all = list(&conn, Some("stripe-1"), 0, 10).expect("list");
        assert_eq!(
            all.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
            vec!["evt_1", "evt_2"],
            "oldest first"
        );
        assert_eq!(
            list(&conn, Some("stripe-1"), all[0].seq, 10)
                .expect("after")
                .len(),
            1,
            "`after` pages past what was read"
        );
        assert_eq!(list(&conn, None, 0, 10).expect("all").len(), 3);
        assert_eq!(list(&conn, None, later, 10).expect("none").len(), 0);
        assert!(conn.execute("INSERT INTO events (connection_id, provider, event_id, event_type, occurred_at_ms, received_at_ms, source, payload) VALUES ('a','b','c','d',1,1,'email','{}')", []).is_err(), "an unknown source must be refused by the schema");
    }

    #[test]
    fn keys_are_kept_for_the_window_then_pruned() {
        let conn = db();
        insert_if_new(&conn, &event("stripe-1", "evt_old", 1_000)).expect("old");
        insert_if_new(&conn, &event("stripe-1", "evt_new", 1_000 + DEDUPE_KEEP_MS)).expect("new");
        assert_eq!(prune_keys(&conn, 1_001).expect("prune"), 1);
        assert!(
            !seen(&conn, "stripe-1", "evt_old").expect("seen")
                && seen(&conn, "stripe-1", "evt_new").expect("seen")
        );
        assert_eq!(
            count(&conn, "stripe-1").expect("count"),
            2,
            "pruning keys keeps the events"
        );
    }

    #[test]
    fn cursors_and_schedules_are_per_connection() {
        let conn = db();
        assert_eq!(cursor(&conn, "gmail-1", "history").expect("get"), None);
        set_cursor(&conn, "gmail-1", "history", "100", 1).expect("set");
        set_cursor(&conn, "gmail-1", "history", "120", 2).expect("move");
        set_cursor(&conn, "slack-1", "channel:C1", "1712.000100", 3).expect("other");
        assert_eq!(
            cursor(&conn, "gmail-1", "history").expect("get").as_deref(),
            Some("120")
        );
        assert_eq!(
            cursors(&conn, "gmail-1").expect("all"),
            vec![("history".into(), "120".into(), 2)]
        );
        set_schedule(&conn, "gmail-1", Some(60), 1).expect("on");
        set_schedule(&conn, "slack-1", Some(120), 1).expect("on");
        set_schedule(&conn, "slack-1", None, 2).expect("off");
        assert_eq!(
            schedules(&conn).expect("list"),
            vec![("gmail-1".to_string(), 60)]
        );
        assert_eq!(schedule(&conn, "slack-1").expect("get"), None);
        assert!(
            set_schedule(&conn, "x", Some(0), 1).is_err(),
            "a zero interval must be refused by the schema"
        );
    }
}
