-- Fills the rollup from oversight stored before it existed that already carries the model (a no-op
-- right after the columns were added). Rows rolled up twice change nothing: the sets are distinct.
INSERT INTO {{read:audit_oversight_stats}}
SELECT
    {{include:audit-oversight-rollup-columns.sql}}
FROM {{read:audit_oversight}} FINAL
WHERE {{include:audit-rollup-eligible.sql}}
GROUP BY hour, model_id, model_version, action, retention_class
