import { setImmediate } from 'node:timers/promises';
import { EncodedSpansBuilder, type EncodedSpans } from '@decisiontrail/clickhouse/encoded-spans';
import type { SpanRecord } from '@decisiontrail/core';
import type { AuditPipeline } from './audit-pipeline.ts';
import type { CounterCounts, ProcessorMetrics } from './metrics.ts';
import { ProcessorError } from './errors.ts';
import { BODY_ENCODING, checkBody, decodeBody } from './otlp-receiver.ts';
import { POLICY_APPLIED_ENCODING, decodePolicyApplied, encodePolicyApplied } from './policy-applied-entry.ts';
import type { PolicyOutcome, PolicyStage } from './policy-stage.ts';
import type { QuarantinedSpan } from './span-sink.ts';

/** Spans (at least) the pipeline verifies and the block takes at a time, between two turns of the event loop. */
const PROCESS_SLICE = 500;

/** What the receiver learns of a request body: how many spans it holds and why others were refused. */
export interface DecodeVerdict {
  spans: number;
  rejected: number;
  /** First few reasons, for `partial_success.error_message`. */
  rejectReasons: string[];
  /**
   * When the policy changed a span at receipt: what the log holds instead of the body (tag
   * `POLICY_APPLIED_ENCODING`), so nothing the policy removes is ever written to disk.
   */
  logged?: Uint8Array;
  /**
   * The request body, when the check moved it to the receipt thread (`SpanWorker.decode`'s `moveBody`): handed
   * back the same way, the caller's own view of it is empty.
   */
  body?: Uint8Array;
}

/** A drained log entry: its bytes and their encoding (the log's tag). */
export interface PrepareEntry {
  body: Uint8Array;
  encoding: number;
}

/** One drained batch, ready for the sinks. */
export interface PreparedBatch {
  /** Indices, among the batch's decoded spans, dropped as repeated span ids (for the log's batch plan). */
  drops: number[];
  /** The spans for the store, encoded for its sink; undefined when there are none or there is no store. */
  store: EncodedSpans | undefined;
  forward: SpanRecord[];
  quarantine: QuarantinedSpan[];
  /** The verifier state right after this batch, persisted with the log position. */
  snapshot: unknown;
  /** Metric counts of this batch (verified, quarantined, duplicates…), for the processor's metrics. */
  counts: CounterCounts;
}

/** Options of {@link BatchPreparer}. */
export interface BatchPreparerOptions {
  pipeline: AuditPipeline;
  /** The pipeline's policy stage, applied at receipt (the drain reads what it did from the log). */
  policy: PolicyStage;
  /** The metrics the pipeline counts into; their counts leave with every prepared batch. */
  metrics: ProcessorMetrics;
  /** Whether there is a store: its spans are encoded for it (else the pipeline's store list is dropped). */
  store: boolean;
  /** Span ids remembered to drop repeats (client retries of an acknowledged request). @default 200000 */
  dedupeWindow?: number;
}

/**
 * The CPU work around the durable ack, kept off the thread that answers requests: at receipt, check the body
 * and apply the policy, so the log gets the post-policy form (on the receipt thread); at the drain, decode what
 * the log holds, drop repeated span ids, verify → policy outcome → route, and encode the store's rows (on the
 * span worker thread). Both run in `span-worker-thread.ts`.
 */
export class BatchPreparer {
  private readonly options: BatchPreparerOptions;
  /** What the policy did at receipt to spans it changed (read back from the log), until their batch is prepared. */
  private readonly outcomes = new WeakMap<SpanRecord, PolicyOutcome>();
  private readonly seen = new Set<string>();
  /** Why a batch failed part-way; no batch is prepared after it. */
  private failed: string | undefined;

  constructor(options: BatchPreparerOptions) {
    this.options = options;
  }

  /**
   * Checks a request body (throws `OtlpDecodeError` when it is not one) and applies the policy: when the policy
   * changed a span, the verdict carries the form to log instead of the body. The drain decodes the spans again
   * from the log.
   */
  decode(body: Uint8Array, encoding: number): DecodeVerdict {
    const { policy } = this.options;
    // When the policy cannot change any span (no configured name in a protobuf body), checking is enough.
    if (!policy.active || (encoding === BODY_ENCODING.PROTOBUF && !policy.mentionedIn(body))) {
      return checkBody(body, encoding);
    }
    const decoded = decodeBody(body, encoding);
    let outcomes: Map<SpanRecord, PolicyOutcome> | undefined;
    if (policy.active) {
      for (const record of decoded.records) {
        const outcome = policy.apply(record);
        if (outcome.action === 'unchanged') continue;
        outcomes ??= new Map();
        outcomes.set(record, outcome);
      }
    }
    return {
      spans: decoded.records.length,
      rejected: decoded.rejected,
      rejectReasons: decoded.rejectReasons,
      ...(outcomes !== undefined && {
        logged: encodePolicyApplied({ records: decoded.records, outcomes }),
      }),
    };
  }

  /**
   * Prepares one drained batch. `replayDrops` are the drops the log recorded for this batch before a
   * restart: a replay drops exactly those again (the remembered span ids do not survive the restart).
   *
   * The spans are decoded, verified and encoded for the store a group of entries at a time (at least
   * {@link PROCESS_SLICE} spans), so the decoded spans of a group are garbage once its rows are in the block:
   * they die young instead of being kept, and moved by the collector, until the whole batch is encoded. A batch
   * that fails (an entry that does not decode, a span the store cannot hold) may have fed part of its spans to
   * the verifier already, so every later batch is refused (`CLOSED`): the drain stops there, and a restart
   * prepares the batch again from the log position and verifier state committed before it.
   */
  async prepare(
    entries: readonly PrepareEntry[],
    replayDrops: readonly number[] | undefined,
  ): Promise<PreparedBatch> {
    if (this.failed !== undefined) {
      throw new ProcessorError(
        'CLOSED',
        `no more batches are prepared after one failed part-way (${this.failed}); a restart resumes from the log`,
      );
    }
    try {
      return await this.prepareEntries(entries, replayDrops);
    } catch (error) {
      this.failed = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  private async prepareEntries(
    entries: readonly PrepareEntry[],
    replayDrops: readonly number[] | undefined,
  ): Promise<PreparedBatch> {
    // How many spans a body holds is known once it is decoded: the block is sized as if each took 512 bytes
    // of its body (a decision span takes ≈ 780), and grows past that.
    let bodyBytes = 0;
    for (const entry of entries) bodyBytes += entry.body.byteLength;
    const drops: number[] = [];
    const replayed = replayDrops === undefined ? undefined : new Set(replayDrops);
    // Repeated span ids are dropped below (isRepeat) before a span reaches the block.
    const store = this.options.store
      ? new EncodedSpansBuilder(Math.ceil(bodyBytes / 512), { repeatsDropped: true })
      : undefined;
    const forward: SpanRecord[] = [];
    const quarantine: QuarantinedSpan[] = [];
    let group: SpanRecord[] = [];
    let index = 0;
    for (let e = 0; e < entries.length; e++) {
      for (const record of this.decodeEntry(entries[e]!)) {
        if (this.isRepeat(record, index, replayed)) drops.push(index);
        else group.push(record);
        index++;
      }
      if (group.length < PROCESS_SLICE && e < entries.length - 1) continue;
      const part = this.options.pipeline.process(group, this.outcomes);
      group = [];
      if (store !== undefined) for (const record of part.store) store.add(record);
      for (const record of part.forward) forward.push(record);
      for (const item of part.quarantine) quarantine.push(item);
      // Between groups, so a batch of many entries does not hold the thread's other messages up.
      if (e < entries.length - 1) await setImmediate();
    }
    this.forget();
    return {
      drops,
      store: store?.finish(),
      forward,
      quarantine,
      snapshot: this.options.pipeline.snapshot(),
      counts: this.options.metrics.takeCounts(),
    };
  }

  /** The spans of a drained entry; what the policy did to them at receipt is remembered for the pipeline. */
  private decodeEntry(entry: PrepareEntry): SpanRecord[] {
    if (entry.encoding !== POLICY_APPLIED_ENCODING) return decodeBody(entry.body, entry.encoding).records;
    const logged = decodePolicyApplied(entry.body);
    for (const [record, outcome] of logged.outcomes) this.outcomes.set(record, outcome);
    return logged.records;
  }

  /**
   * Whether the batch's span at `index` is a repeated span id (remembered either way); for a replayed batch,
   * whether the log recorded it as dropped.
   */
  private isRepeat(record: SpanRecord, index: number, replayed: ReadonlySet<number> | undefined): boolean {
    // `has`, then `add`: adding first and asking whether the set grew was 15–30 % slower over a window of 200 k
    // keys (a micro-benchmark; presumably the set then keeps the joined key unflattened, with both ids).
    const key = record.traceId + record.spanId;
    const repeat = replayed !== undefined ? replayed.has(index) : this.seen.has(key);
    if (repeat) this.options.metrics.spansDuplicate.inc();
    this.seen.add(key);
    return repeat;
  }

  /** A Set iterates in insertion order: forgets the oldest span ids beyond the window. */
  private forget(): void {
    const window = this.options.dedupeWindow ?? 200_000;
    if (this.seen.size <= window) return;
    let excess = this.seen.size - window;
    for (const key of this.seen) {
      if (excess-- <= 0) break;
      this.seen.delete(key);
    }
  }
}
