-- sql/audit-decision-links-select.sql over audit_routed_spans instead of otel_traces: the same spans
-- (see audit-routed-spans-mv.sql).
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_decision_links_all_mv}} {{cluster}}
TO {{table:audit_decision_links}}
AS SELECT
    SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
    SpanId AS span_id,
    TraceId AS trace_id,
    Timestamp AS time,
    ServiceName AS service,
    SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] AS record_type,
    {{retention_class:SpanAttributes}} AS retention_class,
    SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS integrity_stream
FROM {{source:audit_routed_spans}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] IN ({{value:AUDIT_RECORD_TYPE_VALUES.OVERSIGHT}}, {{value:AUDIT_RECORD_TYPE_VALUES.FEEDBACK}})
    -- Tool runs tied to a decision; a run tied to none has no decision to be found by.
    OR (SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
        AND SpanAttributes[{{attr:AUDIT_DECISION_ID}}] != '')
