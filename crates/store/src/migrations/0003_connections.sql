-- Connected provider accounts. The credential itself is never stored here: it lives only in the
-- OS keychain under `connection:<id>`. Removed connections keep their row (marked with
-- removed_at_ms) so the audit log stays unambiguous; their keychain entry is deleted.
CREATE TABLE connections (
    id                 TEXT    PRIMARY KEY,
    provider           TEXT    NOT NULL,
    label              TEXT    NOT NULL,
    auth_mode          TEXT    NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    key_set_at_ms      INTEGER NOT NULL,
    rotate_every_days  INTEGER,
    last_success_ms    INTEGER,
    last_error_code    TEXT,
    last_error_message TEXT,
    last_error_ms      INTEGER,
    status             TEXT    NOT NULL DEFAULT 'healthy',
    removed_at_ms      INTEGER
);
