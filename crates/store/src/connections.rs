//! The `connections` table: one row per connected provider account, with its health (last
//! success, last error) and key age. It never holds the credential: that lives only in the OS
//! keychain under `connection:<id>`. Writes run inside [`crate::Writer::transact`] so they commit
//! with their audit row; reads take any connection.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreError;

/// `status` values.
pub const HEALTHY: &str = "healthy";
pub const ERROR: &str = "error";
pub const RECONNECT_NEEDED: &str = "reconnect_needed";

/// One stored connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    pub id: String,
    pub provider: String,
    pub label: String,
    pub auth_mode: String,
    pub created_at_ms: i64,
    pub key_set_at_ms: i64,
    pub rotate_every_days: Option<i64>,
    pub last_success_ms: Option<i64>,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub last_error_ms: Option<i64>,
    pub status: String,
    pub removed_at_ms: Option<i64>,
    /// Provider scopes this connection holds (see migration 0004).
    pub granted_scopes: Vec<String>,
    /// When the OAuth access token expires; `None` for keys and non-expiring tokens.
    pub token_expires_at_ms: Option<i64>,
    /// When the user was last told this key's rotation is due.
    pub rotation_due_notified_ms: Option<i64>,
}

/// What [`insert`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConnection {
    pub id: String,
    pub provider: String,
    pub label: String,
    pub auth_mode: String,
    pub granted_scopes: Vec<String>,
    pub token_expires_at_ms: Option<i64>,
    pub now_ms: i64,
}

const COLUMNS: &str = "id, provider, label, auth_mode, created_at_ms, key_set_at_ms, rotate_every_days, last_success_ms, \
                       last_error_code, last_error_message, last_error_ms, status, removed_at_ms, granted_scopes, token_expires_at_ms, \
                       rotation_due_notified_ms";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ConnectionRecord> {
    Ok(ConnectionRecord {
        id: r.get(0)?,
        provider: r.get(1)?,
        label: r.get(2)?,
        auth_mode: r.get(3)?,
        created_at_ms: r.get(4)?,
        key_set_at_ms: r.get(5)?,
        rotate_every_days: r.get(6)?,
        last_success_ms: r.get(7)?,
        last_error_code: r.get(8)?,
        last_error_message: r.get(9)?,
        last_error_ms: r.get(10)?,
        status: r.get(11)?,
        removed_at_ms: r.get(12)?,
        granted_scopes: scopes_from_json(&r.get::<_, String>(13)?),
        token_expires_at_ms: r.get(14)?,
        rotation_due_notified_ms: r.get(15)?,
    })
}

/// A stored scope list; a value this build cannot read counts as no scopes (fail closed).
fn scopes_from_json(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn scopes_to_json(scopes: &[String]) -> String {
    serde_json::Value::from(scopes.to_vec()).to_string()
}

/// Inserts a healthy connection whose key was just checked (`last_success_ms` = now).
pub fn insert(conn: &Connection, c: &NewConnection) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO connections (id, provider, label, auth_mode, created_at_ms, key_set_at_ms, last_success_ms, status, \
         granted_scopes, token_expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5, 'healthy', ?6, ?7)",
    )?
    .execute(params![c.id, c.provider, c.label, c.auth_mode, c.now_ms, scopes_to_json(&c.granted_scopes), c.token_expires_at_ms])?;
    Ok(())
}

/// The first free id `PROVIDER-N` (removed connections keep theirs).
pub fn next_id(conn: &Connection, provider: &str) -> Result<String, StoreError> {
    let mut n = 1;
    loop {
        let id = format!("{provider}-{n}");
        if get(conn, &id)?.is_none() {
            return Ok(id);
        }
        n += 1;
    }
}

/// Every connection, removed ones included, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<ConnectionRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM connections ORDER BY created_at_ms, id"))?;
    let rows = stmt.query_map([], from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<ConnectionRecord>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"))?
        .query_row(params![id], from_row)
        .optional()?)
}

/// Records a success: status back to healthy, last success now. For a person's check
/// (`connections test`), which must show the time it ran.
pub fn record_success(conn: &Connection, id: &str, at_ms: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE connections SET last_success_ms = ?2, status = 'healthy' WHERE id = ?1")?
        .execute(params![id, at_ms])?;
    Ok(())
}

/// [`record_success`] for a successful provider call, with the last-success time kept to the
/// second: a healthy connection whose last success is under a second old is left as it is, so
/// a busy connection does not rewrite its row (a page in the WAL) on every call.
pub fn record_call_success(conn: &Connection, id: &str, at_ms: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE connections SET last_success_ms = ?2, status = 'healthy' \
         WHERE id = ?1 AND NOT (status = 'healthy' AND last_success_ms IS NOT NULL AND last_success_ms > ?2 - 1000 AND last_success_ms <= ?2)",
    )?
    .execute(params![id, at_ms])?;
    Ok(())
}

/// Records a failed call and the status it leaves the connection in.
pub fn record_error(conn: &Connection, id: &str, code: &str, message: &str, at_ms: i64, status: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE connections SET last_error_code = ?2, last_error_message = ?3, last_error_ms = ?4, status = ?5 WHERE id = ?1",
    )?
    .execute(params![id, code, message, at_ms, status])?;
    Ok(())
}

/// Replaces the scopes a connection holds (the user re-ticked them, or the provider granted a
/// different set at reconnect).
pub fn set_granted_scopes(conn: &Connection, id: &str, scopes: &[String]) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE connections SET granted_scopes = ?2 WHERE id = ?1")?.execute(params![id, scopes_to_json(scopes)])?;
    Ok(())
}

/// Records a new credential: a rotated key or refreshed OAuth token (`key_set_at_ms` restarts
/// the key's age; the rotation reminder is cleared).
pub fn record_new_credential(conn: &Connection, id: &str, at_ms: i64, token_expires_at_ms: Option<i64>) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE connections SET key_set_at_ms = ?2, token_expires_at_ms = ?3, rotation_due_notified_ms = NULL, \
         status = 'healthy', last_success_ms = ?2 WHERE id = ?1",
    )?
    .execute(params![id, at_ms, token_expires_at_ms])?;
    Ok(())
}

/// Records a refreshed OAuth access token's expiry (the connection's age is unchanged).
pub fn set_token_expiry(conn: &Connection, id: &str, token_expires_at_ms: Option<i64>) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE connections SET token_expires_at_ms = ?2 WHERE id = ?1")?.execute(params![id, token_expires_at_ms])?;
    Ok(())
}

/// Sets (or clears, with `None`) the key's rotation schedule in days.
pub fn set_rotation(conn: &Connection, id: &str, every_days: Option<i64>) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE connections SET rotate_every_days = ?2, rotation_due_notified_ms = NULL WHERE id = ?1")?
        .execute(params![id, every_days])?;
    Ok(())
}

/// Records that the user was told the rotation is due.
pub fn mark_rotation_notified(conn: &Connection, id: &str, at_ms: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE connections SET rotation_due_notified_ms = ?2 WHERE id = ?1")?.execute(params![id, at_ms])?;
    Ok(())
}

/// Marks the connection removed; false when it already was (or does not exist).
pub fn mark_removed(conn: &Connection, id: &str, at_ms: i64) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("UPDATE connections SET removed_at_ms = ?2 WHERE id = ?1 AND removed_at_ms IS NULL")?
        .execute(params![id, at_ms])?;
    Ok(n == 1)
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
    fn connections_are_added_checked_and_removed_once() {
        let conn = db();
        let id = next_id(&conn, "hubspot").expect("id");
        assert_eq!(id, "hubspot-1");
        let new = NewConnection { id: id.clone(), provider: "hubspot".into(), label: "Sales".into(), auth_mode: "private_app_token".into(), granted_scopes: vec!["crm.objects.contacts.read".into()], token_expires_at_ms: None, now_ms: 1_000 };
        insert(&conn, &new).expect("insert");
        assert!(insert(&conn, &new).is_err(), "a second connection with the same id must be refused");
        assert_eq!(next_id(&conn, "hubspot").expect("id"), "hubspot-2", "ids must not be reused");
        let c = get(&conn, &id).expect("get").expect("the connection exists");
        assert_eq!((c.status.as_str(), c.key_set_at_ms, c.last_success_ms), (HEALTHY, 1_000, Some(1_000)));
        record_error(&conn, &id, "unauthorized", "refused", 2_000, RECONNECT_NEEDED).expect("error");
        assert_eq!(get(&conn, &id).expect("get").expect("kept").status, RECONNECT_NEEDED);
        record_success(&conn, &id, 3_000).expect("success");
        let c = get(&conn, &id).expect("get").expect("kept");
        assert_eq!((c.status.as_str(), c.last_success_ms, c.last_error_ms), (HEALTHY, Some(3_000), Some(2_000)), "the last error stays visible after a success");
        assert!(mark_removed(&conn, &id, 4_000).expect("remove"), "the first remove should change the row");
        assert!(!mark_removed(&conn, &id, 5_000).expect("remove"), "a second remove should change nothing");
        assert_eq!(list(&conn).expect("list").len(), 1);
    }

    #[test]
    fn scopes_rotation_and_new_credentials_are_recorded() {
        let conn = db();
        let new = NewConnection { id: "stripe-1".into(), provider: "stripe".into(), label: "Billing".into(), auth_mode: "restricted_key".into(), granted_scopes: vec![], token_expires_at_ms: None, now_ms: 1_000 };
        insert(&conn, &new).expect("insert");
        assert!(get(&conn, "stripe-1").expect("get").expect("row").granted_scopes.is_empty());
        set_granted_scopes(&conn, "stripe-1", &["customers.read".into(), "invoices.write".into()]).expect("scopes");
        set_rotation(&conn, "stripe-1", Some(90)).expect("rotation");
        mark_rotation_notified(&conn, "stripe-1", 5_000).expect("notified");
        let c = get(&conn, "stripe-1").expect("get").expect("row");
        assert_eq!(c.granted_scopes, vec!["customers.read".to_string(), "invoices.write".to_string()], "the ticked scopes should read back in order");
        assert_eq!((c.rotate_every_days, c.rotation_due_notified_ms), (Some(90), Some(5_000)));
        record_new_credential(&conn, "stripe-1", 9_000, Some(12_000)).expect("rotate");
        let c = get(&conn, "stripe-1").expect("get").expect("row");
        assert_eq!((c.key_set_at_ms, c.token_expires_at_ms, c.rotation_due_notified_ms), (9_000, Some(12_000), None), "a new key should restart its age and clear the reminder");
        conn.execute("UPDATE connections SET granted_scopes = 'not json' WHERE id = 'stripe-1'", []).expect("corrupt");
        assert!(get(&conn, "stripe-1").expect("get").expect("row").granted_scopes.is_empty(), "an unreadable scope list must count as no scopes");
    }
}
