import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff } from '@decisiontrail/core';
import type { PreparedBatch, PrepareEntry } from './batch-preparer.ts';
import type { ProcessorMetrics } from './metrics.ts';
import type { EncodedSpanSink, QuarantineSink, SpanSink } from './span-sink.ts';
import type { SpanWorker } from './span-worker.ts';
import type { WriteAheadLog } from './write-ahead-log.ts';

/** Options of {@link QueueDrainer}. */
export interface QueueDrainerOptions {
  wal: WriteAheadLog;
  /** Decodes, deduplicates, verifies, applies policy and encodes each batch (off this thread). */
  worker: SpanWorker;
  store: EncodedSpanSink | undefined;
  quarantine: QuarantineSink | undefined;
  forward: SpanSink | undefined;
  metrics: ProcessorMetrics;
  batchSpans: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Reports sink failures (each is retried). */
  onSinkError?: (sink: string, error: unknown) => void;
  /** Reports a failure that stopped the drain (for example an unreadable log). */
  onFatal?: (error: unknown) => void;
}

/**
 * Drains the write-ahead log: the span worker decodes, drops repeated span ids, runs the pipeline and encodes
 * the store's block → sinks (retried with backoff until they succeed) → commit the log position together with
 * the verifier state. Nothing is committed before every sink took the batch, so a crash at any point replays
 * it.
 *
 * A replay stores nothing twice: the batch boundary and the spans dropped as repeats are durable before a
 * sink sees the batch, and the rest of what the batch keeps depends only on the batch and the state committed
 * before it (the verify stage drops exact repeats of signed spans it has accepted, across restarts too), so the
 * replay sends the store the identical block, which its insert deduplication token discards. Store writes go
 * one batch at a time, so the sink never merges two.
 */
export class QueueDrainer {
  private readonly options: QueueDrainerOptions;
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
   * Prepares batch k+1 (on the span worker) while batch k is being written: the sink work of the embedded
   * engine runs on its own threads, so the three overlap. Batch k+1 waits for batch k-1's delivery only (one
   * prepared block waits for the store at a time); batch plans and commits are written meanwhile. Commits stay
   * in log order, each with the verifier state as it was right after its own batch.
   */
  private async loop(): Promise<void> {
    const { wal } = this.options;
    let previous: Promise<boolean> | undefined;
    // The commit before `previous`, still awaited before the batch after next is prepared.
    let olderCommit: Promise<boolean> | undefined;
    let lastDelivery: Promise<boolean> = Promise.resolve(true);
    while (!(this.stopping && wal.drained)) {
      if (wal.drained) {
        if (previous !== undefined) {
          if (!(await previous)) return;
          previous = undefined;
          olderCommit = undefined;
          continue;
        }
        // A closed log has nothing more to give; waiting would spin.
        if (wal.isClosed) return;
        await wal.waitForEntries();
        continue;
      }
      const entries = wal.take(this.options.batchSpans);
      // Read together: one wait on this thread for the batch's bodies, not one per entry.
      const prepare: PrepareEntry[] = await Promise.all(
        entries.map(async (entry) => ({ body: await wal.read(entry), encoding: entry.tag })),
      );
      // The bodies were read for this batch alone: moved to the span worker, not copied.
      const result = await this.options.worker.prepare(prepare, wal.plannedDrops(entries), true);
      this.options.metrics.addCounts(result.counts);
      const snapshot = result.snapshot;
      // The batch's boundary and drops are durable before any sink sees it: its delivery waits for them, while
      // this loop goes on to the next batch.
      const planned = wal.planBatch(entries, result.drops);
      const priorDelivery = lastDelivery;
      const delivery = (async () => {
        await planned;
        return (await priorDelivery) && this.deliver(result);
      })();
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
      // The next batch is prepared once the one before this is in the sinks — not once this one's plan or the
      // previous one's commit is on disk: their fsyncs wait behind the engine's own writes (tens to hundreds of
      // ms), and the span worker would idle through them. At most two commits are outstanding, in log order.
      if (!(await priorDelivery)) return;
      if (olderCommit !== undefined && !(await olderCommit)) return;
      olderCommit = prior;
    }
    if (previous !== undefined) await previous;
  }

  /** Writes one batch to every sink, retrying each until it succeeds; false if stopped first. */
  private async deliver(result: PreparedBatch): Promise<boolean> {
    const { store, quarantine, forward, metrics } = this.options;
    const writes: [string, () => Promise<void>, number][] = [];
    const encoded = result.store;
    if (store !== undefined && encoded !== undefined) {
      writes.push([store.name, () => store.writeEncoded(encoded), encoded.keys.length]);
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
      const backoff = new Backoff({ initialMs: this.options.retryInitialMs, maxMs: this.options.retryMaxMs });
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
            await sleep(backoff.next(), undefined, { signal: this.abort.signal });
          } catch {
            return false;
          }
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
