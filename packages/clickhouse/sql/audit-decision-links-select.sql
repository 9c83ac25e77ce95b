SELECT
    SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
    SpanId AS span_id,
    TraceId AS trace_id,
    Timestamp AS time,
    ServiceName AS service,
    SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] AS record_type,
    {{retention_class:SpanAttributes}} AS retention_class,
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS integrity_stream
FROM {{source:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] IN ({{value:AUDIT_RECORD_TYPE_VALUES.OVERSIGHT}}, {{value:AUDIT_RECORD_TYPE_VALUES.FEEDBACK}})
    -- Tool runs tied to a decision; a run tied to none has no decision to be found by.
    OR (SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
        AND SpanAttributes[{{attr:AUDIT_DECISION_ID}}] != '')
