-- Provider events, received by webhook or pulled, in the one shape agents read. Append-only;
-- `seq` is the arrival order and the cursor an agent pages with (`after`). `payload` is the
-- provider's own JSON for the event (never a secret: webhook secrets and credentials live only
-- in the keychain).
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY,
    connection_id  TEXT    NOT NULL,
    provider       TEXT    NOT NULL,
    event_id       TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    occurred_at_ms INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    source         TEXT    NOT NULL CHECK (source IN ('webhook', 'pull')),
    payload        TEXT    NOT NULL
);
CREATE INDEX events_by_connection ON events (connection_id, seq);

-- De-duplication: one key per (connection, provider event id) ever stored, kept 30 days (at
-- least the 72 hours providers retry a delivery for, and as long as Stripe lists events), so a
-- retried, replayed or re-pulled event is stored once.
CREATE TABLE event_keys (
    connection_id TEXT    NOT NULL,
    event_id      TEXT    NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (connection_id, event_id)
) WITHOUT ROWID;
CREATE INDEX event_keys_by_age ON event_keys (first_seen_ms);

-- Where each pull of a connection stands, one row per stream (`events`, `history`,
-- `channel:C…`, `contacts`). The cursor is the provider's own (an event id, a history id, a
-- message ts, a modification time), written in the same transaction as the events it covers.
CREATE TABLE pull_cursors (
    connection_id TEXT    NOT NULL,
    stream        TEXT    NOT NULL,
    cursor        TEXT    NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (connection_id, stream)
);

-- Connections whose pull runs periodically in the gateway, and how often.
CREATE TABLE pull_schedules (
    connection_id TEXT    PRIMARY KEY,
    every_seconds INTEGER NOT NULL CHECK (every_seconds > 0),
    set_at_ms     INTEGER NOT NULL
);
