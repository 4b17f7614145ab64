//! Store integration tests over real SQLite files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::{Rng, SeedableRng, rngs::StdRng};
use rusqlite::Connection;
use switchboard_core::{NewAuditRow, Sensitive, SystemClock};
use switchboard_store::audit::{self, Anchor};
use switchboard_store::db::open_read_only;
use switchboard_store::{Database, Durability, StoreError, StoreOptions, Writer, migrations, search};

const KEY: &[u8] = b"test-checkpoint-key-0123456789abcdef";

fn key() -> Sensitive<Vec<u8>> {
    Sensitive::new(KEY.to_vec())
}

fn row(i: usize) -> NewAuditRow {
    let mut r = NewAuditRow::system(
        if i % 3 == 0 { "agent.call" } else { "gateway.tick" },
        serde_json::json!({ "n": i, "note": format!("row number {i}"), "email": format!("user{i}@example.com") }),
    );
    r.provider_ids = vec![format!("msg_{i}")];
    r.latency_ms = Some(i as i64);
    r
}

/// Creates a database with `n` rows and returns its path (writer shut down, WAL checkpointed).
fn seeded(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("switchboard.db");
    let db = Database::open(&path, StoreOptions::default()).expect("open a new database");
    let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("start writer");
    for i in 0..n {
        w.append_blocking(row(i), Durability::Normal).expect("append");
    }
    w.shutdown();
    path
}

fn verify(path: &Path, anchor: Option<&Anchor>) -> switchboard_core::VerifyReport {
    let conn = Connection::open(path).expect("open for verify");
    audit::verify(&conn, KEY, anchor).expect("verify runs")
}

#[test]
fn migrations_run_up_from_an_empty_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.db");
    Database::open(&path, StoreOptions::default()).expect("a new database opens");
    let conn = Connection::open(&path).expect("open");
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("user_version");
    assert_eq!(v, migrations::latest(), "a new database should be at the latest schema version");
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal_mode");
    assert_eq!(mode, "wal", "the database must be in WAL mode");
    let tables = |conn: &Connection, names: &[&str]| -> Vec<i64> {
        names
            .iter()
            .map(|t| conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = ?1", [t], |r| r.get(0)).expect("schema query"))
            .collect()
    };
    assert_eq!(tables(&conn, &["audit_log", "audit_head", "approvals"]), [1, 1, 1], "the log's tables should exist after migrations");
    assert_eq!(tables(&conn, &["audit_fts", "audit_facets"]), [0, 0], "the search index belongs in its own file, not in the log's");
    let search = Connection::open(search::path_for(&path)).expect("open the search file");
    assert_eq!(
        tables(&search, &["audit_fts", "audit_facets", "search_meta"]),
        [1, 1, 1],
        "opening a database should create its search file with the index tables"
    );
    let v: i64 = search.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("user_version");
    assert_eq!(v, search::VERSION, "the search file should carry its schema version");
    // Opening again is a no-op, not a second migration.
    Database::open(&path, StoreOptions::default()).expect("reopening a current database works");
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = seeded(dir.path(), 3);
    Connection::open(&path).expect("open").pragma_update(None, "user_version", 99).expect("bump version");
    let before = std::fs::read(&path).expect("read");
    let err = Database::open(&path, StoreOptions::default()).expect_err("a newer schema must be refused");
    assert!(matches!(err, StoreError::NewerSchema { found: 99, .. }), "wrong error for a newer schema: {err}");
    assert!(err.to_string().contains("newer Switchboard"), "message should tell the user to upgrade: {err}");
    assert_eq!(std::fs::read(&path).expect("read"), before, "a refused database file was modified");
}

#[test]
fn a_corrupt_file_is_refused_and_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.db");
    std::fs::write(&path, b"this is not a database at all, just some text that got here").expect("write");
    let before = std::fs::read(&path).expect("read");
    let err = Database::open(&path, StoreOptions::default()).expect_err("garbage must be refused");
    assert_eq!(err.code(), switchboard_core::ErrorCode::StorageCorrupt, "wrong code: {err}");
    assert!(err.to_string().contains(&path.display().to_string()), "the error should name the file: {err}");
    assert_eq!(std::fs::read(&path).expect("read"), before, "a corrupt file was overwritten");

    // A real SQLite header with a damaged body.
    let path2 = seeded(&dir.path().join("x").tap_mkdir(), 20);
    let mut bytes = std::fs::read(&path2).expect("read");
    for b in bytes.iter_mut().skip(100).take(4000) {
        *b = 0xA5;
    }
    std::fs::write(&path2, &bytes).expect("write");
    let err = Database::open(&path2, StoreOptions::default()).expect_err("a damaged database must be refused");
    assert_eq!(err.code(), switchboard_core::ErrorCode::StorageCorrupt, "wrong code for a damaged file: {err}");
    assert_eq!(std::fs::read(&path2).expect("read"), bytes, "a damaged file was modified");
}

trait TapMkdir {
    fn tap_mkdir(self) -> PathBuf;
}
impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> PathBuf {
        std::fs::create_dir_all(&self).expect("mkdir");
        self
    }
}

#[test]
fn a_failing_job_rolls_back_alone_and_others_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.db");
    let db = Database::open(&path, StoreOptions::default()).expect("open");
    let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("writer");
    w.append_blocking(row(0), Durability::Full).expect("first append");
    let r: Result<(), StoreError> = w.transact_blocking(Durability::Normal, |_, a| {
        a.append(&row(1))?;
        Err(StoreError::Invalid("the action failed after its audit row".into()))
    });
    assert!(r.is_err(), "the failing job should report its error");
    let ok = w.append_blocking(row(2), Durability::Normal).expect("a later append");
    assert_eq!(ok.id, 2, "the failed job's row must not take an id");
    w.shutdown();
    let rep = verify(&path, None);
    assert!(rep.intact && rep.rows == 2, "after a rolled-back job the log should hold 2 intact rows: {rep:?}");
}

#[test]
fn concurrent_appends_are_grouped_and_stay_one_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.db");
    let db = Database::open(&path, StoreOptions::default()).expect("open");
    let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("writer");
    let mut threads = Vec::new();
    for t in 0..8 {
        let w = w.clone();
        threads.push(std::thread::spawn(move || {
            (0..100).map(|i| w.append_blocking(row(t * 1000 + i), if i % 10 == 0 { Durability::Full } else { Durability::Normal }).expect("append").id).collect::<Vec<_>>()
        }));
    }
    let mut ids: Vec<i64> = threads.into_iter().flat_map(|t| t.join().expect("thread")).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=800).collect::<Vec<_>>(), "every acknowledged append should have a unique, contiguous id");
    assert_eq!(w.head().borrow().id, 800, "the published head should be the last row");
    w.shutdown();
    let rep = verify(&path, None);
    assert!(rep.intact && rep.rows == 800, "concurrent appends broke the chain: {rep:?}");
}

#[test]
fn the_size_limit_refuses_appends_without_half_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.db");
    let db = Database::open(&path, StoreOptions { max_page_count: Some(40) }).expect("open");
    let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("writer");
    let mut acked = 0;
    let mut err = None;
    for i in 0..5000 {
        match w.append_blocking(row(i), Durability::Normal) {
            Ok(_) => acked += 1,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let err = err.expect("a 40-page database should fill up");
    assert_eq!(err.code(), switchboard_core::ErrorCode::StorageFull, "a full database should say storage_full: {err}");
    w.shutdown();
    let rep = verify(&path, None);
    assert!(rep.intact, "a full database left a broken chain: {rep:?}");
    assert_eq!(rep.rows, acked, "rows on disk should be exactly the acknowledged ones");
}

#[test]
fn an_altered_log_is_not_resealed_by_a_new_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = seeded(dir.path(), 10);
    Connection::open(&path).expect("open").execute("DELETE FROM audit_log WHERE id = 10", []).expect("truncate");
    let db = Database::open(&path, StoreOptions::default()).expect("open");
    let err = Writer::start(&db, key(), Arc::new(SystemClock)).err().expect("the writer must refuse a truncated log");
    assert!(err.to_string().contains("audit verify"), "the refusal should point at `audit verify`: {err}");
}

// ---- tamper evidence property test -------------------------------------------------------

const ROWS: usize = 24;
const TEXT_COLUMNS: &[&str] = &["actor_kind", "actor_id", "action", "decision", "outcome", "provider_ids", "summary", "trigger", "connection_id", "tier", "correlation_id"];

fn mutate(conn: &Connection, rng: &mut StdRng) -> String {
    let n = ROWS as i64;
    match rng.random_range(0..7) {
        0 => {
            let id = rng.random_range(1..=n);
            let col = TEXT_COLUMNS[rng.random_range(0..TEXT_COLUMNS.len())];
            conn.execute(&format!("UPDATE audit_log SET {col} = coalesce({col}, '') || 'x' WHERE id = ?1"), [id]).expect("edit");
            format!("edit {col} of row {id}")
        }
        1 => {
            let id = rng.random_range(1..=n);
            let col = ["ts_ms", "latency_ms"][rng.random_range(0..2)];
            conn.execute(&format!("UPDATE audit_log SET {col} = coalesce({col}, 0) + 1 WHERE id = ?1"), [id]).expect("edit");
            format!("edit {col} of row {id}")
        }
        2 => {
            let id = rng.random_range(1..=n);
            conn.execute("DELETE FROM audit_log WHERE id = ?1", [id]).expect("delete");
            format!("delete row {id}")
        }
        3 => {
            // Insert a forged row (copy of another with a fresh id), in the middle or the tail.
            let src = rng.random_range(1..=n);
            let new_id = if rng.random_bool(0.5) { n + 1 } else { rng.random_range(1..=n) as f64 as i64 + 1000 };
            conn.execute(
                &format!("INSERT INTO audit_log SELECT ?1, ts_ms, actor_kind, actor_id, trigger, correlation_id, connection_id, action, tier, decision, outcome, provider_ids, latency_ms, summary, prev_hash, hash FROM audit_log WHERE id = ?2"),
                [new_id, src],
            )
            .expect("insert");
            format!("insert copy of row {src} as {new_id}")
        }
        4 => {
            // Reorder: swap everything but the ids of two rows.
            let a = rng.random_range(1..=n);
            let mut b = rng.random_range(1..=n);
            while b == a {
                b = rng.random_range(1..=n);
            }
            conn.execute_batch(&format!(
                "UPDATE audit_log SET id = -1 WHERE id = {a}; UPDATE audit_log SET id = {a} WHERE id = {b}; UPDATE audit_log SET id = {b} WHERE id = -1;"
            ))
            .expect("swap");
            format!("swap rows {a} and {b}")
        }
        5 => {
            let k = rng.random_range(1..=4);
            conn.execute("DELETE FROM audit_log WHERE id > ?1", [n - k]).expect("truncate");
            if rng.random_bool(0.5) {
                // Also try to move the head back without the key.
                conn.execute(
                    "UPDATE audit_head SET last_id = (SELECT max(id) FROM audit_log), last_hash = (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1)",
                    [],
                )
                .expect("move head");
                format!("truncate last {k} rows and move the head")
            } else {
                format!("truncate last {k} rows")
            }
        }
        _ => {
            // Edit a row and recompute every hash after it, as an attacker without the key could.
            let from = rng.random_range(1..=n);
            conn.execute("UPDATE audit_log SET outcome = 'rewritten' WHERE id = ?1", [from]).expect("edit");
            let mut stmt = conn.prepare(&format!("SELECT {} FROM audit_log WHERE id >= ?1 ORDER BY id", "id, ts_ms, actor_kind, actor_id, trigger, correlation_id, connection_id, action, tier, decision, outcome, provider_ids, latency_ms, summary, prev_hash, hash")).expect("prepare");
            let rows: Vec<audit::StoredRow> = stmt
                .query_map([from], |r| {
                    Ok(audit::StoredRow {
                        id: r.get(0)?, ts_ms: r.get(1)?, actor_kind: r.get(2)?, actor_id: r.get(3)?, trigger: r.get(4)?,
                        correlation_id: r.get(5)?, connection_id: r.get(6)?, action: r.get(7)?, tier: r.get(8)?, decision: r.get(9)?,
                        outcome: r.get(10)?, provider_ids: r.get(11)?, latency_ms: r.get(12)?, summary: r.get(13)?, prev_hash: r.get(14)?, hash: r.get(15)?,
                    })
                })
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            let mut prev: String = conn.query_row("SELECT coalesce((SELECT hash FROM audit_log WHERE id = ?1), ?2)", rusqlite::params![from - 1, audit::GENESIS_HASH], |r| r.get(0)).expect("prev");
            for mut r in rows {
                r.prev_hash = prev.clone();
                r.hash = r.compute_hash();
                conn.execute("UPDATE audit_log SET prev_hash = ?1, hash = ?2 WHERE id = ?3", rusqlite::params![r.prev_hash, r.hash, r.id]).expect("rehash");
                prev = r.hash;
            }
            conn.execute("UPDATE audit_head SET last_hash = ?1", [prev]).expect("move head");
            format!("rewrite chain from row {from}")
        }
    }
}

/// Replaces a database file with `bytes`, dropping any WAL left by the previous case.
fn restore(path: &Path, bytes: &[u8]) {
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    std::fs::write(path, bytes).expect("copy template");
}

#[test]
fn every_random_mutation_is_detected_and_an_untouched_log_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let template = seeded(dir.path(), ROWS);
    let clean = verify(&template, None);
    assert!(clean.intact && clean.rows == ROWS as i64, "an untouched log must verify: {clean:?}");
    let template_bytes = std::fs::read(&template).expect("read template");
    let work = dir.path().join("work.db");
    let seed: u64 = std::env::var("AUDIT_PROPTEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand::rng().random());
    let mut rng = StdRng::seed_from_u64(seed);
    let cases = 1200;
    for case in 0..cases {
        restore(&work, &template_bytes);
        let conn = Connection::open(&work).expect("open copy");
        let what = mutate(&conn, &mut rng);
        let report = audit::verify(&conn, KEY, None).expect("verify");
        assert!(!report.intact, "case {case} (seed {seed}): `{what}` was NOT detected by verify: {report:?}");
        assert!(report.first_bad.is_some(), "case {case}: a broken report must name the first bad row ({what})");
        // Every few cases, check that an untouched copy still verifies (no false alarms).
        drop(conn);
        if case % 100 == 0 {
            restore(&work, &template_bytes);
            let rep = verify(&work, None);
            assert!(rep.intact, "an untouched copy failed to verify (false alarm): {rep:?}");
        }
    }
    println!("{cases} random mutations detected (seed {seed})");
}

#[test]
fn restoring_an_older_copy_is_detected_by_the_keychain_anchor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = seeded(dir.path(), 5);
    let old_copy = std::fs::read(&path).expect("read");
    let db = Database::open(&path, StoreOptions::default()).expect("open");
    let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("writer");
    for i in 5..9 {
        w.append_blocking(row(i), Durability::Normal).expect("append");
    }
    let head = w.head().borrow().clone();
    w.shutdown();
    let anchor = Anchor { id: head.id, hash: head.hash.clone(), mac: head.mac.clone() };
    let rep = verify(&path, Some(&anchor));
    assert!(rep.intact, "the current database must verify against its own anchor: {rep:?}");
    std::fs::write(&path, &old_copy).expect("restore old copy");
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
    let rep = verify(&path, Some(&anchor));
    assert!(!rep.intact, "restoring an older copy of the database went unnoticed: {rep:?}");
    assert_eq!(rep.first_bad.as_ref().map(|b| b.id), Some(6), "should name the first missing row: {rep:?}");
}

#[test]
fn search_finds_newest_first_with_filters_and_paging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = seeded(dir.path(), 30);
    let conn = open_read_only(&path).expect("open");
    assert_eq!(search::indexed_through(&conn).expect("watermark"), 30, "a writer that stopped should have indexed every row");
    let q = |text: &str, before: Option<i64>| switchboard_core::AuditQuery { text: Some(text.into()), before_id: before, limit: Some(5), ..Default::default() };
    let page = audit::list(&conn, &q("agent.call", None)).expect("search");
    let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![28, 25, 22, 19, 16], "search should return matching rows newest first");
    assert_eq!(page.next_before_id, Some(16), "a full page should offer the next page");
    let next = audit::list(&conn, &q("agent.call", page.next_before_id)).expect("page 2");
    assert_eq!(next.rows.first().map(|r| r.id), Some(13), "page 2 should continue below page 1");
    let one = audit::list(&conn, &q("user17@example.com", None)).expect("email search");
    assert_eq!(one.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![18], "an e-mail address should find exactly its row");
    let none = audit::list(&conn, &q("zzzz-no-such-word", None)).expect("no match");
    assert!(none.rows.is_empty() && none.next_before_id.is_none(), "a no-match search returned rows");
    let prefix = audit::list(&conn, &q("numb*", None)).expect("prefix");
    assert_eq!(prefix.rows.len(), 5, "prefix search should match every row");
    let hostile = audit::list(&conn, &q("\" OR * NEAR(", None)).expect("FTS syntax in user text must not error");
    assert!(hostile.rows.is_empty(), "syntax characters should be taken literally");
}

/// The text searches of `search_finds_newest_first_with_filters_and_paging`, answered the same
/// way whether or not the rows are in the index.
fn assert_found(conn: &Connection, how: &str) {
    let q = |text: &str, before: Option<i64>| switchboard_core::AuditQuery { text: Some(text.into()), before_id: before, limit: Some(5), ..Default::default() };
    let page = audit::list(conn, &q("agent.call", None)).expect("search");
    assert_eq!(page.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![28, 25, 22, 19, 16], "{how}: matching rows should be found newest first");
    let next = audit::list(conn, &q("agent.call", page.next_before_id)).expect("page 2");
    assert_eq!(next.rows.first().map(|r| r.id), Some(13), "{how}: paging should continue below page 1");
    let one = audit::list(conn, &q("user17@example.com", None)).expect("email");
    assert_eq!(one.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![18], "{how}: an e-mail should find exactly its row");
}

#[test]
fn rows_not_yet_in_the_search_index_are_still_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = seeded(dir.path(), 30);
    // As after losing the search file: the rows are committed, there is no index.
    std::fs::remove_file(search::path_for(&path)).expect("remove the search file");
    let conn = open_read_only(&path).expect("open");
    assert!(!search::path_for(&path).exists(), "a read-only open must not create the search file");
    assert_eq!(search::indexed_through(&conn).expect("watermark"), 0, "with no search file nothing is indexed");
    assert_found(&conn, "no search file");
    drop(conn);
    // A writer started on this database rebuilds the index.
    assert_rebuilt(&path, "no search file");
}

/// Opens the 30-row database at `path`, as the gateway does, and checks that its indexer builds
/// the whole index and that searches through it find what they should.
fn assert_rebuilt(path: &Path, how: &str) {
    let db = Database::open(path, StoreOptions::default()).expect("the database opens whatever the search file holds");
    let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("writer");
    w.flush_index_blocking().expect("flush index");
    let conn = db.reader().expect("reader");
    assert_eq!(search::indexed_through(&conn).expect("watermark"), 30, "{how}: the indexer should index every row of this log");
    assert_found(&conn, &format!("{how}, rebuilt"));
    w.shutdown();
}

#[test]
fn a_search_file_that_does_not_match_the_log_is_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = seeded(&dir.path().join("a").tap_mkdir(), 30);
    // Another log with the same rows at other times, so other hashes: its index is of another
    // history (as after restoring a backup of switchboard.db alone).
    let other = seeded(&dir.path().join("b").tap_mkdir(), 30);
    let cases: [(&str, &dyn Fn(&Path)); 3] = [
        ("another history", &|to: &Path| {
            std::fs::copy(search::path_for(&other), to).expect("copy the other log's index");
        }),
        ("not SQLite", &|to: &Path| std::fs::write(to, b"this is not a database").expect("write garbage")),
        ("another schema version", &|to: &Path| {
            Connection::open(to).expect("open").pragma_update(None, "user_version", 99).expect("bump");
        }),
    ];
    for (how, damage) in cases {
        damage(&search::path_for(&path));
        let conn = open_read_only(&path).expect("a read-only open works whatever the search file holds");
        assert_eq!(search::indexed_through(&conn).expect("watermark"), 0, "{how}: offline search must not use a search file that does not match");
        assert_found(&conn, how);
        drop(conn);
        assert_rebuilt(&path, how);
    }
}

#[test]
fn appends_never_wait_for_the_search_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.db");
    let db = Database::open(&path, StoreOptions::default()).expect("open");
    let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("writer");
    // Hold the search file's write lock, as a long index batch would.
    let holder = Connection::open(search::path_for(&path)).expect("open the search file");
    holder.execute_batch("BEGIN IMMEDIATE").expect("take the search file's lock");
    let started = std::time::Instant::now();
    for i in 0..50 {
        w.append_blocking(row(i), Durability::Full).expect("an append must not depend on the search index");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "50 appends took {:?} while the search file was locked: appends are waiting for the index",
        started.elapsed()
    );
    holder.execute_batch("COMMIT").expect("release");
    w.flush_index_blocking().expect("flush index once the lock is free");
    let conn = db.reader().expect("reader");
    assert_eq!(search::indexed_through(&conn).expect("watermark"), 50, "the index should catch up once its file is free");
    w.shutdown();
}

/// Rows with every filter column varied: agents, a person, the system, three connections, read
/// and write tiers, allow and deny.
fn varied_row(i: usize) -> NewAuditRow {
    let mut r = match i % 7 {
        6 => NewAuditRow::system("gateway.tick", serde_json::json!({ "n": i })),
        5 => NewAuditRow::user("control.grant", "owner", serde_json::json!({ "n": i })),
        _ => {
            let mut r = NewAuditRow::system("hubspot.list_contacts", serde_json::json!({ "n": i, "note": format!("call {i}") }));
            r.actor_kind = switchboard_core::ActorKind::Agent;
            r.actor_id = format!("agent-{}", i % 2);
            r.connection_id = Some(format!("conn-{}", i % 3));
            r.tier = Some(if i % 4 == 0 { switchboard_core::Tier::Write } else { switchboard_core::Tier::Read });
            let denied = i % 5 == 0;
            r.decision = if denied { "deny" } else { "allow" }.into();
            r.outcome = if denied { "not_granted" } else { "ok" }.into();
            r
        }
    };
    r.correlation_id = Some(format!("call_{i}"));
    r
}

#[test]
fn filters_page_through_indexed_and_not_yet_indexed_rows_alike() {
    use switchboard_core::{ActorKind, AuditQuery, Tier};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.db");
    let search_file = search::path_for(&path);
    let partial = dir.path().join("index-through-35.db");
    let append = |range: std::ops::Range<usize>| {
        let db = Database::open(&path, StoreOptions::default()).expect("open");
        let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("writer");
        let rows: Vec<switchboard_core::AuditRow> = range.map(|i| w.append_blocking(varied_row(i), Durability::Normal).expect("append")).collect();
        w.shutdown();
        rows
    };
    let mut rows = append(0..35);
    // The index as it was when the log ended at row 35 (a stopped writer leaves it caught up).
    let checkpoint = || Connection::open(&search_file).expect("open").query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    checkpoint();
    std::fs::copy(&search_file, &partial).expect("keep the index through row 35");
    rows.extend(append(35..60));
    let queries = [
        AuditQuery { actor_kind: Some(ActorKind::User), ..Default::default() },
        AuditQuery { decision: Some("deny".into()), ..Default::default() },
        AuditQuery { agent: Some("agent-1".into()), ..Default::default() },
        AuditQuery { connection: Some("conn-2".into()), tier: Some(Tier::Read), ..Default::default() },
        AuditQuery { outcome: Some("ok".into()), agent: Some("agent-0".into()), ..Default::default() },
        AuditQuery { since_ms: Some(rows[20].ts_ms), until_ms: Some(rows[45].ts_ms), ..Default::default() },
        AuditQuery { tier: Some(Tier::Write), text: Some("call".into()), ..Default::default() },
    ];
    // What each query should return, newest first, worked out over the rows as appended.
    let expected = |q: &AuditQuery| -> Vec<i64> {
        let mut ids: Vec<i64> = rows
            .iter()
            .filter(|r| {
                q.actor_kind.is_none_or(|k| k == r.actor_kind)
                    && q.decision.as_deref().is_none_or(|d| d == r.decision)
                    && q.agent.as_deref().is_none_or(|a| r.actor_kind == ActorKind::Agent && a == r.actor_id)
                    && q.connection.as_deref().is_none_or(|c| Some(c) == r.connection_id.as_deref())
                    && q.tier.is_none_or(|t| Some(t) == r.tier)
                    && q.outcome.as_deref().is_none_or(|o| o == r.outcome)
                    && q.since_ms.is_none_or(|t| r.ts_ms >= t)
                    && q.until_ms.is_none_or(|t| r.ts_ms < t)
                    && q.text.as_deref().is_none_or(|t| r.summary.to_string().contains(t))
            })
            .map(|r| r.id)
            .collect();
        ids.reverse();
        ids
    };
    // Every page of a query, four rows at a time.
    let paged = |conn: &Connection, q: &AuditQuery| -> Vec<i64> {
        let mut ids = Vec::new();
        let mut before = None;
        for _ in 0..100 {
            let page = audit::list(conn, &AuditQuery { limit: Some(4), before_id: before, ..q.clone() }).expect("list");
            ids.extend(page.rows.iter().map(|r| r.id));
            match page.next_before_id {
                Some(b) => before = Some(b),
                None => return ids,
            }
        }
        panic!("paging never ended for {q:?}");
    };
    let conn = open_read_only(&path).expect("open");
    assert_eq!(search::indexed_through(&conn).expect("watermark"), 60, "a writer that stopped should have indexed every row");
    for q in &queries {
        assert_eq!(paged(&conn, q), expected(q), "indexed rows: the filter {q:?} returned the wrong rows");
    }
    let used = |conn: &Connection| {
        let mut v = audit::agent_actions_used_since(conn, "conn-1", rows[10].ts_ms).expect("used");
        v.sort();
        v
    };
    let all_used = used(&conn);
    assert!(!all_used.is_empty(), "the scope checklist should see agent calls on conn-1");
    drop(conn);
    // As after a crash before the last index batch: rows 36..60 are committed but not indexed.
    checkpoint();
    std::fs::copy(&partial, &search_file).expect("put the index through row 35 back");
    let conn = open_read_only(&path).expect("open");
    assert_eq!(search::indexed_through(&conn).expect("watermark"), 35, "an index of an earlier state of the same log should be used");
    for q in &queries {
        assert_eq!(paged(&conn, q), expected(q), "rows not yet indexed: the filter {q:?} returned the wrong rows");
    }
    assert_eq!(used(&conn), all_used, "the scope checklist should see calls that are not indexed yet");
    drop(conn);
    // The next writer catches the filter table up.
    let db = Database::open(&path, StoreOptions::default()).expect("open");
    let w = Writer::start(&db, key(), Arc::new(SystemClock)).expect("writer");
    w.flush_index_blocking().expect("flush index");
    w.shutdown();
    let conn = open_read_only(&path).expect("open");
    assert_eq!(search::indexed_through(&conn).expect("watermark"), 60, "the indexer should index the rows the copy lacked");
    let n: i64 = conn.query_row("SELECT count(*) FROM search.audit_facets", [], |r| r.get(0)).expect("count");
    assert_eq!(n, 60, "every row should have exactly one facet row");
    for q in &queries {
        assert_eq!(paged(&conn, q), expected(q), "caught up: the filter {q:?} returned the wrong rows");
    }
}
