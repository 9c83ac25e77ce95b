-- The exporter's trace id → time range lookup (what Grafana uses to bound a trace query).
CREATE TABLE IF NOT EXISTS {{table:otel_traces_trace_id_ts}} {{cluster}} (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = {{engine:AggregatingMergeTree()}}
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
{{ttl:otel_traces_trace_id_ts}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
