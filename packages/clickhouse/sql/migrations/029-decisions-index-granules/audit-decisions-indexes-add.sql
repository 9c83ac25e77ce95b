ALTER TABLE {{table:audit_decisions}} {{cluster}}
    ADD INDEX IF NOT EXISTS idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 8,
    ADD INDEX IF NOT EXISTS idx_subject_id subject_id TYPE bloom_filter(0.01) GRANULARITY 8,
    ADD INDEX IF NOT EXISTS idx_model model_id TYPE set(256) GRANULARITY 32
