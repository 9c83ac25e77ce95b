-- Since migration 27 a granule of audit_decisions is 256 rows, and an index of GRANULARITY 1 is one filter per 256
-- rows: a search by trace id (the timeline of a trace) or by subject (the finder, subject access) tested eight times
-- as many bloom filters as before (10 M decisions: by trace id 54 against 35 ms of CPU, by subject 48 against 34).
-- The two bloom filters go back to one per 2048 rows (GRANULARITY 8), the model's set to one per 8192
-- (GRANULARITY 32), as before migration 27; the time's minmax stays per granule (cheap to test, finer to prune).
-- Single node only, as migration 27: a cluster's table kept its granules of 2048 rows and these indexes.
-- Dropped, then added and built: a run that stopped in between drops whatever it added and builds it again.
ALTER TABLE {{table:audit_decisions}} {{cluster}}
    DROP INDEX IF EXISTS idx_trace_id, DROP INDEX IF EXISTS idx_subject_id, DROP INDEX IF EXISTS idx_model
