-- The hourly decision rollup's view counts the decisions with an input and output hash from audit_decisions' insert
-- block, which no longer carries the hashes: replaced below by one counting the flags.
DROP VIEW IF EXISTS {{table:audit_decision_stats_mv}} {{cluster}}
