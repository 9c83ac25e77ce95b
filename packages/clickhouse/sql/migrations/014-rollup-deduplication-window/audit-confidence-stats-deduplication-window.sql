ALTER TABLE {{table:audit_confidence_stats}} MODIFY SETTING non_replicated_deduplication_window = 1000
