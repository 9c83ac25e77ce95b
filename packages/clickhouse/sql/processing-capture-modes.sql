-- How each model's decision spans recorded their input and output (audit.input.capture_mode and
-- audit.output.capture_mode: hash, redact, full, encrypt, none; '' when the span does not say), from the
-- stored spans of the period.
SELECT
    SpanAttributes[{{attr:AUDIT_MODEL_ID}}] AS modelId,
    SpanAttributes[{{attr:AUDIT_INPUT_CAPTURE_MODE}}] AS input,
    SpanAttributes[{{attr:AUDIT_OUTPUT_CAPTURE_MODE}}] AS output,
    toString(uniqExact(SpanId)) AS decisions
FROM {{read:otel_traces}}
WHERE SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DECISION}}
    AND Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
GROUP BY modelId, input, output
ORDER BY modelId, input, output
