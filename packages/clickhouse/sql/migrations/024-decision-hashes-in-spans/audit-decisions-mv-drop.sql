-- Replaced below by a view that stores whether the decision span has an input and output hash, and the input hash's
-- fingerprint, instead of the two hashes.
DROP VIEW IF EXISTS {{table:audit_decisions_mv}} {{cluster}}
