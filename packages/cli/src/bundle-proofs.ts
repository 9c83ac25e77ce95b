import type { TimelineEntry as StoreTimelineEntry } from '@decisiontrail/clickhouse';
import { ATTR_AUDIT_INTEGRITY_SEQ, ATTR_AUDIT_INTEGRITY_STREAM } from '@decisiontrail/semconv';
import {
  createProofBundle,
  leafHash,
  proofBundleFromCheckpoint,
  uncanonicalReason,
  type NoteVerifierKey,
  type ProofBundle,
  type SpanRecord,
} from '@decisiontrail/core';
import type { AuditQueries } from './store/audit-backend.ts';
import { BEGINNING_OF_TIME, END_OF_TIME } from './store/time-bounds.ts';

type Located = { traceId: string; spanId: string; timeUnixNano: string; stream: string; seq: string };

/** Decision, oversight and feedback rows name their stream in a column, trace spans in the span attribute. */
function locate(row: StoreTimelineEntry): Located {
  const a = row.attributes;
  return {
    traceId: row.traceId,
    spanId: row.spanId,
    timeUnixNano: row.timeUnixNano,
    stream: a['integrity_stream'] ?? a[ATTR_AUDIT_INTEGRITY_STREAM] ?? '',
    seq: a['integrity_seq'] ?? a[ATTR_AUDIT_INTEGRITY_SEQ] ?? '',
  };
}

function leafOf(record: SpanRecord): string {
  const problem = uncanonicalReason(record);
  return problem === undefined ? Buffer.from(leafHash(record)).toString('hex') : `uncanonical: ${problem}`;
}

/**
 * Inclusion proofs for the spans of a bundle's timelines. Each span is proven from the checkpoint
 * span that adds its leaf (its compact range and leaves: `proofBundleFromCheckpoint`), read with
 * the timeline's own evidence query, so a bundle costs a few statements whatever the streams'
 * length. A span that way cannot prove (its checkpoint span was lost, or predates the range) falls
 * back to the stream's leaves and the witness (`createProofBundle`). A span whose stored copies
 * differ, or that carries no stream, is listed as unproven with the reason.
 */
export async function proveTimelineSpans(
  queries: AuditQueries,
  rows: readonly StoreTimelineEntry[],
  keys: readonly NoteVerifierKey[],
  witnessCheckpoints: readonly string[],
): Promise<{ proofs: ProofBundle[]; unproven: { spanId: string; reason: string }[] }> {
  // Checkpoint spans are not leaves (their notes go into the bundle as checkpoints); incidents are not spans.
  const wanted = new Map<string, Located>();
  for (const row of rows) {
    if (row.kind !== 'checkpoint' && row.kind !== 'incident' && row.spanId !== '')
      wanted.set(row.spanId, locate(row));
  }
  if (wanted.size === 0) return { proofs: [], unproven: [] };
  const evidence = await queries.timelineEvidence({ decisionIds: [], spans: [...wanted.values()] });
  // Rows that do not name their stream (deployments): the stored copy does, so ask for its checkpoints too.
  const unnamed = [...wanted.values()].flatMap((located) => {
    if (located.stream !== '') return [];
    const copy = evidence.spans.find((s) => s.spanId === located.spanId && s.traceId === located.traceId);
    const stream = copy?.attributes[ATTR_AUDIT_INTEGRITY_STREAM];
    const seq = copy?.attributes[ATTR_AUDIT_INTEGRITY_SEQ];
    return stream && seq ? [{ ...located, stream, seq }] : [];
  });
  const checkpoints = [...evidence.checkpoints];
  if (unnamed.length > 0)
    checkpoints.push(...(await queries.timelineEvidence({ decisionIds: [], spans: unnamed })).checkpoints);

  const proofs: ProofBundle[] = [];
  const unproven: { spanId: string; reason: string }[] = [];
  const fallback: SpanRecord[] = [];
  for (const located of wanted.values()) {
    const copies = evidence.spans.filter((s) => s.spanId === located.spanId && s.traceId === located.traceId);
    const distinct = new Set(copies.map(leafOf));
    if (copies.length === 0) continue;
    if (distinct.size > 1) {
      unproven.push({
        spanId: located.spanId,
        reason: `${distinct.size} stored copies with different leaves`,
      });
      continue;
    }
    const span = copies[0] as SpanRecord;
    if (!span.attributes[ATTR_AUDIT_INTEGRITY_STREAM]) {
      unproven.push({ spanId: located.spanId, reason: 'the span carries no integrity stream' });
      continue;
    }
    let proof: ProofBundle | undefined;
    for (const checkpoint of checkpoints) {
      try {
        proof = proofBundleFromCheckpoint(span, checkpoint, keys);
        break;
      } catch {
        // Another candidate checkpoint (a size signed twice, the next size) may prove it.
      }
    }
    if (proof !== undefined) proofs.push(proof);
    else fallback.push(span);
  }
  const streams = new Set(fallback.map((span) => span.attributes[ATTR_AUDIT_INTEGRITY_STREAM] as string));
  for (const stream of streams) {
    const records = await queries.spansForVerification({ stream, from: BEGINNING_OF_TIME, to: END_OF_TIME });
    for (const span of fallback.filter((s) => s.attributes[ATTR_AUDIT_INTEGRITY_STREAM] === stream)) {
      try {
        proofs.push(createProofBundle(records, span.spanId, { publicKeys: keys, witnessCheckpoints }));
      } catch (error) {
        unproven.push({ spanId: span.spanId, reason: (error as Error).message });
      }
    }
  }
  return { proofs, unproven };
}
