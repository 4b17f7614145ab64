-- The approval queue and the outbox (exactly-once execution of outbound writes).
--
-- approvals: one row per outbound or destructive agent call a person must decide on. `input` is
-- the action input as the agent sent it; `edited_input` what the approver changed it to (what
-- executes); both stay for the audit. status moves pending -> approved -> executed | failed |
-- needs_confirmation, or pending -> rejected | expired. `rule` is the policy rule that queued it.
CREATE TABLE approvals (
    id                TEXT    PRIMARY KEY,
    call_id           TEXT    NOT NULL,
    agent             TEXT    NOT NULL,
    connection_id     TEXT    NOT NULL,
    tool              TEXT    NOT NULL,
    tier              TEXT    NOT NULL,
    input             TEXT    NOT NULL,
    edited_input      TEXT,
    rule              TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN
                          ('pending', 'approved', 'rejected', 'expired', 'executed', 'failed', 'needs_confirmation')),
    created_at_ms     INTEGER NOT NULL,
    expires_at_ms     INTEGER NOT NULL,
    decided_by        TEXT,
    decided_at_ms     INTEGER,
    reason            TEXT,
    result            TEXT,
    finished_at_ms    INTEGER
);
CREATE INDEX approvals_by_status ON approvals (status, created_at_ms);
CREATE INDEX approvals_by_agent ON approvals (agent, created_at_ms);

-- outbox: an outbound write that may run, committed durably before the provider is called.
-- `key` is the stable idempotency key (sent as Idempotency-Key where the provider honours one).
-- state: ready -> in_flight -> done | failed; in_flight found at start-up means the process died
-- while the request may have left: it is re-sent only under the same idempotency key, otherwise
-- it becomes `unknown` for a person to confirm (never re-sent blindly).
CREATE TABLE outbox (
    key               TEXT    PRIMARY KEY,
    approval_id       TEXT    REFERENCES approvals (id),
    -- the rule that let it run: `approval:<id>` or `policy:<id>` (auto-send, counted for caps)
    rule              TEXT    NOT NULL,
    call_id           TEXT    NOT NULL,
    agent             TEXT    NOT NULL,
    connection_id     TEXT    NOT NULL,
    tool              TEXT    NOT NULL,
    input             TEXT    NOT NULL,
    state             TEXT    NOT NULL CHECK (state IN ('ready', 'in_flight', 'done', 'failed', 'unknown')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at_ms     INTEGER NOT NULL,
    started_at_ms     INTEGER,
    finished_at_ms    INTEGER,
    http_status       INTEGER,
    result            TEXT
);
CREATE INDEX outbox_by_state ON outbox (state, created_at_ms);
CREATE INDEX outbox_by_rule ON outbox (rule, created_at_ms);

-- client_requests: an agent's own id for a write (`client_request_id`), so a retry of the same
-- request gets the original result or the same pending approval, never a second effect.
CREATE TABLE client_requests (
    agent             TEXT    NOT NULL,
    client_request_id TEXT    NOT NULL,
    tool              TEXT    NOT NULL,
    input_hash        TEXT    NOT NULL,
    call_id           TEXT    NOT NULL,
    approval_id       TEXT,
    result            TEXT,
    created_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (agent, client_request_id)
);

-- policies: auto-send rules a person added (`switchboard policies add FILE`), as the JSON of
-- switchboard_policy::Policy. Removing deletes the row; the audit log keeps the history.
CREATE TABLE policies (
    id                TEXT    PRIMARY KEY,
    body              TEXT    NOT NULL,
    created_at_ms     INTEGER NOT NULL,
    created_by        TEXT    NOT NULL
);

-- access_requests: an agent asking a person for more (`request_access`): one tier on one
-- connection, optionally narrowed to named tools, with the agent's reason (shown as text only).
CREATE TABLE access_requests (
    id                TEXT    PRIMARY KEY,
    agent             TEXT    NOT NULL,
    connection_id     TEXT    NOT NULL,
    tier              TEXT    NOT NULL CHECK (tier IN ('read', 'write', 'delete')),
    actions           TEXT,
    reason            TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'granted', 'dismissed')),
    created_at_ms     INTEGER NOT NULL,
    decided_by        TEXT,
    decided_at_ms     INTEGER
);
CREATE INDEX access_requests_by_status ON access_requests (status, created_at_ms);

-- One action's causal chain (decision -> approval -> provider request -> result) is every row
-- sharing its correlation id.
CREATE INDEX audit_log_correlation ON audit_log (correlation_id, id);
-- The scope checklist's "used in the last 30 days" reads one connection's recent rows.
CREATE INDEX audit_log_connection ON audit_log (connection_id, ts_ms);
