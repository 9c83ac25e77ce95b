CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:audit_checkpoints_mv}} {{cluster}}
TO {{table:audit_checkpoints}}
AS {{include:audit-checkpoints-select.sql}}
