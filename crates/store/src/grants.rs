//! The `grants` table: which agent may use which connection at which tier (read, write,
//! delete — no tier implies another), optionally narrowed to named actions and given an expiry.
//! Writes run inside [`crate::Writer::transact`] so they commit with their audit row.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreError;

/// One stored grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub agent: String,
    pub connection_id: String,
    /// `read`, `write` or `delete`.
    pub tier: String,
    /// Tool names this grant is narrowed to; `None` = every action of the tier.
    pub actions: Option<Vec<String>>,
    pub expires_at_ms: Option<i64>,
    pub granted_at_ms: i64,
    pub granted_by: String,
}

const COLUMNS: &str = "agent, connection_id, tier, actions, expires_at_ms, granted_at_ms, granted_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<GrantRecord> {
    let actions: Option<String> = r.get(3)?;
    Ok(GrantRecord {
        agent: r.get(0)?,
        connection_id: r.get(1)?,
        tier: r.get(2)?,
        // An unreadable list narrows to nothing (fail closed).
        actions: actions.map(|a| serde_json::from_str(&a).unwrap_or_default()),
        expires_at_ms: r.get(4)?,
        granted_at_ms: r.get(5)?,
        granted_by: r.get(6)?,
    })
}

/// Inserts or replaces the grant for `(agent, connection, tier)`.
pub fn upsert(conn: &Connection, g: &GrantRecord) -> Result<(), StoreError> {
    let actions = g.actions.as_ref().map(|a| serde_json::Value::from(a.clone()).to_string());
    conn.prepare_cached(&format!(
        "INSERT INTO grants ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (agent, connection_id, tier) DO UPDATE SET actions = excluded.actions, \
         expires_at_ms = excluded.expires_at_ms, granted_at_ms = excluded.granted_at_ms, granted_by = excluded.granted_by"
    ))?
    .execute(params![g.agent, g.connection_id, g.tier, actions, g.expires_at_ms, g.granted_at_ms, g.granted_by])?;
    Ok(())
}

/// Deletes one grant; false when there was none.
pub fn delete(conn: &Connection, agent: &str, connection_id: &str, tier: &str) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("DELETE FROM grants WHERE agent = ?1 AND connection_id = ?2 AND tier = ?3")?
        .execute(params![agent, connection_id, tier])?;
    Ok(n == 1)
}

/// Deletes every grant of an agent (it was revoked) or of a connection (it was removed).
pub fn delete_for_agent(conn: &Connection, agent: &str) -> Result<usize, StoreError> {
    Ok(conn.prepare_cached("DELETE FROM grants WHERE agent = ?1")?.execute(params![agent])?)
}

pub fn delete_for_connection(conn: &Connection, connection_id: &str) -> Result<usize, StoreError> {
    Ok(conn.prepare_cached("DELETE FROM grants WHERE connection_id = ?1")?.execute(params![connection_id])?)
}

/// Every grant, or one agent's, ordered by agent, connection and tier.
pub fn list(conn: &Connection, agent: Option<&str>) -> Result<Vec<GrantRecord>, StoreError> {
    let rows = match agent {
        Some(a) => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM grants WHERE agent = ?1 ORDER BY agent, connection_id, tier"))?
            .query_map(params![a], from_row)?
            .collect::<Result<Vec<_>, _>>()?,
        None => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM grants ORDER BY agent, connection_id, tier"))?
            .query_map([], from_row)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(rows)
}

pub fn get(conn: &Connection, agent: &str, connection_id: &str, tier: &str) -> Result<Option<GrantRecord>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM grants WHERE agent = ?1 AND connection_id = ?2 AND tier = ?3"))?
        .query_row(params![agent, connection_id, tier], from_row)
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::migrations::apply(&mut conn).expect("migrate");
        conn
    }

    fn grant(agent: &str, conn_id: &str, tier: &str) -> GrantRecord {
        GrantRecord { agent: agent.into(), connection_id: conn_id.into(), tier: tier.into(), actions: None, expires_at_ms: None, granted_at_ms: 1, granted_by: "user".into() }
    }

    #[test]
    fn grants_are_per_tier_and_replaced_not_duplicated() {
        let conn = db();
        upsert(&conn, &grant("bot", "hubspot-1", "read")).expect("read");
        upsert(&conn, &grant("bot", "hubspot-1", "write")).expect("write");
        let mut narrowed = grant("bot", "hubspot-1", "read");
        narrowed.actions = Some(vec!["hubspot_list_contacts".into()]);
        upsert(&conn, &narrowed).expect("replace");
        let all = list(&conn, Some("bot")).expect("list");
        assert_eq!(all.len(), 2, "setting a grant again must replace it, not add a second");
        assert_eq!(get(&conn, "bot", "hubspot-1", "read").expect("get").expect("read grant").actions, Some(vec!["hubspot_list_contacts".to_string()]));
        assert!(get(&conn, "bot", "hubspot-1", "delete").expect("get").is_none(), "no tier implies another");
        assert!(conn.execute("INSERT INTO grants VALUES ('bot','x','admin',NULL,NULL,1,'u')", []).is_err(), "an unknown tier must be refused by the schema");
        assert!(delete(&conn, "bot", "hubspot-1", "write").expect("delete"));
        assert!(!delete(&conn, "bot", "hubspot-1", "write").expect("delete again"));
        upsert(&conn, &grant("other", "hubspot-1", "read")).expect("other");
        assert_eq!(delete_for_connection(&conn, "hubspot-1").expect("by connection"), 2);
        assert!(list(&conn, None).expect("list").is_empty());
    }
}
