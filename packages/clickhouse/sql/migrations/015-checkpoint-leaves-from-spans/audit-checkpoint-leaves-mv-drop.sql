-- The timeline's read-time check reads each covering checkpoint's own span from otel_traces by its primary key
-- (service, span name, second, found in audit_checkpoints) instead of a copy of its attributes: migration 11's
-- copy cost ≈ 41 B per signed decision (the leaves are hashes) for one point read. Its view goes first, so no
-- insert writes into a table that is being dropped.
DROP VIEW IF EXISTS {{table:audit_checkpoint_leaves_mv}} {{cluster}}
