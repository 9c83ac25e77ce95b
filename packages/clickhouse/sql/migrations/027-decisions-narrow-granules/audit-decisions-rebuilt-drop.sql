-- audit_decisions is rebuilt with granules of 256 rows and compressed blocks of ≈ 8 KB, so a read of one decision
-- by id decompresses ≈ 256 rows of each column it reads instead of 2048 (index_granularity cannot be altered).
-- The decision finder's page by confidence can then read its rows here (50 scattered ids: ≈ 35 ms of CPU at 1 M
-- decisions against ≈ 100 at 2048 rows) instead of from a second copy in audit_decisions_by_confidence. First, a
-- rebuilt table left by a run of this migration that stopped: before the exchange it is incomplete, after it, it
-- is the table as it was; either way the rebuild starts again from audit_decisions.
-- Single node only: on a cluster audit_decisions keeps its granules (rebuild it with the cluster's own tools).
DROP TABLE IF EXISTS {{table:audit_decisions_rebuilt}} {{cluster}}
