import { setImmediate } from 'node:timers/promises';
import { encodeSpansForSink, type EncodedSpans } from '@decisiontrail/clickhouse/encoded-spans';
import type { SpanRecord } from '@decisiontrail/signing-exporter';
import type { AuditPipeline, PipelineResult } from './audit-pipeline.ts';
import type { CounterCounts, ProcessorMetrics } from './metrics.ts';
import { checkBody, decodeBody } from './otlp-receiver.ts';
import type { QuarantinedSpan } from './span-sink.ts';

/** Spans the pipeline runs between two turns of the event loop, so waiting requests get decoded. */
const PROCESS_SLICE = 500;

/** What the receiver learns of a request body: how many spans it holds and why others were refused. */
export interface DecodeVerdict {
  spans: number;
  rejected: number;
  /** First few reasons, for `partial_success.error_message`. */
  rejectReasons: string[];
  /** Where the decoded spans wait for the drain (see `SpanWorker.decode`), if they were kept. */
  memo?: number;
}

/** A drained log entry: the key its decoded spans were kept under when it was received, or its bytes. */
export type PrepareEntry = { memo: number } | { body: Uint8Array; encoding: number };

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
  /** The metrics the pipeline counts into; their counts leave with every prepared batch. */
  metrics: ProcessorMetrics;
  /** Whether there is a store: its spans are encoded for it (else the pipeline's store list is dropped). */
  store: boolean;
  /** Span ids remembered to drop repeats (client retries of an acknowledged request). @default 200000 */
  dedupeWindow?: number;
}

/**
 * The CPU work between the durable ack and the sinks, kept off the thread that answers requests: decode
 * (at receipt, keeping the spans of live entries), drop repeated span ids, verify → policy → route, and
 * encode the store's rows. Runs on the span worker thread (`span-worker-thread.ts`).
 */
export class BatchPreparer {
  private readonly options: BatchPreparerOptions;
  private readonly memos = new Map<number, SpanRecord[]>();
  private readonly seen = new Set<string>();

  constructor(options: BatchPreparerOptions) {
    this.options = options;
  }

  /**
   * Decodes a request body (throws `OtlpDecodeError` when it is not one); with a `memo` key its spans are
   * kept for {@link prepare} until used or {@link forget}-ten, without one the body is only checked.
   */
  decode(body: Uint8Array, encoding: number, memo: number | undefined): DecodeVerdict {
    // Spans not kept are decoded again from the log at the drain: for the verdict, checking is enough.
    if (memo === undefined) return checkBody(body, encoding);
    const decoded = decodeBody(body, encoding);
    if (decoded.records.length > 0) this.memos.set(memo, decoded.records);
    return {
      spans: decoded.records.length,
      rejected: decoded.rejected,
      rejectReasons: decoded.rejectReasons,
    };
  }

  /** Drops kept spans whose request was not logged after all. */
  forget(memo: number): void {
    this.memos.delete(memo);
  }

  /**
   * Prepares one drained batch. `replayDrops` are the drops the log recorded for this batch before a
   * restart: a replay drops exactly those again (the remembered span ids do not survive the restart).
   */
  async prepare(
    entries: readonly PrepareEntry[],
    replayDrops: readonly number[] | undefined,
  ): Promise<PreparedBatch> {
    const records: SpanRecord[] = [];
    for (const entry of entries) {
      if ('memo' in entry) {
        const kept = this.memos.get(entry.memo);
        this.memos.delete(entry.memo);
        // The key names spans decoded at receipt; a lost one is a bug, not something to paper over.
        if (kept === undefined) throw new Error(`no decoded spans kept under ${entry.memo}`);
        for (const record of kept) records.push(record);
      } else {
        for (const record of decodeBody(entry.body, entry.encoding).records) records.push(record);
      }
    }
    const { kept, drops } = this.dedupe(records, replayDrops);
    const result = await this.processInSlices(kept);
    return {
      drops,
      store: this.options.store && result.store.length > 0 ? encodeSpansForSink(result.store) : undefined,
      forward: result.forward,
      quarantine: result.quarantine,
      snapshot: this.options.pipeline.snapshot(),
      counts: this.options.metrics.takeCounts(),
    };
  }

  /** Runs the pipeline in slices, yielding between them so requests waiting to be decoded are not held up. */
  private async processInSlices(records: SpanRecord[]): Promise<PipelineResult> {
    const result: PipelineResult = { store: [], forward: [], quarantine: [] };
    for (let i = 0; i < records.length; i += PROCESS_SLICE) {
      if (i > 0) await setImmediate();
      const part = this.options.pipeline.process(records.slice(i, i + PROCESS_SLICE));
      for (const record of part.store) result.store.push(record);
      for (const record of part.forward) result.forward.push(record);
      for (const item of part.quarantine) result.quarantine.push(item);
    }
    return result;
  }

  /** Drops repeated span ids; see {@link prepare} for a replayed batch. */
  private dedupe(
    records: SpanRecord[],
    replayDrops: readonly number[] | undefined,
  ): { kept: SpanRecord[]; drops: number[] } {
    const window = this.options.dedupeWindow ?? 200_000;
    const replayed = replayDrops === undefined ? undefined : new Set(replayDrops);
    const kept: SpanRecord[] = [];
    const drops: number[] = [];
    records.forEach((record, index) => {
      const key = record.traceId + record.spanId;
      if (replayed !== undefined ? replayed.has(index) : this.seen.has(key)) {
        this.options.metrics.spansDuplicate.inc();
        drops.push(index);
      } else {
        kept.push(record);
      }
      this.seen.add(key);
    });
    // A Set iterates in insertion order: evict the oldest ids beyond the window.
    if (this.seen.size > window) {
      let excess = this.seen.size - window;
      for (const key of this.seen) {
        if (excess-- <= 0) break;
        this.seen.delete(key);
      }
    }
    return { kept, drops };
  }
}
