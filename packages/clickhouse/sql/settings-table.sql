-- Store-wide settings decisiontrail applied (such as the retention the TTLs were last set to), one row per
-- name; the latest write wins.
CREATE TABLE IF NOT EXISTS {{table:decisiontrail_settings}} {{cluster}} (
    name String,
    value String,
    updated_at DateTime64(3)
) ENGINE = {{engine:ReplacingMergeTree(updated_at)}}
ORDER BY name
