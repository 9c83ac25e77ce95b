-- The same columns on the table queries read (the Distributed table on a cluster; on a single node the storage
-- table again, where IF NOT EXISTS makes this a no-op).
ALTER TABLE {{read:audit_decisions}} {{cluster}}
    ADD COLUMN IF NOT EXISTS has_input_hash Bool AFTER confidence,
    ADD COLUMN IF NOT EXISTS has_output_hash Bool AFTER has_input_hash,
    ADD COLUMN IF NOT EXISTS input_fingerprint UInt64 AFTER has_output_hash
