import { type Context, context, createContextKey } from '@opentelemetry/api';
import type { AuditContextValues } from './types.ts';

const AUDIT_CONTEXT_KEY = createContextKey('decisiontrail.audit-context');

/** The audit values of a context (merged from every enclosing {@link withAuditContext}). */
export function getAuditContext(ctx: Context = context.active()): AuditContextValues {
  return (ctx.getValue(AUDIT_CONTEXT_KEY) as AuditContextValues | undefined) ?? {};
}

/** A context carrying `values` on top of those already in `parent`; for propagating by hand. */
export function setAuditContext(values: AuditContextValues, parent: Context = context.active()): Context {
  return parent.setValue(AUDIT_CONTEXT_KEY, { ...getAuditContext(parent), ...values });
}

/**
 * Runs `fn` with subject, actor, session, purpose and fairness group set for every decision recorded inside it,
 * including those of instrumented AI calls. Nested calls merge, inner values win.
 */
export function withAuditContext<T>(values: AuditContextValues, fn: () => T): T {
  return context.with(setAuditContext(values), fn);
}

/** Runs `fn` with the data subject set. */
export function withSubject<T>(subjectId: string, fn: () => T): T {
  return withAuditContext({ subjectId }, fn);
}

/** Runs `fn` with the acting user or service set. */
export function withActor<T>(actorId: string, fn: () => T, actorType?: AuditContextValues['actorType']): T {
  return withAuditContext({ actorId, ...(actorType ? { actorType } : {}) }, fn);
}

/** Runs `fn` with the session set. */
export function withSession<T>(sessionId: string, fn: () => T): T {
  return withAuditContext({ sessionId }, fn);
}

/** Runs `fn` with the purpose of processing set. */
export function withPurpose<T>(purpose: string, fn: () => T): T {
  return withAuditContext({ purpose }, fn);
}

/** Runs `fn` with the fairness group set. */
export function withFairnessGroup<T>(fairnessGroup: string, fn: () => T): T {
  return withAuditContext({ fairnessGroup }, fn);
}
