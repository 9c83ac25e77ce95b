-- Signed loss records (audit.record.type = loss) whose first drop falls in the report's period: per stream and
-- reason, how many audit records and decisions the producer could not keep, from the first to the last drop. A
-- loss record delivered twice counts once. Loss records name no model (the lost records were never read), so a
-- model filter does not apply; a service filter does (the producer's service.name).
SELECT
    stream,
    reason,
    toString(sum(records)) AS records,
    toString(sum(decisions)) AS decisions,
    toString(count()) AS loss_records,
    toString(min(first_ns)) AS first_unix_nano,
    toString(max(last_ns)) AS last_unix_nano
FROM (
    SELECT
        SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS stream,
        SpanAttributes[{{attr:AUDIT_LOSS_REASON}}] AS reason,
        toUInt64OrZero(SpanAttributes[{{attr:AUDIT_LOSS_COUNT}}]) AS records,
        toUInt64OrZero(SpanAttributes[{{attr:AUDIT_LOSS_DECISION_COUNT}}]) AS decisions,
        toUnixTimestamp64Nano(Timestamp) AS first_ns,
        toUnixTimestamp64Nano(Timestamp) + Duration AS last_ns
    FROM {{read:otel_traces}}
    WHERE Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64})
        AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
        AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.LOSS}}
        AND (NOT {by_service:Bool} OR ServiceName = {service:String})
    LIMIT 1 BY SpanId
)
GROUP BY stream, reason
ORDER BY first_unix_nano, stream, reason
