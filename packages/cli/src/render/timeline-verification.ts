import { ATTR_AUDIT_INTEGRITY_SEQ, ATTR_AUDIT_INTEGRITY_STREAM } from '@decisiontrail/semconv';
import { verifySpans, type NoteVerifierKey, type SpanRecord } from '@decisiontrail/signing-exporter';
import type { TimelineDocument } from './timeline-document.ts';

/**
 * Checks the decision span of a timeline against its stream: recomputes every leaf of the stream from the stored
 * rows and verifies the signed checkpoints (the same check `decisiontrail verify` runs, limited to one stream),
 * then reports whether this decision's leaf is verified, unsealed, or named by a finding.
 */
export function verifyTimelineDecision(
  decision: { spanId: string },
  streamRecords: readonly SpanRecord[],
  keys: readonly NoteVerifierKey[],
  witnessCheckpoints: readonly string[],
): TimelineDocument['verification'] {
  const own = streamRecords.find((record) => record.spanId === decision.spanId);
  const stream = own?.attributes[ATTR_AUDIT_INTEGRITY_STREAM];
  const seqText = own?.attributes[ATTR_AUDIT_INTEGRITY_SEQ];
  if (own === undefined || stream === undefined || seqText === undefined) {
    return { status: 'unchecked', detail: 'the decision span is not part of a signed integrity stream' };
  }
  const seq = Number(seqText);
  const report = verifySpans(streamRecords, { publicKeys: keys, witnessCheckpoints });
  const streamReport = report.streams.find((s) => s.stream === stream);
  const about = (streamReport?.findings ?? []).filter(
    (f) =>
      f.spanId === decision.spanId ||
      f.seq === seq ||
      (f.ranges ?? []).some(([from, to]) => seq >= from && seq < to),
  );
  const tamper = about.filter((f) => f.tamper);
  if (tamper.length > 0)
    return { status: 'failed', detail: tamper.map((f) => `${f.code}: ${f.message}`).join('; ') };
  const others = (streamReport?.findings ?? []).filter((f) => f.tamper).length;
  const elsewhere =
    others > 0
      ? `; the stream has ${others} other finding(s): run decisiontrail verify --stream ${stream}`
      : '';
  if ((streamReport?.verifiedRanges ?? []).some(([from, to]) => seq >= from && seq < to)) {
    return {
      status: 'verified',
      detail: `leaf ${seq} of stream ${stream} matches its signed checkpoint (size ${streamReport!.verifiedSize})${elsewhere}`,
    };
  }
  const reason = about[0]?.message ?? 'no signed checkpoint covers it yet';
  return { status: 'unsealed', detail: `leaf ${seq} of stream ${stream}: ${reason}${elsewhere}` };
}
