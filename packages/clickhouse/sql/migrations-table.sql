-- Which schema migrations ran, each with the checksum it was released with (src/migration-list.ts).
CREATE TABLE IF NOT EXISTS {{table:decisiontrail_migrations}} {{cluster}} (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3)
) ENGINE = {{engine:ReplacingMergeTree()}}
ORDER BY version
