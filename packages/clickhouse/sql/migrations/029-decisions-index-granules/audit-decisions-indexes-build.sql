-- Built for the rows stored before (new parts and merges build them on their own); waited for, so a search after
-- the migration finds them.
ALTER TABLE {{table:audit_decisions}} {{cluster}}
    MATERIALIZE INDEX idx_trace_id, MATERIALIZE INDEX idx_subject_id, MATERIALIZE INDEX idx_model
SETTINGS mutations_sync = 2
