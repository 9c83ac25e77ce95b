CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_oversight_stats_mv}} {{cluster}}
TO {{table:audit_oversight_stats}}
AS {{include:audit-oversight-rollup-select.sql}}
