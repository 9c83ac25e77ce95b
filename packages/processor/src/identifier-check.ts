import { ATTR_AUDIT_DECISION_ID } from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';

/** Quarantine code of an audit record whose `audit.decision.id` no investigation could look up. */
export const MALFORMED_DECISION_ID = 'MALFORMED_DECISION_ID';

// The form decision ids are stored and searched in: a UUID, lowercase, 8-4-4-4-12 hex digits (the CLI lowercases
// what it is given before it searches).
const SEARCHABLE_DECISION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Why a record's audit identifier is malformed, or undefined when it is not. A decision, review or feedback whose
 * `audit.decision.id` is not a lowercase UUID would be stored where no timeline, report filter or export could
 * reach it by id, so it goes to quarantine with this reason instead. An absent id is the completeness check's to
 * report (`audit.completeness.missing`), not this one's.
 */
export function malformedIdentifier(record: SpanRecord): string | undefined {
  const id = record.attributes[ATTR_AUDIT_DECISION_ID];
  if (id === undefined || SEARCHABLE_DECISION_ID.test(id)) return undefined;
  const shown = id.length > 80 ? `${JSON.stringify(id.slice(0, 80))}…` : JSON.stringify(id);
  return `${ATTR_AUDIT_DECISION_ID} ${shown} is not a UUID in lowercase 8-4-4-4-12 hex form: no investigation could look the record up by it`;
}
