import {
  confidenceText,
  signedTimelineEntry,
  type SignedEntryKind,
  type TimelineEntry as StoreTimelineEntry,
} from '@decisiontrail/clickhouse';
import type { SpanRecord } from '@decisiontrail/core';

/** The kinds of timeline row a signed span stands behind. */
export type SignedRowKind = SignedEntryKind;

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

/**
 * The timeline row a signed span yields, field for field as the audit tables' materialized views derive it from the
 * same `otel_traces` row: the store's {@link signedTimelineEntry}, the one rule the checked timeline shows spans by.
 * `integrity` overrides the stream and seq for spans whose integrity attributes are not part of what was committed
 * (a bundle's spans).
 */
export function signedTimelineRow(
  kind: SignedRowKind,
  span: SpanRecord,
  integrity?: { stream: string; seq: number },
): StoreTimelineEntry {
  return signedTimelineEntry(kind, span, integrity === undefined ? {} : { integrity });
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
