import type { TimelineEntry as StoreTimelineEntry } from '@decisiontrail/clickhouse';
import { normalizeStatusCode } from '@decisiontrail/core';
import { formatConfidence } from './number-format.ts';
import type { TimelineDecision, TimelineDocument, TimelineEntry } from './timeline-document.ts';

/** Decimal nanoseconds as ISO time with microseconds: spans of one request often start within one millisecond. */
export function isoFromNanos(nanos: string): string {
  const ms = Number(BigInt(nanos) / 1_000_000n);
  const iso = new Date(ms).toISOString();
  const micros = String((BigInt(nanos) / 1000n) % 1000n).padStart(3, '0');
  return `${iso.slice(0, 23)}${micros}Z`;
}

function pick(
  attributes: Record<string, string>,
  pairs: [string, string][],
): { label: string; value: string }[] {
  return pairs
    .filter(([key]) => (attributes[key] ?? '') !== '')
    .map(([key, label]) => ({
      label,
      // The store keeps a confidence as the float it is (0.6365800000000001); people read three decimals.
      value: key === 'confidence' ? formatConfidence(Number(attributes[key])) : attributes[key]!,
    }));
}

/**
 * `ok`, `error` or `unset` from either spelling the Collector's ClickHouse exporter has written
 * (`Error` today, `STATUS_CODE_ERROR` in older versions); any other string is shown as stored.
 */
function statusOf(code: string): string | null {
  if (code === '') return null;
  return normalizeStatusCode(code)?.toLowerCase() ?? code;
}

/** One timeline entry as displayed, from one store row. */
export function entryOf(row: StoreTimelineEntry): TimelineEntry {
  const a = row.attributes;
  const base = {
    time: isoFromNanos(row.timeUnixNano),
    kind: row.kind,
    spanId: row.spanId === '' ? null : row.spanId,
  };
  switch (row.kind) {
    case 'decision':
      return {
        ...base,
        title: `${row.name} → ${a['outcome'] || '(no outcome)'}`,
        details: pick(a, [
          ['model_id', 'model'],
          ['model_version', 'version'],
          ['confidence', 'confidence'],
          ['subject_id', 'subject'],
          ['integrity_seq', 'seq'],
        ]),
        durationMs: null,
        status: statusOf(row.statusCode),
      };
    case 'oversight':
      return {
        ...base,
        title: `${a['action'] ?? row.name}${a['new_outcome'] ? ` → ${a['new_outcome']}` : ''}`,
        details: pick(a, [
          ['reviewer', 'reviewer'],
          ['reason', 'reason'],
        ]),
        durationMs: null,
        status: null,
      };
    case 'feedback':
      return {
        ...base,
        title: `feedback: ${a['correct'] === 'true' ? 'correct' : a['correct'] === 'false' ? 'incorrect' : 'unlabelled'}`,
        details: pick(a, [
          ['actual_outcome', 'actual outcome'],
          ['source', 'source'],
        ]),
        durationMs: null,
        status: null,
      };
    case 'action':
      // A tool run the decision requested, from whichever trace recorded it: what ran, with which (hashed)
      // arguments and result.
      return {
        ...base,
        title: `tool ${a['tool'] || row.name} ran${a['error_type'] ? ` → failed (${a['error_type']})` : ''}`,
        details: pick(a, [
          ['input_hash', 'arguments'],
          ['output_hash', 'result'],
          ['tool_call_id', 'call'],
          ['link_basis', 'linked by'],
          ['integrity_seq', 'seq'],
        ]).concat(row.service === '' ? [] : [{ label: 'service', value: row.service }], [
          { label: 'trace', value: row.traceId },
        ]),
        durationMs: Number(row.durationNanos) / 1e6,
        status: statusOf(row.statusCode),
      };
    case 'deployment':
      return {
        ...base,
        title:
          `${a['model_id'] ?? ''} ${a['previous_version'] ? `${a['previous_version']} → ` : ''}${a['model_version'] ?? ''}`.trim(),
        details: pick(a, [
          ['environment', 'environment'],
          ['changelog', 'changelog'],
          ['deployment_id', 'id'],
        ]),
        durationMs: null,
        status: null,
      };
    case 'incident':
      return {
        ...base,
        title: row.name,
        details: pick(a, [
          ['incident_id', 'id'],
          ['severity', 'severity'],
          ['category', 'category'],
          ['status', 'status'],
        ]),
        durationMs: null,
        status: null,
      };
    case 'checkpoint':
      return {
        ...base,
        title: `signed checkpoint ${row.name} size ${a['tree_size'] ?? '?'}`,
        details: pick(a, [
          ['stream', 'stream'],
          ['key_id', 'key'],
          ['leaf_index', 'covers leaf'],
        ]),
        durationMs: null,
        status: null,
      };
    default:
      return {
        ...base,
        title: row.service === '' ? row.name : `${row.name} [${row.service}]`,
        details: [],
        durationMs: Number(row.durationNanos) / 1e6,
        status: statusOf(row.statusCode),
      };
  }
}

/**
 * Turns the store's `decision_timeline` rows into the document the CLI prints. Returns null when nothing matched.
 * The integrity status here says whether a signed checkpoint covers the decision; `decisiontrail verify`
 * recomputes leaves and checks signatures.
 */
export function buildTimelineDocument(
  query: { id: string; kind: 'decision' | 'trace' },
  rows: readonly StoreTimelineEntry[],
): TimelineDocument | null {
  if (rows.length === 0) return null;
  const decisionRow = rows.find(
    (row) => row.kind === 'decision' && (query.kind === 'trace' || row.decisionId === query.id),
  );
  const overrides = rows.filter(
    (row) =>
      row.kind === 'oversight' &&
      row.decisionId === decisionRow?.decisionId &&
      (row.attributes['new_outcome'] ?? '') !== '',
  );
  let decision: TimelineDecision | null = null;
  if (decisionRow !== undefined) {
    const a = decisionRow.attributes;
    const confidence =
      a['confidence'] === undefined || a['confidence'] === '' ? null : Number(a['confidence']);
    decision = {
      id: decisionRow.decisionId,
      time: isoFromNanos(decisionRow.timeUnixNano),
      traceId: decisionRow.traceId,
      spanId: decisionRow.spanId,
      service: decisionRow.service,
      modelId: a['model_id'] ?? '',
      modelVersion: a['model_version'] ?? '',
      outcome: a['outcome'] ?? '',
      confidence,
      riskLevel: a['risk_level'] ?? '',
      purpose: a['purpose'] ?? '',
      subjectId: a['subject_id'] ?? '',
      actorId: a['actor_id'] ?? '',
      inputHash: a['input_hash'] ?? '',
      outputHash: a['output_hash'] ?? '',
      finalOutcome: overrides.length === 0 ? null : overrides.at(-1)!.attributes['new_outcome']!,
      // Only the span (read by the read-time check) carries every attribute the convention requires.
      completeness: null,
      provenance: null,
    };
  }
  const checkpoint = rows.find((row) => row.kind === 'checkpoint');
  const stream = decisionRow?.attributes['integrity_stream'] ?? '';
  const verification: TimelineDocument['verification'] =
    checkpoint !== undefined
      ? {
          status: 'unchecked',
          detail: `covered by signed checkpoint size ${checkpoint.attributes['tree_size']} of stream ${checkpoint.attributes['stream']} (not recomputed)`,
        }
      : stream !== ''
        ? { status: 'unsealed', detail: `no signed checkpoint of stream ${stream} covers it yet` }
        : { status: 'unchecked', detail: 'not part of a signed integrity stream' };
  return { query, decision, entries: rows.map(entryOf), verification };
}
