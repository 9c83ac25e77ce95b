import {
  ATTR_AUDIT_COMPLETENESS_MISSING,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_SPAN_REQUIREMENTS,
} from '@decisiontrail/semconv';
import type { AuditSpanRequirement } from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';

const REQUIREMENTS: Readonly<Record<string, AuditSpanRequirement>> = AUDIT_SPAN_REQUIREMENTS;

/**
 * The attributes an audit span lacks although its semantic convention requires them: every `required`
 * attribute, and every conditionally required one whose machine-checkable condition holds.
 */
export function missingRequiredAttributes(record: SpanRecord): string[] {
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

/**
 * Records what is missing on the span as `audit.completeness.missing` (the string form of a string array,
 * as the Collector writes array attributes). The signing package leaves this attribute out of the
 * canonical form, so annotating a signed span keeps its proof valid.
 * @returns the missing attribute keys
 */
export function annotateCompleteness(record: SpanRecord): string[] {
  // Only the processor writes this attribute; a value that arrived with the span is not trusted.
  delete record.attributes[ATTR_AUDIT_COMPLETENESS_MISSING];
  const missing = missingRequiredAttributes(record);
  if (missing.length > 0) record.attributes[ATTR_AUDIT_COMPLETENESS_MISSING] = JSON.stringify(missing);
  return missing;
}
