-- Tombstones of GDPR erasures (crypto-shredding of a subject's content keys). Kept forever: the
-- record that data was erased, and on whose request, is itself evidence.
CREATE TABLE IF NOT EXISTS {{table:audit_erasures}} {{cluster}} (
    erasure_id String CODEC(ZSTD(1)),
    erased_at DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    subject_id String CODEC(ZSTD(1)),
    key_ids Array(String) CODEC(ZSTD(1)),
    requested_by String CODEC(ZSTD(1)),
    reason String CODEC(ZSTD(1)),
    decision_count UInt64
) ENGINE = {{engine:ReplacingMergeTree()}}
ORDER BY (subject_id, erasure_id)
SETTINGS index_granularity = 8192
