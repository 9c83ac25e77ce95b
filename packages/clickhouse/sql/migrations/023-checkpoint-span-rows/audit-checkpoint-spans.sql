-- Each checkpoint span, for the timeline's read-time check to read the checkpoint that can prove a leaf in one
-- primary-key read (from otel_traces it read the checkpoint's granule of ≈ 4.5 k mixed spans, found through
-- audit_checkpoints first: ≈ 12 ms of CPU per timeline at 10 M). The row is one column, `span`: the stored span as
-- the store's readers read an otel_traces row (JSON of its columns, as src/trace-row.ts's TRACE_ROW_COLUMNS), since a
-- point read costs per column read (a block of each is decompressed: migration 21's table with otel_traces' 17
-- columns cost 8 ms a read, this one ≈ 4). `first_leaf` is the first leaf the checkpoint carries (its size less the
-- leaves it adds; 0 when its leaf list is not well-formed, so it is still proposed): with its minmax index the
-- checkpoints whose leaves hold leaf n are `tree_size > n AND first_leaf <= n`, the granule that holds them and no
-- other. Every copy is kept, as in otel_traces. A row only proposes: the span's signed note and the leaves and range
-- recomputed against its root decide. The leaves are hashes and do not compress: ≈ 42 B per signed span.
CREATE TABLE IF NOT EXISTS {{table:audit_checkpoint_spans}} {{cluster}} (
    stream LowCardinality(String) CODEC(ZSTD(1)),
    tree_size UInt64 CODEC(T64, ZSTD(1)),
    first_leaf UInt64 CODEC(T64, ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    time DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    span String CODEC(ZSTD(1)),
    INDEX idx_first_leaf first_leaf TYPE minmax GRANULARITY 1
) ENGINE = {{engine:MergeTree()}}
ORDER BY (stream, tree_size, span_id)
SETTINGS index_granularity = 8, non_replicated_deduplication_window = 1000
