-- Built for the rows stored before (new parts and merges build it on their own); waited for, so a search after the
-- migration finds it.
ALTER TABLE {{table:audit_decisions}} {{cluster}} MATERIALIZE INDEX idx_integrity_stream
SETTINGS mutations_sync = 2
