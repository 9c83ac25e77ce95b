-- Witness cosignatures (C2SP tlog-cosignature) of stored checkpoints, one row per checkpoint and witness
-- signature line, kept beside audit_checkpoints: the stream, size and root name the checkpoint they cosign, and
-- the line is checked against the trusted witness keys whenever it is read (a row proposes, the signature decides).
CREATE TABLE IF NOT EXISTS {{table:audit_cosignatures}} {{cluster}} (
    stream LowCardinality(String) CODEC(ZSTD(1)),
    tree_size UInt64 CODEC(T64, ZSTD(1)),
    origin LowCardinality(String) CODEC(ZSTD(1)),
    root String CODEC(ZSTD(1)),
    witness LowCardinality(String) CODEC(ZSTD(1)),
    key_id LowCardinality(String) CODEC(ZSTD(1)),
    cosigned_at DateTime CODEC(Delta(4), ZSTD(1)),
    line String CODEC(ZSTD(1)),
    recorded_at DateTime64(3) DEFAULT now64(3) CODEC(Delta(8), ZSTD(1))
) ENGINE = {{engine:ReplacingMergeTree()}}
ORDER BY (stream, tree_size, witness, line)
