-- audit_decisions_by_confidence back to what the finder's filters compare and its order (migration 20's columns):
-- a page's rows are read from audit_decisions by id (migration 27), so the listing columns migration 22 copied here
-- (trace and span id, subject, actor, session and the listed labels: ≈ 38 B per decision) go. Its view goes first,
-- so no insert writes into a table being dropped.
DROP VIEW IF EXISTS {{table:audit_decisions_by_confidence_mv}} {{cluster}}
