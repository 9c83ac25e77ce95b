-- The hashes themselves out of audit_decisions (after the back-fill above: mutations run in order).
ALTER TABLE {{table:audit_decisions}} {{cluster}}
    DROP COLUMN IF EXISTS input_hash,
    DROP COLUMN IF EXISTS output_hash
    SETTINGS mutations_sync = 2
