-- Indexes for the Audit timeline's filters (agent, connection, tier, outcome, time range), each
-- ending in id so a filtered newest-first page walks the index instead of scanning the log.
CREATE INDEX audit_log_actor ON audit_log (actor_kind, actor_id, id);
CREATE INDEX audit_log_connection_id ON audit_log (connection_id, id);
CREATE INDEX audit_log_tier ON audit_log (tier, id);
CREATE INDEX audit_log_outcome ON audit_log (outcome, id);
CREATE INDEX audit_log_ts ON audit_log (ts_ms);
