import { decisionFilterParams, type DecisionFilter } from './decision-queries.ts';
import type { QueryContext } from './query-context.ts';
import { readSqlFile } from './sql-template.ts';

/** One tool's agent actions in a period: the runs stored, and the runs the period's decisions asked for. */
export interface ToolActionCount {
  /** `gen_ai.tool.name`. */
  tool: string;
  /** Tool runs stored (`execute_tool` action spans). */
  ran: number;
  /** Runs that failed or whose tool reported an error (`error.type`). */
  failed: number;
  /** Runs tied to the decision that requested them (`audit.decision.id`), in all and per link basis. */
  linked: number;
  linkedExplicit: number;
  linkedByToolCallId: number;
  linkedByArguments: number;
  linkedByToolName: number;
  /** Calls of the tool the period's decisions requested (`audit.action.requested_tools`). */
  requested: number;
}

const REPORT_ACTIONS_SQL = readSqlFile('report-actions.sql');

/** A row of sql/report-actions.sql: counts come back as decimal text. */
interface ToolActionRow {
  tool: string;
  ran: string;
  failed: string;
  linked: string;
  linked_explicit: string;
  linked_by_tool_call_id: string;
  linked_by_arguments: string;
  linked_by_tool_name: string;
  requested: string;
}

/**
 * Agent actions per tool in the filter's period, read from `otel_traces` as stored (the report states them;
 * `decisiontrail verify` is what checks the spans' signatures). Requested and run counts need not agree: a model
 * may ask for a tool the application never runs, and a tool may run that no recorded decision asked for.
 */
export async function toolActionCounts(
  ctx: QueryContext,
  filter: DecisionFilter,
): Promise<ToolActionCount[]> {
  const rows = await ctx.rows<ToolActionRow>(REPORT_ACTIONS_SQL, decisionFilterParams(filter));
  return rows.map((row) => ({
    tool: row.tool,
    ran: Number(row.ran),
    failed: Number(row.failed),
    linked: Number(row.linked),
    linkedExplicit: Number(row.linked_explicit),
    linkedByToolCallId: Number(row.linked_by_tool_call_id),
    linkedByArguments: Number(row.linked_by_arguments),
    linkedByToolName: Number(row.linked_by_tool_name),
    requested: Number(row.requested),
  }));
}
