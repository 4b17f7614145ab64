//! The audit log's search index: `switchboard-search.db` next to `switchboard.db`, attached to
//! every reader as `search`, filled by its own thread.
//!
//! It holds the full-text index (`search.audit_fts`), the filter table with its indexes
//! (`search.audit_facets`) and the watermark (`search.search_meta`: the last row indexed and that
//! row's hash). All of it is derived from `audit_log` and rebuilt from it when the file is
//! missing, damaged, of another schema version, or was built from another history of the log (a
//! restored backup): the watermark's hash must match the log's row, and the chain makes that
//! hash depend on every earlier row.
//!
//! Why a file of its own: SQLite has one write lock per file. Indexed in `switchboard.db`, a
//! batch of 16K rows held the audit writer's lock for about a second, and every agent call
//! waiting on its audit row with it; smaller batches cost about 10 ms of lock each (FTS5 writes
//! a segment per transaction). Here the indexer takes only this file's lock, so audit commits
//! never wait for it, and it can work in large, cheap batches.
//!
//! Rows above the watermark are still found: `audit::list` scans them in the log itself, and
//! the gateway asks for the index to catch up ([`crate::Writer::flush_index`]) before a
//! filtered list or a text search.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tokio::sync::{oneshot, watch};

use crate::audit::{self, COLUMNS, GENESIS_HASH, StoredRow};
use crate::db::{check_header, wait_briefly};
use crate::writer::Head;
use crate::{Database, StoreError};

/// The search file's schema version (`PRAGMA search.user_version`). A file of another version is
/// rebuilt, not migrated: everything in it is derived.
pub const VERSION: i64 = 1;
const SCHEMA: &str = include_str!("search_schema.sql");

/// How often the indexer looks for new rows.
const TICK: Duration = Duration::from_millis(100);
/// Backlog that is indexed even while appends keep coming (otherwise: after a tick without any).
const INDEX_BATCH: i64 = 4_096;
/// Most rows indexed in one transaction.
const INDEX_MAX: i64 = 16_384;
/// Rows read from the log at a time (bounds the indexer's memory).
const CHUNK: i64 = 1_024;
/// The indexing thread's niceness (Linux): below the gateway's threads, above nothing else.
#[cfg(target_os = "linux")]
const INDEX_NICE: i32 = 10;
/// After a failed batch (a full disk, say), background indexing waits this long.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The search file for the database at `main`: `<stem>-search.db` in the same folder.
pub fn path_for(main: &Path) -> PathBuf {
    let mut name = main.file_stem().unwrap_or(OsStr::new("switchboard")).to_os_string();
    name.push("-search.db");
    main.with_file_name(name)
}

/// Attaches the search file at `path` to `conn` as `search` (read-only when `conn` is).
pub(crate) fn attach(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let name = path
        .to_str()
        .ok_or_else(|| StoreError::Open { path: path.to_path_buf(), detail: "the path is not valid UTF-8".into() })?;
    conn.execute("ATTACH DATABASE ?1 AS search", [name])?;
    Ok(())
}

/// Attaches the search index of the database at `main_path` for a read-only tool (offline search)
/// when it exists and matches the log. Without it every row is found by scanning the log. Never
/// creates, changes or deletes a file.
pub fn attach_for_reading(conn: &Connection, main_path: &Path) -> Result<(), StoreError> {
    let path = path_for(main_path);
    if path.exists() && check_header(&path).is_ok() && attach(conn, &path).is_ok() {
        match mismatch(conn) {
            Ok(None) => return Ok(()),
            Ok(Some(why)) => tracing::debug!(reason = %why, "search index not used"),
            Err(e) => tracing::debug!(error = %e, "search index not used"),
        }
        conn.execute_batch("DETACH DATABASE search")?;
    }
    Ok(())
}

/// Makes sure the search file of the database at `main_path` exists and matches its log,
/// deleting and recreating it otherwise (it is rebuilt in the background). `main` is a
/// connection to that database; run before any reader or indexer opens the search file.
pub(crate) fn prepare(main: &Connection, main_path: &Path) -> Result<(), StoreError> {
    let path = path_for(main_path);
    let why = if !path.exists() {
        None
    } else if let Err(e) = check_header(&path) {
        Some(e.to_string())
    } else {
        let found = match attach(main, &path) {
            Ok(()) => {
                let found = mismatch(main).unwrap_or_else(|e| Some(e.to_string()));
                main.execute_batch("DETACH DATABASE search")?;
                found
            }
            Err(e) => Some(e.to_string()),
        };
        match found {
            None => return Ok(()),
            some => some,
        }
    };
    if let Some(why) = why {
        tracing::info!(reason = %why, path = %path.display(), "rebuilding the audit search index");
        remove(&path)?;
    }
    let conn = open_rw(&path)?;
    create(&conn)?;
    Ok(())
}

/// Why the attached `search` cannot serve the log of `conn`'s main database, if it cannot.
fn mismatch(conn: &Connection) -> Result<Option<String>, StoreError> {
    let version: i64 = conn.query_row("PRAGMA search.user_version", [], |r| r.get(0))?;
    if version != VERSION {
        return Ok(Some(format!("schema version {version}, this Switchboard builds {VERSION}")));
    }
    let (id, hash) = watermark(conn)?;
    if id == 0 {
        return Ok(None);
    }
    match audit::row_hash(conn, id)? {
        Some(h) if h == hash => Ok(None),
        Some(_) => Ok(Some(format!("it was built from another history of the log (row {id} differs)"))),
        None => Ok(Some(format!("it indexes row {id}, which the log does not have"))),
    }
}

/// Creates the schema in the (empty) attached `search`.
fn create(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(&format!(
        "BEGIN; {SCHEMA} INSERT INTO search.search_meta (singleton, through_id, through_hash) VALUES (1, 0, '{GENESIS_HASH}'); \
         PRAGMA search.user_version = {VERSION}; COMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })?;
    Ok(())
}

/// Deletes a search file and its WAL and shared-memory files.
fn remove(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Open { path: PathBuf::from(name), detail: format!("cannot remove the outdated search index: {e}") });
            }
        }
    }
    Ok(())
}

/// A connection that writes the search file: an empty in-memory main with the file attached as
/// `search`, so every statement names the same schema as the readers do.
fn open_rw(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_handler(Some(wait_briefly))?;
    attach(&conn, path)?;
    let mode: String = conn.query_row("PRAGMA search.journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Open { path: path.to_path_buf(), detail: format!("cannot enable WAL (journal_mode={mode})") });
    }
    // Derived data: a commit lost to a power cut is indexed again.
    conn.pragma_update(Some("search"), "synchronous", "NORMAL")?;
    conn.query_row("PRAGMA search.journal_size_limit = 67108864", [], |_| Ok(()))?;
    Ok(conn)
}

/// The watermark of the attached `search`: the last row indexed and its hash.
fn watermark(conn: &Connection) -> Result<(i64, String), StoreError> {
    Ok(conn
        .query_row("SELECT through_id, through_hash FROM search.search_meta WHERE singleton = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, GENESIS_HASH.to_string())))
}

/// The last row id in the search index (rows above it are not indexed yet); 0 when `conn` has
/// no search index attached.
pub fn indexed_through(conn: &Connection) -> Result<i64, StoreError> {
    let attached = conn
        .prepare_cached("SELECT 1 FROM pragma_database_list WHERE name = 'search'")?
        .exists([])?;
    if !attached {
        return Ok(0);
    }
    Ok(watermark(conn)?.0)
}

enum Msg {
    /// Index through at least this row id, then reply.
    Flush(i64, oneshot::Sender<Result<(), StoreError>>),
    Stop,
}

/// The indexing thread of one database; owned by its [`crate::Writer`].
pub(crate) struct Indexer {
    tx: mpsc::Sender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Indexer {
    /// Starts indexing the rows of `db` that `head` announces.
    pub(crate) fn start(db: &Database, head: watch::Receiver<Head>) -> Result<Self, StoreError> {
        let search = open_rw(&path_for(db.path()))?;
        let log = db.reader()?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("switchboard-index".into())
            .spawn(move || run(&search, &log, &rx, &head))
            .map_err(|e| StoreError::Sqlite(format!("cannot start the search index thread: {e}")))?;
        Ok(Self { tx, thread: Mutex::new(Some(thread)) })
    }

    /// Asks for every row through `through` to be indexed; the reply comes when it is.
    pub(crate) fn flush(&self, through: i64) -> Result<oneshot::Receiver<Result<(), StoreError>>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Msg::Flush(through, reply)).map_err(|_| StoreError::WriterGone)?;
        Ok(rx)
    }

    /// Indexes what is left and stops the thread. Call after the writer has stopped.
    pub(crate) fn stop(&self) {
        let _ = self.tx.send(Msg::Stop);
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

fn run(search: &Connection, log: &Connection, rx: &mpsc::Receiver<Msg>, head: &watch::Receiver<Head>) {
    lower_priority();
    let mut indexed = indexed_through(search).unwrap_or(0);
    let mut seen = head.borrow().id;
    let mut paused_until: Option<Instant> = None;
    loop {
        match rx.recv_timeout(TICK) {
            Ok(Msg::Flush(through, reply)) => {
                let _ = reply.send(index_through(search, log, &mut indexed, through));
            }
            Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if paused_until.is_some_and(|t| Instant::now() < t) {
                    continue;
                }
                let last = head.borrow().id;
                let idle = last == seen;
                seen = last;
                if last > indexed && (idle || last - indexed >= INDEX_BATCH) {
                    match index_batch(search, log, &mut indexed) {
                        Ok(()) => paused_until = None,
                        Err(e) => {
                            tracing::warn!(error = %e, "search index batch failed; will retry");
                            paused_until = Some(Instant::now() + RETRY_AFTER);
                        }
                    }
                }
            }
        }
    }
    let last = head.borrow().id;
    if let Err(e) = index_through(search, log, &mut indexed, last) {
        tracing::warn!(error = %e, "search index not caught up at shutdown; the next start will");
    }
    let _ = search.query_row("PRAGMA search.wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// Indexes batches until row `through` is indexed (or the log has no more rows).
fn index_through(search: &Connection, log: &Connection, indexed: &mut i64, through: i64) -> Result<(), StoreError> {
    while *indexed < through {
        let before = *indexed;
        index_batch(search, log, indexed)?;
        if *indexed == before {
            break;
        }
    }
    Ok(())
}

/// Indexes up to [`INDEX_MAX`] rows above `indexed` in one transaction of the search file and
/// moves the watermark with them. A failure leaves the file as it was.
fn index_batch(search: &Connection, log: &Connection, indexed: &mut i64) -> Result<(), StoreError> {
    search.execute_batch("BEGIN IMMEDIATE")?;
    let done = add_rows(search, log, *indexed).and_then(|last| {
        search.execute_batch("COMMIT")?;
        Ok(last)
    });
    match done {
        Ok(last) => {
            *indexed = last;
            Ok(())
        }
        Err(e) => {
            if !search.is_autocommit() {
                let _ = search.execute_batch("ROLLBACK");
            }
            Err(e)
        }
    }
}

/// Adds the rows above `after` (at most [`INDEX_MAX`]) inside the caller's transaction; returns the
/// new watermark.
fn add_rows(search: &Connection, log: &Connection, after: i64) -> Result<i64, StoreError> {
    let mut select = log.prepare_cached(&format!("SELECT {COLUMNS} FROM audit_log WHERE id > ?1 ORDER BY id LIMIT ?2"))?;
    let mut fts = search.prepare_cached("INSERT INTO search.audit_fts (rowid, body) VALUES (?1, ?2)")?;
    let mut facets = search.prepare_cached(
        "INSERT INTO search.audit_facets (id, ts_ms, actor_kind, actor_id, connection_id, tier, decision, outcome) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut last: Option<(i64, String)> = None;
    let mut added = 0;
    while added < INDEX_MAX {
        let from = last.as_ref().map_or(after, |(id, _)| *id);
        let want = CHUNK.min(INDEX_MAX - added);
        let rows = select.query_map(rusqlite::params![from, want], StoredRow::from_sql)?.collect::<Result<Vec<_>, _>>()?;
        for row in &rows {
            let summary = serde_json::from_str(&row.summary).unwrap_or_else(|_| serde_json::Value::String(row.summary.clone()));
            fts.execute(rusqlite::params![row.id, row.search_text(&summary)])?;
            facets.execute(rusqlite::params![row.id, row.ts_ms, row.actor_kind, row.actor_id, row.connection_id, row.tier, row.decision, row.outcome])?;
        }
        let got = rows.len() as i64;
        added += got;
        if let Some(row) = rows.into_iter().last() {
            last = Some((row.id, row.hash));
        }
        if got < want {
            break;
        }
    }
    let Some((id, hash)) = last else { return Ok(after) };
    search
        .prepare_cached("UPDATE search.search_meta SET through_id = ?1, through_hash = ?2 WHERE singleton = 1")?
        .execute(rusqlite::params![id, hash])?;
    Ok(id)
}

/// Runs this thread at a lower CPU priority than the gateway's ([`INDEX_NICE`]): indexing is
/// background work and should not take a core from an agent call. On Linux a priority belongs
/// to a thread; elsewhere the thread keeps the default priority. Measured with 8 agents at a
/// steady 1,000 calls/s for 20 s: added p99 +6.7 ms at nice 10, +14.6 ms at nice 0, +7.7 ms
/// with no indexing at all (the rest is the CPU shared by client, gateway and sandbox).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), INDEX_NICE) {
            tracing::debug!(error = %e, "search index thread keeps its priority");
        }
    }
}
