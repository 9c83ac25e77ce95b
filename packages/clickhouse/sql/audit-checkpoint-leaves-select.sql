SELECT
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_CHECKPOINT_SIZE}}]) AS tree_size,
    SpanId AS span_id,
    TraceId AS trace_id,
    Timestamp AS time,
    ServiceName AS service,
    SpanAttributes AS attributes
FROM {{source:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.CHECKPOINT}}
