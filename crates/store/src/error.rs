//! Store errors, mapped onto the public [`ErrorCode`]s.

use std::path::PathBuf;

use switchboard_core::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {path} is corrupt or not a Switchboard database ({detail}); it was left untouched: restore a backup or move it aside")]
    Corrupt { path: PathBuf, detail: String },
    #[error("the database {path} was written by a newer Switchboard (schema {found}, this version knows up to {known}); it was left untouched: upgrade Switchboard")]
    NewerSchema { path: PathBuf, found: i64, known: i64 },
    #[error("cannot open the database {path}: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error("the disk or the database size limit is full; nothing was written ({0})")]
    Full(String),
    #[error("the database is read-only; nothing was written ({0})")]
    ReadOnly(String),
    #[error("the database could not be written (I/O error: the disk may be read-only, removed or failing); nothing was written ({0})")]
    Io(String),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("{0}")]
    Invalid(String),
    /// The row changed under the request (a draft already decided, an id already taken).
    #[error("{0}")]
    Conflict(String),
}

impl StoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Corrupt { .. } | Self::NewerSchema { .. } => ErrorCode::StorageCorrupt,
            Self::Full(_) => ErrorCode::StorageFull,
            Self::ReadOnly(_) => ErrorCode::StorageReadOnly,
            Self::Open { .. } | Self::Io(_) | Self::WriterGone | Self::Sqlite(_) => ErrorCode::AuditUnavailable,
            Self::Invalid(_) => ErrorCode::BadRequest,
            Self::Conflict(_) => ErrorCode::Conflict,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            match f.code {
                C::DiskFull => return Self::Full(e.to_string()),
                C::ReadOnly => return Self::ReadOnly(e.to_string()),
                C::SystemIoFailure => return Self::Io(e.to_string()),
                C::DatabaseCorrupt | C::NotADatabase => {
                    return Self::Corrupt { path: PathBuf::new(), detail: e.to_string() };
                }
                _ => {}
            }
        }
        Self::Sqlite(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}
