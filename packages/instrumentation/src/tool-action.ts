import {
  ATTR_AUDIT_ACTION_LINK_BASIS,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_RECORD_TYPE,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
  GEN_AI_OPERATION_NAME_VALUES,
} from '@decisiontrail/semconv';
import {
  type Attributes,
  type Context,
  context,
  diag,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { addContextAttributes, recordField } from './audit-attributes.ts';
import type { AuditSettings } from './config.ts';
import { getAuditContext } from './context.ts';
import { normalizeToolArguments } from './output-message.ts';
import {
  explicitRequestingDecision,
  type RequestingDecision,
  requestedActions,
} from './requested-actions.ts';
import { endSpan, recordSpanError } from './span-errors.ts';

/** What a tool run says before it starts. */
export interface ToolRun {
  toolName: string;
  /** `gen_ai.tool.type`: `extension` for a tool an agent reaches through a protocol such as MCP. */
  toolType: string;
  /** The arguments, recorded as the action's input. */
  arguments: unknown;
  /** The id the model gave the tool call, when the run carries it (`gen_ai.tool.call.id`). */
  toolCallId?: string;
}

/** `error.type` of a run whose tool answered with an error result rather than failing the call. */
export const TOOL_ERROR = 'tool_error';

/**
 * The span of one tool run an agent made: an `audit.action` record named `execute_tool {tool}`, tied to the decision
 * that requested it when that is known (named by `withRequestingDecision`, or matched against the tool calls recent
 * decisions asked for). Every method is fail-open; `end` / `fail` run once.
 */
export class ToolAction {
  readonly span: Span;
  readonly context: Context;
  readonly #settings: AuditSettings;
  readonly #subjectId: string | undefined;
  #ended = false;

  private constructor(span: Span, ctx: Context, settings: AuditSettings, subjectId: string | undefined) {
    this.span = span;
    this.context = ctx;
    this.#settings = settings;
    this.#subjectId = subjectId;
  }

  /** Starts the span; throws only on internal failure, which the caller reports and then runs the tool untouched. */
  static start(tracer: Tracer, settings: AuditSettings, run: ToolRun): ToolAction {
    const parent = context.active();
    const auditContext = getAuditContext(parent);
    const attributes: Attributes = {
      [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.ACTION,
      [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUES.EXECUTE_TOOL,
      [ATTR_GEN_AI_TOOL_NAME]: run.toolName,
      [ATTR_GEN_AI_TOOL_TYPE]: run.toolType,
    };
    addContextAttributes(attributes, auditContext);
    const links: Link[] = [];
    const requesting = requestingDecision(parent, run, auditContext.subjectId);
    if (requesting) {
      attributes[ATTR_AUDIT_DECISION_ID] = requesting.decisionId;
      attributes[ATTR_AUDIT_ACTION_LINK_BASIS] = requesting.basis;
      if (requesting.toolCallId !== undefined) attributes[ATTR_GEN_AI_TOOL_CALL_ID] = requesting.toolCallId;
      links.push({ context: requesting.decision });
    }
    // The run's own id is the call it answers, even when no recorded decision asked for it.
    if (run.toolCallId !== undefined && run.toolCallId !== '')
      attributes[ATTR_GEN_AI_TOOL_CALL_ID] = run.toolCallId;
    recordField(attributes, 'input', run.arguments, settings.captureInput, settings, auditContext.subjectId);
    const span = tracer.startSpan(
      `${GEN_AI_OPERATION_NAME_VALUES.EXECUTE_TOOL} ${run.toolName}`,
      { kind: SpanKind.INTERNAL, attributes, links },
      parent,
    );
    return new ToolAction(span, trace.setSpan(parent, span), settings, auditContext.subjectId);
  }

  /** Records the tool's result; `isError` marks a result in which the tool reported its own failure. */
  end(result: unknown, isError: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      const attributes: Attributes = {};
      recordField(
        attributes,
        'output',
        result,
        this.#settings.captureOutput,
        this.#settings,
        this.#subjectId,
      );
      if (isError) attributes[ATTR_ERROR_TYPE] = TOOL_ERROR;
      this.span.setAttributes(attributes);
      if (isError) this.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool reported an error' });
    } catch (error) {
      diag.error('@decisiontrail/instrumentation: could not record a tool result', error);
    }
    endSpan(this.span);
  }

  /** Records the error of a call that failed and ends the span. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    recordSpanError(this.span, error);
    endSpan(this.span);
  }
}

function requestingDecision(
  parent: Context,
  run: ToolRun,
  subjectId: string | undefined,
): RequestingDecision | undefined {
  const explicit = explicitRequestingDecision(parent);
  if (explicit) {
    return {
      decisionId: explicit.decisionId,
      decision: { traceId: explicit.traceId, spanId: explicit.spanId, traceFlags: explicit.traceFlags },
      toolCallId: undefined,
      basis: 'explicit',
    };
  }
  return requestedActions.take(
    run.toolName,
    normalizeToolArguments(run.arguments),
    subjectId,
    run.toolCallId,
  );
}
