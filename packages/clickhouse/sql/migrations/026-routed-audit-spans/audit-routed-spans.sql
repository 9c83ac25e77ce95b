-- The spans the audit views other than audit_decisions' take in (checkpoints, deployments, feedback, oversight and
-- tool actions), routed once: each of those views read every inserted span's attribute map for its own filter, so
-- a decision span — nearly every span — was looked up seven times to be taken by one view. A Null table stores
-- nothing; the views on it see each insert block routed into it. Its columns are otel_traces'.
CREATE TABLE IF NOT EXISTS {{table:audit_routed_spans}} {{cluster}} AS {{table:otel_traces}} ENGINE = Null
