-- The decided model (audit.model.id/version as the instrumentation repeats them from the decision's
-- reference), so oversight can be counted per model and decision hour without a join ('' when the
-- span did not carry it: older instrumentation, other producers), and whether the row is in the
-- hourly rollup, stored so the report finds the rows it must join without testing every id.
ALTER TABLE {{table:audit_oversight}} {{cluster}}
    ADD COLUMN IF NOT EXISTS model_id LowCardinality(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS model_version LowCardinality(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS rolled_up Bool MATERIALIZED model_id != '' AND match(decision_id, '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$')
