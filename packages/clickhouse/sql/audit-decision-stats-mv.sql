CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_decision_stats_mv}} {{cluster}}
TO {{table:audit_decision_stats}}
AS {{include:audit-decision-stats-select.sql}}
