-- The decision spans of the store's timeline, as rows of their own that carry only what the decision rows take from
-- them: the input and output hashes, which audit_decisions does not hold (migration 24). Appended to the linked
-- statement by src/decision-timeline.ts (not a row of the view, whose decision rows read the same spans).
SELECT
        'decision_span' AS kind, Timestamp AS time, SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
        TraceId AS trace_id, SpanId AS span_id, '' AS parent_span_id, SpanName AS name, ServiceName AS service,
        StatusCode AS status_code, Duration AS duration_ns,
        map({{attr:AUDIT_RECORD_TYPE}}, SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}],
            {{attr:AUDIT_DECISION_ID}}, SpanAttributes[{{attr:AUDIT_DECISION_ID}}],
            {{attr:AUDIT_INPUT_HASH}}, SpanAttributes[{{attr:AUDIT_INPUT_HASH}}],
            {{attr:AUDIT_OUTPUT_HASH}}, SpanAttributes[{{attr:AUDIT_OUTPUT_HASH}}]) AS attributes
    FROM {{read:otel_traces}}
    -- otel_traces' primary key (service, span name, second) narrows the read to the decisions' own granules.
    WHERE ServiceName IN {decision_services:Array(String)} AND SpanName IN {decision_names:Array(String)}
      AND Timestamp >= first_time AND Timestamp <= last_time
      AND has(traces, TraceId) AND has(decision_spans, SpanId)
      AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DECISION}}
