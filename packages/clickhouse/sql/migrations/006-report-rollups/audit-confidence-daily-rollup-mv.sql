CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_confidence_daily_stats_mv}} {{cluster}}
TO {{table:audit_confidence_stats}}
AS SELECT
    toUInt32(86400) AS width_s,
    toDateTime(intDiv(toUnixTimestamp(time), 86400) * 86400) AS start,
    model_id, model_version, service, retention_class,
    quantilesTDigestStateIf(0.5, 0.9)(assumeNotNull(confidence), confidence IS NOT NULL) AS confidence_quantiles
FROM {{source:audit_decisions}}
GROUP BY start, model_id, model_version, service, retention_class
