-- The search index and the filter table move to their own file, switchboard-search.db (see
-- src/search.rs): indexing them here held the audit writer's lock, and every agent call's audit
-- row waited for it. Both are derived from audit_log; the new file is built from it in the
-- background, and until then rows are found by scanning the log.
DROP TABLE audit_fts;
DROP TABLE audit_facets;
