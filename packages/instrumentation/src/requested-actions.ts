import { type Context, context, createContextKey, type SpanContext } from '@opentelemetry/api';
import type { OutputToolCall } from './output-message.ts';
import type { DecisionReference } from './types.ts';

/** A tool call a recorded decision asked for, waiting for the tool run that answers it. */
export interface RequestedAction {
  decisionId: string;
  decision: SpanContext;
  toolName: string;
  /** Compact JSON text, as in the decision's recorded output. */
  arguments: string;
  toolCallId: string;
  subjectId: string | undefined;
}

/** How a tool run was tied to the decision that requested it (`audit.action.link_basis`). */
export type LinkBasis = 'explicit' | 'tool_call_id' | 'arguments' | 'tool_name';

/** The requesting decision of a tool run, and how it was found. */
export interface RequestingDecision {
  decisionId: string;
  decision: SpanContext;
  toolCallId: string | undefined;
  basis: LinkBasis;
}

// Bounded so a process whose model requests tools nobody runs keeps a fixed amount of memory; the oldest go first.
const CAPACITY = 1024;

/**
 * The tool calls recent decisions of this process requested and no tool run has answered yet. A run that carries
 * the model's tool-call id (AI SDK and LangChain tool runs) is matched by it; an MCP `tools/call` carries none, so
 * it is matched by tool name and arguments, then by tool name alone, newest first, never across data subjects.
 * Each request answers one run.
 */
class RequestedActions {
  readonly #pending: RequestedAction[] = [];

  add(
    decisionId: string,
    decision: SpanContext,
    toolCalls: readonly OutputToolCall[],
    subjectId?: string,
  ): void {
    for (const call of toolCalls) {
      this.#pending.push({
        decisionId,
        decision,
        toolName: call.name,
        arguments: call.arguments,
        toolCallId: call.id,
        subjectId,
      });
    }
    if (this.#pending.length > CAPACITY) this.#pending.splice(0, this.#pending.length - CAPACITY);
  }

  /** Takes the request a run of `toolName` with `argumentsText` (and the model's `toolCallId`) answers, if any. */
  take(
    toolName: string,
    argumentsText: string,
    subjectId: string | undefined,
    toolCallId?: string,
  ): RequestingDecision | undefined {
    if (toolCallId !== undefined && toolCallId !== '') {
      for (let index = this.#pending.length - 1; index >= 0; index--) {
        const request = this.#pending[index]!;
        if (request.toolCallId === toolCallId && request.toolName === toolName)
          return this.#remove(index, 'tool_call_id');
      }
    }
    let byName = -1;
    for (let index = this.#pending.length - 1; index >= 0; index--) {
      const request = this.#pending[index]!;
      if (request.toolName !== toolName) continue;
      if (request.subjectId !== undefined && subjectId !== undefined && request.subjectId !== subjectId)
        continue;
      if (request.arguments === argumentsText) return this.#remove(index, 'arguments');
      if (byName < 0) byName = index;
    }
    return byName < 0 ? undefined : this.#remove(byName, 'tool_name');
  }

  /** Forgets every pending request (tests). */
  clear(): void {
    this.#pending.length = 0;
  }

  #remove(index: number, basis: LinkBasis): RequestingDecision {
    const [request] = this.#pending.splice(index, 1);
    return {
      decisionId: request!.decisionId,
      decision: request!.decision,
      toolCallId: request!.toolCallId === '' ? undefined : request!.toolCallId,
      basis,
    };
  }
}

/** The process-wide pending requests, filled by every instrumented LLM decision. */
export const requestedActions = new RequestedActions();

const REQUESTING_DECISION_KEY = createContextKey('decisiontrail.requesting-decision');

/**
 * Runs `fn` with `decision` named as the decision that requested the tool runs inside it (MCP `callTool`), for
 * applications that know which model call asked for a tool: the link then needs no matching.
 */
export function withRequestingDecision<T>(decision: DecisionReference, fn: () => T): T {
  return context.with(context.active().setValue(REQUESTING_DECISION_KEY, decision), fn);
}

/** The decision named by {@link withRequestingDecision} in `ctx`, if any. */
export function explicitRequestingDecision(ctx: Context = context.active()): DecisionReference | undefined {
  return ctx.getValue(REQUESTING_DECISION_KEY) as DecisionReference | undefined;
}
