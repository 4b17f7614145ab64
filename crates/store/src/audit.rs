//! The hash-chained audit log: encoding, hashing, head checkpoints, verification, queries.
//!
//! Each row's `hash` is SHA-256 over `prev_hash` (hex), a zero byte, and the row's canonical
//! encoding: a JSON array of every column but the two hashes, in a fixed order, using the exact
//! text stored for `provider_ids` and `summary`. The row id is part of the encoding, so moving,
//! inserting or deleting a row breaks the chain. The head (last id and hash) is authenticated
//! with an HMAC under a key kept in the OS keychain, so a truncated tail cannot be re-sealed
//! without that key; the keychain also keeps a copy of a recent head, so restoring an older
//! copy of the whole file is detected too.

use std::io::Write;

use hmac::{Hmac, KeyInit, Mac};
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter, types::Value};
use sha2::{Digest, Sha256};
use switchboard_core::{ActorKind, AuditPage, AuditQuery, AuditRow, BadRow, NewAuditRow, Tier, VerifyReport};

use crate::StoreError;

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Columns in their stored order (the hashes last).
pub(crate) const COLUMNS: &str = "id, ts_ms, actor_kind, actor_id, trigger, correlation_id, connection_id, action, tier, \
     decision, outcome, provider_ids, latency_ms, summary, prev_hash, hash";

/// A row exactly as stored: the JSON columns as their stored text.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    pub id: i64,
    pub ts_ms: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub trigger: Option<String>,
    pub correlation_id: Option<String>,
    pub connection_id: Option<String>,
    pub action: String,
    pub tier: Option<String>,
    pub decision: String,
    pub outcome: String,
    pub provider_ids: String,
    pub latency_ms: Option<i64>,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredRow {
    /// Builds the stored form of a new row at `id`, chained after `prev_hash`.
    pub fn seal(id: i64, ts_ms: i64, row: &NewAuditRow, prev_hash: &str) -> Result<Self, StoreError> {
        let provider_ids = serde_json::to_string(&row.provider_ids).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let summary = serde_json::to_string(&row.summary).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut stored = Self {
            id,
            ts_ms,
            actor_kind: row.actor_kind.as_str().into(),
            actor_id: row.actor_id.clone(),
            trigger: row.trigger.clone(),
            correlation_id: row.correlation_id.clone(),
            connection_id: row.connection_id.clone(),
            action: row.action.clone(),
            tier: row.tier.map(|t| t.as_str().to_string()),
            decision: row.decision.clone(),
            outcome: row.outcome.clone(),
            provider_ids,
            latency_ms: row.latency_ms,
            summary,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        stored.hash = stored.compute_hash();
        Ok(stored)
    }

    /// The canonical bytes that are hashed (everything but the two hash columns): a JSON
    /// array in column order.
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.summary.len());
        self.write_canonical(&mut out);
        out
    }

    fn write_canonical(&self, out: &mut impl std::io::Write) {
        let fields = (
            self.id,
            self.ts_ms,
            &self.actor_kind,
            &self.actor_id,
            &self.trigger,
            &self.correlation_id,
            &self.connection_id,
            &self.action,
            &self.tier,
            &self.decision,
            &self.outcome,
            &self.provider_ids,
            self.latency_ms,
            &self.summary,
        );
        // Writing strings and integers into memory or a hasher cannot fail.
        let _ = serde_json::to_writer(out, &fields);
    }

    /// SHA-256 over `prev_hash`, a zero byte and the canonical encoding, as hex.
    pub fn compute_hash(&self) -> String {
        struct HashWriter(Sha256);
        impl std::io::Write for HashWriter {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.update(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut h = HashWriter(Sha256::new());
        h.0.update(self.prev_hash.as_bytes());
        h.0.update([0u8]);
        self.write_canonical(&mut h);
        hex::encode(h.0.finalize())
    }

    pub(crate) fn from_sql(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            ts_ms: r.get(1)?,
            actor_kind: r.get(2)?,
            actor_id: r.get(3)?,
            trigger: r.get(4)?,
            correlation_id: r.get(5)?,
            connection_id: r.get(6)?,
            action: r.get(7)?,
            tier: r.get(8)?,
            decision: r.get(9)?,
            outcome: r.get(10)?,
            provider_ids: r.get(11)?,
            latency_ms: r.get(12)?,
            summary: r.get(13)?,
            prev_hash: r.get(14)?,
            hash: r.get(15)?,
        })
    }

    pub(crate) fn insert(&self, conn: &Connection) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO audit_log (id, ts_ms, actor_kind, actor_id, trigger, correlation_id, connection_id, action, tier, \
             decision, outcome, provider_ids, latency_ms, summary, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
        conn.prepare_cached(INSERT)?
            .execute(rusqlite::params![
                self.id,
                self.ts_ms,
                self.actor_kind,
                self.actor_id,
                self.trigger,
                self.correlation_id,
                self.connection_id,
                self.action,
                self.tier,
                self.decision,
                self.outcome,
                self.provider_ids,
                self.latency_ms,
                self.summary,
                self.prev_hash,
                self.hash,
            ])?;
        Ok(())
    }

    /// The words a search can find this row by. `summary` is the row's summary as a value (the
    /// caller has it already; parsing the stored text again would cost every append).
    pub fn search_text(&self, summary: &serde_json::Value) -> String {
        let mut out = String::with_capacity(128 + self.summary.len());
        for part in [
            Some(self.actor_kind.as_str()),
            Some(self.actor_id.as_str()),
            Some(self.action.as_str()),
            self.tier.as_deref(),
            Some(self.decision.as_str()),
            Some(self.outcome.as_str()),
            self.trigger.as_deref(),
            self.correlation_id.as_deref(),
            self.connection_id.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            out.push_str(part);
            out.push(' ');
        }
        out.push_str(&self.provider_ids);
        out.push(' ');
        flatten_text(summary, &mut out);
        out
    }

    /// The row as the UI and exports show it. Stored JSON that no longer parses is shown as
    /// its raw text rather than hidden.
    pub fn to_row(&self) -> AuditRow {
        AuditRow {
            id: self.id,
            ts_ms: self.ts_ms,
            actor_kind: ActorKind::parse(&self.actor_kind).unwrap_or(ActorKind::System),
            actor_id: self.actor_id.clone(),
            trigger: self.trigger.clone(),
            correlation_id: self.correlation_id.clone(),
            connection_id: self.connection_id.clone(),
            action: self.action.clone(),
            tier: self.tier.as_deref().and_then(Tier::parse),
            decision: self.decision.clone(),
            outcome: self.outcome.clone(),
            provider_ids: serde_json::from_str(&self.provider_ids).unwrap_or_else(|_| vec![self.provider_ids.clone()]),
            latency_ms: self.latency_ms,
            summary: serde_json::from_str(&self.summary).unwrap_or_else(|_| serde_json::Value::String(self.summary.clone())),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }
}

fn flatten_text(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        serde_json::Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push(' ');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| flatten_text(x, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push_str(k);
            out.push(' ');
            flatten_text(x, out);
        }),
        serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

/// HMAC-SHA256 over the head, under the checkpoint key.
pub fn head_mac(key: &[u8], last_id: i64, last_hash: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(format!("switchboard-audit-head-v1\n{last_id}\n{last_hash}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a head MAC.
pub fn head_mac_ok(key: &[u8], last_id: i64, last_hash: &str, mac_hex: &str) -> bool {
    let Ok(given) = hex::decode(mac_hex) else { return false };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(format!("switchboard-audit-head-v1\n{last_id}\n{last_hash}").as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// The stored, authenticated head, if any.
pub fn read_head(conn: &Connection) -> Result<Option<(i64, String, String)>, StoreError> {
    Ok(conn
        .query_row("SELECT last_id, last_hash, mac FROM audit_head WHERE singleton = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

/// The last row's id and hash, or `(0, GENESIS_HASH)` for an empty log.
pub fn last_row(conn: &Connection) -> Result<(i64, String), StoreError> {
    Ok(conn
        .query_row("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, GENESIS_HASH.to_string())))
}

/// The stored hash of row `id`, if that row exists.
pub fn row_hash(conn: &Connection, id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT hash FROM audit_log WHERE id = ?1", [id], |r| r.get(0)).optional()?)
}

/// A head copy kept outside the database (in the keychain): `id:hash:mac`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub id: i64,
    pub hash: String,
    pub mac: String,
}

impl Anchor {
    pub fn encode(&self) -> String {
        format!("{}:{}:{}", self.id, self.hash, self.mac)
    }
    pub fn decode(s: &str) -> Option<Self> {
        let mut it = s.splitn(3, ':');
        let id = it.next()?.parse().ok()?;
        let hash = it.next()?.to_string();
        let mac = it.next()?.to_string();
        Some(Self { id, hash, mac })
    }
}

/// Verifies the whole chain, the authenticated head (with `key`), and, when given, the anchor
/// kept in the keychain. Streams rows; memory stays flat at any size.
pub fn verify(conn: &Connection, key: &[u8], anchor: Option<&Anchor>) -> Result<VerifyReport, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    let mut expected_id = 1i64;
    let mut prev = GENESIS_HASH.to_string();
    let mut count = 0i64;
    let mut anchor_seen = false;
    while let Some(r) = rows.next()? {
        let row = StoredRow::from_sql(r)?;
        count += 1;
        if row.id != expected_id {
            let reason = if row.id > expected_id {
                format!("rows {expected_id}..{} are missing (deleted)", row.id - 1)
            } else {
                "row id out of sequence (inserted or reordered)".to_string()
            };
            return Ok(broken(count, expected_id.min(row.id), reason));
        }
        if row.prev_hash != prev {
            return Ok(broken(count, row.id, "prev_hash does not match the previous row (a row before it was changed, removed or reordered)".into()));
        }
        if row.compute_hash() != row.hash {
            return Ok(broken(count, row.id, "the row's content does not match its hash (edited)".into()));
        }
        if let Some(a) = anchor {
            if a.id == row.id {
                anchor_seen = true;
                if a.hash != row.hash {
                    return Ok(broken(count, row.id, "the row differs from the checkpoint kept in the keychain (the database was replaced or rewritten)".into()));
                }
            }
        }
        prev = row.hash;
        expected_id += 1;
    }
    let last_id = expected_id - 1;
    match read_head(conn)? {
        None if count > 0 => {
            return Ok(broken(count, last_id, "the authenticated head checkpoint is missing".into()));
        }
        None => {}
        Some((head_id, head_hash, mac)) => {
            if !head_mac_ok(key, head_id, &head_hash, &mac) {
                return Ok(broken(count, head_id.min(last_id + 1).max(1), "the head checkpoint's signature is invalid (forged, or signed with another key)".into()));
            }
            if head_id > last_id {
                return Ok(broken(count, last_id + 1, format!("rows {}..{head_id} are missing at the tail (truncated)", last_id + 1)));
            }
            if head_id < last_id {
                return Ok(broken(count, head_id + 1, "rows after the authenticated head were added without the key (inserted)".into()));
            }
            if head_hash != prev {
                return Ok(broken(count, last_id, "the last row does not match the authenticated head (tail rewritten)".into()));
            }
        }
    }
    if let Some(a) = anchor {
        if !head_mac_ok(key, a.id, &a.hash, &a.mac) {
            return Ok(broken(count, a.id.max(1), "the checkpoint kept in the keychain has an invalid signature".into()));
        }
        if !anchor_seen && a.id > 0 {
            return Ok(broken(count, last_id + 1, format!(
                "the keychain checkpoint names row {} but the log ends at row {last_id} (truncated, or an older copy of the database was restored)",
                a.id
            )));
        }
    }
    let head_hash = (count > 0).then(|| prev.clone());
    Ok(VerifyReport {
        intact: true,
        rows: count,
        message: match &head_hash {
            Some(h) => format!("audit chain intact: {count} rows, head {}", &h[..16]),
            None => "audit chain intact: the log is empty".into(),
        },
        head_hash,
        first_bad: None,
    })
}

fn broken(rows_read: i64, id: i64, reason: String) -> VerifyReport {
    VerifyReport {
        intact: false,
        rows: rows_read,
        head_hash: None,
        message: format!("audit chain broken at row {id}: {reason}"),
        first_bad: Some(BadRow { id, reason }),
    }
}

/// Number of rows in the log.
pub fn count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?)
}

/// Turns what a person typed into an FTS5 query: every word must match, `word*` is a prefix,
/// and FTS5 syntax characters are taken literally (each word is quoted).
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .filter_map(|w| {
            let (word, prefix) = match w.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (w, false),
            };
            let word = word.replace('"', "\"\"");
            if word.chars().all(|c| !c.is_alphanumeric()) {
                return None;
            }
            Some(if prefix { format!("\"{word}\"*") } else { format!("\"{word}\"") })
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// `(agent, action)` pairs with a successful agent call on `connection_id` since `since_ms`
/// (the scope checklist's "used in the last 30 days").
pub fn agent_actions_used_since(conn: &Connection, connection_id: &str, since_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
    // Rows above the index watermark, from the log itself; the indexed ones through the filter
    // table (none when no index is attached).
    const TAIL: &str = "SELECT actor_id, action FROM audit_log \
         WHERE id > ?3 AND connection_id = ?1 AND ts_ms > ?2 AND actor_kind = 'agent' AND outcome = 'ok'";
    let indexed = crate::search::indexed_through(conn)?;
    let sql = if indexed == 0 {
        format!("SELECT DISTINCT * FROM ({TAIL})")
    } else {
        format!(
            "SELECT DISTINCT a.actor_id, a.action FROM search.audit_facets x JOIN audit_log a ON a.id = x.id \
             WHERE x.connection_id = ?1 AND x.ts_ms > ?2 AND x.actor_kind = 'agent' AND x.outcome = 'ok' UNION {TAIL}"
        )
    };
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params![connection_id, since_ms, indexed], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Every row of one action (sharing `correlation_id`), oldest first: its causal chain.
pub fn chain(conn: &Connection, correlation_id: &str) -> Result<Vec<AuditRow>, StoreError> {
    let rows = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM audit_log WHERE correlation_id = ?1 ORDER BY id LIMIT 1000"))?
        .query_map(rusqlite::params![correlation_id], StoredRow::from_sql)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows.into_iter().map(|s| s.to_row()).collect())
}

/// Newest-first page of rows matching `q`. `conn` needs the search index attached (readers from
/// [`crate::Database::reader`] and [`crate::db::open_read_only`] have it).
pub fn list(conn: &Connection, q: &AuditQuery) -> Result<AuditPage, StoreError> {
    let limit = i64::from(q.limit.unwrap_or(50).clamp(1, 500));
    let before = q.before_id.unwrap_or(i64::MAX);
    let text = q.text.as_deref().and_then(fts_query);
    let (filters, mut args) = facet_filters(q);
    if text.is_none() && filters.is_empty() {
        // The plain timeline: newest rows of the log itself, no index needed.
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT {}", limit + 1);
        let rows = conn.prepare_cached(&sql)?.query_map([before], StoredRow::from_sql)?.collect::<Result<Vec<_>, _>>()?;
        return Ok(page_of(rows, limit, |_| true));
    }
    // Rows above the search index's watermark (normally none: the gateway catches the index up
    // before a filtered list; all of them for a tool reading a log whose index is missing) are
    // matched by scanning them, newest first, ahead of the indexed rows.
    let indexed = crate::search::indexed_through(conn)?;
    let (last, _) = last_row(conn)?;
    let mut page = AuditPage { rows: Vec::new(), next_before_id: None };
    if last > indexed && before > indexed + 1 {
        page = list_unindexed(conn, q, indexed, limit)?;
        if page.rows.len() as i64 >= limit {
            return Ok(page);
        }
    }
    if indexed == 0 {
        return Ok(page);
    }
    let want = limit - page.rows.len() as i64;
    args.push(Value::Integer(before.min(indexed + 1)));
    let below = args.len();
    let sql = match text {
        Some(m) => {
            args.push(Value::Text(m));
            // Drive from the FTS index in rowid order so newest-first stops after `limit` hits.
            format!(
                "SELECT {cols} FROM search.audit_fts f JOIN search.audit_facets x ON x.id = f.rowid JOIN audit_log a ON a.id = f.rowid \
                 WHERE f.audit_fts MATCH ?{n} AND f.rowid < ?{below}{filters} ORDER BY f.rowid DESC LIMIT {lim}",
                cols = prefixed_columns(),
                n = args.len(),
                lim = want + 1
            )
        }
        None => format!(
            "SELECT {cols} FROM search.audit_facets x JOIN audit_log a ON a.id = x.id WHERE x.id < ?{below}{filters} ORDER BY x.id DESC LIMIT {lim}",
            cols = prefixed_columns(),
            lim = want + 1
        ),
    };
    let rows = conn.prepare_cached(&sql)?.query_map(params_from_iter(args), StoredRow::from_sql)?.collect::<Result<Vec<_>, _>>()?;
    // Facets are copies: a row edited behind Switchboard's back is held to its stored values
    // (`audit verify` reports the edit).
    let more = page_of(rows, want, |s| matches_filters(q, s));
    page.rows.extend(more.rows);
    page.next_before_id = more.next_before_id;
    Ok(page)
}

/// The first `limit` rows that `keep`, and the id to page on when the query found more (it asks
/// for `limit + 1`).
fn page_of(mut rows: Vec<StoredRow>, limit: i64, keep: impl Fn(&StoredRow) -> bool) -> AuditPage {
    let next_before_id = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    AuditPage { rows: rows.into_iter().filter(|s| keep(s)).map(|s| s.to_row()).collect(), next_before_id }
}

/// The non-text filters of `q` as SQL over `search.audit_facets x`, with their arguments.
fn facet_filters(q: &AuditQuery) -> (String, Vec<Value>) {
    let mut args: Vec<Value> = Vec::new();
    let mut filters = String::new();
    let mut add = |sql: &str, v: Value| {
        args.push(v);
        filters.push_str(&sql.replace("?N", &format!("?{}", args.len())));
    };
    if let Some(kind) = q.actor_kind {
        add(" AND x.actor_kind = ?N", Value::Text(kind.as_str().into()));
    }
    if let Some(decision) = q.decision.as_deref().filter(|d| !d.is_empty()) {
        add(" AND x.decision = ?N", Value::Text(decision.into()));
    }
    if let Some(agent) = q.agent.as_deref().filter(|a| !a.is_empty()) {
        add(" AND x.actor_kind = 'agent' AND x.actor_id = ?N", Value::Text(agent.into()));
    }
    if let Some(connection) = q.connection.as_deref().filter(|c| !c.is_empty()) {
        add(" AND x.connection_id = ?N", Value::Text(connection.into()));
    }
    if let Some(tier) = q.tier {
        add(" AND x.tier = ?N", Value::Text(tier.as_str().into()));
    }
    if let Some(outcome) = q.outcome.as_deref().filter(|o| !o.is_empty()) {
        add(" AND x.outcome = ?N", Value::Text(outcome.into()));
    }
    if let Some(since) = q.since_ms {
        add(" AND x.ts_ms >= ?N", Value::Integer(since));
    }
    if let Some(until) = q.until_ms {
        add(" AND x.ts_ms < ?N", Value::Integer(until));
    }
    (filters, args)
}

/// The rows above the index watermark that match `q` (filters, and every word of its text as a
/// substring), newest first.
fn list_unindexed(conn: &Connection, q: &AuditQuery, indexed: i64, limit: i64) -> Result<AuditPage, StoreError> {
    let before = q.before_id.unwrap_or(i64::MAX);
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_log WHERE id > ?1 AND id < ?2 ORDER BY id DESC"))?;
    let words = q.text.as_deref().filter(|t| fts_query(t).is_some()).unwrap_or("");
    let needles: Vec<String> = words.split_whitespace().map(|w| w.trim_end_matches('*').to_lowercase()).filter(|w| !w.is_empty()).collect();
    let mut rows = Vec::new();
    let mut it = stmt.query(rusqlite::params![indexed, before])?;
    while let Some(r) = it.next()? {
        let s = StoredRow::from_sql(r)?;
        if !matches_filters(q, &s) {
            continue;
        }
        if !needles.is_empty() {
            let summary = serde_json::from_str(&s.summary).unwrap_or(serde_json::Value::Null);
            let hay = s.search_text(&summary).to_lowercase();
            if !needles.iter().all(|n| hay.contains(n.as_str())) {
                continue;
            }
        }
        rows.push(s.to_row());
        if rows.len() as i64 >= limit {
            break;
        }
    }
    let next_before_id = if rows.len() as i64 >= limit { rows.last().map(|r| r.id) } else { None };
    Ok(AuditPage { rows, next_before_id })
}

/// The non-text filters of `q`, checked on a stored row.
fn matches_filters(q: &AuditQuery, s: &StoredRow) -> bool {
    let text_is = |want: Option<&str>, have: &str| want.is_none_or(|w| w.is_empty() || w == have);
    q.actor_kind.is_none_or(|k| k.as_str() == s.actor_kind)
        && text_is(q.decision.as_deref(), &s.decision)
        && q.agent.as_deref().is_none_or(|a| a.is_empty() || (s.actor_kind == "agent" && a == s.actor_id))
        && q.connection.as_deref().is_none_or(|c| c.is_empty() || Some(c) == s.connection_id.as_deref())
        && q.tier.is_none_or(|t| Some(t.as_str()) == s.tier.as_deref())
        && text_is(q.outcome.as_deref(), &s.outcome)
        && q.since_ms.is_none_or(|t| s.ts_ms >= t)
        && q.until_ms.is_none_or(|t| s.ts_ms < t)
}

/// Committed rows with `after < id <= through`, oldest first (at most 1,000): what one commit
/// group appended, for the live event stream.
pub fn rows_between(conn: &Connection, after: i64, through: i64) -> Result<Vec<AuditRow>, StoreError> {
    let rows = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM audit_log WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT 1000"))?
        .query_map(rusqlite::params![after, through], StoredRow::from_sql)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows.into_iter().map(|s| s.to_row()).collect())
}

fn prefixed_columns() -> String {
    COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// Writes every row, oldest first, to `out`. Returns the number of rows written. The summary
/// column is already redacted at write time, so nothing secret can be exported.
pub fn export(conn: &Connection, format: ExportFormat, out: &mut dyn Write) -> Result<i64, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    let mut n = 0;
    let io = |e: std::io::Error| StoreError::Invalid(format!("cannot write the export: {e}"));
    match format {
        ExportFormat::Jsonl => {
            while let Some(r) = rows.next()? {
                let row = StoredRow::from_sql(r)?.to_row();
                serde_json::to_writer(&mut *out, &row).map_err(|e| StoreError::Invalid(e.to_string()))?;
                out.write_all(b"\n").map_err(io)?;
                n += 1;
            }
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(COLUMNS.split(", ")).map_err(|e| StoreError::Invalid(e.to_string()))?;
            while let Some(r) = rows.next()? {
                let s = StoredRow::from_sql(r)?;
                let rec = [
                    s.id.to_string(),
                    s.ts_ms.to_string(),
                    s.actor_kind,
                    s.actor_id,
                    s.trigger.unwrap_or_default(),
                    s.correlation_id.unwrap_or_default(),
                    s.connection_id.unwrap_or_default(),
                    s.action,
                    s.tier.unwrap_or_default(),
                    s.decision,
                    s.outcome,
                    s.provider_ids,
                    s.latency_ms.map(|l| l.to_string()).unwrap_or_default(),
                    s.summary,
                    s.prev_hash,
                    s.hash,
                ];
                w.write_record(&rec).map_err(|e| StoreError::Invalid(e.to_string()))?;
                n += 1;
            }
            w.flush().map_err(io)?;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_query_quotes_words_and_keeps_prefixes() {
        assert_eq!(fts_query("refund stripe").as_deref(), Some("\"refund\" AND \"stripe\""));
        assert_eq!(fts_query("cust*").as_deref(), Some("\"cust\"*"));
        assert_eq!(fts_query("a\"b").as_deref(), Some("\"a\"\"b\""), "a quote must not break out of the phrase");
        assert_eq!(fts_query("  ** - ").as_deref(), None, "punctuation alone is no query");
    }

    #[test]
    fn anchor_round_trips() {
        let a = Anchor { id: 42, hash: "ab".repeat(32), mac: "cd".repeat(32) };
        assert_eq!(Anchor::decode(&a.encode()), Some(a));
        assert_eq!(Anchor::decode("garbage"), None);
    }

    #[test]
    fn head_mac_rejects_other_keys_and_heads() {
        let m = head_mac(b"key-one", 7, "abc");
        assert!(head_mac_ok(b"key-one", 7, "abc", &m));
        assert!(!head_mac_ok(b"key-two", 7, "abc", &m), "a MAC under another key was accepted");
        assert!(!head_mac_ok(b"key-one", 6, "abc", &m), "a MAC for another head id was accepted");
        assert!(!head_mac_ok(b"key-one", 7, "abc", "zz"), "a non-hex MAC was accepted");
    }
}
