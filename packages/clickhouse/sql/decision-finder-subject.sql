-- The subject filter of `decisiontrail decisions` (src/decision-finder.ts), over audit_decisions (its bloom
-- filter index on subject_id skips the granules without the subject); true when no subject is given.
(NOT {by_subject:Bool} OR subject_id = {subject_id:String})
