-- Built for the parts stored before (new parts and merges build it on their own); waited for, so a search after
-- the migration reads it. A part it has not reached yet is read from the table: the same rows either way.
ALTER TABLE {{table:audit_overrides}} {{cluster}} MATERIALIZE PROJECTION by_model_confidence
SETTINGS mutations_sync = 2
