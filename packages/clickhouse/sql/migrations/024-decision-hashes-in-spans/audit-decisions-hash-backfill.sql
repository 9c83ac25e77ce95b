-- The decisions stored before: flags and fingerprint from the hashes they hold (rows without a hash keep the
-- columns' zero). The same expressions as the view below.
ALTER TABLE {{table:audit_decisions}} {{cluster}}
    UPDATE has_input_hash = input_hash != '', has_output_hash = output_hash != '',
        input_fingerprint = if(input_hash = '', 0, cityHash64(input_hash))
    WHERE input_hash != '' OR output_hash != ''
    SETTINGS mutations_sync = 2
