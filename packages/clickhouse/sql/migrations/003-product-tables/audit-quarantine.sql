-- Spans the processor refused (verification or policy failure), kept verbatim for investigation.
CREATE TABLE IF NOT EXISTS {{table:audit_quarantine}} {{cluster}} (
    received_at DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    code LowCardinality(String) CODEC(ZSTD(1)),
    reason String CODEC(ZSTD(1)),
    stream LowCardinality(String) CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    record String CODEC(ZSTD(3))
) ENGINE = {{engine:MergeTree()}}
PARTITION BY toYYYYMM(received_at)
ORDER BY (received_at, span_id)
{{ttl:audit_quarantine}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
