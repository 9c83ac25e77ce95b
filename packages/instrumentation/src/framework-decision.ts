import { type Context, context, createContextKey } from '@opentelemetry/api';

const FRAMEWORK_DECISION_KEY = createContextKey('decisiontrail.framework-decision');

/**
 * Marks `ctx` as inside a model call that a framework integration (the Vercel AI SDK, LangChain) already records
 * as a decision. A provider SDK call made inside it (LangChain's ChatOpenAI calls the `openai` client) is then not
 * recorded a second time: one model call, one decision, recorded where the chain or agent step is known.
 */
export function markFrameworkDecision(ctx: Context): Context {
  return ctx.setValue(FRAMEWORK_DECISION_KEY, true);
}

/** True inside a model call a framework integration records (see {@link markFrameworkDecision}). */
export function insideFrameworkDecision(ctx: Context = context.active()): boolean {
  return ctx.getValue(FRAMEWORK_DECISION_KEY) === true;
}
