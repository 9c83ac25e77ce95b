CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_deployments_mv}} {{cluster}}
TO {{table:audit_deployments}}
AS {{include:audit-deployments-select.sql}}
