-- The storage table on a cluster (on a single node the step before dropped it, and this is a no-op).
DROP TABLE IF EXISTS {{table:audit_decisions_by_confidence}} {{cluster}}
