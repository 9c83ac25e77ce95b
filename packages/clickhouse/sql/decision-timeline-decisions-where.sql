-- Which decisions a timeline is about: by decision id (primary key) or by trace id (skip index).
-- The parameter tests fold to constants, so only one of the two lookups remains.
({decision_id:String} != '' AND decision_id = {decision_id:String})
        OR ({trace_id:String} != '' AND trace_id = {trace_id:String})
