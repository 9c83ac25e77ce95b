import { ATTR_AUDIT_INTEGRITY_STREAM } from '@decisiontrail/semconv';
import {
  verifySpans,
  type NoteVerifierKey,
  type SpanRecord,
  type VerificationReport,
} from '@decisiontrail/signing-exporter';

/**
 * Runs the verifier one stream at a time so a long verification can report progress, and merges the per-stream
 * reports into one. Streams are independent (each has its own tree and checkpoints), so the result equals one
 * `verifySpans` call over everything: witness notes go to the stream their origin names (`<prefix>/<stream>`), and
 * notes for streams with no stored span at all are verified on their own, where they show up as truncation.
 */
export function verifyByStream(
  records: readonly SpanRecord[],
  options: { publicKeys: readonly NoteVerifierKey[]; witnessCheckpoints: readonly string[] },
  onStreamDone: (spans: number) => void,
): VerificationReport {
  const byStream = new Map<string, SpanRecord[]>();
  let unattributedSpans = 0;
  for (const record of records) {
    const stream = record.attributes[ATTR_AUDIT_INTEGRITY_STREAM];
    if (stream === undefined || stream === '') {
      unattributedSpans += 1;
      continue;
    }
    const list = byStream.get(stream);
    if (list === undefined) byStream.set(stream, [record]);
    else list.push(record);
  }
  const notesByStream = new Map<string, string[]>();
  const orphanNotes: string[] = [];
  for (const note of options.witnessCheckpoints) {
    const origin = note.split('\n', 1)[0] ?? '';
    const stream = origin.slice(origin.lastIndexOf('/') + 1);
    if (byStream.has(stream)) notesByStream.set(stream, [...(notesByStream.get(stream) ?? []), note]);
    else orphanNotes.push(note);
  }
  const merged: VerificationReport = { ok: true, streams: [], unattributedSpans, witnessFindings: [] };
  const add = (report: VerificationReport): void => {
    merged.ok &&= report.ok;
    merged.streams.push(...report.streams);
    merged.witnessFindings.push(...report.witnessFindings);
  };
  for (const [stream, streamRecords] of [...byStream].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    add(
      verifySpans(streamRecords, {
        publicKeys: options.publicKeys,
        witnessCheckpoints: notesByStream.get(stream) ?? [],
      }),
    );
    onStreamDone(streamRecords.length);
  }
  if (orphanNotes.length > 0)
    add(verifySpans([], { publicKeys: options.publicKeys, witnessCheckpoints: orphanNotes }));
  merged.streams.sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  return merged;
}
