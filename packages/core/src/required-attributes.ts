import { ATTR_AUDIT_RECORD_TYPE, AUDIT_SPAN_REQUIREMENTS } from '@decisiontrail/semconv';
import type { AuditSpanRequirement } from '@decisiontrail/semconv';
import type { SpanRecord } from './span-record.ts';

const REQUIREMENTS: Readonly<Record<string, AuditSpanRequirement>> = AUDIT_SPAN_REQUIREMENTS;

/**
 * The attributes an audit span lacks although its semantic convention requires them: every `required`
 * attribute, and every conditionally required one whose machine-checkable condition holds. The one rule
 * behind serve's completeness check at ingest and the timeline's view of a decision.
 */
export function missingRequiredAttributes(record: Pick<SpanRecord, 'attributes'>): string[] {
  const type = record.attributes[ATTR_AUDIT_RECORD_TYPE];
  const requirement = type === undefined ? undefined : REQUIREMENTS[type];
  if (requirement === undefined) return [];
  const attrs = record.attributes;
  const missing = requirement.required.filter((key) => attrs[key] === undefined);
  for (const { key, when } of requirement.conditionallyRequired) {
    if (when === undefined || attrs[key] !== undefined) continue;
    const value = attrs[when.attribute];
    if (value !== undefined && (when.oneOf === undefined || when.oneOf.includes(value))) missing.push(key);
  }
  return missing;
}
