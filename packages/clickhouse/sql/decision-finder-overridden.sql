-- The overridden filter of `decisiontrail decisions` (src/decision-finder.ts): at least one oversight record whose
-- final copy has action override (from any trace, any time), or none. Only in a statement of a search that filters
-- on it: the engine builds an IN subquery's set before it reads a row, even when the test is folded away.
-- The set holds a 128-bit hash of each overridden decision's id, not the id: built from ≈ 150 k ids and probed for
-- every row a page by confidence scans, a set of strings cost ≈ 60 ms of CPU more at 10 M decisions (the ids' step
-- 110 against 50 ms). A hash in the set admits a decision whose id only shares it: the caller compares the override
-- read again by id for every row it lists; a hash not in the set leaves out a decision only if its id's sipHash128
-- equals an overridden decision's.
(sipHash128(decision_id) IN (
    SELECT sipHash128(decision_id) FROM {{read:audit_oversight}} FINAL
    WHERE action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}
      -- Read a window of time at a time (src/decision-finder.ts), only the window's decisions are looked up (by
      -- primary key) instead of every override stored.
      AND (NOT {windowed:Bool} OR decision_id IN (
        SELECT decision_id FROM {{read:audit_decisions}}
        WHERE time >= fromUnixTimestamp64Nano({window_from_ns:Int64})
          AND time < fromUnixTimestamp64Nano({window_to_ns:Int64})))) = {overridden:Bool})
