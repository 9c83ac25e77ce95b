import { randomBytes } from 'node:crypto';
import {
  ATTR_AUDIT_LOSS_COUNT,
  ATTR_AUDIT_LOSS_DECISION_COUNT,
  ATTR_AUDIT_LOSS_REASON,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_LOSS_REASON_VALUES,
  AUDIT_RECORD_TYPE_VALUES,
  SPAN_NAME_AUDIT_CHECKPOINT,
  SPAN_NAME_AUDIT_LOSS,
  type AuditLossReason,
} from '@decisiontrail/semconv';
import { diag, type Context, type HrTime, type MeterProvider } from '@opentelemetry/api';
import { ExportResultCode, millisToHrTime } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import {
  Backoff,
  DEFAULT_WITNESS_PATH,
  FileCheckpointWitness,
  StreamSigner,
  leafHash,
  type CheckpointWitness,
  type SignedCheckpoint,
  type SigningKey,
  type StreamSignerState,
} from '@decisiontrail/core';
import { checkpointAttributes, integrityAttributes } from './integrity-attributes.ts';
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
import { spanRecordFromReadableSpan } from './readable-span-record.ts';
import { DEFAULT_COUNT_INTERVAL_MILLIS, DecisionCounter } from './decision-counter.ts';
import { SpoolDropMetrics } from './spool-drop-metrics.ts';
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
  /**
   * A signed `audit.count` record of each model's decisions (kept or dropped) is appended at a seal at most this
   * often, and at shutdown; the report compares them with the stored decisions (coverage).
   * @default 60000
   */
  countIntervalMillis?: number;
  /**
   * Where the `decisiontrail.spool.dropped` counter (spans dropped, by reason and record type) is reported.
   * @default the global MeterProvider at the first drop
   */
  meterProvider?: MeterProvider;
}

/** Counters of a {@link DurableSpanProcessor}. */
export interface DurableSpanProcessorStats {
  spooledSpans: number;
  shippedSpans: number;
  /** Non-audit spans dropped because the spool was near its bound. */
  droppedNonAuditSpans: number;
  /** Audit spans dropped because they could not be kept, all reasons together. */
  droppedAuditSpans: number;
  /** Audit spans dropped, by `audit.loss.reason`. */
  droppedAuditSpansByReason: Record<AuditLossReason, number>;
  /** `audit.loss` records appended to the stream, each accounting for one run of drops. */
  lossRecords: number;
  /** `audit.count` records appended to the stream. */
  countRecords: number;
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
 * When the spool reaches its bound, non-audit spans are dropped and counted. An audit span (one
 * with `audit.record.type`) that cannot be kept is never dropped silently, and never thrown at the
 * code that ended it (its model has already run): it is logged, counted by reason, and accounted for
 * by a signed `audit.loss` record appended to this stream as soon as a record fits again (or at
 * shutdown) — how many records, how many of them decisions, why, and the first and last drop time.
 * A deployment that would rather refuse decisions asks {@link DurableSpanProcessor.canAccept} before
 * its model runs (the instrumentation's `fail-closed` policy).
 *
 * Every decision it is handed is counted per model, kept or not, and the running totals go into the
 * stream as signed `audit.count` records (at most once per `countIntervalMillis`, and at shutdown), so the stored decisions can be compared with how many were made (decision coverage).
 */
export class DurableSpanProcessor implements SpanProcessor {
  readonly #options: Required<
    Omit<DurableSpanProcessorOptions, 'witness' | 'originPrefix' | 'meterProvider'>
  > &
    Pick<DurableSpanProcessorOptions, 'originPrefix'>;
  readonly #dropMetrics: SpoolDropMetrics;
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
  readonly #backoff: Backoff;
  #closed = false;
  /** Drops not yet accounted for by an `audit.loss` record. */
  #pendingLoss: PendingLoss | undefined;
  /** The largest audit record spooled so far: what {@link canAccept} keeps room for. */
  #largestAuditRecord = MIN_AUDIT_HEADROOM_BYTES;
  readonly #pendingWitness = new Set<Promise<void>>();
  readonly #counter: DecisionCounter;
  readonly stats: DurableSpanProcessorStats = {
    spooledSpans: 0,
    shippedSpans: 0,
    droppedNonAuditSpans: 0,
    droppedAuditSpans: 0,
    droppedAuditSpansByReason: { spool_full: 0, spool_closed: 0 },
    lossRecords: 0,
    countRecords: 0,
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
      countIntervalMillis: DEFAULT_COUNT_INTERVAL_MILLIS,
      ...options,
    };
    this.#counter = new DecisionCounter(this.#options.countIntervalMillis);
    this.#dropMetrics = new SpoolDropMetrics(options.meterProvider);
    this.#backoff = new Backoff({
      initialMs: this.#options.initialRetryMillis,
      maxMs: this.#options.maxRetryMillis,
      jitter: true,
    });
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

  /**
   * Whether `records` audit records ended now would be kept (a batch call ends one per row and one for
   * the call): the processor is open and the spool has room for that many records as large as the
   * largest audit record so far. Cheap (no I/O); the instrumentation's `recordAdmission` under the
   * `fail-closed` policy.
   */
  canAccept(records = 1): boolean {
    return (
      !this.#closed &&
      this.#pendingLoss === undefined &&
      this.#spool.bytes + Math.max(1, records) * this.#largestAuditRecord + ADMISSION_SLACK_BYTES <=
        this.#options.maxSpoolBytes
    );
  }

  onStart(_span: Span, _parentContext: Context): void {}

  /** Never throws: what cannot be kept is dropped, counted and (audit records) accounted for in the stream. */
  onEnd(span: ReadableSpan): void {
    // Counted whatever becomes of its record: a decision dropped here was still made.
    this.#counter.observe(span);
    const audit = span.attributes[ATTR_AUDIT_RECORD_TYPE] !== undefined;
    if (this.#closed) {
      if (audit) this.#dropAudit(span, AUDIT_LOSS_REASON_VALUES.SPOOL_CLOSED);
      else this.#dropOther(AUDIT_LOSS_REASON_VALUES.SPOOL_CLOSED);
      return;
    }
    if (this.#pendingLoss) {
      this.#appendLossRecord(false);
      // Still pending: no room for its account, so nothing else may take that place (and nothing is encoded).
      if (this.#pendingLoss) {
        if (audit) this.#dropAudit(span, AUDIT_LOSS_REASON_VALUES.SPOOL_FULL);
        else this.#dropOther(AUDIT_LOSS_REASON_VALUES.SPOOL_FULL);
        return;
      }
    }
    const payload = encodeSpan(
      span,
      integrityAttributes(this.#signer.streamId, this.#signer.size, this.#signer.keyId),
    );
    const limit = this.#options.maxSpoolBytes * (audit ? 1 : 1 - this.#options.auditReserveFraction);
    if (this.#spool.bytes + payload.length > limit) {
      if (audit) this.#dropAudit(span, AUDIT_LOSS_REASON_VALUES.SPOOL_FULL);
      else this.#dropOther(AUDIT_LOSS_REASON_VALUES.SPOOL_FULL);
      return;
    }
    if (audit && payload.length > this.#largestAuditRecord) this.#largestAuditRecord = payload.length;
    this.#append(span, payload);
  }

  #append(span: ReadableSpan, payload: Buffer): void {
    this.#appendLeaf(span, payload);
    if (this.#inBatch >= this.#options.batchSize) this.#seal();
    else this.#sealTimer ??= setTimeout(() => this.#seal(), this.#options.sealIntervalMillis).unref();
  }

  #appendLeaf(span: ReadableSpan, payload: Buffer): void {
    this.#ensureSegmentState();
    this.#signer.append(leafHash(spanRecordFromReadableSpan(span)));
    this.#spool.append(payload);
    this.stats.spooledSpans += 1;
    this.#batchResource ??= span.resource;
    this.#inBatch += 1;
  }

  /**
   * Appends the `audit.count` records that are due (at most once per interval; at shutdown whatever changed)
   * to the open batch, just before its checkpoint. One that does not fit waits for the next seal: the totals
   * are running, so nothing is lost by waiting; at shutdown they are appended even over the bound.
   */
  #appendCountRecords(shutdown: boolean): void {
    const now = Date.now();
    // A pending loss takes the next place in the stream; and a count never takes the room canAccept() promised.
    if (this.#closed || (this.#pendingLoss && !shutdown) || !this.#counter.due(now, shutdown)) return;
    const room = this.#options.maxSpoolBytes - this.#largestAuditRecord - ADMISSION_SLACK_BYTES;
    for (const record of this.#counter.records(now)) {
      const payload = encodeSpan(
        record.span,
        integrityAttributes(this.#signer.streamId, this.#signer.size, this.#signer.keyId),
      );
      if (!shutdown && this.#spool.bytes + payload.length > room) return;
      this.#appendLeaf(record.span, payload);
      record.recorded();
      this.stats.countRecords += 1;
    }
  }

  #dropOther(reason: AuditLossReason): void {
    this.stats.droppedNonAuditSpans += 1;
    this.#dropMetrics.dropped(reason, undefined);
  }

  #dropAudit(span: ReadableSpan, reason: AuditLossReason): void {
    this.stats.droppedAuditSpans += 1;
    this.stats.droppedAuditSpansByReason[reason] += 1;
    this.#dropMetrics.dropped(reason, String(span.attributes[ATTR_AUDIT_RECORD_TYPE]));
    const decision = span.attributes[ATTR_AUDIT_RECORD_TYPE] === AUDIT_RECORD_TYPE_VALUES.DECISION;
    if (reason === AUDIT_LOSS_REASON_VALUES.SPOOL_CLOSED) {
      // Nothing can be appended after shutdown: the drop is logged and counted, the stream is sealed.
      diag.error(
        `DurableSpanProcessor: shut down; audit span ${span.spanContext().spanId} (${String(span.attributes[ATTR_AUDIT_RECORD_TYPE])}) dropped`,
      );
      return;
    }
    const loss = this.#pendingLoss;
    if (!loss) {
      // Logged once per run of drops, not once per span: a full spool under load drops thousands.
      diag.error(
        `DurableSpanProcessor: spool ${this.#spool.dir} is full (${this.#spool.bytes} of ${this.#options.maxSpoolBytes} bytes); dropping audit spans until it drains, then recording the loss in stream ${this.#signer.streamId}`,
      );
      this.#pendingLoss = {
        reason,
        count: 1,
        decisions: decision ? 1 : 0,
        first: span.endTime,
        last: span.endTime,
        resource: span.resource,
      };
      return;
    }
    loss.count += 1;
    if (decision) loss.decisions += 1;
    if (compareHrTime(span.endTime, loss.first) < 0) loss.first = span.endTime;
    if (compareHrTime(span.endTime, loss.last) > 0) loss.last = span.endTime;
  }

  /**
   * Appends the pending `audit.loss` record once it and an audit record fit again (or, with `force`,
   * even past the bound: at shutdown a few hundred bytes over are better than an account that never
   * reaches the stream).
   */
  #appendLossRecord(force: boolean): void {
    const loss = this.#pendingLoss;
    if (!loss || this.#closed) return;
    // The run of drops ends when audit records fit again, not when a lone loss record squeezes in: one
    // account per run. Cheap test first: onEnd calls this for every span while the spool stays full.
    const room = this.#options.maxSpoolBytes - this.#largestAuditRecord - ADMISSION_SLACK_BYTES;
    if (!force && this.#spool.bytes + MIN_LOSS_RECORD_BYTES > room) return;
    const span = lossSpan(loss);
    const payload = encodeSpan(
      span,
      integrityAttributes(this.#signer.streamId, this.#signer.size, this.#signer.keyId),
    );
    if (!force && this.#spool.bytes + payload.length > room) return;
    this.#pendingLoss = undefined;
    this.#append(span, payload);
    this.stats.lossRecords += 1;
    diag.warn(
      `DurableSpanProcessor: ${loss.count} audit record(s) (${loss.decisions} decision(s)) lost to ${loss.reason} recorded at seq ${this.#signer.size - 1} of stream ${this.#signer.streamId}`,
    );
  }

  /** Seals the open batch and ships everything spooled; rejects if the export keeps failing past `exportTimeoutMillis`. */
  async forceFlush(): Promise<void> {
    if (this.#closed) return;
    this.#appendLossRecord(false);
    this.#seal();
    this.#spool.roll();
    const deadline = Date.now() + this.#options.exportTimeoutMillis;
    let lossRecords = this.stats.lossRecords;
    for (;;) {
      this.#kickShipper();
      await this.#shipChain;
      if (this.stats.lossRecords !== lossRecords) {
        // Shipping made room and a loss was recorded: it goes out with this flush too.
        lossRecords = this.stats.lossRecords;
        this.#seal();
        this.#spool.roll();
        continue;
      }
      if (this.#spool.sealedSegments().length === 0) break;
      if (Date.now() > deadline)
        throw new Error('DurableSpanProcessor: spool not drained before the timeout');
      await delay(Math.min(this.#backoff.stepMs, 100));
    }
    await Promise.all(this.#pendingWitness);
    await this.#options.exporter.forceFlush?.();
  }

  /** Seals, tries to ship for up to `exportTimeoutMillis`, and closes; what is left stays on disk for the next start. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#appendLossRecord(true);
    this.#appendCountRecords(true);
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
    this.#appendCountRecords(false);
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
        diag.warn(`DurableSpanProcessor: export failed, retrying in about ${this.#backoff.stepMs} ms`, error);
        this.#scheduleRetry();
        return;
      }
      this.#spool.remove(segment);
      this.#backoff.reset();
      // Room again: account for what was lost before anything new is kept.
      if (this.#pendingLoss) this.#appendLossRecord(false);
    }
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer) return;
    const wait = this.#backoff.next();
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

/** Room {@link DurableSpanProcessor.canAccept} keeps before any audit record has been seen. */
const MIN_AUDIT_HEADROOM_BYTES = 1024;
/** A record header, and the few bytes a larger sequence number or timestamp adds to the next record. */
const ADMISSION_SLACK_BYTES = 64;
/** Fewer bytes than any encoded `audit.loss` record (ids, times, four integrity and four loss attributes). */
const MIN_LOSS_RECORD_BYTES = 256;

/** Audit records dropped since the last `audit.loss` record, for one reason. */
interface PendingLoss {
  reason: AuditLossReason;
  count: number;
  decisions: number;
  first: HrTime;
  last: HrTime;
  resource: ReadableSpan['resource'];
}

/** The `audit.loss` span for a run of drops: from the first drop to the last, a root span of this package. */
function lossSpan(loss: PendingLoss): ReadableSpan {
  const span = createInstantSpan({
    name: SPAN_NAME_AUDIT_LOSS,
    attributes: {
      [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.LOSS,
      [ATTR_AUDIT_LOSS_COUNT]: loss.count,
      [ATTR_AUDIT_LOSS_DECISION_COUNT]: loss.decisions,
      [ATTR_AUDIT_LOSS_REASON]: loss.reason,
    },
    resource: loss.resource,
    scope: { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    time: loss.first,
  });
  const endTime = loss.last;
  const nanos = (endTime[0] - loss.first[0]) * 1e9 + (endTime[1] - loss.first[1]);
  return { ...span, endTime, duration: [Math.floor(nanos / 1e9), nanos % 1e9] };
}

function compareHrTime(a: HrTime, b: HrTime): number {
  return a[0] === b[0] ? a[1] - b[1] : a[0] - b[0];
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
