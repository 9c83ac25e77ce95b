-- Replaced below by the same view over audit_routed_spans.
DROP VIEW IF EXISTS {{table:audit_decision_links_all_mv}} {{cluster}}
