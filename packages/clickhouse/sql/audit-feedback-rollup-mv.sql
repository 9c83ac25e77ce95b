CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_feedback_stats_mv}} {{cluster}}
TO {{table:audit_feedback_stats}}
AS {{include:audit-feedback-rollup-select.sql}}
