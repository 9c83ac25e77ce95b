-- A merge that replaces rows (ReplacingMergeTree: a pending row by its decided one, a copy by a later copy) builds
-- the merged part's projections again from the rows it keeps, so a projection never holds a row the table dropped.
-- The engine refuses a projection on this engine without it.
ALTER TABLE {{table:audit_overrides}} {{cluster}}
    MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild'
