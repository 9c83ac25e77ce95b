-- Signed Merkle checkpoints per integrity stream, ordered so "the first checkpoint that covers
-- leaf n of stream s" is one primary-key range read.
CREATE TABLE IF NOT EXISTS {{table:audit_checkpoints}} {{cluster}} (
    stream LowCardinality(String) CODEC(ZSTD(1)),
    tree_size UInt64 CODEC(T64, ZSTD(1)),
    time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    origin LowCardinality(String) CODEC(ZSTD(1)),
    root String CODEC(ZSTD(1)),
    note String CODEC(ZSTD(1)),
    key_id LowCardinality(String) CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree()}}
ORDER BY (stream, tree_size, span_id)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000
