SELECT
    TraceId,
    min(Timestamp) as Start,
    max(Timestamp) as End
FROM {{source:otel_traces}}
WHERE TraceId != ''
GROUP BY TraceId
