/** `audit.decision.risk_level` -> `AUDIT_DECISION_RISK_LEVEL`. */
export function screamingName(key: string): string {
  return key.replaceAll('.', '_').toUpperCase();
}

/** `audit.decision.risk_level` -> `ATTR_AUDIT_DECISION_RISK_LEVEL`, the OpenTelemetry JS naming. */
export function attributeConstantName(key: string): string {
  return `ATTR_${screamingName(key)}`;
}

/** `audit.decision.risk_level` -> `AUDIT_DECISION_RISK_LEVEL_VALUES`. */
export function valuesConstantName(key: string): string {
  return `${screamingName(key)}_VALUES`;
}

/** `audit.decision.risk_level` -> `AuditDecisionRiskLevel`; `gen_ai.operation.name` -> `GenAiOperationName`. */
export function valueTypeName(key: string): string {
  return key
    .split(/[._]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** `audit.decision` -> `SPAN_NAME_AUDIT_DECISION`. */
export function spanNameConstantName(spanType: string): string {
  return `SPAN_NAME_${screamingName(spanType)}`;
}
