-- The table as it was, now under the rebuilt table's name.
DROP TABLE IF EXISTS {{table:audit_decisions_rebuilt}} {{cluster}}
