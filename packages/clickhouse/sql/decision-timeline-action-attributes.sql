-- The typed fields of a tool run (an execute_tool action span) as a timeline entry shows them, from the span's
-- attributes: the linked statement's action branch (decision-timeline-linked.sql) and the store's timeline with
-- evidence (src/timeline-with-evidence.ts) build the same map.
map('tool', SpanAttributes[{{attr:GEN_AI_TOOL_NAME}}],
    'tool_type', SpanAttributes[{{attr:GEN_AI_TOOL_TYPE}}],
    'tool_call_id', SpanAttributes[{{attr:GEN_AI_TOOL_CALL_ID}}],
    'link_basis', SpanAttributes[{{attr:AUDIT_ACTION_LINK_BASIS}}],
    'subject_id', SpanAttributes[{{attr:AUDIT_SUBJECT_ID}}],
    'input_hash', SpanAttributes[{{attr:AUDIT_INPUT_HASH}}],
    'output_hash', SpanAttributes[{{attr:AUDIT_OUTPUT_HASH}}],
    'error_type', SpanAttributes[{{attr:ERROR_TYPE}}],
    'integrity_stream', SpanAttributes[{{attr:AUDIT_INTEGRITY_STREAM}}],
    'integrity_seq', toString(toUInt64OrZero(SpanAttributes[{{attr:AUDIT_INTEGRITY_SEQ}}])))
