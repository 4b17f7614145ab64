-- The audit timeline's filter columns, moved off the append path.
--
-- Every index on audit_log is a B-tree leaf that each commit rewrites whole into the WAL: with
-- nine of them an append wrote about 12 pages (50 KB) for one row of about 1 KB, and the
-- checkpoint's fsync of that volume stalled the next commits. audit_facets copies the filter
-- columns of each row (id = audit_log.id) and carries the filter indexes; the writer fills it in
-- batches, in the same transaction as the search index, so both share one watermark and an
-- append writes the row, the chain head and the correlation index only (about 3 pages).
-- Rows above the watermark are filtered by scanning them in audit_log (see audit::list).
CREATE TABLE audit_facets (
    id            INTEGER PRIMARY KEY,
    ts_ms         INTEGER NOT NULL,
    actor_kind    TEXT    NOT NULL,
    actor_id      TEXT    NOT NULL,
    connection_id TEXT,
    tier          TEXT,
    decision      TEXT    NOT NULL,
    outcome       TEXT    NOT NULL
);
INSERT INTO audit_facets (id, ts_ms, actor_kind, actor_id, connection_id, tier, decision, outcome)
    SELECT id, ts_ms, actor_kind, actor_id, connection_id, tier, decision, outcome FROM audit_log
    WHERE id <= coalesce((SELECT rowid FROM audit_fts ORDER BY rowid DESC LIMIT 1), 0);

CREATE INDEX audit_facets_actor_kind ON audit_facets (actor_kind, id);
CREATE INDEX audit_facets_actor ON audit_facets (actor_kind, actor_id, id);
CREATE INDEX audit_facets_decision ON audit_facets (decision, id);
CREATE INDEX audit_facets_connection_id ON audit_facets (connection_id, id);
CREATE INDEX audit_facets_connection_ts ON audit_facets (connection_id, ts_ms);
CREATE INDEX audit_facets_tier ON audit_facets (tier, id);
CREATE INDEX audit_facets_outcome ON audit_facets (outcome, id);
CREATE INDEX audit_facets_ts ON audit_facets (ts_ms);

DROP INDEX audit_log_actor_kind;
DROP INDEX audit_log_decision;
DROP INDEX audit_log_actor;
DROP INDEX audit_log_connection_id;
DROP INDEX audit_log_tier;
DROP INDEX audit_log_outcome;
DROP INDEX audit_log_ts;
DROP INDEX audit_log_connection;
