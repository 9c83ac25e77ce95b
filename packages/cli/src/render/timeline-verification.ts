import type { TimelineEntry as StoreTimelineEntry, TimelineEvidence } from '@decisiontrail/clickhouse';
import {
  ATTR_AUDIT_COMPLETENESS_MISSING,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import {
  leafHash,
  missingRequiredAttributes,
  proveSpanInCheckpoint,
  uncanonicalReason,
  type NoteVerifierKey,
  type SpanProof,
  type SpanRecord,
} from '@decisiontrail/core';
import { displayedDifferences, signedTimelineRow, type SignedRowKind } from './signed-timeline-row.ts';
import type {
  EntryIntegrity,
  IntegrityStatus,
  TimelineDecision,
  TimelineDocument,
} from './timeline-document.ts';
import { deploymentOfVersion, provenanceOf } from './decision-provenance.ts';
import { buildTimelineDocument } from './timeline-view.ts';

/**
 * The rows of a timeline whose values rest on a signed span: what the read-time check covers. A tool run
 * (`action`) is displayed from its own span, found through its decision id in any trace: checked the same way.
 */
const CHECKED_KINDS: ReadonlySet<string> = new Set(['decision', 'oversight', 'feedback', 'action']);

/**
 * The audit table that locates each checked kind's span. The timeline with its check (`timelineWithEvidence`) shows
 * the spans' own values and takes only their place from these tables (whose rows `verify` reconciles); a timeline
 * read without the check (`decisionTimeline`) shows the decision, reviews and feedback from audit_decisions,
 * audit_oversight and audit_feedback, which the field comparison below then holds against the spans.
 */
const LOCATED_BY: Readonly<Record<string, string>> = {
  decision: 'audit_decisions',
  oversight: 'audit_decision_links',
  feedback: 'audit_decision_links',
  action: 'audit_decision_links',
};

/** Worst first: the timeline's overall status is the worst of its checked entries. */
const SEVERITY: readonly IntegrityStatus[] = [
  'failed',
  'untrusted',
  'unsigned',
  'unsealed',
  'unchecked',
  'verified',
];

/** `oversight` or `feedback` for a span of that record type, else undefined. */
function linkedKindOf(span: SpanRecord): 'oversight' | 'feedback' | undefined {
  const type = span.attributes[ATTR_AUDIT_RECORD_TYPE];
  return type === AUDIT_RECORD_TYPE_VALUES.OVERSIGHT
    ? 'oversight'
    : type === AUDIT_RECORD_TYPE_VALUES.FEEDBACK
      ? 'feedback'
      : undefined;
}

/** Timeline order: by time, then kind (as the store orders its rows). */
function compareRows(a: StoreTimelineEntry, b: StoreTimelineEntry): number {
  const at = BigInt(a.timeUnixNano);
  const bt = BigInt(b.timeUnixNano);
  if (at !== bt) return at < bt ? -1 : 1;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/** What the store is asked for: the shown spans, located by their audit rows. */
export function evidenceQueryFor(rows: readonly StoreTimelineEntry[]): {
  decisionIds: string[];
  spans: { traceId: string; spanId: string; timeUnixNano: string; stream: string; seq: string }[];
} {
  return {
    decisionIds: [...new Set(rows.filter((row) => row.kind === 'decision').map((row) => row.decisionId))],
    spans: rows
      .filter((row) => CHECKED_KINDS.has(row.kind))
      .map((row) => ({
        traceId: row.traceId,
        spanId: row.spanId,
        timeUnixNano: row.timeUnixNano,
        stream: row.attributes['integrity_stream'] ?? '',
        seq: row.attributes['integrity_seq'] ?? '',
      })),
  };
}

function leafOf(record: SpanRecord): string {
  const problem = uncanonicalReason(record);
  return problem === undefined ? Buffer.from(leafHash(record)).toString('hex') : `uncanonical: ${problem}`;
}

/**
 * The one proof result that speaks for a span among the checkpoints that might cover it: the first that verifies
 * (the checkpoints after it are not tried), else the first failure, untrusted key or unproven result.
 */
function bestProof(
  span: SpanRecord,
  checkpoints: readonly SpanRecord[],
  keys: readonly NoteVerifierKey[],
): SpanProof | undefined {
  const results: SpanProof[] = [];
  for (const checkpoint of checkpoints) {
    const result = proveSpanInCheckpoint(span, checkpoint, keys);
    if (result.status === 'verified') return result;
    results.push(result);
  }
  return (
    results.find((r) => r.status === 'failed') ??
    results.find((r) => r.status === 'untrusted') ??
    results.find((r) => r.status === 'unproven')
  );
}

/**
 * Checks one displayed row against the signed rows: exactly one distinct stored copy of its span,
 * every displayed field equal to what that span says, and the span's leaf proven under a checkpoint
 * a trusted key signed. Returns the entry's status and, when the span proved, the row to display.
 */
function checkRow(
  row: StoreTimelineEntry,
  evidence: TimelineEvidence,
  keys: readonly NoteVerifierKey[],
): { integrity: EntryIntegrity; display: StoreTimelineEntry } {
  const what = `${row.kind} span ${row.spanId}`;
  const copies = evidence.spans.filter((span) => span.spanId === row.spanId && span.traceId === row.traceId);
  if (copies.length === 0) {
    return {
      integrity: {
        status: 'failed',
        check: 'missing-span',
        detail: `${what}: no otel_traces row holds the span ${LOCATED_BY[row.kind] ?? 'its audit table'} locates`,
      },
      display: row,
    };
  }
  const distinct = new Map<string, SpanRecord>();
  for (const copy of copies) if (!distinct.has(leafOf(copy))) distinct.set(leafOf(copy), copy);
  if (distinct.size > 1) {
    return {
      integrity: {
        status: 'failed',
        check: 'conflicting-copy',
        detail: `${what}: ${distinct.size} stored copies with different leaves (${copies.length} rows): which one was signed is decided by verify`,
      },
      display: row,
    };
  }
  const span = [...distinct.values()][0] as SpanRecord;
  const signed = signedTimelineRow(row.kind as SignedRowKind, span);
  const differences = displayedDifferences(row, signed);
  const streamOfSpan = signed.attributes['integrity_stream'] ?? '';
  let proven: EntryIntegrity;
  if (streamOfSpan === '') {
    proven = { status: 'unsigned', check: 'no-stream', detail: `${what} carries no integrity stream` };
  } else if (keys.length === 0) {
    proven = { status: 'unchecked', check: 'no-key', detail: 'no trusted public key configured (see --key)' };
  } else {
    const seq = signed.attributes['integrity_seq'];
    const proof = bestProof(span, evidence.checkpoints, keys);
    proven =
      proof === undefined
        ? {
            status: 'unsealed',
            check: 'no-checkpoint',
            detail: `leaf ${seq} of stream ${streamOfSpan}: no signed checkpoint in the store covers it yet`,
          }
        : proof.status === 'verified'
          ? {
              status: 'verified',
              check: 'inclusion',
              detail: `leaf ${proof.seq} of stream ${proof.stream} recomputed and included under checkpoint size ${proof.treeSize} signed by key ${proof.keyId}`,
            }
          : proof.status === 'untrusted'
            ? {
                status: 'untrusted',
                check: 'untrusted-key',
                detail: `leaf ${proof.seq} of stream ${proof.stream}: its checkpoint is signed by key ${proof.keyId}, which is not trusted`,
              }
            : proof.status === 'unproven'
              ? {
                  status: 'unsealed',
                  check: 'no-checkpoint',
                  detail: `leaf ${proof.seq} of stream ${proof.stream}: ${proof.reason}`,
                }
              : { status: 'failed', check: proof.check, detail: `${what}: ${proof.reason}` };
  }
  if (differences.length > 0) {
    const fields = differences
      .map((d) => `${d.field} stored ${JSON.stringify(d.stored)}, signed ${JSON.stringify(d.signed)}`)
      .join('; ');
    return {
      integrity: {
        status: 'failed',
        check: 'field',
        fields: differences.map((d) => d.field),
        detail: `${what}: the row read differs from the span (${fields}); shown as signed, ${proven.status === 'verified' ? 'which verified' : `which is ${proven.status}: ${proven.detail}`}`,
      },
      // The signed values are shown when they proved; otherwise neither copy is vouched for.
      display: proven.status === 'verified' ? signed : row,
    };
  }
  return { integrity: proven, display: proven.status === 'verified' ? signed : row };
}

/**
 * What the decision's stored span lacks by its semantic convention, and what serve flagged at ingest. With
 * several distinct copies (a failed check of its own) the first read is used; null when no copy is stored.
 */
function decisionCompleteness(
  decision: TimelineDecision,
  evidence: TimelineEvidence,
): TimelineDecision['completeness'] {
  const span = evidence.spans.find((s) => s.spanId === decision.spanId && s.traceId === decision.traceId);
  if (span === undefined) return null;
  const flagged = span.attributes[ATTR_AUDIT_COMPLETENESS_MISSING];
  return {
    missing: missingRequiredAttributes(span),
    flaggedAtIngest: flagged === undefined ? null : flagList(flagged),
  };
}

/** The stored flag (a JSON array of attribute keys); a value of another form is shown as stored. */
function flagList(stored: string): string[] {
  try {
    const parsed: unknown = JSON.parse(stored);
    if (Array.isArray(parsed) && parsed.every((key) => typeof key === 'string')) return parsed as string[];
  } catch {
    // Not JSON: shown as stored below.
  }
  return [stored];
}

/**
 * The timeline as read-time verification leaves it: each decision, review and feedback entry
 * checked against its signed `otel_traces` row (one distinct copy, displayed fields equal,
 * recomputed leaf included under a trusted checkpoint) and displayed from that row when it proved;
 * the document's status is the worst of its entries, with every entry that is not verified named.
 */
export function verifyTimeline(
  query: { id: string; kind: 'decision' | 'trace' },
  rows: readonly StoreTimelineEntry[],
  evidence: TimelineEvidence,
  keys: readonly NoteVerifierKey[],
): TimelineDocument | null {
  const checked = new Map<StoreTimelineEntry, { integrity: EntryIntegrity; display: StoreTimelineEntry }>();
  for (const row of rows) if (CHECKED_KINDS.has(row.kind)) checked.set(row, checkRow(row, evidence, keys));
  // Reviews and feedback that were signed for a shown decision but have no row in their audit table: shown
  // from the signed span (they change what the decision's outcome is), and failed, since the table lost them.
  const decisions = new Set(rows.filter((row) => row.kind === 'decision').map((row) => row.decisionId));
  const shown = new Set(rows.map((row) => `${row.traceId}/${row.spanId}`));
  const all = [...rows];
  for (const span of evidence.spans) {
    const kind = linkedKindOf(span);
    const key = `${span.traceId}/${span.spanId}`;
    if (kind === undefined || shown.has(key)) continue;
    const row = signedTimelineRow(kind, span);
    if (!decisions.has(row.decisionId)) continue;
    shown.add(key);
    const proof = checkRow(row, evidence, keys);
    const table = kind === 'oversight' ? 'audit_oversight' : 'audit_feedback';
    checked.set(row, {
      integrity: {
        status: 'failed',
        check: 'missing-row',
        detail: `${kind} span ${span.spanId} of decision ${row.decisionId} is in otel_traces (${proof.integrity.status}) but missing from ${table}`,
      },
      display: proof.display,
    });
    all.push(row);
  }
  all.sort(compareRows);
  const displayRows = all.map((row) => checked.get(row)?.display ?? row);
  const doc = buildTimelineDocument(query, displayRows);
  if (doc === null) return null;
  if (doc.decision !== null) {
    const decision = doc.decision;
    doc.decision.completeness = decisionCompleteness(decision, evidence);
    const span = evidence.spans.find((s) => s.spanId === decision.spanId && s.traceId === decision.traceId);
    doc.decision.provenance =
      span === undefined
        ? null
        : provenanceOf(span.attributes, deploymentOfVersion(displayRows, decision.modelVersion));
  }
  doc.entries.forEach((entry, i) => {
    const result = checked.get(all[i] as StoreTimelineEntry);
    if (result !== undefined) entry.integrity = result.integrity;
  });
  const results = [...checked.values()].map((r) => r.integrity);
  if (results.length === 0) {
    doc.verification = {
      status: 'unsigned',
      detail: 'no decision, review, feedback or action entry to check',
    };
    return doc;
  }
  const worst = SEVERITY.find((status) => results.some((r) => r.status === status)) as IntegrityStatus;
  const verified = results.filter((r) => r.status === 'verified').length;
  const others = results.filter((r) => r.status !== 'verified');
  doc.verification = {
    status: worst,
    detail:
      worst === 'verified'
        ? `${verified} signed span(s) shown (decision, reviews, feedback, tool runs): each leaf recomputed from its row and included under a checkpoint signed by a trusted key, no conflicting copy, displayed values equal the signed ones. Not checked here: the audit tables that locate these spans and whether they name every review and feedback (decisiontrail verify reconciles them), and the other spans, deployments and incidents shown`
        : `${verified} of ${results.length} checked entries verified; ${others.map((r) => `${r.status} (${r.check}): ${r.detail}`).join(' | ')}`,
  };
  return doc;
}
