import { context, diag, type Span, SpanKind } from '@opentelemetry/api';
import type { PatchHost } from '../patched-create.ts';
import { endSpan, recordSpanError } from '../span-errors.ts';
import { ToolAction } from '../tool-action.ts';
import { langChainRunSpans, runContext } from './run-spans.ts';

/** A LangChain tool is a function the agent calls in-process: GenAI semconv's `function` tool type. */
const LANGCHAIN_TOOL_TYPE = 'function';

/**
 * A LangChain callback handler (pass it in `callbacks: [...]` of an invoke, or to a chain's constructor) that puts
 * the chain and agent steps in the trace: each chain run becomes a `chain {name}` span under the run that started
 * it, each tool run an `execute_tool {tool}` action span tied to the decision that requested it, and the model
 * calls the instrumentation records as decisions nest under the step that made them. It is a plain object of
 * LangChain's callback methods, so this package needs no import of `@langchain/core`. Every method is fail-open.
 */
export interface LangChainCallbackHandler {
  readonly name: string;
  /** Awaited by LangChain, so a step's span exists before the model call inside it starts. */
  readonly awaitHandlers: true;
  // LangChain's declarations put runType fourth and parentRunId eighth, while its callback manager passes
  // parentRunId fourth and runType seventh, as written here; the serialized runnable and the metadata are plain
  // objects to both, so a TypeScript app can pass this handler where LangChain expects its callback methods.
  handleChainStart(
    chain: object,
    inputs: unknown,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: object,
    runType?: string,
    runName?: string,
  ): void;
  handleChainEnd(outputs: unknown, runId: string): void;
  handleChainError(error: unknown, runId: string): void;
  handleToolStart(
    tool: object,
    input: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: object,
    runName?: string,
    toolCallId?: string,
  ): void;
  handleToolEnd(output: unknown, runId: string): void;
  handleToolError(error: unknown, runId: string): void;
}

/** Builds the handler; the instrumentation hands out one bound to its tracer and settings. */
export function langChainCallbackHandler(host: PatchHost): LangChainCallbackHandler {
  const tools = new Map<string, ToolAction>();
  const safely = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      diag.error(`@decisiontrail/instrumentation: LangChain callback ${what} failed`, error);
    }
  };
  return {
    name: 'decisiontrail',
    awaitHandlers: true,
    handleChainStart(chain, _inputs, runId, parentRunId, _tags, _metadata, _runType, runName) {
      if (!host.isEnabled()) return;
      safely('handleChainStart', () => {
        const name = runName ?? lastIdSegment(chain) ?? 'chain';
        const span: Span = host
          .tracer()
          .startSpan(`chain ${name}`, { kind: SpanKind.INTERNAL }, runContext(parentRunId));
        langChainRunSpans.set(runId, span);
      });
    },
    handleChainEnd(_outputs, runId) {
      safely('handleChainEnd', () => finishRun(runId, undefined));
    },
    handleChainError(error, runId) {
      safely('handleChainError', () => finishRun(runId, error ?? new Error('chain failed')));
    },
    handleToolStart(tool, input, runId, parentRunId, _tags, _metadata, runName, toolCallId) {
      if (!host.isEnabled()) return;
      safely('handleToolStart', () => {
        const toolName = runName ?? lastIdSegment(tool) ?? 'tool';
        const action = context.with(runContext(parentRunId), () =>
          ToolAction.start(host.tracer(), host.settings(), {
            toolName,
            toolType: LANGCHAIN_TOOL_TYPE,
            arguments: parseJsonOrText(input),
            ...(typeof toolCallId === 'string' ? { toolCallId } : {}),
          }),
        );
        tools.set(runId, action);
        langChainRunSpans.set(runId, action.span);
      });
    },
    handleToolEnd(output, runId) {
      safely('handleToolEnd', () => {
        const action = tools.get(runId);
        tools.delete(runId);
        langChainRunSpans.delete(runId);
        action?.end(toolOutputForAudit(output), false);
      });
    },
    handleToolError(error, runId) {
      safely('handleToolError', () => {
        const action = tools.get(runId);
        tools.delete(runId);
        langChainRunSpans.delete(runId);
        action?.fail(error);
      });
    },
  };
}

function finishRun(runId: string, error: unknown): void {
  const span = langChainRunSpans.get(runId);
  if (!span) return;
  langChainRunSpans.delete(runId);
  if (error !== undefined) recordSpanError(span, error);
  endSpan(span);
}

/** The class name LangChain serializes a runnable or tool under (`id: ['langchain', ..., 'RunnableSequence']`). */
function lastIdSegment(value: object | undefined): string | undefined {
  const serialized = value as Readonly<Record<string, unknown>> | undefined;
  const id = serialized?.['id'];
  const name = serialized?.['name'];
  if (typeof name === 'string') return name;
  return Array.isArray(id) && typeof id.at(-1) === 'string' ? (id.at(-1) as string) : undefined;
}

/** Tool input arrives as text (JSON for structured tools); arguments are recorded as the object when they parse. */
function parseJsonOrText(input: string): unknown {
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}

/** A ToolMessage (`content`) or plain output. */
function toolOutputForAudit(output: unknown): unknown {
  const content = (output as { content?: unknown } | null | undefined)?.content;
  return content ?? output;
}
