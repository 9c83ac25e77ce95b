-- The overridden filter of `decisiontrail decisions` (src/decision-finder.ts): at least one oversight record with
-- action override (from any trace, any time), or none. Only in a statement of a search that filters on it: the
-- engine builds an IN subquery's set before it reads a row, even when the test is folded away.
(decision_id IN (
    SELECT decision_id FROM {{read:audit_oversight}} FINAL
    WHERE action = {{value:AUDIT_OVERSIGHT_ACTION_VALUES.OVERRIDE}}
      -- Read a window of time at a time (src/decision-finder.ts), only the window's decisions are looked up (by
      -- primary key) instead of every override stored.
      AND (NOT {windowed:Bool} OR decision_id IN (
        SELECT decision_id FROM {{read:audit_decisions}}
        WHERE time >= fromUnixTimestamp64Nano({window_from_ns:Int64})
          AND time < fromUnixTimestamp64Nano({window_to_ns:Int64})))) = {overridden:Bool})
