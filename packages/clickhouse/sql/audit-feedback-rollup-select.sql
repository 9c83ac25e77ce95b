SELECT
    {{include:audit-feedback-rollup-columns.sql}}
FROM {{source:audit_feedback}}
WHERE {{include:audit-rollup-eligible.sql}}
GROUP BY hour, model_id, model_version, retention_class
