//! The data dir: where `switchboard.db` and the runtime file live. One setting
//! (`--data-dir` / `SWITCHBOARD_DATA_DIR`), defaulting to the OS's app-data dir, so tests and
//! users can run isolated instances side by side.
//!
//! One gateway per data dir: the gateway holds an exclusive lock on `gateway.lock` for its whole
//! life and publishes `gateway.json` (pid, port, URL, version) so the CLI and a second desktop
//! launch can find it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use switchboard_core::{ApiError, ErrorCode};

pub const DB_FILE: &str = "switchboard.db";
pub const LOCK_FILE: &str = "gateway.lock";
pub const RUNTIME_FILE: &str = "gateway.json";

/// The data dir to use: the explicit one, else the OS app-data dir.
pub fn resolve(explicit: Option<PathBuf>) -> Result<PathBuf, ApiError> {
    if let Some(dir) = explicit {
        return Ok(dir);
    }
    directories::ProjectDirs::from("dev", "Switchboard", "Switchboard")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or_else(|| ApiError::bad_request("cannot find a home folder for the default data dir; pass --data-dir or set SWITCHBOARD_DATA_DIR"))
}

/// A prepared data dir. `created` says whether this run created it (so a failed start can
/// remove it and leave nothing half-created behind).
#[derive(Debug)]
pub struct Prepared {
    pub dir: PathBuf,
    pub created: bool,
}

/// Creates the data dir if needed and proves it is writable.
pub fn prepare(dir: &Path) -> Result<Prepared, ApiError> {
    let created = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|e| not_writable(dir, &e))?;
    let probe = dir.join(".write-test");
    let res = File::create(&probe).and_then(|mut f| f.write_all(b"ok").and_then(|()| f.sync_all()));
    let _ = std::fs::remove_file(&probe);
    if let Err(e) = res {
        if created {
            let _ = std::fs::remove_dir_all(dir);
        }
        return Err(not_writable(dir, &e));
    }
    let dir = dir.canonicalize().map_err(|e| not_writable(dir, &e))?;
    Ok(Prepared { dir, created })
}

fn not_writable(dir: &Path, e: &std::io::Error) -> ApiError {
    let code = if e.raw_os_error() == Some(28) { ErrorCode::StorageFull } else { ErrorCode::StorageReadOnly };
    ApiError::new(code, format!("the data dir {} is not writable: {e}", dir.display()))
}

/// Held for the gateway's whole life; dropping it releases the data dir.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    path: PathBuf,
}

impl InstanceLock {
    /// Takes the data dir's lock, or says which gateway already holds it.
    pub fn acquire(dir: &Path) -> Result<Self, ApiError> {
        let path = dir.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ApiError::new(ErrorCode::StorageReadOnly, format!("cannot create {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file, path }),
            Err(_) => {
                let who = read_runtime(dir)
                    .map(|r| format!(" at {} (pid {})", r.url, r.pid))
                    .unwrap_or_default();
                Err(ApiError::new(
                    ErrorCode::Conflict,
                    format!("a Switchboard gateway already runs for the data dir {}{who}", dir.display()),
                ))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether some process holds the data dir's lock right now.
pub fn is_locked(dir: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(dir.join(LOCK_FILE)) else { return false };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

/// What `gateway.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runtime {
    pub pid: u32,
    pub port: u16,
    pub url: String,
    pub version: String,
    pub started_at_ms: i64,
}

/// Writes `gateway.json` atomically (temp file + rename).
pub fn write_runtime(dir: &Path, rt: &Runtime) -> Result<(), ApiError> {
    let tmp = dir.join(format!("{RUNTIME_FILE}.tmp"));
    let body = serde_json::to_vec_pretty(rt).map_err(|e| ApiError::internal(e.to_string()))?;
    std::fs::write(&tmp, body)
        .and_then(|()| std::fs::rename(&tmp, dir.join(RUNTIME_FILE)))
        .map_err(|e| ApiError::new(ErrorCode::StorageReadOnly, format!("cannot write {}: {e}", dir.join(RUNTIME_FILE).display())))
}

pub fn read_runtime(dir: &Path) -> Option<Runtime> {
    let bytes = std::fs::read(dir.join(RUNTIME_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn remove_runtime(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(RUNTIME_FILE));
}
