-- Since migration 31 a granule of otel_traces is 256 rows, and the exporter's attribute and span-name filters, of
-- GRANULARITY 1 and 8, are one per 256 and per 2048 rows: the value filter counts a value once per filter, so the
-- values most spans share (models, outcomes, services) are counted 32 times where the exporter counts them once
-- (1 M signed decisions: 9.0 → 12.7 B per decision). The five filters go back to one per 8192 rows and one per
-- 65536, as the exporter's over its 8192-row granules; the trace-id filter and the duration's minmax stay per
-- granule (the timeline's trace read tests the trace-id filter of each). Single node only, as migration 31: a
-- cluster's otel_traces kept its granules of 8192 rows and these filters.
-- Dropped, then added and built: a run that stopped in between drops whatever it added and builds it again.
ALTER TABLE {{table:otel_traces}} {{cluster}}
    DROP INDEX IF EXISTS idx_res_attr_key, DROP INDEX IF EXISTS idx_res_attr_value,
    DROP INDEX IF EXISTS idx_span_attr_key, DROP INDEX IF EXISTS idx_span_attr_value,
    DROP INDEX IF EXISTS idx_lower_span_name
