-- sql/audit-checkpoint-spans-select.sql over audit_routed_spans instead of otel_traces: the same spans
-- (see audit-routed-spans-mv.sql).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_checkpoint_spans_mv}} {{cluster}}
TO {{table:audit_checkpoint_spans}}
AS WITH
    -- The leaves are base64 of 32-byte hashes (audit.checkpoint.leaves).
    length(tryBase64Decode(SpanAttributes[{{attr:AUDIT_CHECKPOINT_LEAVES}}])) AS leaf_bytes
SELECT
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_CHECKPOINT_SIZE}}]) AS tree_size,
    if(leaf_bytes > 0 AND leaf_bytes % 32 = 0 AND intDiv(leaf_bytes, 32) <= tree_size,
        tree_size - intDiv(leaf_bytes, 32), 0) AS first_leaf,
    SpanId AS span_id,
    Timestamp AS time,
    ServiceName AS service,
    formatRowNoNewline('JSONEachRow',
        toString(toUnixTimestamp64Nano(Timestamp)) AS start_ns,
        TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ResourceAttributes, ScopeName, ScopeVersion,
        SpanAttributes, toString(Duration) AS Duration, StatusCode, StatusMessage,
        arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS event_times_ns,
        Events.Name AS event_names, Events.Attributes AS event_attributes,
        Links.TraceId AS link_trace_ids, Links.SpanId AS link_span_ids, Links.TraceState AS link_trace_states,
        Links.Attributes AS link_attributes) AS span
FROM {{source:audit_routed_spans}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.CHECKPOINT}}
