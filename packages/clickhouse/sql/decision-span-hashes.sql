-- The input and output hashes of the decisions {ids}, read from their decision spans: audit_decisions keeps only
-- whether each is there and the input hash's fingerprint (migration 24). Each span is found by otel_traces'
-- primary key (service, span name, second) and its span id, the keys read from audit_decisions by decision id; a
-- span stored twice gives one row (copies of a span are the same span; verify tells an altered copy).
SELECT SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decisionId,
    SpanAttributes[{{attr:AUDIT_INPUT_HASH}}] AS inputHash,
    SpanAttributes[{{attr:AUDIT_OUTPUT_HASH}}] AS outputHash
FROM {{read:otel_traces}}
WHERE (ServiceName, SpanName, toDateTime(Timestamp), SpanId) IN (
        SELECT service, span_name, toDateTime(time), span_id FROM {{read:audit_decisions}}
        WHERE decision_id IN {ids:Array(String)})
    AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DECISION}}
    AND SpanAttributes[{{attr:AUDIT_DECISION_ID}}] IN {ids:Array(String)}
LIMIT 1 BY decisionId
