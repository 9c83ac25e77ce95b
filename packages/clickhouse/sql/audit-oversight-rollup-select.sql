SELECT
    {{include:audit-oversight-rollup-columns.sql}}
FROM {{source:audit_oversight}}
WHERE {{include:audit-rollup-eligible.sql}}
GROUP BY hour, model_id, model_version, action, retention_class
