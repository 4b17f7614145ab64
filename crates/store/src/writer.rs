//! The single writer thread with group commit.
//!
//! Callers hand a job (a closure over the connection plus an [`AuditAppender`]) to
//! [`Writer::transact`]. The thread takes every job queued at that moment, opens one
//! transaction, runs each job inside its own savepoint (a failing job rolls back alone), updates
//! the authenticated head, and commits once. The group commits with `synchronous=FULL` when any
//! of its jobs asked for [`Durability::Full`]. Only after the commit returns is any caller told
//! its result, so an acknowledged row is never lost to a process crash, and a row that could not
//! be committed is reported as an error: the action it describes must not run (fail closed).
//!
//! The search index and the filter table live in their own file, filled by their own thread
//! from the committed rows ([`crate::search`]); the writer starts and stops that thread, and
//! [`Writer::flush_index`] waits for it to catch up.
//!
//! WAL checkpoints run on a separate thread and connection (`PASSIVE`), never inside a commit.
//! Under a load that never pauses the writer copies the last frames itself now and then, so the
//! WAL starts over instead of growing without bound (see `checkpoint_loop`).
//!
//! Hand-written because no crate offers group commit over rusqlite; it is small and tested.

use std::any::Any;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use switchboard_core::{AuditRow, Clock, NewAuditRow, Sensitive};
use tokio::sync::{oneshot, watch};

use crate::audit::{self, StoredRow};
use crate::search::Indexer;
use crate::{Database, Durability, StoreError};

/// Most jobs committed in one transaction.
const MAX_GROUP: usize = 512;
/// How many times a group of several jobs yields the CPU to let more callers queue.
const YIELDS: usize = 4;
/// How often the checkpointer looks at the WAL.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// WAL length (frames of one page: 64 MB) past which the writer is asked to let the WAL start
/// over. Whenever the writer pauses for a moment a PASSIVE pass catches up and SQLite starts the
/// WAL over by itself; this is for a load that never pauses.
const RESTART_AT: i64 = 16_384;

/// The authenticated head after a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub id: i64,
    pub hash: String,
    pub mac: String,
}

type Work = Box<dyn FnOnce(&Connection, &mut AuditAppender<'_>) -> Result<Box<dyn Any + Send>, StoreError> + Send>;

struct Job {
    durability: Durability,
    /// The job runs exactly one statement (a single audit append): SQLite already makes a
    /// failing statement undo itself, so it needs no savepoint of its own.
    single_statement: bool,
    work: Work,
    reply: oneshot::Sender<Result<Box<dyn Any + Send>, StoreError>>,
}

enum Msg {
    Job(Job),
    Stop,
}

/// Appends audit rows inside a writer transaction, extending the chain.
pub struct AuditAppender<'a> {
    conn: &'a Connection,
    chain: &'a mut Chain,
    clock: &'a dyn Clock,
}

impl AuditAppender<'_> {
    /// Seals and inserts one row; it commits (or not) with the rest of the job.
    pub fn append(&mut self, row: &NewAuditRow) -> Result<AuditRow, StoreError> {
        let id = self.chain.last_id + 1;
        let stored = StoredRow::seal(id, self.clock.now_ms(), row, &self.chain.last_hash)?;
        stored.insert(self.conn)?;
        self.chain.last_id = id;
        self.chain.last_hash = stored.hash.clone();
        // Built from the caller's values: parsing the stored JSON back would cost every append.
        Ok(AuditRow {
            id,
            ts_ms: stored.ts_ms,
            actor_kind: row.actor_kind,
            actor_id: stored.actor_id,
            trigger: stored.trigger,
            correlation_id: stored.correlation_id,
            connection_id: stored.connection_id,
            action: stored.action,
            tier: row.tier,
            decision: stored.decision,
            outcome: stored.outcome,
            provider_ids: row.provider_ids.clone(),
            latency_ms: stored.latency_ms,
            summary: row.summary.clone(),
            prev_hash: stored.prev_hash,
            hash: stored.hash,
        })
    }
}

#[derive(Debug, Clone)]
struct Chain {
    last_id: i64,
    last_hash: String,
}

/// Handle to the writer thread. Cloning shares the same thread.
#[derive(Clone)]
pub struct Writer {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Msg>,
    head: watch::Receiver<Head>,
    threads: std::sync::Mutex<Vec<JoinHandle<()>>>,
    stop_checkpointer: Arc<std::sync::atomic::AtomicBool>,
    indexer: Indexer,
}

impl Writer {
    /// Starts the writer for `db`. Refuses to start when the log's last row does not match its
    /// authenticated head: Switchboard will not append to (and so re-seal) an altered log.
    pub fn start(db: &Database, key: Sensitive<Vec<u8>>, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let conn = db.writer_connection()?;
        let (last_id, last_hash) = audit::last_row(&conn)?;
        match audit::read_head(&conn)? {
            Some((hid, hhash, mac)) => {
                if !audit::head_mac_ok(key.expose(), hid, &hhash, &mac) || hid != last_id || hhash != last_hash {
                    return Err(StoreError::Corrupt {
                        path: db.path().to_path_buf(),
                        detail: "the audit log does not match its authenticated head; run `switchboard audit verify` \
                                 for details. Switchboard will not append to an altered log"
                            .into(),
                    });
                }
            }
            None if last_id > 0 => {
                return Err(StoreError::Corrupt {
                    path: db.path().to_path_buf(),
                    detail: "the audit log has rows but no authenticated head; run `switchboard audit verify`".into(),
                });
            }
            None => {}
        }
        let mac = audit::head_mac(key.expose(), last_id, &last_hash);
        let (head_tx, head_rx) = watch::channel(Head { id: last_id, hash: last_hash.clone(), mac });
        let indexer = Indexer::start(db, head_rx.clone())?;
        let (tx, rx) = mpsc::channel();
        let chain = Chain { last_id, last_hash };
        let restart = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let wants_restart = restart.clone();
        let writer_thread = std::thread::Builder::new()
            .name("switchboard-writer".into())
            .spawn(move || run(&conn, &rx, chain, &key, clock.as_ref(), &head_tx, &wants_restart))
            .map_err(|e| StoreError::Sqlite(format!("cannot start the writer thread: {e}")))?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ck_conn = db.writer_connection()?;
        let ck_stop = stop.clone();
        let checkpointer = std::thread::Builder::new()
            .name("switchboard-checkpoint".into())
            .spawn(move || checkpoint_loop(ck_conn, ck_stop, &restart))
            .map_err(|e| StoreError::Sqlite(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                tx,
                head: head_rx,
                threads: std::sync::Mutex::new(vec![writer_thread, checkpointer]),
                stop_checkpointer: stop,
                indexer,
            }),
        })
    }

    /// Runs `work` in the next group transaction and returns its result once committed.
    pub async fn transact<T, F>(&self, durability: Durability, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut AuditAppender<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let rx = self.submit(durability, work)?;
        Self::unpack(rx.await)
    }

    /// [`Writer::transact`] for threads outside an async runtime.
    pub fn transact_blocking<T, F>(&self, durability: Durability, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut AuditAppender<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let rx = self.submit(durability, work)?;
        Self::unpack(rx.blocking_recv())
    }

    /// Appends one audit row and waits for its commit.
    pub async fn append(&self, row: NewAuditRow, durability: Durability) -> Result<AuditRow, StoreError> {
        let rx = self.submit_job(durability, true, move |_, audit| audit.append(&row))?;
        Self::unpack(rx.await)
    }

    /// Blocking [`Writer::append`].
    pub fn append_blocking(&self, row: NewAuditRow, durability: Durability) -> Result<AuditRow, StoreError> {
        let rx = self.submit_job(durability, true, move |_, audit| audit.append(&row))?;
        Self::unpack(rx.blocking_recv())
    }

    /// Waits until every row committed so far is in the search index.
    pub async fn flush_index(&self) -> Result<(), StoreError> {
        let rx = self.inner.indexer.flush(self.inner.head.borrow().id)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Blocking [`Writer::flush_index`].
    pub fn flush_index_blocking(&self) -> Result<(), StoreError> {
        let rx = self.inner.indexer.flush(self.inner.head.borrow().id)?;
        rx.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }

    /// The head as of the last commit; changes are announced on this channel.
    pub fn head(&self) -> watch::Receiver<Head> {
        self.inner.head.clone()
    }

    /// Finishes queued jobs, stops the writer and the checkpointer, then lets the indexer catch
    /// up with the last commit and stops it too.
    pub fn shutdown(&self) {
        let _ = self.inner.tx.send(Msg::Stop);
        self.inner.stop_checkpointer.store(true, std::sync::atomic::Ordering::SeqCst);
        let threads: Vec<_> = self.inner.threads.lock().map(|mut t| t.drain(..).collect()).unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
        self.inner.indexer.stop();
    }

    fn submit<T, F>(&self, durability: Durability, work: F) -> Result<oneshot::Receiver<Result<Box<dyn Any + Send>, StoreError>>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut AuditAppender<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.submit_job(durability, false, work)
    }

    fn submit_job<T, F>(
        &self,
        durability: Durability,
        single_statement: bool,
        work: F,
    ) -> Result<oneshot::Receiver<Result<Box<dyn Any + Send>, StoreError>>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut AuditAppender<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let work: Work = Box::new(move |c, a| work(c, a).map(|t| Box::new(t) as Box<dyn Any + Send>));
        self.inner.tx.send(Msg::Job(Job { durability, single_statement, work, reply })).map_err(|_| StoreError::WriterGone)?;
        Ok(rx)
    }

    fn unpack<T: 'static>(r: Result<Result<Box<dyn Any + Send>, StoreError>, oneshot::error::RecvError>) -> Result<T, StoreError> {
        let boxed = r.map_err(|_| StoreError::WriterGone)??;
        boxed
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StoreError::Sqlite("writer returned a value of the wrong type".into()))
    }
}

fn run(
    conn: &Connection,
    rx: &mpsc::Receiver<Msg>,
    mut chain: Chain,
    key: &Sensitive<Vec<u8>>,
    clock: &dyn Clock,
    head_tx: &watch::Sender<Head>,
    restart: &std::sync::atomic::AtomicBool,
) {
    let mut sync_full = false;
    let mut stopping = false;
    while !stopping {
        let first = match rx.recv() {
            Ok(Msg::Job(j)) => j,
            Ok(Msg::Stop) | Err(_) => break,
        };
        let mut group = vec![first];
        let mut yields = 0;
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => group.push(j),
                Ok(Msg::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => {
                    // Several callers at once: let the ones the last commit just woke queue up,
                    // so one commit carries them all (a yield, not a sleep: a lone caller waits
                    // no longer).
                    if group.len() >= 2 && yields < YIELDS {
                        yields += 1;
                        std::thread::yield_now();
                        continue;
                    }
                    break;
                }
            }
        }
        let want_full = group.iter().any(|j| j.durability == Durability::Full);
        if want_full != sync_full {
            let mode = if want_full { "FULL" } else { "NORMAL" };
            match conn.pragma_update(None, "synchronous", mode) {
                Ok(()) => sync_full = want_full,
                Err(e) => {
                    let e = StoreError::from(e);
                    for j in group {
                        let _ = j.reply.send(Err(clone_err(&e)));
                    }
                    continue;
                }
            }
        }
        commit_group(conn, group, &mut chain, key.expose(), clock, head_tx);
        if restart.swap(false, std::sync::atomic::Ordering::SeqCst) {
            // See `checkpoint_loop`: copying the last frames here, where no commit can add
            // more, lets the next commit start the WAL over. Busy (the checkpointer is mid-pass)
            // or incomplete (a reader still needs old frames) only means: next time.
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::debug!(error = %e, "WAL catch-up skipped");
            }
        }
    }
}

fn commit_group(conn: &Connection, group: Vec<Job>, chain: &mut Chain, key: &[u8], clock: &dyn Clock, head_tx: &watch::Sender<Head>) {
    let before = chain.clone();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let e = StoreError::from(e);
        for j in group {
            let _ = j.reply.send(Err(clone_err(&e)));
        }
        return;
    }
    let mut results: Vec<(oneshot::Sender<_>, Result<Box<dyn Any + Send>, StoreError>)> = Vec::with_capacity(group.len());
    // Set when SQLite rolled the whole transaction back on its own (e.g. SQLITE_FULL): nothing
    // in the group can commit, and every caller gets that error.
    let mut aborted: Option<StoreError> = None;
    for job in group {
        if let Some(e) = &aborted {
            let _ = job.reply.send(Err(clone_err(e)));
            continue;
        }
        let saved = chain.clone();
        let single = job.single_statement;
        let begin = if single { Ok(()) } else { exec_cached(conn, "SAVEPOINT job") };
        let outcome = begin.and_then(|()| {
            let mut appender = AuditAppender { conn, chain, clock };
            (job.work)(conn, &mut appender)
        });
        let outcome = match outcome {
            Ok(v) if single => Ok(v),
            Ok(v) => match exec_cached(conn, "RELEASE job") {
                Ok(()) => Ok(v),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = &outcome {
            if conn.is_autocommit() {
                aborted = Some(clone_err(e));
            } else if !single {
                // Undo this job alone; if even that fails the whole group is rolled back below.
                let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            }
            *chain = saved;
        }
        results.push((job.reply, outcome));
    }
    if let Some(e) = aborted {
        *chain = before;
        tracing::error!(error = %e, "the database rolled the audit group back; nothing in it was written");
        for (reply, _) in results {
            let _ = reply.send(Err(clone_err(&e)));
        }
        return;
    }
    let mut commit = Ok(());
    if chain.last_id != before.last_id {
        let mac = audit::head_mac(key, chain.last_id, &chain.last_hash);
        commit = conn
            .execute(
                "INSERT INTO audit_head (singleton, last_id, last_hash, mac) VALUES (1, ?1, ?2, ?3) \
                 ON CONFLICT(singleton) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, mac = excluded.mac",
                rusqlite::params![chain.last_id, chain.last_hash, mac],
            )
            .map(|_| ())
            .map_err(StoreError::from);
    }
    if commit.is_ok() {
        commit = conn.execute_batch("COMMIT").map_err(StoreError::from);
    }
    match commit {
        Ok(()) => {
            if chain.last_id != before.last_id {
                let mac = audit::head_mac(key, chain.last_id, &chain.last_hash);
                head_tx.send_replace(Head { id: chain.last_id, hash: chain.last_hash.clone(), mac });
            }
            for (reply, r) in results {
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            *chain = before;
            tracing::error!(error = %e, "audit group commit failed; nothing in the group was written");
            for (reply, _) in results {
                let _ = reply.send(Err(clone_err(&e)));
            }
        }
    }
}

/// Runs a parameterless statement through the statement cache (no re-parse per job).
fn exec_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn clone_err(e: &StoreError) -> StoreError {
    match e {
        StoreError::Full(s) => StoreError::Full(s.clone()),
        StoreError::ReadOnly(s) => StoreError::ReadOnly(s.clone()),
        StoreError::Corrupt { path, detail } => StoreError::Corrupt { path: path.clone(), detail: detail.clone() },
        StoreError::Io(s) => StoreError::Io(s.clone()),
        other => StoreError::Sqlite(other.to_string()),
    }
}

fn checkpoint_loop(conn: Connection, stop: Arc<std::sync::atomic::AtomicBool>, restart: &std::sync::atomic::AtomicBool) {
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(CHECKPOINT_EVERY);
        // PASSIVE never blocks the writer; errors (e.g. a read-only disk) are retried next tick.
        let frames = match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
            Ok(frames) => frames,
            Err(e) => {
                tracing::debug!(error = %e, "WAL checkpoint skipped");
                continue;
            }
        };
        // Under a steady stream of commits a PASSIVE pass never finds the WAL fully copied at the
        // moment of the next commit, so SQLite never starts it over and it grows without bound.
        // Past RESTART_AT frames the writer is asked to copy the last few frames itself, between
        // two groups (about the cost of two fsyncs, once in a long while). A RESTART checkpoint
        // from here would hold every commit back while it waits for readers: tens of ms.
        if frames >= RESTART_AT {
            restart.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}
