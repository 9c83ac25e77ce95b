-- Fills the rollup from feedback stored before it existed that already carries the model (a no-op
-- right after the columns were added). Rows rolled up twice change no count: the set is distinct,
-- and the doubled label counts send those hours to the report's exact path.
INSERT INTO {{read:audit_feedback_stats}}
SELECT
    {{include:audit-feedback-rollup-columns.sql}}
FROM {{read:audit_feedback}} FINAL
WHERE {{include:audit-rollup-eligible.sql}}
GROUP BY hour, model_id, model_version, retention_class
