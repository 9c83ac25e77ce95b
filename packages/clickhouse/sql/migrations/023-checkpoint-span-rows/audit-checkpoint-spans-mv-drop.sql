-- Migration 21's view, which wrote every column of the span: dropped first, so no insert writes into a table that
-- is being dropped; the steps after create the table and its view again and fill it from the spans.
DROP VIEW IF EXISTS {{table:audit_checkpoint_spans_mv}} {{cluster}}
