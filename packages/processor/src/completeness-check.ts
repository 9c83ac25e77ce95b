import { ATTR_AUDIT_COMPLETENESS_MISSING } from '@decisiontrail/semconv';
import { missingRequiredAttributes, type SpanRecord } from '@decisiontrail/core';

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
