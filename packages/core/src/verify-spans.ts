import type { Finding } from './findings.ts';
import { LogVerifier, StreamLog, type VerificationReport, type VerifySpansOptions } from './log-verifier.ts';
import type { LeafEntry, ValidCheckpoint } from './record-classifier.ts';
import type { NoteVerifierKey } from './signed-note.ts';
import type { SpanRecord } from './span-record.ts';

export type { StreamReport, VerificationReport, VerifySpansOptions } from './log-verifier.ts';

/** The authenticated prefix of a stream, as a proof bundle needs it. */
export interface AuthenticatedStream {
  /** Authentic hex leaves `[0, verifiedSize)`. */
  authentic: string[];
  /** Valid checkpoints (store and witness), ascending by size. */
  checkpoints: ValidCheckpoint[];
  sealedSize: number;
  findings: Finding[];
}

/**
 * Verifies stored spans (and checkpoint spans) against trusted keys and, optionally, witness
 * checkpoints; reports per stream what is verified and every finding. All records at once: a store too
 * large to hold is read in slices into a {@link LogVerifier} instead.
 */
export function verifySpans(records: readonly SpanRecord[], options: VerifySpansOptions): VerificationReport {
  const verifier = new LogVerifier(options);
  verifier.add(records);
  return verifier.finish();
}

/** Authenticates the longest prefix of one stream that its valid checkpoints allow. */
export function authenticateStream(
  stream: string,
  leaves: readonly LeafEntry[],
  checkpointRecords: readonly SpanRecord[],
  witness: readonly ValidCheckpoint[],
  keys: readonly NoteVerifierKey[],
): AuthenticatedStream {
  const log = new StreamLog(stream);
  for (const checkpoint of witness) log.addWitness(checkpoint);
  for (const record of checkpointRecords) log.addCheckpointRecord(record, keys);
  for (const entry of leaves) {
    log.addLeaf(entry.seq, {
      spanId: entry.spanId,
      leaf: entry.leaf,
      ...(entry.problem !== undefined && { problem: entry.problem }),
    });
  }
  const report = log.finish();
  return {
    authentic: log.authenticLeaves(),
    checkpoints: log.validCheckpoints(),
    sealedSize: report.sealedSize,
    findings: report.findings,
  };
}
