-- Every review and feedback span by the decision it refers to, a narrow table apart from audit_oversight and
-- audit_feedback: the timeline's read-time check finds a decision's signed reviews and feedback here by primary
-- key (a row deleted from audit_oversight or audit_feedback is still found) and reads them from otel_traces.
CREATE TABLE IF NOT EXISTS {{table:audit_decision_links}} {{cluster}} (
    decision_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    record_type LowCardinality(String) CODEC(ZSTD(1)),
    retention_class LowCardinality(String) CODEC(ZSTD(1)),
    integrity_stream LowCardinality(String) CODEC(ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(time))
ORDER BY (decision_id, span_id)
{{ttl:audit_decision_links}}
SETTINGS index_granularity = 256, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
