import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import type { SpanRecord } from '@decisiontrail/signing-exporter';
import type { AuditPipeline, PipelineResult } from './audit-pipeline.ts';
import type { ProcessorMetrics } from './metrics.ts';
import { decodeBody } from './otlp-receiver.ts';
import type { QuarantineSink, SpanSink } from './span-sink.ts';
import type { WriteAheadLog } from './write-ahead-log.ts';

const PROCESS_SLICE = 500;
const YIELD_TO_ACKS_MS = 10;

/** Options of {@link QueueDrainer}. */
export interface QueueDrainerOptions {
  wal: WriteAheadLog;
  pipeline: AuditPipeline;
  store: SpanSink | undefined;
  quarantine: QuarantineSink | undefined;
  forward: SpanSink | undefined;
  metrics: ProcessorMetrics;
  batchSpans: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Span ids remembered to drop repeats (client retries of an acknowledged request). @default 200000 */
  dedupeWindow?: number;
  /**
   * Whether acknowledgements are waiting: the drain then pauses between slices (up to a few ms each), since a
   * late ack holds up the app's exporter while a late drain only grows the log.
   */
  busy?: () => boolean;
  /** Reports sink failures (each is retried). */
  onSinkError?: (sink: string, error: unknown) => void;
  /** Reports a failure that stopped the drain (for example an unreadable log). */
  onFatal?: (error: unknown) => void;
}

/**
 * Drains the write-ahead log: decode → drop repeated span ids → pipeline → sinks (retried with backoff until
 * they succeed) → commit the log position together with the verifier state. Nothing is committed before
 * every sink took the batch, so a crash at any point replays it.
 *
 * A replay stores nothing twice: the batch boundary and the spans dropped as repeats are durable before a
 * sink sees the batch, and the rest of what the batch keeps depends only on the batch and the state committed
 * before it (the verify stage drops exact repeats of signed spans it has accepted, across restarts too), so the
 * replay sends the store the identical block, which its insert deduplication token discards. Store writes go
 * one batch at a time, so the sink never merges two.
 */
export class QueueDrainer {
  private readonly options: QueueDrainerOptions;
  private readonly seen = new Set<string>();
  private stopping = false;
  private abort = new AbortController();
  private running: Promise<void> | undefined;
  /** Set when the drain loop died (for example an unreadable log); readiness reports it. */
  failure: unknown;

  constructor(options: QueueDrainerOptions) {
    this.options = options;
  }

  start(): void {
    this.running ??= this.loop().catch((error: unknown) => {
      this.failure = error;
      this.options.onFatal?.(error);
    });
  }

  /**
   * Prepares batch k+1 (read, decode, verify) while batch k is being written: the sink work of the embedded
   * engine runs on its own threads, so the two overlap. Commits stay in log order, each with the verifier state
   * as it was right after its own batch.
   */
  private async loop(): Promise<void> {
    const { wal } = this.options;
    let previous: Promise<boolean> | undefined;
    let lastDelivery: Promise<boolean> = Promise.resolve(true);
    while (!(this.stopping && wal.drained)) {
      if (wal.drained) {
        if (previous !== undefined) {
          if (!(await previous)) return;
          previous = undefined;
          continue;
        }
        // A closed log has nothing more to give; waiting would spin.
        if (wal.isClosed) return;
        await wal.waitForEntries();
        continue;
      }
      const entries = wal.take(this.options.batchSpans);
      const records: SpanRecord[] = [];
      for (const entry of entries) {
        const memo = entry.memo as SpanRecord[] | undefined;
        entry.memo = undefined;
        records.push(...(memo ?? decodeBody(await wal.read(entry), entry.tag).records));
      }
      const { kept, drops } = this.dedupe(records, wal.plannedDrops(entries));
      const planned = wal.planBatch(entries, drops);
      // Observed here, awaited before the sinks see the batch.
      planned.catch(() => undefined);
      const result = await this.processInSlices(kept);
      const snapshot = this.options.pipeline.snapshot();
      await planned;
      const priorDelivery = lastDelivery;
      const delivery = (async () => (await priorDelivery) && this.deliver(result))();
      delivery.catch(() => undefined);
      lastDelivery = delivery;
      const prior = previous;
      previous = (async () => {
        // A batch is committed only after every batch before it.
        if (prior !== undefined && !(await prior)) return false;
        if (!(await delivery)) return false;
        await wal.commit(entries.length, snapshot);
        return true;
      })();
      // Keeps rejections observed even if the loop leaves early; the awaits below still see them.
      previous.catch(() => undefined);
      if (prior !== undefined && !(await prior)) return;
    }
    if (previous !== undefined) await previous;
  }

  /**
   * Runs the pipeline over a drained batch in slices, yielding to the event loop between them: verification is
   * CPU work on the thread that also acknowledges requests, and one long run would delay every ack behind it.
   */
  private async processInSlices(records: SpanRecord[]): Promise<PipelineResult> {
    const result: PipelineResult = { store: [], forward: [], quarantine: [] };
    for (let i = 0; i < records.length; i += PROCESS_SLICE) {
      if (i > 0) await setImmediate();
      for (let waited = 0; waited < YIELD_TO_ACKS_MS && this.options.busy?.() === true; waited += 1)
        await sleep(1);
      const part = this.options.pipeline.process(records.slice(i, i + PROCESS_SLICE));
      result.store.push(...part.store);
      result.forward.push(...part.forward);
      result.quarantine.push(...part.quarantine);
    }
    return result;
  }

  /**
   * Drops repeated span ids. A batch replayed after a restart drops exactly what it dropped the first time
   * (recorded in the log's batch plan): this set does not survive the restart.
   */
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

  /** Writes one batch to every sink, retrying each until it succeeds; false if stopped first. */
  private async deliver(result: PipelineResult): Promise<boolean> {
    const { store, quarantine, forward, metrics } = this.options;
    const writes: [string, () => Promise<void>, number][] = [];
    if (store !== undefined && result.store.length > 0) {
      writes.push([store.name, () => store.write(result.store), result.store.length]);
    }
    if (quarantine !== undefined && result.quarantine.length > 0) {
      writes.push([
        'quarantine',
        () => quarantine.writeQuarantine(result.quarantine),
        result.quarantine.length,
      ]);
    }
    if (forward !== undefined && result.forward.length > 0) {
      writes.push([forward.name, () => forward.write(result.forward), result.forward.length]);
    }
    for (const [name, write, count] of writes) {
      let delay = this.options.retryInitialMs;
      for (;;) {
        const started = performance.now();
        try {
          await write();
          metrics.sinkLatency.observe((performance.now() - started) / 1000);
          metrics.spansStored.inc(count, { sink: name });
          break;
        } catch (error) {
          metrics.sinkErrors.inc(1, { sink: name });
          this.options.onSinkError?.(name, error);
          try {
            await sleep(delay, undefined, { signal: this.abort.signal });
          } catch {
            return false;
          }
          delay = Math.min(delay * 2, this.options.retryMaxMs);
        }
      }
    }
    return true;
  }

  /**
   * Drains what was acknowledged, then stops. After `timeoutMs` a sink that still fails is abandoned: its
   * batch stays in the log for the next start.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const timer = setTimeout(() => this.abort.abort(), timeoutMs);
    try {
      this.options.wal.wakeAll();
      await this.running;
    } finally {
      clearTimeout(timer);
    }
  }
}
