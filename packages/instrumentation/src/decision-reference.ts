import { InstrumentationError } from './errors.ts';
import type { DecisionReference } from './types.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

// Model ids and versions contain dots ("3.1.0"); percent-encode them so the dot stays the separator.
const encodeSegment = (value: string): string => encodeURIComponent(value).replace(/\./g, '%2E');

/**
 * The compact string form `dt1.<decisionId>.<traceId>.<spanId>.<traceFlags hex>[.<modelId>.<modelVersion>]` — for an
 * HTTP header, a queue message or a database column next to the business record. The model segments are
 * percent-encoded and empty when unknown; parsers that read only the first five segments still work.
 */
export function formatDecisionReference(reference: DecisionReference): string {
  const base = `dt1.${reference.decisionId}.${reference.traceId}.${reference.spanId}.${reference.traceFlags.toString(16).padStart(2, '0')}`;
  if (reference.modelId === undefined && reference.modelVersion === undefined) return base;
  return `${base}.${encodeSegment(reference.modelId ?? '')}.${encodeSegment(reference.modelVersion ?? '')}`;
}

function decodeSegment(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return decodeURIComponent(value);
  } catch (error) {
    throw new InstrumentationError('INVALID_DECISION_REFERENCE', 'malformed model in decision reference', {
      cause: error,
    });
  }
}

/**
 * Reads a reference from its string form or from its JSON (object or text). Throws `INVALID_DECISION_REFERENCE`
 * on anything else: a link to a wrong span would be worse than no link.
 */
export function parseDecisionReference(value: string | DecisionReference): DecisionReference {
  let candidate: unknown = value;
  if (typeof value === 'string') {
    if (value.startsWith('dt1.')) {
      const segments = value.split('.');
      const [, decisionId, traceId, spanId, flags, modelId, modelVersion] = segments;
      candidate = {
        decisionId,
        // Five segments, or seven with the model.
        traceId: segments.length === 5 || segments.length === 7 ? traceId : undefined,
        spanId,
        traceFlags: flags === undefined ? Number.NaN : parseInt(flags, 16),
        modelId: decodeSegment(modelId),
        modelVersion: decodeSegment(modelVersion),
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
    reference.traceFlags > 255 ||
    !optionalString(reference.modelId) ||
    !optionalString(reference.modelVersion)
  ) {
    throw new InstrumentationError('INVALID_DECISION_REFERENCE', 'malformed decision reference');
  }
  const parsed: DecisionReference = {
    decisionId: reference.decisionId,
    traceId: reference.traceId,
    spanId: reference.spanId,
    traceFlags: reference.traceFlags,
  };
  if (reference.modelId !== undefined) parsed.modelId = reference.modelId;
  if (reference.modelVersion !== undefined) parsed.modelVersion = reference.modelVersion;
  return parsed;
}

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}
