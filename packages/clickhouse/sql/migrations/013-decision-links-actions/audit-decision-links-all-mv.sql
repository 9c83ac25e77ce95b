-- Reviews, feedback and now tool runs (execute_tool action spans) tied to a decision, into audit_decision_links:
-- the decision's timeline finds a run recorded in any trace by the decision id (primary key), and the read-time
-- check reads the run's span from otel_traces. Replaces migration 11's audit_decision_links_mv, which is dropped
-- by the next step only once this view takes the rows in (a span both take in is one key: ReplacingMergeTree
-- keeps one row), so no span inserted meanwhile is missed.
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
FROM {{source:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] IN ({{value:AUDIT_RECORD_TYPE_VALUES.OVERSIGHT}}, {{value:AUDIT_RECORD_TYPE_VALUES.FEEDBACK}})
    -- Tool runs tied to a decision; a run tied to none has no decision to be found by.
    OR (SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
        AND SpanAttributes[{{attr:AUDIT_DECISION_ID}}] != '')
