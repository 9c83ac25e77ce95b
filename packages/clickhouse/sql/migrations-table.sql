-- Which schema migrations ran, with a checksum of the exact statements applied.
CREATE TABLE IF NOT EXISTS {{table:decisiontrail_migrations}} {{cluster}} (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3)
) ENGINE = {{engine:ReplacingMergeTree()}}
ORDER BY version
