-- The hash-chained audit log. Append-only: rows are never updated or deleted by Switchboard.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    ts_ms          INTEGER NOT NULL,
    actor_kind     TEXT    NOT NULL,
    actor_id       TEXT    NOT NULL,
    trigger        TEXT,
    correlation_id TEXT,
    connection_id  TEXT,
    action         TEXT    NOT NULL,
    tier           TEXT,
    decision       TEXT    NOT NULL,
    outcome        TEXT    NOT NULL,
    provider_ids   TEXT    NOT NULL,
    latency_ms     INTEGER,
    summary        TEXT    NOT NULL,
    prev_hash      TEXT    NOT NULL,
    hash           TEXT    NOT NULL
);
CREATE INDEX audit_log_actor_kind ON audit_log(actor_kind, id);
CREATE INDEX audit_log_decision ON audit_log(decision, id);

-- Full-text index over each row's searchable text; rowid = audit_log.id. Contentless: the text
-- lives once, in audit_log.
CREATE VIRTUAL TABLE audit_fts USING fts5(body, content='', tokenize = 'unicode61 remove_diacritics 2');

-- The authenticated head of the chain: the last row's id and hash with an HMAC under a key kept
-- in the OS keychain. Updated in the same transaction as every append, so a truncated tail or a
-- forged head is detected by `audit verify`.
CREATE TABLE audit_head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT    NOT NULL,
    mac       TEXT    NOT NULL
);
