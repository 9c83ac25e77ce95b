-- Human oversight of a decision (review, approve, override, reject, escalate). Keyed on the
-- decision it refers to, so a timeline finds it wherever and whenever it happened.
CREATE TABLE IF NOT EXISTS {{table:audit_oversight}} {{cluster}} (
    decision_id String CODEC(ZSTD(1)),
    time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    action LowCardinality(String) CODEC(ZSTD(1)),
    reviewer String CODEC(ZSTD(1)),
    reason String CODEC(ZSTD(1)),
    new_outcome LowCardinality(String) CODEC(ZSTD(1)),
    retention_class LowCardinality(String) CODEC(ZSTD(1)),
    integrity_stream LowCardinality(String) CODEC(ZSTD(1)),
    integrity_seq UInt64 CODEC(T64, ZSTD(1)),
    INDEX idx_time time TYPE minmax GRANULARITY 1
) ENGINE = {{engine:ReplacingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(time))
ORDER BY (decision_id, span_id)
{{ttl:audit_oversight}}
SETTINGS index_granularity = 2048, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
