-- audit_overrides' columns that the finder's overridden pages read (src/decision-finder.ts, overriddenKeys), a
-- second time in each part, ordered by model, version and confidence key: a search of one model (and version)
-- reads that model's range of rows, where the table's order (decision id) made it read every row of every part and
-- decompress every row's id (10 M decisions: ≈ 150 k rows for a page of one model version's overrides). The engine
-- chooses it when it reads fewer granules than the table, so a search of no model reads the table as before.
ALTER TABLE {{table:audit_overrides}} {{cluster}}
    ADD PROJECTION IF NOT EXISTS by_model_confidence (
        SELECT decision_id, decided, confidence_key, time, service, model_id, model_version
        ORDER BY model_id, model_version, confidence_key, decision_id
    )
