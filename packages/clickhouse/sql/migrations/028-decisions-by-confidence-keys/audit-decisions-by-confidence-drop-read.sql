-- The table queries read (the Distributed table on a cluster; on a single node the table itself).
DROP TABLE IF EXISTS {{read:audit_decisions_by_confidence}} {{cluster}}
