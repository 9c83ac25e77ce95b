import { InstrumentationError } from './errors.ts';
import type { DecisionReference } from './types.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/**
 * The compact string form `dt1.<decisionId>.<traceId>.<spanId>.<traceFlags hex>` — for an HTTP header, a queue
 * message or a database column next to the business record.
 */
export function formatDecisionReference(reference: DecisionReference): string {
  return `dt1.${reference.decisionId}.${reference.traceId}.${reference.spanId}.${reference.traceFlags.toString(16).padStart(2, '0')}`;
}

/**
 * Reads a reference from its string form or from its JSON (object or text). Throws `INVALID_DECISION_REFERENCE`
 * on anything else: a link to a wrong span would be worse than no link.
 */
export function parseDecisionReference(value: string | DecisionReference): DecisionReference {
  let candidate: unknown = value;
  if (typeof value === 'string') {
    if (value.startsWith('dt1.')) {
      const [, decisionId, traceId, spanId, flags] = value.split('.');
      candidate = {
        decisionId,
        traceId,
        spanId,
        traceFlags: flags === undefined ? Number.NaN : parseInt(flags, 16),
      };
    } else {
      try {
        candidate = JSON.parse(value);
      } catch (error) {
        throw new InstrumentationError(
          'INVALID_DECISION_REFERENCE',
          'decision reference is neither dt1 nor JSON',
          {
            cause: error,
          },
        );
      }
    }
  }
  const reference = candidate as Partial<DecisionReference> | null;
  if (
    typeof reference !== 'object' ||
    reference === null ||
    typeof reference.decisionId !== 'string' ||
    !UUID.test(reference.decisionId) ||
    typeof reference.traceId !== 'string' ||
    !TRACE_ID.test(reference.traceId) ||
    typeof reference.spanId !== 'string' ||
    !SPAN_ID.test(reference.spanId) ||
    typeof reference.traceFlags !== 'number' ||
    !Number.isInteger(reference.traceFlags) ||
    reference.traceFlags < 0 ||
    reference.traceFlags > 255
  ) {
    throw new InstrumentationError('INVALID_DECISION_REFERENCE', 'malformed decision reference');
  }
  return {
    decisionId: reference.decisionId,
    traceId: reference.traceId,
    spanId: reference.spanId,
    traceFlags: reference.traceFlags,
  };
}
