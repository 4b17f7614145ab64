-- The audit log's search index, in its own file (`switchboard-search.db`), attached as `search`.
-- Everything here is derived from audit_log and rebuilt from it when the file is missing,
-- damaged, from another schema version, or built from another history of the log.

-- Full-text index over each row's searchable text; rowid = audit_log.id. Contentless: the text
-- lives once, in audit_log.
CREATE VIRTUAL TABLE search.audit_fts USING fts5(body, content='', tokenize = 'unicode61 remove_diacritics 2');

-- The Audit timeline's filter columns of each row (id = audit_log.id), with an index per filter,
-- each ending in id (or ts_ms) so a filtered newest-first page walks an index.
CREATE TABLE search.audit_facets (
    id            INTEGER PRIMARY KEY,
    ts_ms         INTEGER NOT NULL,
    actor_kind    TEXT    NOT NULL,
    actor_id      TEXT    NOT NULL,
    connection_id TEXT,
    tier          TEXT,
    decision      TEXT    NOT NULL,
    outcome       TEXT    NOT NULL
);
CREATE INDEX search.audit_facets_actor_kind ON audit_facets (actor_kind, id);
CREATE INDEX search.audit_facets_actor ON audit_facets (actor_kind, actor_id, id);
CREATE INDEX search.audit_facets_decision ON audit_facets (decision, id);
CREATE INDEX search.audit_facets_connection_id ON audit_facets (connection_id, id);
CREATE INDEX search.audit_facets_connection_ts ON audit_facets (connection_id, ts_ms);
CREATE INDEX search.audit_facets_tier ON audit_facets (tier, id);
CREATE INDEX search.audit_facets_outcome ON audit_facets (outcome, id);
CREATE INDEX search.audit_facets_ts ON audit_facets (ts_ms);

-- The watermark: every audit row up to through_id is in both tables above, and through_hash is
-- that row's hash. Updated in the same transaction as the rows it covers. The hash ties the index
-- to one history of the log: the chain makes row N's hash depend on every row before it.
CREATE TABLE search.search_meta (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    through_id   INTEGER NOT NULL,
    through_hash TEXT    NOT NULL
);
