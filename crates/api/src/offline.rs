//! Operations that work without a running gateway: verify, export and search the audit log of a
//! data dir. They open the database read-only and never migrate or modify it.

use std::io::Write;
use std::path::Path;

use switchboard_core::{ApiError, AuditPage, AuditQuery, ErrorCode, VerifyReport};
use switchboard_secrets::{KeychainStore, SecretStore, keys};
use switchboard_store::audit::{self, ExportFormat};
use switchboard_store::db::Connection;
use switchboard_store::migrations;

use crate::datadir::DB_FILE;
use crate::gateway::read_anchor;

fn open_read_only(data_dir: &Path) -> Result<Connection, ApiError> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(ApiError::new(ErrorCode::NotFound, format!("there is no Switchboard database at {}", path.display())));
    }
    let conn = switchboard_store::db::open_read_only(&path)?;
    let version = switchboard_store::db::schema_version(&conn)?;
    if version > migrations::latest() {
        return Err(ApiError::new(ErrorCode::StorageCorrupt, format!("{} was written by a newer Switchboard; upgrade to read it", path.display())));
    }
    Ok(conn)
}

/// Verifies the audit log of `data_dir` against its key and the anchor in the OS keychain.
pub fn verify(data_dir: &Path) -> Result<VerifyReport, ApiError> {
    let conn = open_read_only(data_dir)?;
    let secrets = KeychainStore::open(data_dir)?;
    verify_with(&conn, &secrets)
}

fn verify_with(conn: &Connection, secrets: &dyn SecretStore) -> Result<VerifyReport, ApiError> {
    let Some(key) = secrets.get(keys::AUDIT_KEY)? else {
        let rows = audit::count(conn)?;
        if rows == 0 {
            return Ok(VerifyReport { intact: true, rows: 0, head_hash: None, first_bad: None, message: "audit chain intact: the log is empty".into() });
        }
        return Ok(VerifyReport {
            intact: false,
            rows,
            head_hash: None,
            first_bad: Some(switchboard_core::BadRow { id: rows, reason: "the audit checkpoint key is not in this keychain, so the head cannot be authenticated".into() }),
            message: "audit chain cannot be verified: the checkpoint key is missing from the OS keychain".into(),
        });
    };
    let anchor = read_anchor(secrets)?;
    Ok(audit::verify(conn, key.expose().as_bytes(), anchor.as_ref())?)
}

/// Writes every audit row of `data_dir`, oldest first.
pub fn export(data_dir: &Path, format: ExportFormat, out: &mut dyn Write) -> Result<i64, ApiError> {
    let conn = open_read_only(data_dir)?;
    Ok(audit::export(&conn, format, out)?)
}

/// Newest-first search of the audit log of `data_dir`.
pub fn search(data_dir: &Path, q: &AuditQuery) -> Result<AuditPage, ApiError> {
    let conn = open_read_only(data_dir)?;
    Ok(audit::list(&conn, q)?)
}
