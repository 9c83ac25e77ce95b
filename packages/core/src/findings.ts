/**
 * What a verifier can report. Three kinds (see {@link findingKind}): tampering or loss (most codes);
 * records that are not verified (`unsigned`, `untrusted-stream`: nothing trusted signs them;
 * `unverifiable`: they could not be checked against a signed root, usually alongside the finding that
 * explains why), which is not proof of tampering but is never "intact" either; and the note
 * `unsealed-tail`: the newest spans are not yet covered by a signed checkpoint.
 */
export type FindingCode =
  /** A span whose content differs from the leaf its checkpoint committed to. */
  | 'modified'
  /** Sequence numbers a signed checkpoint covers but no span carries (deleted). */
  | 'missing'
  /** A span that is not part of the committed log (inserted or forged). */
  | 'unexpected'
  /** A span whose content is committed at a different sequence number than it claims. */
  | 'reordered'
  /** Two stored rows with one span id whose leaves differ: the one that matches the committed leaf stands. */
  | 'conflicting-copy'
  /** A checkpoint whose signature, format or attributes do not verify. */
  | 'checkpoint-invalid'
  /** A checkpoint signed by a key the verifier does not trust. */
  | 'checkpoint-unknown-key'
  /** Two validly signed checkpoints that contradict each other (same size, different roots). */
  | 'checkpoint-inconsistent'
  /** A validly signed root that the stored leaves do not reproduce and that cannot be narrowed to spans. */
  | 'checkpoint-root-mismatch'
  /** The witness holds a larger checkpoint than the store: the stored log was cut short. */
  | 'truncated'
  /** Spans that could not be checked because the leaves before them are unknown. */
  | 'unverifiable'
  /** Spans after the last checkpoint: not yet sealed, which is not in itself tampering. */
  | 'unsealed-tail'
  /** A line of the witness file that is not a signed note in the witness file format. */
  | 'witness-malformed'
  /** Audit records that carry no integrity stream: nothing signs them. */
  | 'unsigned'
  /** A stream with spans but no checkpoint signed by a trusted key: nothing trusted signs its spans. */
  | 'untrusted-stream'
  /**
   * A signed `audit.loss` record: the producer could not keep `count` audit records and says so in its stream
   * (how many, why, when). Loss, not tampering, but never intact: it is of kind `tamper` ("tampering or loss").
   */
  | 'records-lost'
  /**
   * A stream whose newest stored checkpoint lacks the quorum of trusted witness cosignatures, or a witness that
   * could not confirm it (down, unknown log, garbage): truncation past the producer's own files is not excluded.
   */
  | 'not-cosigned'
  /** A stored cosignature that names a trusted witness but does not verify over its checkpoint. */
  | 'cosignature-invalid';

/** What a finding means for the verdict. */
export type FindingKind = 'tamper' | 'unverified' | 'note';

/** The kind of a finding code. */
export function findingKind(code: FindingCode): FindingKind {
  if (code === 'unsealed-tail') return 'note';
  if (
    code === 'unsigned' ||
    code === 'untrusted-stream' ||
    code === 'unverifiable' ||
    code === 'not-cosigned'
  )
    return 'unverified';
  return 'tamper';
}

/** One verification finding. */
export interface Finding {
  code: FindingCode;
  /** Whether this finding shows tampering or loss (the codes of kind `tamper`). */
  tamper: boolean;
  message: string;
  /** The integrity stream concerned, when the finding is about one (witness findings, streams). */
  stream?: string;
  /** For `witness-malformed`: the 1-based line of the witness file. */
  line?: number;
  /** For `unsigned`: how many records the finding covers (it names a sample of them); for `records-lost`: how many were lost. */
  count?: number;
  /** The span concerned (for `modified`, `unexpected`, `reordered`). */
  spanId?: string;
  /** The sequence number the span claims. */
  seq?: number;
  /** For `reordered`: the sequence number its content is committed at. */
  committedSeq?: number;
  /** Half-open ranges `[from, to)` of sequence numbers (for `missing`, `unverifiable`, `unsealed-tail`). */
  ranges?: [number, number][];
  /** The checkpoint span concerned, when the finding is about a stored checkpoint. */
  checkpointSpanId?: string;
  /** Tree size concerned (checkpoint findings, `truncated`: the witness size). */
  size?: number;
  /** Hex key id concerned (`checkpoint-unknown-key`). */
  keyId?: string;
}

/** Builds a finding with `tamper` derived from its code. */
export function finding(
  code: FindingCode,
  message: string,
  details: Omit<Finding, 'code' | 'tamper' | 'message'> = {},
): Finding {
  return { code, tamper: findingKind(code) === 'tamper', message, ...details };
}

/** Collapses sorted integers into half-open ranges. */
export function toRanges(values: readonly number[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const value of values) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === value) last[1] = value + 1;
    else ranges.push([value, value + 1]);
  }
  return ranges;
}
