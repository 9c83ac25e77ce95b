ALTER TABLE {{table:audit_decision_stats}} MODIFY SETTING non_replicated_deduplication_window = 1000
