//! Numbered, append-only schema migrations. `PRAGMA user_version` records how many ran.
//! Never edit a released migration: add the next number.

use rusqlite::Connection;

use crate::StoreError;

/// Every migration in order; index + 1 is its version.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_audit", include_str!("migrations/0001_audit.sql")),
    ("0002_agents", include_str!("migrations/0002_agents.sql")),
    ("0003_connections", include_str!("migrations/0003_connections.sql")),
    ("0004_scopes_grants", include_str!("migrations/0004_scopes_grants.sql")),
    ("0005_events", include_str!("migrations/0005_events.sql")),
    ("0006_approvals", include_str!("migrations/0006_approvals.sql")),
    ("0007_audit_filters", include_str!("migrations/0007_audit_filters.sql")),
    ("0008_approval_before", include_str!("migrations/0008_approval_before.sql")),
    ("0009_audit_facets", include_str!("migrations/0009_audit_facets.sql")),
    ("0010_search_file", include_str!("migrations/0010_search_file.sql")),
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Applies every migration newer than the file's `user_version`, each in its own transaction.
pub(crate) fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Sqlite(format!("migration {name} failed: {e}")))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(migration = name, "applied migration");
    }
    Ok(())
}
