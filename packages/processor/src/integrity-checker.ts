import {
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import { StreamVerifier, leafHash } from '@decisiontrail/core';
import type { NoteVerifierKey, SpanRecord, StreamVerifierState } from '@decisiontrail/core';
import { seqOf } from '@decisiontrail/core/internal';
import type { IntegrityChecker, IntegrityOutcome } from './audit-pipeline.ts';
import { ProcessorError } from './errors.ts';

/** Received seqs are remembered this far behind the newest one of their stream. */
const RECEIVED_SEQ_SPAN = 65_536;
/** At most this many disjoint seq ranges per stream (spans of one stream arrive nearly in order). */
const RECEIVED_RANGES = 64;
/** Accepted checkpoint spans remembered per stream (as leaf hashes), for repeats of them. */
const RECEIVED_CHECKPOINTS = 64;

/** Per stream: what was accepted, persisted with the verifier state. */
interface ReceivedState {
  /** Accepted leaf seqs as ascending, disjoint `[from, to)` ranges. */
  seqs: [number, number][];
  /** Hex leaf hashes of accepted checkpoint spans, oldest first. */
  checkpoints: string[];
}

/** The persisted form of {@link StreamIntegrityChecker}'s state. */
interface CheckerState {
  version: 2;
  verifiers: Record<string, StreamVerifierState>;
  received: Record<string, ReceivedState>;
}

function hexLeaf(record: SpanRecord): string | undefined {
  try {
    return Buffer.from(leafHash(record)).toString('hex');
  } catch {
    // A record the canonical form rejects is never taken for a repeat; the verifier judges it.
    return undefined;
  }
}

function rangesHave(ranges: readonly [number, number][], seq: number): boolean {
  for (let i = ranges.length - 1; i >= 0; i--) {
    const [from, to] = ranges[i]!;
    if (seq >= to) return false;
    if (seq >= from) return true;
  }
  return false;
}

function rangesAdd(ranges: [number, number][], seq: number): void {
  let i = ranges.length;
  while (i > 0 && ranges[i - 1]![0] > seq) i--;
  // ranges[i - 1] starts at or before seq; ranges[i] starts after it.
  const before = ranges[i - 1];
  const after = ranges[i];
  if (before !== undefined && seq < before[1]) return;
  const joinsBefore = before !== undefined && before[1] === seq;
  const joinsAfter = after !== undefined && after[0] === seq + 1;
  if (joinsBefore && joinsAfter) {
    before[1] = after[1];
    ranges.splice(i, 1);
  } else if (joinsBefore) before[1] = seq + 1;
  else if (joinsAfter) after[0] = seq;
  else ranges.splice(i, 0, [seq, seq + 1]);
  const newest = ranges.at(-1)![1];
  while (
    ranges.length > RECEIVED_RANGES ||
    (ranges[0] !== undefined && ranges[0][1] < newest - RECEIVED_SEQ_SPAN)
  )
    ranges.shift();
}

function rangesRemove(ranges: [number, number][], seq: number): void {
  const i = ranges.findIndex(([from, to]) => seq >= from && seq < to);
  if (i < 0) return;
  const [from, to] = ranges[i]!;
  const parts: [number, number][] = [];
  if (from < seq) parts.push([from, seq]);
  if (seq + 1 < to) parts.push([seq + 1, to]);
  ranges.splice(i, 1, ...parts);
}

/** A tamper finding about a span stored earlier: it can no longer be held back, only reported. */
export interface LateFinding {
  stream: string;
  code: string;
  message: string;
}

/**
 * The verify stage over the signing package's incremental `StreamVerifier`: one verifier per integrity
 * stream, fed in arrival order; its state travels with the write-ahead-log position.
 */
export class StreamIntegrityChecker implements IntegrityChecker {
  private readonly streams = new Map<string, StreamVerifier>();
  private readonly received = new Map<string, ReceivedState>();
  /** Per stream, the leaves its verifier holds by seq (verified window and pending), until it changes. */
  private readonly leafCache = new Map<string, Map<number, string[]>>();
  private readonly publicKeys: readonly NoteVerifierKey[];
  private readonly onLateFinding: (finding: LateFinding) => void;

  constructor(
    publicKeys: readonly NoteVerifierKey[],
    state: unknown,
    onLateFinding: (finding: LateFinding) => void,
  ) {
    this.publicKeys = publicKeys;
    this.onLateFinding = onLateFinding;
    if (state !== undefined && state !== null) {
      if (typeof state !== 'object')
        throw new ProcessorError('WAL_CORRUPT', 'verifier state is not an object');
      // Logs written before the received index held the verifier states alone.
      const saved: CheckerState =
        (state as Partial<CheckerState>).version === 2
          ? (state as CheckerState)
          : { version: 2, verifiers: state as Record<string, StreamVerifierState>, received: {} };
      for (const [stream, json] of Object.entries(saved.verifiers)) {
        this.streams.set(stream, StreamVerifier.fromJSON(json, { publicKeys }));
      }
      for (const [stream, json] of Object.entries(saved.received)) {
        this.received.set(stream, {
          seqs: json.seqs.map(([from, to]) => [from, to]),
          checkpoints: [...json.checkpoints],
        });
      }
    }
  }

  check(
    records: readonly SpanRecord[],
    arrivedLeaf: (record: SpanRecord) => string | undefined = () => undefined,
  ): IntegrityOutcome[] {
    const results: IntegrityOutcome[] = records.map(() => undefined);
    // A finding may name an earlier span of the same batch (a checkpoint exposes a modified leaf): that span
    // is not stored yet, so it can still be quarantined. Looked for only when there is a finding (the batch's
    // latest span of that id the verifier took, as a map of every span's id, built for nothing nearly always,
    // would give).
    const inBatch = (spanId: string, upTo: number): number | undefined => {
      for (let j = upTo; j >= 0; j--) {
        if (records[j]!.spanId === spanId && results[j] !== 'duplicate') return j;
      }
      return undefined;
    };
    records.forEach((record, i) => {
      const stream = record.attributes[ATTR_AUDIT_INTEGRITY_STREAM]!;
      let verifier = this.streams.get(stream);
      if (verifier === undefined) {
        verifier = new StreamVerifier(stream, { publicKeys: this.publicKeys });
        this.streams.set(stream, verifier);
      }
      let received = this.received.get(stream);
      if (received === undefined) {
        received = { seqs: [], checkpoints: [] };
        this.received.set(stream, received);
      }
      const isCheckpoint = record.attributes[ATTR_AUDIT_RECORD_TYPE] === AUDIT_RECORD_TYPE_VALUES.CHECKPOINT;
      // An exact repeat of an accepted span (a client resending a request whose acknowledgement it lost) was
      // stored already: it is dropped, decided from committed state only, so a replay decides the same.
      // Anything else with an accepted seq, a different leaf above all, still goes to the verifier.
      const seq = isCheckpoint ? undefined : seqOf(record);
      const arrived = arrivedLeaf(record);
      const checkpointLeaf = isCheckpoint ? (arrived ?? hexLeaf(record)) : undefined;
      if (
        checkpointLeaf !== undefined
          ? received.checkpoints.includes(checkpointLeaf)
          : seq !== undefined &&
            rangesHave(received.seqs, seq) &&
            this.holdsLeaf(stream, verifier, seq, arrived ?? hexLeaf(record))
      ) {
        results[i] = 'duplicate';
        return;
      }
      this.leafCache.delete(stream);
      for (const f of isCheckpoint ? verifier.addCheckpoint(record) : verifier.addSpan(record, arrived)) {
        if (!f.tamper) continue;
        if (f.seq !== undefined) rangesRemove(received.seqs, f.seq);
        const subject = f.spanId ?? f.checkpointSpanId;
        const index = subject === undefined ? undefined : inBatch(subject, i);
        if (index !== undefined) results[index] ??= { code: f.code, reason: f.message };
        else this.onLateFinding({ stream, code: f.code, message: f.message });
      }
      if (results[i] !== undefined) return;
      if (seq !== undefined) rangesAdd(received.seqs, seq);
      if (checkpointLeaf !== undefined) {
        received.checkpoints.push(checkpointLeaf);
        if (received.checkpoints.length > RECEIVED_CHECKPOINTS) received.checkpoints.shift();
      }
    });
    return results;
  }

  /** Whether the stream's verifier holds `leaf` at `seq` (so the span is not new). */
  private holdsLeaf(
    stream: string,
    verifier: StreamVerifier,
    seq: number,
    leaf: string | undefined,
  ): boolean {
    let leaves = this.leafCache.get(stream);
    if (leaves === undefined) {
      // Built only when a repeat arrives, and kept while repeats of one request follow each other.
      leaves = new Map();
      const state = verifier.toJSON();
      for (const [s, leaf] of state.recent) leaves.set(s, [leaf]);
      for (const [s, , leaf] of state.pending) leaves.set(s, [...(leaves.get(s) ?? []), leaf]);
      this.leafCache.set(stream, leaves);
    }
    const held = leaves.get(seq);
    return held !== undefined && leaf !== undefined && held.includes(leaf);
  }

  snapshot(): unknown {
    const state: CheckerState = {
      version: 2,
      verifiers: Object.fromEntries(
        [...this.streams].map(([stream, verifier]) => [stream, verifier.toJSON()]),
      ),
      // Copies: the next batch is processed before this one commits (and serializes) its state.
      received: Object.fromEntries(
        [...this.received].map(([stream, r]) => [
          stream,
          { seqs: r.seqs.map(([from, to]) => [from, to]), checkpoints: [...r.checkpoints] },
        ]),
      ),
    };
    return state;
  }
}
