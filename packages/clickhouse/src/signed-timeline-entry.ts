import type { SpanRecord } from '@decisiontrail/core';
import {
  ATTR_AUDIT_ACTION_LINK_BASIS,
  ATTR_AUDIT_ACTOR_ID,
  ATTR_AUDIT_DECISION_AUTOMATION,
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_DECISION_PURPOSE,
  ATTR_AUDIT_DECISION_RISK_LEVEL,
  ATTR_AUDIT_DECISION_TYPE,
  ATTR_AUDIT_DEPLOYMENT_CHANGELOG,
  ATTR_AUDIT_DEPLOYMENT_ENVIRONMENT,
  ATTR_AUDIT_DEPLOYMENT_ID,
  ATTR_AUDIT_DEPLOYMENT_PREVIOUS_VERSION,
  ATTR_AUDIT_FAIRNESS_GROUP,
  ATTR_AUDIT_FEEDBACK_ACTUAL_OUTCOME,
  ATTR_AUDIT_FEEDBACK_CORRECT,
  ATTR_AUDIT_FEEDBACK_SOURCE,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_TYPE,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_MODEL_WEIGHTS_HASH,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_OVERSIGHT_ACTION,
  ATTR_AUDIT_OVERSIGHT_NEW_OUTCOME,
  ATTR_AUDIT_OVERSIGHT_REASON,
  ATTR_AUDIT_OVERSIGHT_REVIEWER,
  ATTR_AUDIT_RETENTION_CLASS,
  ATTR_AUDIT_SUBJECT_ID,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_SERVICE_NAME,
  ATTR_SESSION_ID,
  ATTR_USER_ID,
  AUDIT_DECISION_RISK_LEVEL_VALUES,
  AUDIT_RETENTION_CLASS_VALUES,
} from '@decisiontrail/semconv';
import { DECISION_ATTRIBUTES, timelineEntry, type TimelineEntry } from './decision-timeline.ts';

/** The kinds of timeline entry a signed span stands behind. */
export type SignedEntryKind = 'decision' | 'oversight' | 'feedback' | 'action' | 'deployment' | 'span';

/**
 * The values the audit tables' views convert in SQL, as SQL converted them from the same span (the timeline's trace
 * read returns them beside the span), or as {@link signedTimelineEntry} converts them itself when absent.
 */
export interface SignedEntryOptions {
  /** The stream and leaf index of a span whose integrity attributes were not part of what was signed (a bundle's). */
  integrity?: { stream: string; seq: number };
  /** The row's `ServiceName` column; by default the span's `service.name` resource attribute. */
  service?: string;
  /** `toString(toFloat64OrNull(confidence))`, `toUInt64OrZero(seq)` and the retention class, from SQL. */
  converted?: { confidence: string; seq: string; retention: string };
}

/** `toString(toFloat64OrNull(x))` as the store shows a confidence: '' for no number. */
export function confidenceText(value: string | undefined): string {
  if (value === undefined || value.trim() === '') return '';
  const number = Number(value);
  return Number.isFinite(number) ? String(number) : '';
}

/** The retention class as the views derive it (sql-template.ts retentionClassExpression). */
function retentionClassOf(attributes: Readonly<Record<string, string>>): string {
  const declared = attributes[ATTR_AUDIT_RETENTION_CLASS] ?? '';
  if (declared !== '') return declared;
  return attributes[ATTR_AUDIT_DECISION_RISK_LEVEL] === AUDIT_DECISION_RISK_LEVEL_VALUES.HIGH
    ? AUDIT_RETENTION_CLASS_VALUES.HIGH_RISK
    : AUDIT_RETENTION_CLASS_VALUES.STANDARD;
}

/**
 * The timeline entry a signed span yields, field for field as the audit tables' materialized views derive it from
 * the same `otel_traces` row (sql/audit-*-select.sql, audit-*-mv.sql; a tool run as sql/decision-timeline-linked.sql
 * reads it): the one rule by which the checked timeline shows a signed span (timeline-with-evidence.ts, with the
 * values SQL converted) and the CLI compares a stored or exported row with the span that proves it.
 */
export function signedTimelineEntry(
  kind: SignedEntryKind,
  span: SpanRecord,
  options: SignedEntryOptions = {},
): TimelineEntry {
  const entry = fieldsOf(kind, span, options);
  // In the store's order of a row's fields.
  return timelineEntry(entry, entry.attributes);
}

function fieldsOf(kind: SignedEntryKind, span: SpanRecord, options: SignedEntryOptions): TimelineEntry {
  const a = span.attributes;
  const get = (key: string): string => a[key] ?? '';
  const { integrity, converted } = options;
  const stream = integrity?.stream ?? get(ATTR_AUDIT_INTEGRITY_STREAM);
  const seqText = integrity !== undefined ? String(integrity.seq) : get(ATTR_AUDIT_INTEGRITY_SEQ);
  // The views read the seq with toUInt64OrZero.
  const seq = converted?.seq ?? (/^[0-9]+$/u.test(seqText) ? String(BigInt(seqText)) : '0');
  const base = {
    kind,
    timeUnixNano: span.startTimeUnixNano,
    decisionId: kind === 'span' || kind === 'deployment' ? '' : get(ATTR_AUDIT_DECISION_ID),
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: kind === 'span' ? span.parentSpanId : '',
    service: options.service ?? span.resourceAttributes[ATTR_SERVICE_NAME] ?? '',
  };
  const integrityFields = { integrity_stream: stream, integrity_seq: seq };
  switch (kind) {
    case 'decision': {
      const fields: Record<(typeof DECISION_ATTRIBUTES)[number], string> = {
        model_id:
          get(ATTR_AUDIT_MODEL_ID) || get(ATTR_GEN_AI_RESPONSE_MODEL) || get(ATTR_GEN_AI_REQUEST_MODEL),
        model_version: get(ATTR_AUDIT_MODEL_VERSION),
        model_type: get(ATTR_AUDIT_MODEL_TYPE),
        provider: get(ATTR_GEN_AI_PROVIDER_NAME),
        operation: get(ATTR_GEN_AI_OPERATION_NAME),
        decision_type: get(ATTR_AUDIT_DECISION_TYPE),
        outcome: get(ATTR_AUDIT_DECISION_OUTCOME),
        confidence: converted?.confidence ?? confidenceText(a[ATTR_AUDIT_DECISION_CONFIDENCE]),
        input_hash: get(ATTR_AUDIT_INPUT_HASH),
        output_hash: get(ATTR_AUDIT_OUTPUT_HASH),
        subject_id: get(ATTR_AUDIT_SUBJECT_ID),
        actor_id: get(ATTR_AUDIT_ACTOR_ID) || get(ATTR_USER_ID),
        session_id: get(ATTR_SESSION_ID),
        fairness_group: get(ATTR_AUDIT_FAIRNESS_GROUP),
        risk_level: get(ATTR_AUDIT_DECISION_RISK_LEVEL),
        purpose: get(ATTR_AUDIT_DECISION_PURPOSE),
        automation: get(ATTR_AUDIT_DECISION_AUTOMATION),
        error_type: get(ATTR_ERROR_TYPE),
        retention_class: converted?.retention ?? retentionClassOf(a),
        ...integrityFields,
      };
      const attributes: Record<string, string> = {};
      for (const name of DECISION_ATTRIBUTES) attributes[name] = fields[name];
      return { ...base, name: span.name, statusCode: span.statusCode, durationNanos: '0', attributes };
    }
    case 'oversight': {
      const action = get(ATTR_AUDIT_OVERSIGHT_ACTION);
      return {
        ...base,
        name: action,
        statusCode: '',
        durationNanos: '0',
        attributes: {
          action,
          reviewer: get(ATTR_AUDIT_OVERSIGHT_REVIEWER),
          reason: get(ATTR_AUDIT_OVERSIGHT_REASON),
          new_outcome: get(ATTR_AUDIT_OVERSIGHT_NEW_OUTCOME),
          ...integrityFields,
        },
      };
    }
    case 'feedback': {
      const correct = get(ATTR_AUDIT_FEEDBACK_CORRECT);
      const source = get(ATTR_AUDIT_FEEDBACK_SOURCE);
      return {
        ...base,
        name: source,
        statusCode: '',
        durationNanos: '0',
        attributes: {
          correct: correct === 'true' || correct === 'false' ? correct : '',
          actual_outcome: get(ATTR_AUDIT_FEEDBACK_ACTUAL_OUTCOME),
          source,
          ...integrityFields,
        },
      };
    }
    case 'action':
      return {
        ...base,
        parentSpanId: span.parentSpanId,
        name: span.name,
        statusCode: span.statusCode,
        durationNanos: String(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)),
        attributes: {
          tool: get(ATTR_GEN_AI_TOOL_NAME),
          tool_type: get(ATTR_GEN_AI_TOOL_TYPE),
          tool_call_id: get(ATTR_GEN_AI_TOOL_CALL_ID),
          link_basis: get(ATTR_AUDIT_ACTION_LINK_BASIS),
          subject_id: get(ATTR_AUDIT_SUBJECT_ID),
          input_hash: get(ATTR_AUDIT_INPUT_HASH),
          output_hash: get(ATTR_AUDIT_OUTPUT_HASH),
          error_type: get(ATTR_ERROR_TYPE),
          ...integrityFields,
        },
      };
    case 'deployment':
      return {
        ...base,
        name: get(ATTR_AUDIT_DEPLOYMENT_ID),
        statusCode: '',
        durationNanos: '0',
        attributes: {
          deployment_id: get(ATTR_AUDIT_DEPLOYMENT_ID),
          model_id: get(ATTR_AUDIT_MODEL_ID),
          model_version: get(ATTR_AUDIT_MODEL_VERSION),
          previous_version: get(ATTR_AUDIT_DEPLOYMENT_PREVIOUS_VERSION),
          environment: get(ATTR_AUDIT_DEPLOYMENT_ENVIRONMENT),
          changelog: get(ATTR_AUDIT_DEPLOYMENT_CHANGELOG),
          weights_hash: get(ATTR_AUDIT_MODEL_WEIGHTS_HASH),
        },
      };
    default:
      return {
        ...base,
        name: span.name,
        statusCode: span.statusCode,
        durationNanos: String(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)),
        attributes: { ...a },
      };
  }
}
