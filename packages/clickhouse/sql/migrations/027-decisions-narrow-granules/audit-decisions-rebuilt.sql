-- audit_decisions as migrations 2 and 24 left it (same columns in the same order, key, partitions, TTL and skip
-- indexes), with granules of 256 rows and a compressed block cut at every granule of 8 KB or more (a granule of a
-- string id is ≈ 8 KB): ≈ +2.8 B per decision (marks, the primary index, smaller blocks). The block ceiling is the
-- embedded engine's (EMBEDDED_MAX_COMPRESS_BLOCK_SIZE in src/store.ts); no granule of 256 rows reaches it.
CREATE TABLE {{table:audit_decisions_rebuilt}} {{cluster}} (
    decision_id String CODEC(ZSTD(1)),
    time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    span_name LowCardinality(String) CODEC(ZSTD(1)),
    model_id LowCardinality(String) CODEC(ZSTD(1)),
    model_version LowCardinality(String) CODEC(ZSTD(1)),
    model_type LowCardinality(String) CODEC(ZSTD(1)),
    provider LowCardinality(String) CODEC(ZSTD(1)),
    operation LowCardinality(String) CODEC(ZSTD(1)),
    decision_type LowCardinality(String) CODEC(ZSTD(1)),
    outcome LowCardinality(String) CODEC(ZSTD(1)),
    confidence Nullable(Float64) CODEC(ZSTD(1)),
    has_input_hash Bool CODEC(ZSTD(1)),
    has_output_hash Bool CODEC(ZSTD(1)),
    input_fingerprint UInt64 CODEC(ZSTD(1)),
    subject_id String CODEC(ZSTD(1)),
    actor_id String CODEC(ZSTD(1)),
    session_id String CODEC(ZSTD(1)),
    fairness_group LowCardinality(String) CODEC(ZSTD(1)),
    risk_level LowCardinality(String) CODEC(ZSTD(1)),
    purpose LowCardinality(String) CODEC(ZSTD(1)),
    automation LowCardinality(String) CODEC(ZSTD(1)),
    status_code LowCardinality(String) CODEC(ZSTD(1)),
    error_type LowCardinality(String) CODEC(ZSTD(1)),
    retention_class LowCardinality(String) CODEC(ZSTD(1)),
    integrity_stream LowCardinality(String) CODEC(ZSTD(1)),
    integrity_seq UInt64 CODEC(T64, ZSTD(1)),
    INDEX idx_time time TYPE minmax GRANULARITY 1,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_subject_id subject_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_model model_id TYPE set(256) GRANULARITY 4
) ENGINE = {{engine:ReplacingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(time))
ORDER BY decision_id
{{ttl:audit_decisions}}
SETTINGS index_granularity = 256, min_compress_block_size = 8192, max_compress_block_size = 262144,
    ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
