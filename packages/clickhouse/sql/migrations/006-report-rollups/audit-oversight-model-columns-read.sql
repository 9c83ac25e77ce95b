-- The same columns on the table queries read (the Distributed table on a cluster; on a single node
-- the storage table again, where IF NOT EXISTS makes this a no-op).
ALTER TABLE {{read:audit_oversight}} {{cluster}}
    ADD COLUMN IF NOT EXISTS model_id LowCardinality(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS model_version LowCardinality(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS rolled_up Bool MATERIALIZED model_id != '' AND match(decision_id, '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$')
