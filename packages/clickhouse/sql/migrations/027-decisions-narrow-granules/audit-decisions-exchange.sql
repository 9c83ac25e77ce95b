-- The rebuilt table takes the name in one step; the views into and out of audit_decisions follow the name.
EXCHANGE TABLES {{table:audit_decisions}} AND {{table:audit_decisions_rebuilt}} {{cluster}}
