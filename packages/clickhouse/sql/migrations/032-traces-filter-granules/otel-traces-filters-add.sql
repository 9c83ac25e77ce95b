-- Each where the exporter's DDL has it (the indexes' order is the exporter's).
ALTER TABLE {{table:otel_traces}} {{cluster}}
    ADD INDEX IF NOT EXISTS idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 32
        AFTER idx_trace_id,
    ADD INDEX IF NOT EXISTS idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 32
        AFTER idx_res_attr_key,
    ADD INDEX IF NOT EXISTS idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 32
        AFTER idx_res_attr_value,
    ADD INDEX IF NOT EXISTS idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 32
        AFTER idx_span_attr_key,
    ADD INDEX IF NOT EXISTS idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 256
        AFTER idx_duration
