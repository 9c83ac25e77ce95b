-- The same columns on the table queries read (the Distributed table on a cluster; on a single node
-- the storage table again, where IF NOT EXISTS makes this a no-op).
ALTER TABLE {{read:audit_feedback}} {{cluster}}
    {{include:audit-oversight-feedback-model-columns.sql}}
