-- otel_traces' compressed blocks back to the engine's 64 KB floor (migration 31 cut one at every granule of 8 KB or
-- more). A granule of 256 rows of the wide columns is ≈ 150 KB anyway, so the timeline's trace read changes little
-- (10 M, CPU p50 / p95 13.9 / 16.9 → 14.4 / 20.0 ms, load ≈ 6), while the sink's insert path compresses fewer, larger
-- blocks (bench:insert-cost, three alternated pairs, load 4–6: 40.6 → 37.1 µs of engine CPU per span, median) and the
-- data is ≈ 1 % smaller. New parts and merges take it; parts written before keep their blocks until merged.
ALTER TABLE {{table:otel_traces}}
    MODIFY SETTING min_compress_block_size = 65536
