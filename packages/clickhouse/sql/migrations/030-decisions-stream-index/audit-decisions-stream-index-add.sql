-- The integrity stream's least and greatest value per 1024 rows of audit_decisions (four granules of 256): a search
-- for the unsigned decisions (no stream, '' the least string) skips every block of 1024 decisions that holds none,
-- where it scanned the stream column of every decision in its period (`decisiontrail decisions --integrity
-- unsigned` over a signed store of 10 M decisions: a column of 10 M rows read for a page of none). ≈ 0.04 B per
-- decision.
ALTER TABLE {{table:audit_decisions}} {{cluster}}
    ADD INDEX IF NOT EXISTS idx_integrity_stream integrity_stream TYPE minmax GRANULARITY 4
