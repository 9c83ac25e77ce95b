-- A decision's input and output hashes (keyed HMACs, 64 hex digits each: ≈ 64.6 B per decision that no codec can
-- shrink) were copies of the decision span's attributes. What the audit tables' readers need of them: whether a
-- decision has each (counts), and which decisions share an input (the repeated-input signal), which a 64-bit
-- fingerprint of the input hash answers; the hashes themselves are read from the decision span where they are shown.
-- input_hash and output_hash are added too (no-ops on a store that still has them): if this migration stopped
-- after dropping them, its next run finds them empty, the back-fill changes nothing and they are dropped again.
ALTER TABLE {{table:audit_decisions}} {{cluster}}
    ADD COLUMN IF NOT EXISTS has_input_hash Bool CODEC(ZSTD(1)) AFTER confidence,
    ADD COLUMN IF NOT EXISTS has_output_hash Bool CODEC(ZSTD(1)) AFTER has_input_hash,
    ADD COLUMN IF NOT EXISTS input_fingerprint UInt64 CODEC(ZSTD(1)) AFTER has_output_hash,
    ADD COLUMN IF NOT EXISTS input_hash String CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS output_hash String CODEC(ZSTD(1))
