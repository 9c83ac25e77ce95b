CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_confidence_stats_mv}} {{cluster}}
TO {{table:audit_confidence_stats}}
AS SELECT
    {{include:audit-confidence-rollup-columns.sql}}
FROM {{table:audit_decisions}}
GROUP BY hour, model_id, model_version, service, retention_class
