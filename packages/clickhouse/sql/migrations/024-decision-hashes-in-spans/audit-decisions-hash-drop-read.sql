-- The same on the table queries read (a no-op on a single node, where it is the storage table).
ALTER TABLE {{read:audit_decisions}} {{cluster}}
    DROP COLUMN IF EXISTS input_hash,
    DROP COLUMN IF EXISTS output_hash
