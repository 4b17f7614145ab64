//! The `settings` table: small switches that must survive a restart, one text value per key.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

/// `"1"` while every agent is paused, `"0"` (or absent) otherwise.
pub const AGENTS_PAUSED: &str = "agents_paused";

/// `"1"` (or absent) while the desktop app raises notifications, `"0"` when a person turned them off.
pub const NOTIFICATIONS: &str = "notifications";

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")?
        .execute(params![key, value])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_is_absent_then_set_then_overwritten() {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::migrations::apply(&mut conn).expect("migrate");
        assert_eq!(get(&conn, AGENTS_PAUSED).expect("get"), None);
        set(&conn, AGENTS_PAUSED, "1").expect("set");
        set(&conn, AGENTS_PAUSED, "0").expect("overwrite");
        assert_eq!(get(&conn, AGENTS_PAUSED).expect("get").as_deref(), Some("0"));
    }
}
