import { finding, findingKind, toRanges, type Finding } from './findings.ts';
import { ATTR_AUDIT_CHECKPOINT_RANGE } from '@decisiontrail/semconv';
import { CompactMerkleTree, HASH_SIZE, subtreeRoot } from './merkle-tree.ts';
import {
  isCheckpointRecord,
  leafEntry,
  seqOf,
  streamOf,
  streamOfNote,
  validateCheckpointNote,
  validateCheckpointRecord,
  type OpenedNotes,
  type ValidCheckpoint,
} from './record-classifier.ts';
import { lossClaimOf, recordsLostFinding, type LossClaim } from './loss-record.ts';
import { strictBase64, type NoteVerifierKey } from './signed-note.ts';
import type { SpanRecord } from './span-record.ts';
import { resolveTrustedKeys, type TrustedKey } from './trusted-keys.ts';

/** Options of {@link LogVerifier} and `verifySpans`. */
export interface VerifySpansOptions {
  /** Keys whose checkpoints are trusted (all keys a stream ever used, including rotated ones). */
  publicKeys: readonly TrustedKey[];
  /** Signed checkpoint notes kept outside the store (e.g. from a witness file). */
  witnessCheckpoints?: readonly string[];
  /**
   * The records begin mid-stream (a time range that starts after the streams did): each stream is checked from
   * its first checkpoint read that carries its compact range (`audit.checkpoint.range`), and sequence numbers
   * before the first leaf read are outside the check, not missing.
   * @default false
   */
  midStream?: boolean;
}

/** The verification result of one stream. */
export interface StreamReport {
  stream: string;
  /** Leaf spans seen (duplicates included). */
  spanCount: number;
  /** Checkpoint spans seen. */
  checkpointCount: number;
  /** Largest tree size of any valid checkpoint (store or witness). */
  sealedSize: number;
  /** Leaves `[0, verifiedSize)` are authenticated by a valid signed checkpoint. */
  verifiedSize: number;
  /** Sequence numbers whose stored span matches its committed leaf, as half-open ranges. */
  verifiedRanges: [number, number][];
  /** In a mid-stream check: the first sequence number checked (nothing before it was read). */
  checkedFrom?: number;
  findings: Finding[];
}

/** The result of a verification. */
export interface VerificationReport {
  /**
   * True when no finding shows tampering or loss and nothing read is unverified (unsigned or in a
   * stream without a trusted checkpoint); an unsealed tail of a trusted stream does not clear it.
   */
  ok: boolean;
  streams: StreamReport[];
  /** Spans without `audit.integrity.stream` among the records given (not signed; not verifiable). */
  unattributedSpans: number;
  /** Findings about witness checkpoints that belong to no stored stream (e.g. invalid notes). */
  witnessFindings: Finding[];
}

/** A leaf record reduced to what verification keeps of it. */
interface LeafSeen {
  spanId: string;
  leaf: string;
  /** Why the record has no canonical span (its leaf then matches nothing). */
  problem?: string;
}

/** A stored leaf that differs from the committed leaf at its sequence number; classified at the end. */
interface Mismatch {
  seq: number;
  entry: LeafSeen;
}

/**
 * Verifies stored spans (and checkpoint spans) against trusted keys and witness checkpoints, fed in
 * pieces: the records of a store too large to hold at once can be read slice by slice (in time order,
 * as the store keeps them) and handed to {@link add}; {@link finish} reports per stream what is
 * verified and every finding.
 *
 * Per stream it keeps the compact Merkle tree of the authenticated prefix, the authenticated leaves
 * (32 bytes each, to place a span whose content is committed at another sequence number), the span id
 * committed at each authenticated sequence number (8 bytes, to tell a conflicting copy of a span from a
 * forged row), and the records after the prefix until the next checkpoint's leaves are all present.
 * A window `[authenticated, size)` is checked as soon as a valid checkpoint of that size is known and
 * every sequence number in it has a record; what is still open at the end is checked with the
 * checkpoints' own leaf lists filling the gaps (a deleted span).
 */
export class LogVerifier {
  readonly #keys: NoteVerifierKey[];
  readonly #midStream: boolean;
  readonly #streams = new Map<string, StreamLog>();
  readonly #witnessFindings: Finding[] = [];
  /** Notes opened against {@link #keys}: a witness line and the checkpoint span it copies are verified once. */
  readonly #opened: OpenedNotes = new Map();
  #unattributed = 0;
  #finished = false;

  constructor(options: VerifySpansOptions) {
    this.#keys = resolveTrustedKeys(options.publicKeys);
    this.#midStream = options.midStream ?? false;
    for (const note of options.witnessCheckpoints ?? []) {
      const result = validateCheckpointNote(note, this.#keys, {}, this.#opened);
      if ('code' in result) {
        const stream = originStream(note);
        this.#witnessFindings.push({
          ...result,
          message: `witness: ${result.message}`,
          ...(stream !== undefined && { stream }),
        });
      } else {
        this.#log(result.stream).addWitness(result);
      }
    }
  }

  /**
   * Adds stored records of any streams; within a stream, records in ascending time keep memory low. A
   * {@link HashedLeafRecord} stands for a plain leaf record whose leaf the reader computed from the stored bytes.
   */
  add(records: readonly (SpanRecord | HashedLeafRecord)[]): void {
    if (this.#finished) throw new Error('LogVerifier: add after finish');
    // Consecutive records mostly share a stream: its log is looked up once per run of them.
    let lastStream: string | undefined;
    let lastLog: StreamLog | undefined;
    for (const record of records) {
      if ('leafHex' in record) {
        if (record.stream !== lastStream || lastLog === undefined) {
          lastStream = record.stream;
          lastLog = this.#log(lastStream);
        }
        lastLog.addLeaf(record.seq, { spanId: record.spanId, leaf: record.leafHex });
        continue;
      }
      const stream = streamOf(record);
      if (stream === undefined) {
        this.#unattributed += 1;
        continue;
      }
      const log = this.#log(stream);
      if (isCheckpointRecord(record)) {
        log.addCheckpointRecord(record, this.#keys, this.#opened);
        continue;
      }
      const seq = seqOf(record);
      if (seq === undefined) {
        log.malformed(record.spanId);
        continue;
      }
      const entry = leafEntry(record, stream, seq);
      log.addLeaf(seq, {
        spanId: entry.spanId,
        leaf: entry.leaf,
        ...(entry.problem !== undefined && { problem: entry.problem }),
      });
      const loss = lossClaimOf(record);
      if (loss) log.addLoss(seq, entry.leaf, loss);
    }
  }

  /**
   * Mid-stream, per stream: sequence numbers from where the check began up to the largest checkpoint read that no
   * record was read for (at most `limit` each). A record can be committed after the range's start yet begin before
   * it (an `audit.count` or `audit.loss` record starts when what it covers began): the caller reads these by
   * sequence number and adds them before {@link finish}, which reports any still absent as missing.
   */
  absentSeqs(limit: number): { stream: string; seqs: number[] }[] {
    if (!this.#midStream) return [];
    const absent: { stream: string; seqs: number[] }[] = [];
    for (const [stream, log] of this.#streams) {
      const seqs = log.absentSeqs(limit);
      if (seqs.length > 0) absent.push({ stream, seqs });
    }
    return absent;
  }

  /** Finishes every stream and reports. */
  finish(): VerificationReport {
    this.#finished = true;
    const streams = [...this.#streams.entries()]
      // Mid-stream, a stream only the witness knows ended before the range: it is outside the check.
      .filter(([, log]) => !this.#midStream || log.recordsRead > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, log]) => log.finish());
    const ok =
      this.#witnessFindings.every((f) => findingKind(f.code) === 'note') &&
      streams.every((s) => s.findings.every((f) => findingKind(f.code) === 'note'));
    return { ok, streams, unattributedSpans: this.#unattributed, witnessFindings: this.#witnessFindings };
  }

  #log(stream: string): StreamLog {
    let log = this.#streams.get(stream);
    if (log === undefined) this.#streams.set(stream, (log = new StreamLog(stream, this.#midStream)));
    return log;
  }
}

/** The leaf every record read for a sequence number has, if they agree and there is one; else `undefined`. */
function soleLeaf(entries: readonly LeafSeen[] | undefined): string | undefined {
  if (entries === undefined || entries.length === 0) return undefined;
  const leaf = entries[0]!.leaf;
  for (let i = 1; i < entries.length; i++) if (entries[i]!.leaf !== leaf) return undefined;
  return leaf;
}

/** The stream a note's origin names, when the note's first line is a plausible origin. */
function originStream(note: string): string | undefined {
  const stream = streamOfNote(note);
  return stream === '' || /\s/u.test(stream) ? undefined : stream;
}

/**
 * A leaf record as a reader of the store's binary rows hands it over when the row is the plain case: a
 * non-empty stream, a valid sequence number, not a checkpoint or loss record, and a leaf computed from the
 * stored bytes by `encodedLeafHex` (which declines every other case, so those come as span records). Adding
 * it is exactly what adding the row's span record would do.
 */
export interface HashedLeafRecord {
  readonly stream: string;
  readonly seq: number;
  readonly spanId: string;
  readonly leafHex: string;
}

/** One stream's verification state: what {@link LogVerifier} keeps per stream, usable on its own. */
export class StreamLog {
  readonly stream: string;
  readonly #midStream: boolean;
  /** The smallest sequence number of a leaf record seen. */
  #firstSeq = Number.POSITIVE_INFINITY;
  /** `audit.loss` records read (rare: one per run of drops); reported when their leaf is authentic. */
  readonly #losses: { seq: number; leaf: string; claim: LossClaim }[] = [];
  /** Mid-stream: whether the first valid checkpoint has been read. */
  #begun = false;
  #spanCount = 0;
  #checkpointCount = 0;
  readonly #early: Finding[] = [];
  readonly #window: Finding[] = [];
  readonly #rootsBySize = new Map<number, Set<string>>();
  /** Checkpoint sizes not yet reached by the authenticated prefix, ascending. */
  readonly #sizes: number[] = [];
  /** Roots at the sizes the prefix was authenticated to, for checkpoints that arrive after their window. */
  readonly #rootAt = new Map<number, string>();
  readonly #late: ValidCheckpoint[] = [];
  /** Every valid checkpoint (store and witness), without its leaf list. */
  readonly #checkpoints: ValidCheckpoint[] = [];
  readonly #unknownKeys: Finding[] = [];
  #storeSize = 0;
  #witnessSize = 0;
  /** Leaves a checkpoint span lists for sequence numbers not yet authenticated. */
  readonly #claimed = new Map<number, string>();
  #tree = new CompactMerkleTree();
  readonly #authentic = new LeafBuffer(HASH_SIZE);
  readonly #committedSpanIds = new LeafBuffer(8);
  /** Records at sequence numbers from the authenticated size on. */
  readonly #pending = new Map<number, LeafSeen[]>();
  /** The smallest sequence number from the authenticated size on with no record yet. */
  #contiguous = 0;
  readonly #present = new BitSet();
  readonly #matched = new BitSet();
  readonly #mismatches: Mismatch[] = [];
  #stopped: 'unknown-leaves' | 'root-mismatch' | undefined;
  /** The next window does not authenticate with what has arrived; retried when a checkpoint arrives, and at the end. */
  #blocked = false;

  constructor(stream: string, midStream = false) {
    this.stream = stream;
    this.#midStream = midStream;
  }

  /** Leaf and checkpoint records read (not witness notes). */
  get recordsRead(): number {
    return this.#spanCount + this.#checkpointCount;
  }

  /** Sequence numbers from the check's start below the largest checkpoint read with no record read (see {@link LogVerifier.absentSeqs}). */
  absentSeqs(limit: number): number[] {
    if (this.recordsRead === 0) return [];
    let sealed = 0;
    for (const size of this.#rootsBySize.keys()) sealed = Math.max(sealed, size);
    const from = this.#midStream ? Math.max(this.#authentic.start, this.#firstSeq) : 0;
    const seqs: number[] = [];
    for (let seq = from; seq < sealed && seqs.length < limit; seq++)
      if (!this.#present.get(seq)) seqs.push(seq);
    return seqs;
  }

  addWitness(checkpoint: ValidCheckpoint): void {
    this.#witnessSize = Math.max(this.#witnessSize, checkpoint.size);
    this.#addCheckpoint(checkpoint);
  }

  addCheckpointRecord(record: SpanRecord, keys: readonly NoteVerifierKey[], opened?: OpenedNotes): void {
    this.#checkpointCount += 1;
    const result = validateCheckpointRecord(record, this.stream, keys, opened);
    if ('code' in result) {
      (result.code === 'checkpoint-unknown-key' ? this.#unknownKeys : this.#early).push(result);
      return;
    }
    this.#storeSize = Math.max(this.#storeSize, result.size);
    const list = result.leaves ?? [];
    if (this.#midStream && !this.#begun) {
      // The first valid checkpoint read decides where the check begins, whether or not it carries a range.
      this.#begun = true;
      this.#beginAt(result.size - list.length, record);
    }
    let listDisagrees = false;
    list.forEach((leaf, i) => {
      const seq = result.size - list.length + i;
      // Mid-stream, what precedes the point the check began at is outside it.
      if (seq < this.#authentic.start) return;
      if (seq < this.#authentic.end) listDisagrees ||= leaf !== this.#authentic.hex(seq);
      else if (!this.#claimed.has(seq)) this.#claimed.set(seq, leaf);
    });
    if (listDisagrees) {
      // Its window was authenticated before it arrived: its leaf list is checked against the authenticated leaves.
      this.#window.push(
        finding(
          'checkpoint-invalid',
          `a checkpoint's leaf list for [${result.size - list.length}, ${result.size}) does not match its signed root`,
          { size: result.size, checkpointSpanId: record.spanId },
        ),
      );
    }
    this.#addCheckpoint(result);
    this.#blocked = false;
    this.#closeReady();
  }

  malformed(spanId: string): void {
    this.#early.push(
      finding('unexpected', 'span has an integrity stream but no valid sequence number', { spanId }),
    );
  }

  addLeaf(seq: number, entry: LeafSeen): void {
    this.#spanCount += 1;
    this.#firstSeq = Math.min(this.#firstSeq, seq);
    this.#present.set(seq);
    if (this.#stopped !== undefined || seq < this.#authentic.start) return;
    if (seq < this.#authentic.end) {
      // Arrived after its window was authenticated: compare with the committed leaf directly.
      if (entry.leaf === this.#authentic.hex(seq)) this.#matched.set(seq);
      else this.#mismatches.push({ seq, entry });
      return;
    }
    const list = this.#pending.get(seq);
    if (list === undefined) this.#pending.set(seq, [entry]);
    else list.push(entry);
    while (this.#pending.has(this.#contiguous)) this.#contiguous += 1;
    if (!this.#blocked) this.#closeReady();
  }

  /** Notes an `audit.loss` record (also given to {@link addLeaf}): a `records-lost` finding once its leaf verifies. */
  addLoss(seq: number, leaf: string, claim: LossClaim): void {
    this.#losses.push({ seq, leaf, claim });
  }

  finish(): StreamReport {
    // What is still open: each remaining size in turn, a checkpoint's leaf list standing in for a missing record.
    while (this.#stopped === undefined && this.#sizes.length > 0) this.#closeWindow(this.#sizes[0]!, true);
    const findings: Finding[] = [...this.#early];
    let sealedSize = 0;
    for (const size of this.#rootsBySize.keys()) sealedSize = Math.max(sealedSize, size);
    for (const [size, roots] of [...this.#rootsBySize].sort(([a], [b]) => a - b)) {
      if (roots.size > 1) {
        findings.push(
          finding('checkpoint-inconsistent', `${roots.size} different signed roots for tree size ${size}`, {
            size,
          }),
        );
      }
    }
    for (const checkpoint of this.#late) {
      // A size with two roots is already a finding above.
      const roots = this.#rootsBySize.get(checkpoint.size) as Set<string>;
      const root = this.#rootAtSize(checkpoint.size);
      if (roots.size === 1 && root !== undefined && root !== checkpoint.rootHex) {
        findings.push(
          finding(
            'checkpoint-inconsistent',
            `the signed root for tree size ${checkpoint.size} disagrees with the leaves a larger checkpoint authenticated`,
            { size: checkpoint.size, ...(checkpoint.spanId && { checkpointSpanId: checkpoint.spanId }) },
          ),
        );
      }
    }
    findings.push(...this.#window);
    const verifiedSize = this.#authentic.end;
    const accounted = this.#classifyMismatches(findings);
    const missing: number[] = [];
    const unverified: number[] = [];
    // Mid-stream, what precedes the first leaf read was not read: outside the check, not missing.
    const checkedFrom = this.#midStream ? Math.max(this.#authentic.start, this.#firstSeq) : 0;
    for (let seq = checkedFrom; seq < sealedSize; seq++) {
      if (seq < verifiedSize) {
        if (!this.#matched.get(seq) && !accounted.has(seq)) missing.push(seq);
      } else if (!this.#present.get(seq)) missing.push(seq);
      else unverified.push(seq);
    }
    if (missing.length > 0) {
      findings.push(
        finding('missing', `${missing.length} committed span(s) are not in the store`, {
          ranges: toRanges(missing),
        }),
      );
    }
    if (unverified.length > 0) {
      findings.push(
        finding('unverifiable', `${unverified.length} span(s) could not be checked against a signed root`, {
          ranges: toRanges(unverified),
        }),
      );
    }
    const tail = this.#present.rangesFrom(sealedSize);
    const tailCount = tail.reduce((n, [a, b]) => n + b - a, 0);
    if (sealedSize === 0 && this.#spanCount > 0) {
      // Nothing trusted signs this stream: its spans are neither verified nor merely awaiting a checkpoint.
      const keyIds = [...new Set(this.#unknownKeys.map((f) => f.keyId).filter(Boolean))];
      findings.push(
        finding(
          'untrusted-stream',
          `${this.#spanCount} span(s) and no checkpoint signed by a trusted key` +
            (this.#unknownKeys.length > 0
              ? ` (${this.#unknownKeys.length} checkpoint(s) signed by untrusted key ${keyIds.join(', ')})`
              : ''),
          { stream: this.stream, ...(keyIds[0] !== undefined && { keyId: keyIds[0] }) },
        ),
      );
    } else {
      findings.push(...this.#unknownKeys);
      if (tailCount > 0) {
        findings.push(
          finding(
            'unsealed-tail',
            `${tailCount} span(s) after the last checkpoint (size ${sealedSize}) are not sealed yet`,
            { ranges: tail },
          ),
        );
      }
    }
    if (this.#witnessSize > this.#storeSize) {
      findings.push(
        finding(
          'truncated',
          `the witness holds tree size ${this.#witnessSize}, the store's checkpoints only ${this.#storeSize}`,
          { size: this.#witnessSize },
        ),
      );
    }
    const lossesReported = new Set<number>();
    for (const { seq, leaf, claim } of this.#losses) {
      // Only what signed bytes say: a forged or altered loss record is already `unexpected` or `modified`.
      const authentic =
        seq >= this.#authentic.start && seq < this.#authentic.end && this.#authentic.hex(seq) === leaf;
      if (!authentic || lossesReported.has(seq)) continue;
      lossesReported.add(seq);
      findings.push(recordsLostFinding(claim, seq));
    }
    return {
      stream: this.stream,
      spanCount: this.#spanCount,
      checkpointCount: this.#checkpointCount,
      sealedSize,
      verifiedSize,
      verifiedRanges: this.#matched.rangesFrom(0),
      ...(this.#midStream && { checkedFrom: Number.isFinite(checkedFrom) ? checkedFrom : sealedSize }),
      findings: findings.map((f) => ({ ...f, stream: this.stream })),
    };
  }

  /** The authenticated leaves `[0, verifiedSize)` as hex, after {@link finish}. */
  authenticLeaves(): string[] {
    const leaves: string[] = [];
    for (let seq = this.#authentic.start; seq < this.#authentic.end; seq++)
      leaves.push(this.#authentic.hex(seq));
    return leaves;
  }

  /** Every valid checkpoint seen (store and witness), ascending by size, without leaf lists. */
  validCheckpoints(): ValidCheckpoint[] {
    return [...this.#checkpoints].sort((a, b) => a.size - b.size);
  }

  #addCheckpoint(checkpoint: ValidCheckpoint): void {
    const { leaves: _leaves, ...kept } = checkpoint;
    this.#checkpoints.push(kept);
    if (checkpoint.size === 0) return;
    let roots = this.#rootsBySize.get(checkpoint.size);
    if (roots === undefined) {
      this.#rootsBySize.set(checkpoint.size, (roots = new Set()));
      if (checkpoint.size > this.#authentic.end) insertSorted(this.#sizes, checkpoint.size);
    }
    roots.add(checkpoint.rootHex);
    if (checkpoint.size <= this.#authentic.end) this.#late.push(checkpoint);
  }

  #closeReady(): void {
    while (this.#stopped === undefined && this.#sizes.length > 0 && this.#contiguous >= this.#sizes[0]!) {
      if (!this.#closeWindow(this.#sizes[0]!, false)) {
        this.#blocked = true;
        return;
      }
    }
  }

  /**
   * Authenticates `[authenticated, size)` against the signed roots of `size`. When it does not authenticate,
   * a final attempt stops the stream with the finding; an earlier one leaves everything as it was (a checkpoint
   * whose leaf list explains the difference may still arrive).
   */
  #closeWindow(size: number, final: boolean): boolean {
    const from = this.#authentic.end;
    const fromRecords: (string | undefined)[] = [];
    const preferClaimed: (string | undefined)[] = [];
    for (let seq = from; seq < size; seq++) {
      const recorded = soleLeaf(this.#pending.get(seq));
      fromRecords.push(recorded);
      preferClaimed.push(this.#claimed.get(seq) ?? recorded);
    }
    const roots = this.#rootsBySize.get(size) as Set<string>;
    const attempt = (candidate: (string | undefined)[]): CompactMerkleTree | undefined => {
      if (candidate.some((leaf) => leaf === undefined)) return undefined;
      const trial = new CompactMerkleTree(this.#tree.toJSON());
      // The leaves decoded into one buffer per attempt (the tree keeps views of it as its peaks); a leaf that is
      // not 64 hex digits decodes as Buffer.from decodes it.
      const bytes = Buffer.allocUnsafe(candidate.length * HASH_SIZE);
      for (let i = 0; i < candidate.length; i++) {
        const leaf = candidate[i] as string;
        const offset = i * HASH_SIZE;
        trial.append(
          leaf.length === 2 * HASH_SIZE && bytes.write(leaf, offset, 'hex') === HASH_SIZE
            ? bytes.subarray(offset, offset + HASH_SIZE)
            : Buffer.from(leaf, 'hex'),
        );
      }
      return roots.has(Buffer.from(trial.root()).toString('hex')) ? trial : undefined;
    };
    let accepted = attempt(preferClaimed);
    let leavesUsed = preferClaimed;
    if (!accepted && fromRecords.some((leaf, i) => leaf !== preferClaimed[i])) {
      accepted = attempt(fromRecords);
      leavesUsed = fromRecords;
      if (accepted) {
        this.#window.push(
          finding(
            'checkpoint-invalid',
            `a checkpoint's leaf list for [${from}, ${size}) does not match its signed root`,
            { size },
          ),
        );
      }
    }
    if (!accepted && !final) return false;
    this.#sizes.shift();
    if (!accepted) {
      if (preferClaimed.some((leaf) => leaf === undefined)) this.#stopped = 'unknown-leaves';
      else {
        this.#stopped = 'root-mismatch';
        this.#window.push(
          finding(
            'checkpoint-root-mismatch',
            `stored leaves [${from}, ${size}) do not reproduce the signed root of tree size ${size}`,
            { ranges: [[from, size]], size },
          ),
        );
      }
      // Past this point nothing can be authenticated: only which sequence numbers are present still counts.
      this.#pending.clear();
      this.#claimed.clear();
      return false;
    }
    this.#tree = accepted;
    for (let seq = from; seq < size; seq++) {
      const committed = leavesUsed[seq - from] as string;
      const entries = this.#pending.get(seq) ?? [];
      this.#pending.delete(seq);
      this.#claimed.delete(seq);
      this.#authentic.pushHex(committed);
      const match = entries.find((entry) => entry.leaf === committed);
      this.#committedSpanIds.pushHex(match !== undefined && isSpanIdHex(match.spanId) ? match.spanId : '');
      if (match !== undefined) this.#matched.set(seq);
      for (const entry of entries) if (entry.leaf !== committed) this.#mismatches.push({ seq, entry });
    }
    this.#rootAt.set(size, Buffer.from(this.#tree.root()).toString('hex'));
    this.#contiguous = Math.max(this.#contiguous, size);
    while (this.#pending.has(this.#contiguous)) this.#contiguous += 1;
    return true;
  }

  /**
   * Starts the authenticated prefix at `start` from the compact range a checkpoint span carries (the tree's
   * subtree roots at `start`), when the records begin mid-stream. The range is not signed: if it is not the real
   * one, the window's leaves on top of it do not reproduce the signed root, which is a finding.
   */
  #beginAt(start: number, record: SpanRecord): void {
    if (start <= 0) return;
    const bytes = strictBase64(record.attributes[ATTR_AUDIT_CHECKPOINT_RANGE] ?? '');
    if (bytes === undefined || bytes.length % HASH_SIZE !== 0) return;
    const peaks: string[] = [];
    for (let offset = 0; offset < bytes.length; offset += HASH_SIZE)
      peaks.push(Buffer.from(bytes.subarray(offset, offset + HASH_SIZE)).toString('hex'));
    try {
      this.#tree = new CompactMerkleTree({ size: start, peaks });
    } catch {
      return; // A range whose shape does not fit its size: the stream is then checked from 0 (and cannot be).
    }
    this.#authentic.beginAt(start);
    this.#committedSpanIds.beginAt(start);
    while (this.#sizes.length > 0 && this.#sizes[0]! <= start) this.#sizes.shift();
    for (const seq of this.#pending.keys()) if (seq < start) this.#pending.delete(seq);
    this.#contiguous = Math.max(this.#contiguous, start);
    while (this.#pending.has(this.#contiguous)) this.#contiguous += 1;
  }

  /** The root of the authenticated leaves `[0, size)`; undefined when they are not all held (mid-stream). */
  #rootAtSize(size: number): string | undefined {
    const known = this.#rootAt.get(size);
    if (known !== undefined) return known;
    if (this.#authentic.start > 0) return undefined;
    const leaves: Uint8Array[] = [];
    for (let seq = 0; seq < size; seq++) leaves.push(this.#authentic.bytes(seq));
    return Buffer.from(subtreeRoot(leaves)).toString('hex');
  }

  /**
   * Names every stored record that differs from the committed leaf at its sequence number: reordered when
   * its content is committed elsewhere, a conflicting copy when another row of the same span id matches,
   * modified when it is the only record of its sequence number, unexpected otherwise. Returns the sequence
   * numbers accounted for (a reordered span's true place, a modified span's own), which are not missing.
   */
  #classifyMismatches(findings: Finding[]): Set<number> {
    const accounted = new Set<number>();
    if (this.#mismatches.length === 0) return accounted;
    const wanted = new Set(this.#mismatches.map((m) => m.entry.leaf));
    const committedAt = new Map<string, number>();
    for (let seq = this.#authentic.start; seq < this.#authentic.end; seq++) {
      const hex = this.#authentic.hex(seq);
      if (wanted.has(hex)) committedAt.set(hex, seq);
    }
    const bySeq = new Map<number, LeafSeen[]>();
    for (const { seq, entry } of this.#mismatches) bySeq.set(seq, [...(bySeq.get(seq) ?? []), entry]);
    for (const [seq, entries] of [...bySeq].sort(([a], [b]) => a - b)) {
      const rest: LeafSeen[] = [];
      for (const entry of entries) {
        const committedSeq = committedAt.get(entry.leaf);
        if (committedSeq === undefined) {
          rest.push(entry);
          continue;
        }
        accounted.add(committedSeq);
        findings.push(
          finding(
            'reordered',
            `span ${entry.spanId} claims seq ${seq} but is committed at seq ${committedSeq}`,
            {
              spanId: entry.spanId,
              seq,
              committedSeq,
            },
          ),
        );
      }
      const matched = this.#matched.get(seq);
      if (rest.length === 1 && !matched) {
        const entry = rest[0]!;
        accounted.add(seq);
        findings.push(
          finding(
            'modified',
            `span ${entry.spanId} at seq ${seq} differs from its committed leaf${why(entry)}`,
            {
              spanId: entry.spanId,
              seq,
            },
          ),
        );
        continue;
      }
      const committedSpanId = this.#committedSpanIds.hex(seq);
      for (const entry of rest) {
        findings.push(
          matched && entry.spanId === committedSpanId
            ? finding(
                'conflicting-copy',
                `span ${entry.spanId} at seq ${seq} is stored twice with different content; the copy that matches its committed leaf stands${why(entry)}`,
                { spanId: entry.spanId, seq },
              )
            : finding(
                'unexpected',
                `span ${entry.spanId} at seq ${seq} is not in the committed log${why(entry)}`,
                {
                  spanId: entry.spanId,
                  seq,
                },
              ),
        );
      }
    }
    return accounted;
  }
}

/** Whether a span id is 16 lowercase hex digits (what the committed span ids hold; anything else is kept as none). */
function isSpanIdHex(spanId: string): boolean {
  if (spanId.length !== 16) return false;
  for (let i = 0; i < 16; i++) {
    const c = spanId.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** The reason a record has no canonical span, as a message suffix. */
function why(entry: LeafSeen): string {
  return entry.problem === undefined ? '' : ` (${entry.problem})`;
}

function insertSorted(values: number[], value: number): void {
  let i = values.length;
  while (i > 0 && values[i - 1]! > value) i -= 1;
  values.splice(i, 0, value);
}

/**
 * Fixed-width binary values appended in order, read back by sequence number (leaves, span ids), from `start`
 * on: a verification that begins mid-stream holds nothing before the point it began at.
 */
class LeafBuffer {
  readonly #width: number;
  #buffer: Buffer;
  #length = 0;
  #start = 0;

  constructor(width: number) {
    this.#width = width;
    this.#buffer = Buffer.alloc(width * 1024);
  }

  /** The first sequence number held. */
  get start(): number {
    return this.#start;
  }

  /** One past the last sequence number held. */
  get end(): number {
    return this.#start + this.#length;
  }

  /** Begins at `start` instead of 0; only while empty. */
  beginAt(start: number): void {
    if (this.#length > 0) throw new Error('LeafBuffer: beginAt after values were added');
    this.#start = start;
  }

  pushHex(hex: string): void {
    const offset = this.#length * this.#width;
    if (offset + this.#width > this.#buffer.length) {
      const grown = Buffer.alloc(this.#buffer.length * 2);
      this.#buffer.copy(grown);
      this.#buffer = grown;
    }
    // An empty or short value leaves zeros (a span id that is not 8 bytes of hex matches nothing).
    if (hex.length === this.#width * 2) this.#buffer.write(hex, offset, 'hex');
    this.#length += 1;
  }

  hex(seq: number): string {
    const offset = (seq - this.#start) * this.#width;
    return this.#buffer.toString('hex', offset, offset + this.#width);
  }

  bytes(seq: number): Uint8Array {
    const offset = (seq - this.#start) * this.#width;
    return this.#buffer.subarray(offset, offset + this.#width);
  }
}

/** A growable set of non-negative integers, one bit each. */
class BitSet {
  #bits = new Uint8Array(1024);
  #max = -1;

  set(value: number): void {
    const byte = value >>> 3;
    if (byte >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(this.#bits.length * 2, byte + 1));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    this.#bits[byte]! |= 1 << (value & 7);
    if (value > this.#max) this.#max = value;
  }

  get(value: number): boolean {
    const byte = value >>> 3;
    return byte < this.#bits.length && (this.#bits[byte]! & (1 << (value & 7))) !== 0;
  }

  /** The members from `start` on, as ascending half-open ranges. */
  rangesFrom(start: number): [number, number][] {
    const ranges: [number, number][] = [];
    let open = -1;
    for (let value = start; value <= this.#max + 1; value++) {
      const member = value <= this.#max && this.get(value);
      if (member && open < 0) open = value;
      else if (!member && open >= 0) {
        ranges.push([open, value]);
        open = -1;
      }
    }
    return ranges;
  }
}
