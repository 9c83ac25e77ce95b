-- Decision coverage (src/decision-coverage.ts): per integrity stream and model, the signed audit.count
-- records (running totals of the decisions the producer's signer was handed, kept or not) that bound
-- what can be measured of the period [from, to). The base is the stream's latest count record of the
-- model made before the period (none: the stream's start, seq 0, total 0); the end is its latest one made
-- before the period ends. The decisions of the stream and model with a seq after the base's and before
-- the end's are compared with end_count - base_count; they started no earlier than first_start_ns (the
-- earliest start any count record after the base spans) and no later than end_ns. A record is made at its
-- end time. Only the stream and model pairs with a count record made in the period are returned.
SELECT stream, model_id, model_version,
    has_base,
    toString(b_seq) AS base_seq,
    toString(b_count) AS base_count,
    toString(e_seq) AS end_seq,
    toString(e_count) AS end_count,
    toString(toUnixTimestamp64Nano(e_made)) AS end_ns,
    toString(toUnixTimestamp64Nano(arrayMin(arrayMap(r -> r.2,
        arrayFilter(r -> NOT has_base OR r.1 > b_seq, records))))) AS first_start_ns
FROM (
    SELECT stream, model_id, model_version,
        countIf(made < fromUnixTimestamp64Milli({from_ms:Int64})) > 0 AS has_base,
        maxIf(seq, made < fromUnixTimestamp64Milli({from_ms:Int64})) AS b_seq,
        argMaxIf(decisions, seq, made < fromUnixTimestamp64Milli({from_ms:Int64})) AS b_count,
        max(seq) AS e_seq,
        argMax(decisions, seq) AS e_count,
        argMax(made, seq) AS e_made,
        countIf(made >= fromUnixTimestamp64Milli({from_ms:Int64})) AS in_period,
        groupArray((seq, start)) AS records
    FROM (
        SELECT SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}] AS stream,
            SpanAttributes[{{attr:AUDIT_MODEL_ID}}] AS model_id,
            SpanAttributes[{{attr:AUDIT_MODEL_VERSION}}] AS model_version,
            ServiceName AS service,
            toUInt64OrNull(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}]) AS seq_or_null,
            assumeNotNull(seq_or_null) AS seq,
            toUInt64OrNull(SpanAttributes[{{attr:AUDIT_COUNT_DECISIONS}}]) AS decisions_or_null,
            assumeNotNull(decisions_or_null) AS decisions,
            Timestamp AS start,
            addNanoseconds(Timestamp, Duration) AS made
        FROM {{read:otel_traces}}
        WHERE SpanName = {count_span:String}
            AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
            AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.COUNT}}
    )
    WHERE stream != '' AND seq_or_null IS NOT NULL AND decisions_or_null IS NOT NULL
        AND made < fromUnixTimestamp64Milli({to_ms:Int64})
        AND {{include:model-filter.sql}}
        AND {{include:service-filter.sql}}
    GROUP BY stream, model_id, model_version
    HAVING in_period > 0
)
ORDER BY stream, model_id, model_version
