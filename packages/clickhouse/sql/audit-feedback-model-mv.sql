-- Version 2's view plus the decided model. MODIFY QUERY swaps the view in place: no span inserted
-- while the migration runs is missed.
ALTER TABLE {{table:audit_feedback_mv}} {{cluster}} MODIFY QUERY
{{include:audit-feedback-select.sql}}
