-- The decided model (audit.model.id/version as the instrumentation repeats them from the decision's
-- reference), so feedback can be counted per model and decision hour without a join ('' when the
-- span did not carry it: older instrumentation, other producers), and whether the row is in the
-- hourly rollup, stored so the report finds the rows it must join without testing every id.
ALTER TABLE {{table:audit_feedback}} {{cluster}}
    {{include:audit-oversight-feedback-model-columns.sql}}
