SELECT
    toUInt32(3600) AS width_s,
    toDateTime(intDiv(toUnixTimestamp(time), 3600) * 3600) AS start,
    {{include:audit-confidence-rollup-columns.sql}}
FROM {{source:audit_decisions}}
GROUP BY start, model_id, model_version, service, retention_class
