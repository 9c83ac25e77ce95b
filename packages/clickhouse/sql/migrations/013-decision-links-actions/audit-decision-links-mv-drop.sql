-- Migration 11's view of reviews and feedback only: the view created by the step before takes its rows in.
DROP VIEW IF EXISTS {{table:audit_decision_links_mv}} {{cluster}}
