ALTER TABLE {{table:otel_traces_trace_id_ts}} MODIFY SETTING non_replicated_deduplication_window = 1000
