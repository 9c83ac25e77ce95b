CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_confidence_stats_mv}} {{cluster}}
TO {{table:audit_confidence_stats}}
AS {{include:audit-confidence-rollup-select.sql}}
