CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_feedback_stats_mv}} {{cluster}}
TO {{table:audit_feedback_stats}}
AS SELECT
    {{include:audit-feedback-rollup-columns.sql}}
FROM {{table:audit_feedback}}
WHERE {{include:audit-rollup-eligible.sql}}
GROUP BY hour, model_id, model_version, retention_class
