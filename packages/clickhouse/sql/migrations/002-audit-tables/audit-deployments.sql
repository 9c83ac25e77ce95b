-- Model deployments: what version went live where and when (small table, kept forever).
CREATE TABLE IF NOT EXISTS {{table:audit_deployments}} {{cluster}} (
    time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    deployment_id String CODEC(ZSTD(1)),
    model_id LowCardinality(String) CODEC(ZSTD(1)),
    model_version LowCardinality(String) CODEC(ZSTD(1)),
    previous_version LowCardinality(String) CODEC(ZSTD(1)),
    environment LowCardinality(String) CODEC(ZSTD(1)),
    changelog String CODEC(ZSTD(1)),
    weights_hash String CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    integrity_stream LowCardinality(String) CODEC(ZSTD(1)),
    integrity_seq UInt64 CODEC(T64, ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree()}}
ORDER BY (model_id, time, span_id)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000
