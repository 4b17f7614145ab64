-- Agent identities. The token itself is never stored: only the hex SHA-256 of it. Revoked agents
-- keep their row (and their name) so the audit log stays unambiguous.
CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    last_seen_ms  INTEGER
);

-- Small switches that must survive a restart, e.g. `agents_paused` = '1' / '0'.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
