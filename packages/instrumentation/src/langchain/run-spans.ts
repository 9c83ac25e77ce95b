import { type Context, context, type Span, trace } from '@opentelemetry/api';

/**
 * Spans of the LangChain runs (chains, agents, tools) the callback handler is tracing, by LangChain run id, so a
 * model call can be placed under the chain or agent step that made it. An entry lives from the run's start to its
 * end or error.
 */
export const langChainRunSpans = new Map<string, Span>();

/** The context of the run `runId` when its span is known, else `fallback`. */
export function runContext(runId: string | undefined, fallback: Context = context.active()): Context {
  const span = runId === undefined ? undefined : langChainRunSpans.get(runId);
  return span ? trace.setSpan(fallback, span) : fallback;
}
