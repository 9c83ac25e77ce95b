-- Each checkpoint span's attributes (its signed note, the leaves it adds and the compact range where they begin),
-- ordered like audit_checkpoints, so the timeline's read-time check reads the checkpoint that can prove a leaf by
-- primary key instead of a granule of otel_traces. A row proposes; the note's signature and the leaves and range
-- recomputed against its root decide. Small granules: a row is up to ≈ 22 KB (512 leaves).
CREATE TABLE IF NOT EXISTS {{table:audit_checkpoint_leaves}} {{cluster}} (
    stream LowCardinality(String) CODEC(ZSTD(1)),
    tree_size UInt64 CODEC(T64, ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    attributes Map(LowCardinality(String), String) CODEC(ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree()}}
ORDER BY (stream, tree_size, span_id)
SETTINGS index_granularity = 8, non_replicated_deduplication_window = 1000
