-- One row per decision span. Ordered by the decision id: ids are UUIDv7, so the key is also
-- (nearly) time order, which makes both the id lookup of a timeline and the time-range scans of a
-- report cheap. ReplacingMergeTree collapses a decision delivered twice (retries across batches);
-- readers use FINAL. Partitions hold one retention class each, so ttl_only_drop_parts drops whole
-- parts exactly when their class expires. Granules of 2048 rows keep point lookups (timeline)
-- cheap without hurting scans.
CREATE TABLE IF NOT EXISTS {{table:audit_decisions}} {{cluster}} (
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
    input_hash String CODEC(ZSTD(1)),
    output_hash String CODEC(ZSTD(1)),
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
SETTINGS index_granularity = 2048, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
