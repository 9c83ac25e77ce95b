-- Fills the table from checkpoint spans stored before it existed (a no-op on a new store). Through the
-- Distributed tables on a cluster, so every shard is read and written.
INSERT INTO {{read:audit_checkpoint_leaves}}
SELECT
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS stream,
    toUInt64OrZero(SpanAttributes[{{attr:AUDIT_CHECKPOINT_SIZE}}]) AS tree_size,
    SpanId AS span_id,
    TraceId AS trace_id,
    Timestamp AS time,
    ServiceName AS service,
    SpanAttributes AS attributes
FROM {{read:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.CHECKPOINT}}
