-- A copy of each checkpoint span, in otel_traces' columns, ordered by stream and tree size: the timeline's read-time
-- check reads the checkpoint that can prove a leaf by primary key here (granules of 8 rows: a row is up to ≈ 22 KB,
-- 512 leaves), where from otel_traces it read the checkpoint's granule of ≈ 4.5 k mixed spans, found through
-- audit_checkpoints first (≈ 12 ms of CPU per timeline at 10 M). Every copy is kept, as in otel_traces (a span id
-- signed twice is two rows). A row proposes: the note's signature and the leaves and range recomputed against the
-- signed root decide. The leaves are hashes and do not compress: ≈ 1 row per 512 signed spans, ≈ 40 B per decision.
CREATE TABLE IF NOT EXISTS {{table:audit_checkpoint_spans}} {{cluster}} (
    stream LowCardinality(String) CODEC(ZSTD(1)),
    tree_size UInt64 CODEC(T64, ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1))
) ENGINE = {{engine:MergeTree()}}
ORDER BY (stream, tree_size, SpanId)
SETTINGS index_granularity = 8, non_replicated_deduplication_window = 1000
