CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:otel_traces_trace_id_ts_mv}} {{cluster}}
TO {{table:otel_traces_trace_id_ts}}
AS SELECT
    TraceId,
    min(Timestamp) as Start,
    max(Timestamp) as End
FROM {{source:otel_traces}}
WHERE TraceId != ''
GROUP BY TraceId
