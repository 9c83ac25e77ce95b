CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_decisions_mv}} {{cluster}}
TO {{table:audit_decisions}}
AS {{include:audit-decisions-select.sql}}
