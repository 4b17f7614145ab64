-- What each connection may do at the provider, and which agent may use which connection.
--
-- granted_scopes: JSON array of the provider scopes this connection holds — for OAuth the scopes
-- the provider granted (its token response), for a pasted key the scopes the user ticked as
-- given to that key. A call needing a scope outside it is refused before it leaves the machine.
-- token_expires_at_ms: when the OAuth access token expires (NULL for keys and non-expiring tokens).
-- rotation_due_notified_ms: when the user was last told this key's rotation is due (so the
-- notification and its audit row happen once per due period, not on every check).
ALTER TABLE connections ADD COLUMN granted_scopes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE connections ADD COLUMN token_expires_at_ms INTEGER;
ALTER TABLE connections ADD COLUMN rotation_due_notified_ms INTEGER;

-- Least-privilege grants: one row per (agent, connection, tier). No tier implies another.
-- actions: JSON array narrowing the grant to named actions; NULL = every action of that tier.
-- Revoking deletes the row; the audit log keeps the history.
CREATE TABLE grants (
    agent          TEXT    NOT NULL,
    connection_id  TEXT    NOT NULL,
    tier           TEXT    NOT NULL CHECK (tier IN ('read', 'write', 'delete')),
    actions        TEXT,
    expires_at_ms  INTEGER,
    granted_at_ms  INTEGER NOT NULL,
    granted_by     TEXT    NOT NULL,
    PRIMARY KEY (agent, connection_id, tier)
);
CREATE INDEX grants_by_connection ON grants (connection_id);
