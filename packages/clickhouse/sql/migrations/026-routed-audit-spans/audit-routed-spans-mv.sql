-- Every span of the record types the views on audit_routed_spans take in, as it is in otel_traces. Each of those
-- views keeps its own filter, a subset of this one, so it takes in the same spans as over otel_traces.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_routed_spans_mv}} {{cluster}}
TO {{table:audit_routed_spans}}
AS SELECT *
FROM {{source:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] IN ({{value:AUDIT_RECORD_TYPE_VALUES.CHECKPOINT}},
    {{value:AUDIT_RECORD_TYPE_VALUES.DEPLOYMENT}}, {{value:AUDIT_RECORD_TYPE_VALUES.FEEDBACK}},
    {{value:AUDIT_RECORD_TYPE_VALUES.OVERSIGHT}}, {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}})
