ADD COLUMN IF NOT EXISTS model_id LowCardinality(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS model_version LowCardinality(String) CODEC(ZSTD(1)),
    ADD COLUMN IF NOT EXISTS rolled_up Bool MATERIALIZED {{include:audit-rollup-eligible.sql}}
