import { randomBytes } from 'node:crypto';
import { SPAN_NAME_AUDIT_CHECKPOINT, ATTR_AUDIT_RECORD_TYPE } from '@decisiontrail/semconv';
import { diag, type Context } from '@opentelemetry/api';
import { ExportResultCode, millisToHrTime } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { leafHash } from './canonical-span.ts';
import { DEFAULT_WITNESS_PATH, FileCheckpointWitness, type CheckpointWitness } from './checkpoint-witness.ts';
import { SigningError } from './errors.ts';
import { checkpointAttributes, integrityAttributes } from './integrity-attributes.ts';
import type { SigningKey } from './key-file.ts';
import { Spool, readSegment, type SpoolSegment } from './spool.ts';
import {
  RECORD_CHECKPOINT,
  RECORD_SPAN,
  RECORD_STATE,
  SpoolDecoder,
  encodeCheckpoint,
  encodeSpan,
  encodeState,
  type SpooledCheckpoint,
} from './spool-codec.ts';
import { spanRecordFromReadableSpan } from './span-record.ts';
import { StreamSigner, type SignedCheckpoint, type StreamSignerState } from './stream-signer.ts';
import { createInstantSpan } from './synthetic-span.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

/** Options of {@link DurableSpanProcessor}. Every field but `exporter`, `key` and `spoolDir` has a default. */
export interface DurableSpanProcessorOptions {
  /** Where spooled spans are shipped (e.g. an OTLP exporter); it receives signed spans and checkpoints. */
  exporter: SpanExporter;
  /** The Ed25519 key that signs checkpoints. */
  key: SigningKey;
  /** Directory of the spool's segment files (one processor per directory). */
  spoolDir: string;
  /**
   * Witness for every checkpoint; `null` turns witnessing off.
   * @default a {@link FileCheckpointWitness} at {@link DEFAULT_WITNESS_PATH}, the file `verify` reads by default
   */
  witness?: CheckpointWitness | null;
  /** Spans per batch: each batch ends with a signed checkpoint and an fsync. @default 512 */
  batchSize?: number;
  /** `batch`: fsync at the end of every batch; `none`: rely on the page cache (survives process crashes only). @default 'batch' */
  fsync?: 'batch' | 'none';
  /** A partial batch is sealed (checkpoint + fsync) after this long. @default 1000 */
  sealIntervalMillis?: number;
  /** Upper bound of the spool on disk. @default 1 GiB */
  maxSpoolBytes?: number;
  /** Share of `maxSpoolBytes` kept for audit spans: non-audit spans are dropped (and counted) above the rest. @default 0.1 */
  auditReserveFraction?: number;
  /** A segment is closed for shipping once this large (or as soon as the shipper is idle). @default 8 MiB */
  segmentBytes?: number;
  /** Spans per export call while shipping. @default 512 */
  exportBatchSize?: number;
  /** An export that has not called back by then counts as failed. @default 30000 */
  exportTimeoutMillis?: number;
  /** First retry delay after a failed export; doubles up to `maxRetryMillis`, with jitter. @default 200 */
  initialRetryMillis?: number;
  /** @default 30000 */
  maxRetryMillis?: number;
  /** Origin prefix of this processor's stream. @default 'decisiontrail.dev/stream' */
  originPrefix?: string;
}

/** Counters of a {@link DurableSpanProcessor}. */
export interface DurableSpanProcessorStats {
  spooledSpans: number;
  shippedSpans: number;
  /** Non-audit spans dropped because the spool was near its bound. */
  droppedNonAuditSpans: number;
  /** Audit spans refused (with an error thrown to the caller) because the spool was full. */
  rejectedAuditSpans: number;
  /** Spool records skipped because their CRC did not match. */
  corruptRecords: number;
  /** Segments that ended in a torn record. */
  truncatedSegments: number;
  failedExports: number;
}

/**
 * A span processor that makes ended spans durable before the application moves on: each span is
 * signed into this processor's integrity stream and appended (one `write(2)`) to an on-disk spool;
 * each batch is sealed with a signed checkpoint and an fsync. A shipper exports sealed segments with
 * retries and exponential backoff and deletes a segment once its export is acknowledged. On start
 * it replays what an earlier process left behind and seals that stream's tail with a final checkpoint.
 *
 * When the spool reaches its bound, non-audit spans are dropped and counted; an audit span (one
 * with `audit.record.type`) is refused loudly: `onEnd` throws a `SPOOL_FULL` {@link SigningError}
 * and the refusal is logged and counted. It is never dropped silently.
 */
export class DurableSpanProcessor implements SpanProcessor {
  readonly #options: Required<Omit<DurableSpanProcessorOptions, 'witness' | 'originPrefix'>> &
    Pick<DurableSpanProcessorOptions, 'originPrefix'>;
  readonly #witness: CheckpointWitness | null;
  readonly #spool: Spool;
  readonly #decoder = new SpoolDecoder();
  #signer: StreamSigner;
  #inBatch = 0;
  #batchResource: ReadableSpan['resource'] | undefined;
  #sealTimer: NodeJS.Timeout | undefined;
  #shipChain: Promise<void> = Promise.resolve();
  #shipQueued = false;
  #shipperIdle = true;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay: number;
  #closed = false;
  readonly #pendingWitness = new Set<Promise<void>>();
  readonly stats: DurableSpanProcessorStats = {
    spooledSpans: 0,
    shippedSpans: 0,
    droppedNonAuditSpans: 0,
    rejectedAuditSpans: 0,
    corruptRecords: 0,
    truncatedSegments: 0,
    failedExports: 0,
  };

  constructor(options: DurableSpanProcessorOptions) {
    this.#options = {
      batchSize: 512,
      fsync: 'batch',
      sealIntervalMillis: 1000,
      maxSpoolBytes: 1024 ** 3,
      auditReserveFraction: 0.1,
      segmentBytes: 8 * 1024 ** 2,
      exportBatchSize: 512,
      exportTimeoutMillis: 30_000,
      initialRetryMillis: 200,
      maxRetryMillis: 30_000,
      ...options,
    };
    this.#retryDelay = this.#options.initialRetryMillis;
    this.#spool = new Spool(options.spoolDir);
    this.#witness =
      options.witness === undefined ? new FileCheckpointWitness(DEFAULT_WITNESS_PATH) : options.witness;
    this.#recover();
    this.#signer = new StreamSigner({
      key: options.key,
      ...(options.originPrefix !== undefined && { originPrefix: options.originPrefix }),
    });
    this.#kickShipper();
  }

  /** This processor's stream id. */
  get streamId(): string {
    return this.#signer.streamId;
  }

  /** Bytes currently in the spool. */
  get spoolBytes(): number {
    return this.#spool.bytes;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    const audit = span.attributes[ATTR_AUDIT_RECORD_TYPE] !== undefined;
    if (this.#closed) {
      if (audit) {
        this.stats.rejectedAuditSpans += 1;
        throw new SigningError('SPOOL_CLOSED', 'DurableSpanProcessor is shut down; audit span refused');
      }
      this.stats.droppedNonAuditSpans += 1;
      return;
    }
    const seq = this.#signer.size;
    const payload = encodeSpan(span, integrityAttributes(this.#signer.streamId, seq, this.#signer.keyId));
    const limit = this.#options.maxSpoolBytes * (audit ? 1 : 1 - this.#options.auditReserveFraction);
    if (this.#spool.bytes + payload.length > limit) {
      if (!audit) {
        this.stats.droppedNonAuditSpans += 1;
        return;
      }
      this.stats.rejectedAuditSpans += 1;
      const error = new SigningError(
        'SPOOL_FULL',
        `spool ${this.#spool.dir} is full (${this.#spool.bytes} of ${this.#options.maxSpoolBytes} bytes); audit span ${span.spanContext().spanId} refused`,
      );
      diag.error(error.message);
      throw error;
    }
    this.#ensureSegmentState();
    this.#signer.append(leafHash(spanRecordFromReadableSpan(span)));
    this.#spool.append(payload);
    this.stats.spooledSpans += 1;
    this.#batchResource ??= span.resource;
    this.#inBatch += 1;
    if (this.#inBatch >= this.#options.batchSize) this.#seal();
    else this.#sealTimer ??= setTimeout(() => this.#seal(), this.#options.sealIntervalMillis).unref();
  }

  /** Seals the open batch and ships everything spooled; rejects if the export keeps failing past `exportTimeoutMillis`. */
  async forceFlush(): Promise<void> {
    if (this.#closed) return;
    this.#seal();
    this.#spool.roll();
    const deadline = Date.now() + this.#options.exportTimeoutMillis;
    for (;;) {
      this.#kickShipper();
      await this.#shipChain;
      if (this.#spool.sealedSegments().length === 0) break;
      if (Date.now() > deadline)
        throw new Error('DurableSpanProcessor: spool not drained before the timeout');
      await delay(Math.min(this.#retryDelay, 100));
    }
    await Promise.all(this.#pendingWitness);
    await this.#options.exporter.forceFlush?.();
  }

  /** Seals, tries to ship for up to `exportTimeoutMillis`, and closes; what is left stays on disk for the next start. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.forceFlush();
    } catch (error) {
      diag.warn('DurableSpanProcessor: shutting down with spooled spans left for the next start', error);
    }
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.#shipChain;
    this.#spool.close();
    await this.#options.exporter.shutdown();
  }

  #ensureSegmentState(): void {
    if (this.#spool.activeBytes > 0) return;
    // Every segment opens with the signer state, so a crash's unsealed tail can always be sealed.
    this.#spool.append(encodeState(this.#signer.toJSON()));
  }

  #seal(): void {
    clearTimeout(this.#sealTimer);
    this.#sealTimer = undefined;
    const checkpoint = this.#signer.checkpoint();
    if (!checkpoint) return;
    const spooled = this.#spooledCheckpoint(checkpoint, this.#batchResource?.attributes ?? {});
    this.#spool.append(encodeCheckpoint(spooled));
    if (this.#options.fsync === 'batch') this.#spool.sync();
    this.#inBatch = 0;
    this.#batchResource = undefined;
    this.#witnessCheckpoint(checkpoint);
    if (this.#shipperIdle || this.#spool.activeBytes >= this.#options.segmentBytes) {
      this.#spool.roll();
      this.#kickShipper();
    }
  }

  #witnessCheckpoint(checkpoint: SignedCheckpoint): void {
    if (!this.#witness) return;
    const pending = this.#witness.witness(checkpoint.note).catch((error: unknown) => {
      diag.error(`DurableSpanProcessor: witness rejected ${checkpoint.origin}@${checkpoint.size}`, error);
    });
    this.#pendingWitness.add(pending);
    void pending.finally(() => this.#pendingWitness.delete(pending));
  }

  #spooledCheckpoint(checkpoint: SignedCheckpoint, resource: Record<string, unknown>): SpooledCheckpoint {
    return {
      streamId: checkpoint.streamId,
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHex: Buffer.from(checkpoint.rootHash).toString('hex'),
      note: checkpoint.note,
      keyId: checkpoint.keyId,
      leaves: checkpoint.leaves.map((leaf) => Buffer.from(leaf).toString('hex')),
      ...(checkpoint.range !== undefined && {
        range: checkpoint.range.map((hash) => Buffer.from(hash).toString('hex')),
      }),
      traceId: randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      time: millisToHrTime(Date.now()),
      resource: JSON.parse(JSON.stringify(resource)) as Record<string, unknown>,
    };
  }

  #checkpointSpan(checkpoint: SpooledCheckpoint): ReadableSpan {
    const { range, ...spooled } = checkpoint;
    return createInstantSpan({
      name: SPAN_NAME_AUDIT_CHECKPOINT,
      attributes: checkpointAttributes({
        ...spooled,
        rootHash: Buffer.from(checkpoint.rootHex, 'hex'),
        leaves: checkpoint.leaves.map((leaf) => Buffer.from(leaf, 'hex')),
        ...(range !== undefined && { range: range.map((hash) => Buffer.from(hash, 'hex')) }),
      }),
      resource: this.#decoder.resource(checkpoint.resource),
      scope: { name: PACKAGE_NAME, version: PACKAGE_VERSION },
      time: checkpoint.time,
      traceId: checkpoint.traceId,
      spanId: checkpoint.spanId,
    });
  }

  /**
   * Replays what an earlier process left: cuts a torn record off the last segment, and if that
   * segment ends with spans after its last checkpoint, rebuilds the earlier stream's tree from
   * the segment's state record and seals it with a final checkpoint.
   */
  #recover(): void {
    const segments = this.#spool.segments();
    const last = segments[segments.length - 1];
    if (!last) return;
    const contents = readSegment(last);
    if (contents.truncatedAt !== undefined) {
      this.stats.truncatedSegments += 1;
      diag.error(
        `DurableSpanProcessor: segment ${last.path} ends in a torn record; cut at byte ${contents.truncatedAt}`,
      );
      this.#spool.truncate(last, contents.truncatedAt);
    }
    let signer: StreamSigner | undefined;
    let resource: Record<string, unknown> | undefined;
    let broken = contents.corrupt > 0;
    for (const payload of contents.records) {
      let record;
      try {
        record = this.#decoder.decode(payload);
      } catch {
        broken = true;
        continue;
      }
      if (record.kind === RECORD_STATE) {
        signer = new StreamSigner({ key: this.#options.key, state: record.state as StreamSignerState });
      } else if (record.kind === RECORD_SPAN && signer) {
        resource ??= JSON.parse(JSON.stringify(record.span.resource.attributes)) as Record<string, unknown>;
        signer.append(leafHash(spanRecordFromReadableSpan(record.span)));
      } else if (record.kind === RECORD_CHECKPOINT && signer) {
        // Sealed here: the tree's own compact range is where the next checkpoint's leaves begin.
        const { sealedRange: _stale, ...state } = signer.toJSON();
        signer = new StreamSigner({ key: this.#options.key, state: { ...state, unsealedLeaves: [] } });
      }
    }
    if (!signer?.hasUnsealedLeaves) return;
    if (broken) {
      diag.error(
        `DurableSpanProcessor: cannot seal stream ${signer.streamId}: a record of its tail is corrupt`,
      );
      return;
    }
    const checkpoint = signer.checkpoint() as SignedCheckpoint;
    this.#spool.append(encodeCheckpoint(this.#spooledCheckpoint(checkpoint, resource ?? {})));
    this.#spool.roll();
    this.#witnessCheckpoint(checkpoint);
    diag.info(
      `DurableSpanProcessor: sealed stream ${signer.streamId} of an earlier process at size ${checkpoint.size}`,
    );
  }

  /** Queues one run of the shipper; runs never overlap, so a segment is never shipped twice at once. */
  #kickShipper(): void {
    if (this.#closed || this.#shipQueued) return;
    this.#shipQueued = true;
    this.#shipChain = this.#shipChain.then(async () => {
      this.#shipQueued = false;
      await this.#shipLoop();
    });
  }

  /** Ships sealed segments oldest first until none is left or an export fails (then retries later). */
  async #shipLoop(): Promise<void> {
    for (;;) {
      let segment = this.#spool.sealedSegments()[0];
      if (!segment && this.#spool.activeBytes > 0 && !this.#signer.hasUnsealedLeaves) {
        // Caught up: the open segment ends with a checkpoint, so it can go out now.
        this.#spool.roll();
        segment = this.#spool.sealedSegments()[0];
      }
      if (!segment) {
        this.#shipperIdle = true;
        return;
      }
      this.#shipperIdle = false;
      try {
        await this.#shipSegment(segment);
      } catch (error) {
        this.stats.failedExports += 1;
        diag.warn(`DurableSpanProcessor: export failed, retrying in about ${this.#retryDelay} ms`, error);
        this.#scheduleRetry();
        return;
      }
      this.#spool.remove(segment);
      this.#retryDelay = this.#options.initialRetryMillis;
    }
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer) return;
    const wait = this.#retryDelay * (0.5 + Math.random() / 2);
    this.#retryDelay = Math.min(this.#retryDelay * 2, this.#options.maxRetryMillis);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#kickShipper();
    }, wait).unref();
  }

  async #shipSegment(segment: SpoolSegment): Promise<void> {
    const contents = readSegment(segment);
    if (contents.corrupt > 0 || contents.truncatedAt !== undefined) {
      this.stats.corruptRecords += contents.corrupt;
      diag.error(
        `DurableSpanProcessor: ${segment.path}: ${contents.corrupt} corrupt record(s)${contents.truncatedAt === undefined ? '' : ', torn tail'}; shipping the intact ones`,
      );
    }
    const spans: ReadableSpan[] = [];
    for (const payload of contents.records) {
      try {
        const record = this.#decoder.decode(payload);
        if (record.kind === RECORD_SPAN) spans.push(record.span);
        else if (record.kind === RECORD_CHECKPOINT) spans.push(this.#checkpointSpan(record.checkpoint));
      } catch (error) {
        this.stats.corruptRecords += 1;
        diag.error(`DurableSpanProcessor: undecodable record in ${segment.path}`, error);
      }
    }
    for (let i = 0; i < spans.length; i += this.#options.exportBatchSize) {
      await this.#export(spans.slice(i, i + this.#options.exportBatchSize));
    }
    this.stats.shippedSpans += spans.length;
  }

  #export(spans: ReadableSpan[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('export timed out')),
        this.#options.exportTimeoutMillis,
      );
      this.#options.exporter.export(spans, (result) => {
        clearTimeout(timer);
        if (result.code === ExportResultCode.SUCCESS) resolve();
        else reject(result.error ?? new Error('export failed'));
      });
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
