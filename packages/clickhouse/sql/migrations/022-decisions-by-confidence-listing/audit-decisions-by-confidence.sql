-- What `decisiontrail decisions --sort confidence` reads (src/decision-finder.ts): a decision's row as a page lists
-- it (every column of audit_decisions but the input and output hashes), in confidence order, so a page is the
-- first (or last) rows of a primary-key range, read with the columns it shows. audit_decisions is then read by id
-- for the few columns that confirm each row is its decision's final copy. confidence_key is the confidence, -1 for a
-- decision without one, as the finder orders them: a plain column, which the engine reads in order both ways.
-- Partitions and TTL as audit_decisions, so a retention class expires here when it does there.
CREATE TABLE IF NOT EXISTS {{table:audit_decisions_by_confidence}} {{cluster}} (
    confidence_key Float64 CODEC(ZSTD(1)),
    decision_id String CODEC(ZSTD(1)),
    confidence Nullable(Float64) CODEC(ZSTD(1)),
    time DateTime64(9) CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    model_id LowCardinality(String) CODEC(ZSTD(1)),
    model_version LowCardinality(String) CODEC(ZSTD(1)),
    model_type LowCardinality(String) CODEC(ZSTD(1)),
    provider LowCardinality(String) CODEC(ZSTD(1)),
    operation LowCardinality(String) CODEC(ZSTD(1)),
    decision_type LowCardinality(String) CODEC(ZSTD(1)),
    outcome LowCardinality(String) CODEC(ZSTD(1)),
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
    integrity_seq UInt64 CODEC(ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(time))
ORDER BY (confidence_key, decision_id)
{{ttl:audit_decisions_by_confidence}}
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
