-- Every checkpoint span into audit_checkpoint_spans as it is stored (the tree size as audit_checkpoints_mv takes it).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_checkpoint_spans_mv}} {{cluster}}
TO {{table:audit_checkpoint_spans}}
AS SELECT
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_CHECKPOINT_SIZE}}]) AS tree_size,
    Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes,
    ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage,
    `Events.Timestamp`, `Events.Name`, `Events.Attributes`,
    `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`
FROM {{source:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.CHECKPOINT}}
