//! Opening `switchboard.db`: header and schema checks, pragmas, migrations.

use std::io::Read;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use rusqlite::Connection;
use rusqlite::OpenFlags;

use crate::{StoreError, migrations, search};

/// How durable a write must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Durability {
    /// WAL + `synchronous=NORMAL`: survives a process crash; the group's commit may roll back
    /// on power loss. For read-call audit rows.
    Normal,
    /// WAL + `synchronous=FULL`: fsynced before the caller is told. For approvals, outbox rows,
    /// grant changes and write/delete decisions.
    Full,
}

/// Settings for the store.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Caps the database size in pages (`PRAGMA max_page_count`) on the writer connection;
    /// appends beyond it fail with `storage_full` and write nothing.
    pub max_page_count: Option<u64>,
}

/// An opened, migrated database file.
#[derive(Debug, Clone)]
pub struct Database {
    path: PathBuf,
    options: StoreOptions,
    readers: Arc<ReaderPool>,
}

/// Idle read-only connections, reused so a request does not pay for opening the file and
/// parsing the schema again (about half a millisecond, more than the reads themselves).
///
/// Written by hand: `r2d2_sqlite` pins an older `rusqlite` (two bundled SQLite builds cannot
/// link into one binary), and a checked-in list of idle connections is all readers need:
/// a reader that is still inside a transaction when it is returned is closed, not reused.
#[derive(Default)]
struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for ReaderPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle = self.idle.lock().map(|v| v.len()).unwrap_or(0);
        f.debug_struct("ReaderPool").field("idle", &idle).finish()
    }
}

/// Readers kept open when idle; more may be open at once, the extra ones close when returned.
const IDLE_READERS: usize = 8;

/// A read-only connection from [`Database::reader`]; it goes back to the pool when dropped.
pub struct Reader {
    conn: Option<Connection>,
    pool: Arc<ReaderPool>,
}

impl Deref for Reader {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `drop` takes the connection out.
        self.conn.as_ref().unwrap_or_else(|| unreachable!("a reader is used after it was returned"))
    }
}

impl DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!("a reader is used after it was returned"))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !conn.is_autocommit() {
            return;
        }
        if let Ok(mut idle) = self.pool.idle.lock()
            && idle.len() < IDLE_READERS
        {
            idle.push(conn);
        }
    }
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl Database {
    /// Opens (creating if absent) and migrates the database at `path`. A corrupt file, a file
    /// that is not SQLite, or one from a newer Switchboard is refused and left untouched.
    pub fn open(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        check_header(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_error(path, e))?;
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| open_error(path, e))?;
        let known = migrations::latest();
        if found > known {
            return Err(StoreError::NewerSchema { path: path.to_path_buf(), found, known });
        }
        if found == 0 {
            let foreign: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", [], |r| r.get(0))
                .map_err(|e| open_error(path, e))?;
            if foreign > 0 {
                return Err(StoreError::Corrupt {
                    path: path.to_path_buf(),
                    detail: "it holds tables but no Switchboard schema version".into(),
                });
            }
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| open_error(path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Open { path: path.to_path_buf(), detail: format!("cannot enable WAL (journal_mode={mode})") });
        }
        migrations::apply(&mut conn).map_err(|e| with_path(path, e))?;
        let search_path = search::path_for(path);
        search::prepare(&conn, path).map_err(|e| with_path(&search_path, e))?;
        Ok(Self { path: path.to_path_buf(), options, readers: Arc::default() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// A read-only connection (WAL readers never block the writer): an idle one from the pool,
    /// or a new one. Each statement outside an explicit transaction sees the latest commit.
    /// The search index is attached as `search` (see [`crate::search`]).
    pub fn reader(&self) -> Result<Reader, StoreError> {
        let pooled = self.readers.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => self.open_reader()?,
        };
        Ok(Reader { conn: Some(conn), pool: self.readers.clone() })
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let mut conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_error(&self.path, e))?;
        conn.busy_handler(Some(wait_briefly))?;
        search::attach(&conn, &search::path_for(&self.path))?;
        Ok(conn)
    }

    /// The connection the writer thread owns: NORMAL by default, no auto-checkpoint (the writer
    /// checkpoints off the request path).
    pub(crate) fn writer_connection(&self) -> Result<Connection, StoreError> {
        let mut conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_error(&self.path, e))?;
        conn.busy_handler(Some(wait_briefly))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // A WAL that grew under load is cut back to this size when it starts over.
        conn.query_row("PRAGMA journal_size_limit = 67108864", [], |_| Ok(()))?;
        if let Some(max) = self.options.max_page_count {
            conn.query_row(&format!("PRAGMA max_page_count = {max}"), [], |_| Ok(()))?;
        }
        Ok(conn)
    }
}

/// Attempts of [`wait_briefly`] at its short interval before it backs off.
const BRIEF_ATTEMPTS: i32 = 400;
/// Total attempts: 400 × 50 µs + 4,980 × 1 ms ≈ 5 s, the longest a statement waits for a lock.
const MAX_ATTEMPTS: i32 = BRIEF_ATTEMPTS + 4_980;

/// The busy handler of every connection: retry after 50 µs for the first 20 ms, then every 1 ms,
/// for about 5 s in all. SQLite's own (`busy_timeout`) sleeps 1, 2, 5, 10 ms… between attempts,
/// so a lock held for 1.1 ms (the checkpointer's brief exclusive locks on the WAL index) cost a
/// commit 3 ms or more; this one resumes within 50 µs of the lock's release.
pub(crate) fn wait_briefly(attempt: i32) -> bool {
    if attempt < BRIEF_ATTEMPTS {
        std::thread::sleep(std::time::Duration::from_micros(50));
        true
    } else if attempt < MAX_ATTEMPTS {
        std::thread::sleep(std::time::Duration::from_millis(1));
        true
    } else {
        false
    }
}

pub(crate) fn check_header(path: &Path) -> Result<(), StoreError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Open { path: path.to_path_buf(), detail: e.to_string() }),
    };
    let mut header = [0u8; 16];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(StoreError::Open { path: path.to_path_buf(), detail: e.to_string() }),
        }
    }
    if read == 0 {
        // An empty file is what SQLite itself creates before the first write.
        return Ok(());
    }
    if read < header.len() || &header != SQLITE_HEADER {
        return Err(StoreError::Corrupt { path: path.to_path_buf(), detail: "the file does not start with the SQLite header".into() });
    }
    Ok(())
}

fn open_error(path: &Path, e: rusqlite::Error) -> StoreError {
    with_path(path, StoreError::from(e))
}

fn with_path(path: &Path, e: StoreError) -> StoreError {
    match e {
        StoreError::Corrupt { detail, .. } => StoreError::Corrupt { path: path.to_path_buf(), detail },
        StoreError::Sqlite(detail) => StoreError::Open { path: path.to_path_buf(), detail },
        other => other,
    }
}


/// Opens an existing database read-only, for tools that must never change it, with its search
/// index attached as `search` when it matches the log (see [`search::attach_for_reading`]).
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    check_header(path)?;
    let mut conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| open_error(path, e))?;
    conn.busy_handler(Some(wait_briefly))?;
    // Touch the schema so a corrupt file fails here, with the path in the message.
    schema_version(&conn).map_err(|e| with_path(path, e))?;
    search::attach_for_reading(&conn, path)?;
    Ok(conn)
}

/// `PRAGMA user_version`.
pub fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}
