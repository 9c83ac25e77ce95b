-- What `decisiontrail decisions --sort confidence` reads first (src/decision-finder.ts): each decision's
-- confidence and the columns its filters compare, in confidence order, so a page's ids are the first (or last) rows
-- of a primary-key range; the page's rows are then read from audit_decisions by id (granules of 256 rows since this
-- migration). confidence_key is the confidence, -1 for a decision without one, as the finder orders them: a plain
-- column, which the engine reads in order both ways. The time and sequence number with T64 (in confidence order
-- they do not grow: ≈ 1 B less than ZSTD alone). Partitions and TTL as audit_decisions, so a retention class expires
-- here when it does there.
CREATE TABLE IF NOT EXISTS {{table:audit_decisions_by_confidence}} {{cluster}} (
    confidence_key Float64 CODEC(ZSTD(1)),
    decision_id String CODEC(ZSTD(1)),
    confidence Nullable(Float64) CODEC(ZSTD(1)),
    time DateTime64(9) CODEC(T64, ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    model_id LowCardinality(String) CODEC(ZSTD(1)),
    model_version LowCardinality(String) CODEC(ZSTD(1)),
    outcome LowCardinality(String) CODEC(ZSTD(1)),
    fairness_group LowCardinality(String) CODEC(ZSTD(1)),
    retention_class LowCardinality(String) CODEC(ZSTD(1)),
    integrity_stream LowCardinality(String) CODEC(ZSTD(1)),
    integrity_seq UInt64 CODEC(T64, ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree()}}
PARTITION BY (retention_class, toYYYYMM(time))
ORDER BY (confidence_key, decision_id)
{{ttl:audit_decisions_by_confidence}}
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000
