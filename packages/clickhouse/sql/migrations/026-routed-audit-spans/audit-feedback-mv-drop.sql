-- Replaced below by the same view over audit_routed_spans.
DROP VIEW IF EXISTS {{table:audit_feedback_mv}} {{cluster}}
