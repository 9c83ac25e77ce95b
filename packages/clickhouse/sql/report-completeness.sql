-- Record completeness (src/decision-coverage.ts): the period's decisions that serve's completeness
-- check flagged at ingest (audit.completeness.missing, the required attributes a decision lacked), per
-- model and version, with how many lacked each attribute. The flag is rare, so the attribute-key bloom
-- filter of otel_traces skips nearly every granule; the model and filters come from audit_decisions.
WITH flagged AS (
    SELECT SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
        any(JSONExtract(SpanAttributes[{{attr:AUDIT_COMPLETENESS_MISSING}}], 'Array(String)')) AS missing
    FROM {{read:otel_traces}}
    WHERE Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
        AND mapContains(SpanAttributes, {{attr:AUDIT_COMPLETENESS_MISSING}})
        AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DECISION}}
    GROUP BY decision_id
)
SELECT d.model_id AS model_id, d.model_version AS model_version,
    toString(count()) AS incomplete,
    sumMap(mapFromArrays(flagged.missing, arrayMap(key -> toUInt64(1), flagged.missing))) AS missing
FROM (
    SELECT DISTINCT decision_id, model_id, model_version FROM {{read:audit_decisions}}
    WHERE {{include:decision-filter.sql}}
        AND decision_id IN (SELECT decision_id FROM flagged)
) AS d
INNER JOIN flagged ON flagged.decision_id = d.decision_id
GROUP BY model_id, model_version
ORDER BY model_id, model_version
