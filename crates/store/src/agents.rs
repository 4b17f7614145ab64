//! The `agents` table: one row per agent identity. It holds the hex SHA-256 of the agent's token,
//! never the token. Writes run inside [`crate::Writer::transact`] so they commit with their audit
//! row; reads take any connection.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreError;

/// One stored agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    pub id: i64,
    pub name: String,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
}

const COLUMNS: &str = "id, name, token_hash, created_at_ms, revoked_at_ms, last_seen_ms";

fn from_row(r: &Row<'_>) -> rusqlite::Result<AgentRecord> {
    Ok(AgentRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        token_hash: r.get(2)?,
        created_at_ms: r.get(3)?,
        revoked_at_ms: r.get(4)?,
        last_seen_ms: r.get(5)?,
    })
}

/// Inserts a new agent and returns its id. The caller checks the name is free first
/// ([`find_by_name`]); a duplicate here is a constraint error.
pub fn insert(conn: &Connection, name: &str, token_hash: &str, created_at_ms: i64) -> Result<i64, StoreError> {
    conn.prepare_cached("INSERT INTO agents (name, token_hash, created_at_ms) VALUES (?1, ?2, ?3)")?
        .execute(params![name, token_hash, created_at_ms])?;
    Ok(conn.last_insert_rowid())
}

/// Every agent, revoked ones included, in the order they were added.
pub fn list(conn: &Connection) -> Result<Vec<AgentRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM agents ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn find_by_name(conn: &Connection, name: &str) -> Result<Option<AgentRecord>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM agents WHERE name = ?1"))?
        .query_row(params![name], from_row)
        .optional()?)
}

/// Marks the agent revoked; false when it already was (or does not exist).
pub fn revoke(conn: &Connection, id: i64, revoked_at_ms: i64) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("UPDATE agents SET revoked_at_ms = ?2 WHERE id = ?1 AND revoked_at_ms IS NULL")?
        .execute(params![id, revoked_at_ms])?;
    Ok(n == 1)
}

/// Records that the agent was seen at `seen_ms` (never moves the time backwards).
pub fn touch(conn: &Connection, id: i64, seen_ms: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE agents SET last_seen_ms = max(coalesce(last_seen_ms, 0), ?2) WHERE id = ?1")?
        .execute(params![id, seen_ms])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::migrations::apply(&mut conn).expect("migrate");
        conn
    }

    #[test]
    fn agents_are_added_found_revoked_once_and_touched_forward() {
        let conn = db();
        let id = insert(&conn, "inbox-bot", &"ab".repeat(32), 1_000).expect("insert");
        assert!(insert(&conn, "inbox-bot", &"cd".repeat(32), 2_000).is_err(), "a second agent with the same name must be refused");
        let a = find_by_name(&conn, "inbox-bot").expect("find").expect("the agent exists");
        assert_eq!((a.id, a.created_at_ms, a.revoked_at_ms, a.last_seen_ms), (id, 1_000, None, None));
        touch(&conn, id, 5_000).expect("touch");
        touch(&conn, id, 4_000).expect("touch");
        assert_eq!(list(&conn).expect("list")[0].last_seen_ms, Some(5_000), "last seen must not move backwards");
        assert!(revoke(&conn, id, 6_000).expect("revoke"), "the first revoke should change the row");
        assert!(!revoke(&conn, id, 7_000).expect("revoke"), "a second revoke should change nothing");
        assert_eq!(find_by_name(&conn, "inbox-bot").expect("find").expect("kept").revoked_at_ms, Some(6_000), "the first revoke time stays");
        assert!(find_by_name(&conn, "nobody").expect("find").is_none());
    }
}
