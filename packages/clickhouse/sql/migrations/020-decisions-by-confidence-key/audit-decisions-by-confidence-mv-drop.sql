-- Migration 16's table is ordered by the expression ifNull(confidence, -1), which the engine reads in order
-- ascending but not in reverse: a page by confidence, highest first (the default), sorted the whole period. It is
-- replaced by one ordered by a plain column. Its view goes first, so no insert writes into a table being dropped.
DROP VIEW IF EXISTS {{table:audit_decisions_by_confidence_mv}} {{cluster}}
