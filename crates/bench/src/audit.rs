//! `switchboard-bench audit`.
//!
//! - fsync: rows appended one at a time with `Durability::Full`, so each row is its own
//!   fsynced commit (the class approvals and write decisions use).
//! - grouped: many concurrent appenders (`--appenders`, like agents' read calls arriving
//!   together) through the same writer with `Durability::Normal`; the writer groups whatever is
//!   queued into one commit. Not one giant transaction: a group is at most what is queued.
//! - search: newest-first queries over a log of `--rows` rows with a mix of common, rare,
//!   prefix and no-match terms, with and without filters; p50/p95 over all queries.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rand::{Rng, SeedableRng, rngs::StdRng};
use switchboard_core::{ActorKind, AuditQuery, NewAuditRow, Sensitive, SystemClock, Tier};
use switchboard_store::{Database, Durability, StoreOptions, Writer, audit};

#[derive(clap::Args)]
pub struct Args {
    /// Rows in the log that search runs over.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Rows for the one-fsync-per-row figure.
    #[arg(long, default_value_t = 2_000)]
    fsync_rows: usize,
    /// Concurrent appenders for the grouped figure.
    #[arg(long, default_value_t = 64)]
    appenders: usize,
    /// Times each search query runs.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Where to put the databases (default: a temp dir, removed afterwards).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

const ACTIONS: &[(&str, Tier)] = &[
    ("hubspot.get_contact", Tier::Read),
    ("hubspot.search_contacts", Tier::Read),
    ("hubspot.update_deal_stage", Tier::Write),
    ("gmail.list_messages", Tier::Read),
    ("gmail.send_email", Tier::Write),
    ("calendar.freebusy", Tier::Read),
    ("slack.post_message", Tier::Write),
    ("stripe.list_invoices", Tier::Read),
    ("stripe.refund", Tier::Write),
    ("stripe.get_customer", Tier::Read),
];
const WORDS: &[&str] = &["invoice", "overdue", "renewal", "meeting", "follow", "lead", "customer", "refund", "escalation", "billing", "triage", "summary"];

fn row(rng: &mut StdRng, i: usize) -> NewAuditRow {
    let (action, tier) = ACTIONS[rng.random_range(0..ACTIONS.len())];
    let decision = match rng.random_range(0..100) {
        0..=84 => "allow",
        85..=95 => "queue",
        _ => "deny",
    };
    let words: Vec<&str> = (0..6).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect();
    NewAuditRow {
        actor_kind: if i.is_multiple_of(10) { ActorKind::User } else { ActorKind::Agent },
        actor_id: format!("agent-{}", i % 7),
        trigger: Some(format!("mcp:tools/call {action}")),
        correlation_id: Some(format!("c{i:x}")),
        connection_id: Some(action.split('.').next().unwrap_or("x").to_string()),
        action: action.to_string(),
        tier: Some(tier),
        decision: decision.to_string(),
        outcome: if decision == "allow" { "ok".into() } else { "pending".into() },
        provider_ids: vec![format!("obj_{i}")],
        latency_ms: Some(rng.random_range(20..400)),
        summary: serde_json::json!({ "to": format!("user{i}@example.com"), "note": words.join(" ") }),
    }
}

fn key() -> Sensitive<Vec<u8>> {
    Sensitive::new(b"bench-checkpoint-key".to_vec())
}

fn open_writer(path: &Path) -> Result<Writer, String> {
    let db = Database::open(path, StoreOptions::default()).map_err(|e| e.to_string())?;
    Writer::start(&db, key(), Arc::new(SystemClock)).map_err(|e| e.to_string())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Appends `total` rows from `appenders` threads; returns rows/s.
fn grouped(writer: &Writer, total: usize, appenders: usize, seed: u64) -> Result<f64, String> {
    let per = total.div_ceil(appenders);
    let start = Instant::now();
    let handles: Vec<_> = (0..appenders)
        .map(|t| {
            let w = writer.clone();
            std::thread::spawn(move || -> Result<usize, String> {
                let mut rng = StdRng::seed_from_u64(seed + t as u64);
                let mut n = 0;
                for i in 0..per {
                    w.append_blocking(row(&mut rng, t * per + i), Durability::Normal).map_err(|e| e.to_string())?;
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let mut n = 0;
    for h in handles {
        n += h.join().map_err(|_| "an appender thread panicked".to_string())??;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub fn run(args: &Args) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    println!("switchboard-bench audit (data in {})", dir.display());

    // One fsync per row.
    let fsync_path = dir.join("fsync.db");
    let _ = std::fs::remove_file(&fsync_path);
    let w = open_writer(&fsync_path)?;
    let mut rng = StdRng::seed_from_u64(1);
    let start = Instant::now();
    for i in 0..args.fsync_rows {
        w.append_blocking(row(&mut rng, i), Durability::Full).map_err(|e| e.to_string())?;
    }
    let fsync_rate = args.fsync_rows as f64 / start.elapsed().as_secs_f64();
    w.shutdown();
    println!("  one fsync per row (synchronous=FULL, 1 row/commit): {fsync_rate:>10.0} rows/s over {} rows", args.fsync_rows);

    // The writer's own ceiling: one caller, 100 rows per job (no hand-off per row).
    let ceiling_path = dir.join("ceiling.db");
    let _ = std::fs::remove_file(&ceiling_path);
    let w = open_writer(&ceiling_path)?;
    let mut rng = StdRng::seed_from_u64(2);
    let ceiling_rows = 50_000usize;
    let start = Instant::now();
    for chunk in 0..ceiling_rows / 100 {
        let rows: Vec<NewAuditRow> = (0..100).map(|i| row(&mut rng, chunk * 100 + i)).collect();
        w.transact_blocking(Durability::Normal, move |_, a| {
            for r in &rows {
                a.append(r)?;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    }
    let ceiling = ceiling_rows as f64 / start.elapsed().as_secs_f64();
    w.shutdown();
    println!("  writer ceiling (1 caller, 100 rows per job):       {ceiling:>10.0} rows/s over {ceiling_rows} rows");

    // Grouped: build the search log with concurrent appenders; the first 200k rows are timed.
    let big_path = dir.join("audit-1m.db");
    let _ = std::fs::remove_file(&big_path);
    let w = open_writer(&big_path)?;
    let timed = args.rows.min(200_000);
    let grouped_rate = grouped(&w, timed, args.appenders, 100)?;
    println!("  grouped ({} concurrent appenders, NORMAL):         {grouped_rate:>10.0} rows/s over {timed} rows", args.appenders);
    if args.rows > timed {
        let rest_rate = grouped(&w, args.rows - timed, args.appenders, 200)?;
        println!("  (filling the log to {} rows at {rest_rate:.0} rows/s)", args.rows);
    }
    w.shutdown();

    // Search.
    let conn = switchboard_store::db::open_read_only(&big_path).map_err(|e| e.to_string())?;
    let total = audit::count(&conn).map_err(|e| e.to_string())?;
    let q = |text: Option<&str>, kind: Option<ActorKind>, decision: Option<&str>| AuditQuery {
        text: text.map(String::from),
        actor_kind: kind,
        decision: decision.map(String::from),
        limit: Some(50),
        ..AuditQuery::default()
    };
    let rare = format!("user{}@example.com", total / 2);
    let queries: Vec<(&str, AuditQuery)> = vec![
        ("common: refund", q(Some("refund"), None, None)),
        ("common AND: stripe refund", q(Some("stripe refund"), None, None)),
        ("prefix: cust*", q(Some("cust*"), None, None)),
        ("rare: one e-mail", q(Some(&rare), None, None)),
        ("no match", q(Some("zzqxjv"), None, None)),
        ("filter: decision=deny", q(None, None, Some("deny"))),
        ("filter: actor=user", q(None, Some(ActorKind::User), None)),
        ("common + filter: refund, deny", q(Some("refund"), None, Some("deny"))),
        ("no text, newest page", q(None, None, None)),
    ];
    let mut all = Vec::new();
    println!("  newest-first search over {total} rows (limit 50, {} runs each):", args.repeats);
    for (name, query) in &queries {
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..args.repeats {
            let t = Instant::now();
            let page = audit::list(&conn, query).map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            hits = page.rows.len();
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("    {name:<32} p50 {:>7.2} ms  p95 {:>7.2} ms  ({hits} rows)", percentile(&times, 0.5), percentile(&times, 0.95));
        all.extend(times);
    }
    all.sort_by(|a, b| a.total_cmp(b));
    let (p50, p95) = (percentile(&all, 0.5), percentile(&all, 0.95));
    println!("  all queries: p50 {p50:.2} ms, p95 {p95:.2} ms");
    println!("  targets: grouped >= 40,000 rows/s, fsync >= 500 rows/s, search p95 <= 50 ms");
    println!(
        "{}",
        serde_json::json!({
            "bench": "audit",
            "rows_per_s_grouped": grouped_rate.round(),
            "rows_per_s_fsync": fsync_rate.round(),
            "search_p50_ms": (p50 * 100.0).round() / 100.0,
            "search_p95_ms": (p95 * 100.0).round() / 100.0,
        })
    );
    Ok(())
}
