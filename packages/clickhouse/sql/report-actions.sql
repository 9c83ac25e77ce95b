-- Agent actions in the report's period, per tool: the tool runs stored as audit.record.type = action
-- (execute_tool spans), how many failed (error.type set), how many are tied to the decision that requested them
-- and on which basis (audit.action.link_basis), and how many runs of the tool the period's decisions requested
-- (audit.action.requested_tools, one entry per requested call). A span delivered twice counts once. A model or
-- version filter narrows the requests to that model's decisions and the runs to those tied to one of them (runs
-- tied to no decision then do not count); a service filter applies to both.
WITH
    period_decisions AS (
        SELECT decision_id, requested_tools
        FROM (
            SELECT
                SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
                SpanAttributes[{{attr:AUDIT_MODEL_ID}}] AS model_id,
                SpanAttributes[{{attr:AUDIT_MODEL_VERSION}}] AS model_version,
                ServiceName AS service,
                Timestamp AS time,
                JSONExtract(SpanAttributes[{{attr:AUDIT_ACTION_REQUESTED_TOOLS}}], 'Array(String)') AS requested_tools
            FROM {{read:otel_traces}}
            WHERE Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64})
                AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
                AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.DECISION}}
            LIMIT 1 BY SpanId
        )
        WHERE {{include:decision-filter.sql}}
    ),
    requests AS (
        SELECT tool, count() AS requested_calls
        FROM period_decisions
        ARRAY JOIN requested_tools AS tool
        GROUP BY tool
    ),
    runs AS (
        SELECT
            tool,
            count() AS ran,
            countIf(failed) AS failed,
            countIf(decision_id != '') AS linked,
            countIf(basis = {{value:AUDIT_ACTION_LINK_BASIS_VALUES.EXPLICIT}}) AS linked_explicit,
            countIf(basis = {{value:AUDIT_ACTION_LINK_BASIS_VALUES.TOOL_CALL_ID}}) AS linked_by_tool_call_id,
            countIf(basis = {{value:AUDIT_ACTION_LINK_BASIS_VALUES.ARGUMENTS}}) AS linked_by_arguments,
            countIf(basis = {{value:AUDIT_ACTION_LINK_BASIS_VALUES.TOOL_NAME}}) AS linked_by_tool_name
        FROM (
            SELECT
                SpanAttributes[{{attr:GEN_AI_TOOL_NAME}}] AS tool,
                SpanAttributes[{{attr:ERROR_TYPE}}] != '' AS failed,
                SpanAttributes[{{attr:AUDIT_DECISION_ID}}] AS decision_id,
                SpanAttributes[{{attr:AUDIT_ACTION_LINK_BASIS}}] AS basis
            FROM {{read:otel_traces}}
            WHERE Timestamp >= fromUnixTimestamp64Milli({from_ms:Int64})
                AND Timestamp < fromUnixTimestamp64Milli({to_ms:Int64})
                AND SpanAttributes[{{attr:AUDIT_RECORD_TYPE}}] = {{value:AUDIT_RECORD_TYPE_VALUES.ACTION}}
                AND (NOT {by_service:Bool} OR ServiceName = {service:String})
            LIMIT 1 BY SpanId
        )
        WHERE NOT ({by_model:Bool} OR {by_version:Bool})
            OR decision_id IN (SELECT decision_id FROM period_decisions)
        GROUP BY tool
    )
SELECT
    if(runs.tool != '', runs.tool, requests.tool) AS tool,
    toString(runs.ran) AS ran,
    toString(runs.failed) AS failed,
    toString(runs.linked) AS linked,
    toString(runs.linked_explicit) AS linked_explicit,
    toString(runs.linked_by_tool_call_id) AS linked_by_tool_call_id,
    toString(runs.linked_by_arguments) AS linked_by_arguments,
    toString(runs.linked_by_tool_name) AS linked_by_tool_name,
    toString(requests.requested_calls) AS requested
FROM runs
FULL OUTER JOIN requests ON runs.tool = requests.tool
ORDER BY tool
