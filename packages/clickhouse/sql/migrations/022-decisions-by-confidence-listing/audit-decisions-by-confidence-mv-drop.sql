-- Migration 20's table holds only the columns the finder's filters compare, so a page by confidence read every
-- other column of its decisions from audit_decisions by id: ≈ 50 granules of 2048 rows, each decompressed whole,
-- for 50 rows. It is replaced by one that also holds the columns a page lists (all of a decision's row but the
-- input and output hashes). Its view goes first, so no insert writes into a table being dropped.
DROP VIEW IF EXISTS {{table:audit_decisions_by_confidence_mv}} {{cluster}}
