import type { TimelineEntry as StoreTimelineEntry } from '@decisiontrail/clickhouse';
import type { ProofBundle } from '@decisiontrail/core';
import type { InvestigationBundle } from './investigation-bundle.ts';
import { signedTimelineRow, type SignedRowKind } from './render/signed-timeline-row.ts';
import type { TimelineDecision, TimelineDocument, TimelineEntry } from './render/timeline-document.ts';
import { buildTimelineDocument, entryOf } from './render/timeline-view.ts';

/** A span of the bundle whose inclusion proof held, with where the proof puts it. */
export interface ProvenSpan {
  proof: ProofBundle;
  /** The stream the proof's checkpoint names (its origin's last segment) and the leaf index. */
  stream: string;
  seq: number;
}

/** A difference between a bundle's timeline and what its proven spans say, naming the field. */
export interface TimelineFieldFinding {
  spanId: string;
  /** Where in the bundle, e.g. `timelines[0].decision.finalOutcome` or `timelines[0].entries[4].details.reason`. */
  field: string;
  message: string;
}

/** Kinds of entry that are recomputed from a proven span; incidents and checkpoints are not spans of a stream. */
const SPAN_KINDS: ReadonlySet<string> = new Set([
  'decision',
  'oversight',
  'feedback',
  'action',
  'deployment',
  'span',
]);

const DECISION_FIELDS: readonly (keyof TimelineDecision)[] = [
  'id',
  'time',
  'traceId',
  'spanId',
  'service',
  'modelId',
  'modelVersion',
  'outcome',
  'confidence',
  'riskLevel',
  'purpose',
  'subjectId',
  'actorId',
  'inputHash',
  'outputHash',
  'finalOutcome',
  // Exported timelines carry null here (the export does not read spans for it), so any other value is an edit.
  'completeness',
];

const show = (value: unknown): string => JSON.stringify(value);

/** Compares one displayed entry with the one recomputed from its proven span, field by field. */
function compareEntry(
  shown: TimelineEntry,
  recomputed: TimelineEntry,
  where: string,
): TimelineFieldFinding[] {
  const spanId = shown.spanId ?? '?';
  const out: TimelineFieldFinding[] = [];
  const differ = (field: string, a: unknown, b: unknown): void => {
    if (show(a) !== show(b)) {
      out.push({
        spanId,
        field: `${where}.${field}`,
        message: `${where}.${field} of span ${spanId} is ${show(a)} in the bundle, ${show(b)} in the proven span`,
      });
    }
  };
  differ('time', shown.time, recomputed.time);
  differ('title', shown.title, recomputed.title);
  differ('status', shown.status, recomputed.status);
  differ('durationMs', shown.durationMs, recomputed.durationMs);
  const shownDetails = Array.isArray(shown.details) ? shown.details : [];
  const labels = new Set([...shownDetails, ...recomputed.details].map((d) => d?.label));
  for (const label of labels) {
    differ(
      `details.${label}`,
      shownDetails.find((d) => d?.label === label)?.value,
      recomputed.details.find((d) => d.label === label)?.value,
    );
  }
  return out;
}

/**
 * Recomputes every human-readable field of a bundle's timelines from the bundle's proven spans: each
 * decision, review, feedback, tool run, deployment and trace span entry (time, title, details, status,
 * duration), and the decision's facts including the outcome after overrides. Whatever differs is a
 * finding that names the field. Entries with no proven span are left to the caller (they are either
 * listed as unproven or a finding already); incidents and checkpoints are returned as `unsigned`.
 */
export function checkBundleTimelines(
  bundle: InvestigationBundle,
  proven: ReadonlyMap<string, ProvenSpan>,
): { findings: TimelineFieldFinding[]; unsigned: string[] } {
  const findings: TimelineFieldFinding[] = [];
  const unsigned: string[] = [];
  bundle.timelines.forEach((timeline: TimelineDocument, t) => {
    const entries = Array.isArray(timeline?.entries) ? timeline.entries : [];
    const rows: StoreTimelineEntry[] = [];
    entries.forEach((entry, i) => {
      const where = `timelines[${t}].entries[${i}]`;
      if (!SPAN_KINDS.has(entry?.kind)) {
        unsigned.push(`${where} (${entry?.kind}): not a signed span, shown as exported`);
        return;
      }
      const span = entry.spanId === null ? undefined : proven.get(entry.spanId);
      if (span === undefined) return;
      const row = signedTimelineRow(entry.kind as SignedRowKind, span.proof.span, {
        stream: span.stream,
        seq: span.seq,
      });
      rows.push(row);
      findings.push(...compareEntry(entry, entryOf(row), where));
    });
    const decision = timeline?.decision ?? null;
    if (decision === null) return;
    // Timeline order, whatever order the bundle lists them in: the last override decides the outcome.
    rows.sort((a, b) => {
      const at = BigInt(a.timeUnixNano);
      const bt = BigInt(b.timeUnixNano);
      return at !== bt ? (at < bt ? -1 : 1) : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
    });
    const decisionRow = rows.find((row) => row.kind === 'decision' && row.spanId === decision.spanId);
    const recomputed =
      decisionRow === undefined
        ? null
        : (buildTimelineDocument({ id: decisionRow.decisionId, kind: 'decision' }, rows)?.decision ?? null);
    if (recomputed === null) {
      findings.push({
        spanId: decision.spanId,
        field: `timelines[${t}].decision`,
        message: `timelines[${t}].decision (span ${decision.spanId}) is not a proven decision span of the bundle`,
      });
      return;
    }
    for (const field of DECISION_FIELDS) {
      if (show(decision[field]) !== show(recomputed[field])) {
        findings.push({
          spanId: decision.spanId,
          field: `timelines[${t}].decision.${field}`,
          message: `timelines[${t}].decision.${field} of decision ${recomputed.id} is ${show(decision[field])} in the bundle, ${show(recomputed[field])} from the proven spans`,
        });
      }
    }
  });
  return { findings, unsigned };
}
