CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_oversight_stats_mv}} {{cluster}}
TO {{table:audit_oversight_stats}}
AS SELECT
    {{include:audit-oversight-rollup-columns.sql}}
FROM {{table:audit_oversight}}
WHERE {{include:audit-rollup-eligible.sql}}
GROUP BY hour, model_id, model_version, action, retention_class
