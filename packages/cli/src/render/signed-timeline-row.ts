import type { TimelineEntry as StoreTimelineEntry } from '@decisiontrail/clickhouse';
import {
  ATTR_AUDIT_ACTION_LINK_BASIS,
  ATTR_AUDIT_ACTOR_ID,
  ATTR_AUDIT_DECISION_CONFIDENCE,
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_DECISION_PURPOSE,
  ATTR_AUDIT_DECISION_RISK_LEVEL,
  ATTR_AUDIT_DEPLOYMENT_CHANGELOG,
  ATTR_AUDIT_DEPLOYMENT_ENVIRONMENT,
  ATTR_AUDIT_DEPLOYMENT_ID,
  ATTR_AUDIT_DEPLOYMENT_PREVIOUS_VERSION,
  ATTR_AUDIT_FEEDBACK_ACTUAL_OUTCOME,
  ATTR_AUDIT_FEEDBACK_CORRECT,
  ATTR_AUDIT_FEEDBACK_SOURCE,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_AUDIT_MODEL_WEIGHTS_HASH,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_OVERSIGHT_ACTION,
  ATTR_AUDIT_OVERSIGHT_NEW_OUTCOME,
  ATTR_AUDIT_OVERSIGHT_REASON,
  ATTR_AUDIT_OVERSIGHT_REVIEWER,
  ATTR_AUDIT_SUBJECT_ID,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_SERVICE_NAME,
  ATTR_USER_ID,
} from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';

/** The kinds of timeline row a signed span stands behind. */
export type SignedRowKind = 'decision' | 'oversight' | 'feedback' | 'action' | 'deployment' | 'span';

/**
 * The fields of each kind of row that the timeline displays, as the store names them: what is
 * compared with the signed span (and recomputed from it). Other columns of the audit tables are
 * not shown, so they are neither compared nor vouched for here.
 */
export const DISPLAYED_FIELDS: Readonly<
  Record<Exclude<SignedRowKind, 'span' | 'deployment'>, readonly string[]>
> = {
  decision: [
    'model_id',
    'model_version',
    'outcome',
    'confidence',
    'risk_level',
    'purpose',
    'subject_id',
    'actor_id',
    'input_hash',
    'output_hash',
    'integrity_stream',
    'integrity_seq',
  ],
  oversight: ['action', 'reviewer', 'reason', 'new_outcome', 'integrity_stream', 'integrity_seq'],
  feedback: ['correct', 'actual_outcome', 'source', 'integrity_stream', 'integrity_seq'],
  action: [
    'tool',
    'tool_type',
    'tool_call_id',
    'link_basis',
    'subject_id',
    'input_hash',
    'output_hash',
    'error_type',
    'integrity_stream',
    'integrity_seq',
  ],
};

/** `toString(toFloat64OrNull(x))` as the store shows a confidence: '' for no number. */
function confidenceText(value: string | undefined): string {
  if (value === undefined || value.trim() === '') return '';
  const number = Number(value);
  return Number.isFinite(number) ? String(number) : '';
}

/**
 * The timeline row a signed span yields, field for field as the audit tables' materialized views
 * derive it from the same `otel_traces` row (sql/audit-*-mv.sql): so a stored audit row can be
 * compared with it, and a verified span displayed from it. `integrity` overrides the stream and
 * seq for spans whose integrity attributes are not part of what was committed (a bundle's spans).
 */
export function signedTimelineRow(
  kind: SignedRowKind,
  span: SpanRecord,
  integrity?: { stream: string; seq: number },
): StoreTimelineEntry {
  const a = span.attributes;
  const get = (key: string): string => a[key] ?? '';
  const stream = integrity?.stream ?? get(ATTR_AUDIT_INTEGRITY_STREAM);
  const seqText = integrity !== undefined ? String(integrity.seq) : get(ATTR_AUDIT_INTEGRITY_SEQ);
  // The views read the seq with toUInt64OrZero.
  const seq = /^[0-9]+$/u.test(seqText) ? String(BigInt(seqText)) : '0';
  const base = {
    kind,
    timeUnixNano: span.startTimeUnixNano,
    decisionId: kind === 'span' || kind === 'deployment' ? '' : get(ATTR_AUDIT_DECISION_ID),
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: kind === 'span' ? span.parentSpanId : '',
    service: span.resourceAttributes[ATTR_SERVICE_NAME] ?? '',
  };
  switch (kind) {
    case 'decision':
      return {
        ...base,
        name: span.name,
        statusCode: span.statusCode,
        durationNanos: '0',
        attributes: {
          model_id:
            get(ATTR_AUDIT_MODEL_ID) || get(ATTR_GEN_AI_RESPONSE_MODEL) || get(ATTR_GEN_AI_REQUEST_MODEL),
          model_version: get(ATTR_AUDIT_MODEL_VERSION),
          outcome: get(ATTR_AUDIT_DECISION_OUTCOME),
          confidence: confidenceText(a[ATTR_AUDIT_DECISION_CONFIDENCE]),
          risk_level: get(ATTR_AUDIT_DECISION_RISK_LEVEL),
          purpose: get(ATTR_AUDIT_DECISION_PURPOSE),
          subject_id: get(ATTR_AUDIT_SUBJECT_ID),
          actor_id: get(ATTR_AUDIT_ACTOR_ID) || get(ATTR_USER_ID),
          input_hash: get(ATTR_AUDIT_INPUT_HASH),
          output_hash: get(ATTR_AUDIT_OUTPUT_HASH),
          integrity_stream: stream,
          integrity_seq: seq,
        },
      };
    case 'oversight':
      return {
        ...base,
        name: get(ATTR_AUDIT_OVERSIGHT_ACTION),
        statusCode: '',
        durationNanos: '0',
        attributes: {
          action: get(ATTR_AUDIT_OVERSIGHT_ACTION),
          reviewer: get(ATTR_AUDIT_OVERSIGHT_REVIEWER),
          reason: get(ATTR_AUDIT_OVERSIGHT_REASON),
          new_outcome: get(ATTR_AUDIT_OVERSIGHT_NEW_OUTCOME),
          integrity_stream: stream,
          integrity_seq: seq,
        },
      };
    case 'feedback': {
      const correct = get(ATTR_AUDIT_FEEDBACK_CORRECT);
      return {
        ...base,
        name: get(ATTR_AUDIT_FEEDBACK_SOURCE),
        statusCode: '',
        durationNanos: '0',
        attributes: {
          correct: correct === 'true' || correct === 'false' ? correct : '',
          actual_outcome: get(ATTR_AUDIT_FEEDBACK_ACTUAL_OUTCOME),
          source: get(ATTR_AUDIT_FEEDBACK_SOURCE),
          integrity_stream: stream,
          integrity_seq: seq,
        },
      };
    }
    case 'action':
      // As sql/decision-timeline-linked.sql reads a tool run from its otel_traces row.
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
          integrity_stream: stream,
          integrity_seq: seq,
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

/** One displayed field whose stored value is not what the signed span says. */
export interface FieldDifference {
  field: string;
  stored: string;
  signed: string;
}

/** Normalizes what the store returns for a field to the form {@link signedTimelineRow} gives. */
function storedForm(field: string, value: string | undefined): string {
  if (value === undefined) return '';
  if (field === 'confidence') return confidenceText(value);
  if (field === 'correct')
    return value === 'true' || value === '1' ? 'true' : value === 'false' || value === '0' ? 'false' : '';
  return value;
}

/**
 * The displayed fields of a stored timeline row that differ from the row its signed span yields:
 * identity and time first, then the kind's fields of {@link DISPLAYED_FIELDS}.
 */
export function displayedDifferences(
  stored: StoreTimelineEntry,
  signed: StoreTimelineEntry,
): FieldDifference[] {
  const out: FieldDifference[] = [];
  const compare = (field: string, storedValue: string, signedValue: string): void => {
    if (storedValue !== signedValue) out.push({ field, stored: storedValue, signed: signedValue });
  };
  compare('decision_id', stored.decisionId, signed.decisionId);
  compare('time', stored.timeUnixNano, signed.timeUnixNano);
  compare('trace_id', stored.traceId, signed.traceId);
  compare('span_id', stored.spanId, signed.spanId);
  compare('service', stored.service, signed.service);
  if (stored.kind === 'decision' || stored.kind === 'action') {
    compare('span_name', stored.name, signed.name);
    compare('status_code', stored.statusCode, signed.statusCode);
  }
  if (
    stored.kind === 'decision' ||
    stored.kind === 'oversight' ||
    stored.kind === 'feedback' ||
    stored.kind === 'action'
  ) {
    for (const field of DISPLAYED_FIELDS[stored.kind]) {
      compare(field, storedForm(field, stored.attributes[field]), signed.attributes[field] ?? '');
    }
  }
  return out;
}
