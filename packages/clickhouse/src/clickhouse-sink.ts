import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { Backoff, type SpanRecord } from '@decisiontrail/core';
import { StoreError } from './errors.ts';
import { quoteString } from './sql-template.ts';
import { TRACE_ROW_INSERT_COLUMNS } from './trace-row.ts';
import type { EncodedSpans } from './encoded-spans.ts';
import { encodeTraceRowsNative, TRACE_ROW_NATIVE_STRUCTURE } from './trace-row-native.ts';

const INSERT_COLUMN_LIST = TRACE_ROW_INSERT_COLUMNS.map((column) => `\`${column}\``).join(', ');

/** Batching, backpressure and retry knobs of {@link ClickHouseSink}. */
export interface SinkOptions {
  /**
   * Rows per INSERT; a batch is sent as soon as it is this full.
   * @default 10000
   */
  maxBatchSize?: number;
  /**
   * Longest a buffered row waits for its batch to fill before it is sent anyway.
   * @default 1000
   */
  flushIntervalMs?: number;
  /**
   * Rows buffered or in flight before `write` waits for room (backpressure instead of unbounded memory).
   * @default 100000
   */
  maxBufferedRows?: number;
  /**
   * Batches in flight at once: while the engine writes one, the next is serialized, so the two
   * overlap on different cores.
   * @default 2
   */
  maxConcurrentInserts?: number;
  /**
   * Attempts per batch before its writers are rejected.
   * @default 4
   */
  maxAttempts?: number;
  /**
   * First retry delay, doubled on every further attempt.
   * @default 200
   */
  retryBackoffMs?: number;
  /** Called with every failed attempt (including those that will be retried), for logging/metrics. */
  onError?: (error: StoreError, attempt: number) => void;
}

interface BatchEntry {
  /**
   * The spans (the writer holds them until this resolves anyway), re-encoded only to drop duplicates;
   * absent for an entry written encoded, which is sent as a batch of its own.
   */
  records: readonly SpanRecord[] | undefined;
  /** Their `Native` block, encoded when written (which also validates them). */
  block: Uint8Array;
  /** `traceId/spanId` of each span, for deduplication and the insert's token. */
  keys: string[];
  resolve: () => void;
  reject: (error: StoreError) => void;
}

function defaults(
  options: SinkOptions,
): Required<Omit<SinkOptions, 'onError'>> & Pick<SinkOptions, 'onError'> {
  const resolved = {
    maxBatchSize: options.maxBatchSize ?? 10_000,
    flushIntervalMs: options.flushIntervalMs ?? 1000,
    maxBufferedRows: options.maxBufferedRows ?? 100_000,
    maxAttempts: options.maxAttempts ?? 4,
    maxConcurrentInserts: options.maxConcurrentInserts ?? 2,
    retryBackoffMs: options.retryBackoffMs ?? 200,
    onError: options.onError,
  };
  for (const key of ['maxBatchSize', 'maxBufferedRows', 'maxAttempts', 'maxConcurrentInserts'] as const) {
    if (!Number.isSafeInteger(resolved[key]) || resolved[key] < 1) {
      throw new StoreError('INVALID_OPTIONS', `${key} must be a positive integer`);
    }
  }
  if (resolved.maxBufferedRows < resolved.maxBatchSize) {
    throw new StoreError('INVALID_OPTIONS', 'maxBufferedRows must be at least maxBatchSize');
  }
  return resolved;
}

/**
 * Writes spans to `otel_traces` (and through the materialized views to the audit tables).
 *
 * - `write` resolves only once its spans are committed, so a caller with a durable queue can ack
 *   on resolution; it rejects with a {@link StoreError} (`INSERT_FAILED`) when a batch fails for good.
 * - Spans of concurrent writes are coalesced into batches of up to `maxBatchSize` rows, sent when
 *   full or `flushIntervalMs` after the first one arrived.
 * - Idempotent on retry: a batch carries an `insert_deduplication_token` derived from its span ids,
 *   so re-sending it after a timeout that actually succeeded stores nothing twice. Duplicates that
 *   arrive in different batches are removed by span id on read (ReplacingMergeTree + FINAL in the
 *   audit tables, `LIMIT 1 BY` over otel_traces).
 * - Backpressure: at most `maxBufferedRows` rows are held; further writes wait for room.
 */
export class ClickHouseSink {
  readonly #client: ClickHouseClient;
  readonly #table: string;
  readonly #settings: ClickHouseSettings;
  readonly #options: ReturnType<typeof defaults>;
  #buffer: BatchEntry[] = [];
  #bufferedRows = 0;
  #inFlightRows = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #roomWaiters: (() => void)[] = [];
  #closed = false;
  #insertChain: Promise<void> = Promise.resolve();

  readonly #stagingDir: string | undefined;

  /**
   * Use {@link Store.createSink}; the table is the store's `otel_traces`. `stagingDir` marks the
   * embedded engine: batches reach it as files in that directory (see the insert below), and its
   * settings persist in the session.
   */
  constructor(
    client: ClickHouseClient,
    table: string,
    settings: ClickHouseSettings,
    options: SinkOptions = {},
    stagingDir?: string,
  ) {
    this.#stagingDir = stagingDir;
    this.#client = client;
    this.#table = table;
    this.#settings = settings;
    this.#options = defaults(options);
  }

  /** Rows accepted but not yet committed. */
  get pendingRows(): number {
    return this.#bufferedRows + this.#inFlightRows;
  }

  /** Stores `records`; resolves when all of them are committed. */
  async write(records: readonly SpanRecord[]): Promise<void> {
    if (this.#closed) throw new StoreError('SINK_CLOSED', 'the sink is closed');
    const size = this.#options.maxBatchSize;
    // Every chunk is encoded (and so validated) before any is buffered: a bad span rejects the
    // whole write and nothing of it is stored.
    const chunks: Omit<BatchEntry, 'resolve' | 'reject'>[] = [];
    for (let i = 0; i < records.length; i += size) {
      const chunk = records.slice(i, i + size);
      chunks.push({
        records: chunk,
        block: encodeTraceRowsNative(chunk),
        keys: chunk.map((record) => `${record.traceId}/${record.spanId}`),
      });
    }
    const pending: Promise<void>[] = [];
    for (const chunk of chunks) {
      while (!this.#hasRoom(chunk.keys.length)) {
        await this.#roomFreed();
        if (this.#closed) throw new StoreError('SINK_CLOSED', 'the sink closed while waiting for room');
      }
      pending.push(
        new Promise<void>((resolve, reject) => {
          this.#buffer.push({ ...chunk, resolve, reject });
        }),
      );
      this.#bufferedRows += chunk.keys.length;
      this.#schedule();
    }
    await Promise.all(pending);
  }

  /**
   * Stores spans encoded by `encodeSpansForSink`; resolves when they are committed. The block is
   * one insert of its own (it is never merged with other writes), whatever `maxBatchSize` says.
   */
  async writeEncoded(spans: EncodedSpans): Promise<void> {
    if (this.#closed) throw new StoreError('SINK_CLOSED', 'the sink is closed');
    const rows = spans.keys.length;
    if (rows === 0) return;
    while (!this.#hasRoom(rows)) {
      await this.#roomFreed();
      if (this.#closed) throw new StoreError('SINK_CLOSED', 'the sink closed while waiting for room');
    }
    const committed = new Promise<void>((resolve, reject) => {
      this.#buffer.push({ records: undefined, block: spans.block, keys: spans.keys, resolve, reject });
    });
    this.#bufferedRows += rows;
    this.#schedule();
    await committed;
  }

  /** Sends everything buffered now and resolves when it is committed (or rejected). */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0 || this.#flushing !== undefined) {
      if (this.#flushing === undefined) this.#startFlush();
      await this.#flushing;
    }
  }

  /** Flushes and refuses further writes. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    for (const wake of this.#roomWaiters.splice(0)) wake();
  }

  #hasRoom(rows: number): boolean {
    return this.pendingRows === 0 || this.pendingRows + rows <= this.#options.maxBufferedRows;
  }

  /** Resolves when room may be free again; the caller re-checks (no await between check and reserve). */
  #roomFreed(): Promise<void> {
    // A full buffer is sent now rather than after the interval: waiting would only add latency.
    if (this.#flushing === undefined) this.#startFlush();
    return new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#bufferedRows >= this.#options.maxBatchSize) {
      if (this.#flushing === undefined) this.#startFlush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#flushing === undefined) this.#startFlush();
    }, this.#options.flushIntervalMs);
  }

  #startFlush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#flushing = this.#drain().finally(() => {
      this.#flushing = undefined;
      if (this.#buffer.length > 0) this.#schedule();
    });
  }

  /** Sends every buffered entry; rows that arrive meanwhile form the next batch (natural batching under load). */
  async #drain(): Promise<void> {
    const running = new Set<Promise<void>>();
    while (this.#buffer.length > 0 || running.size > 0) {
      while (this.#buffer.length > 0 && running.size < this.#options.maxConcurrentInserts) {
        const sending: Promise<void> = this.#send(this.#takeBatch()).finally(() => running.delete(sending));
        running.add(sending);
      }
      await Promise.race(running);
    }
  }

  #takeBatch(): BatchEntry[] {
    const first = this.#buffer.shift() as BatchEntry;
    const batch = [first];
    let rows = first.keys.length;
    // An encoded entry goes alone: without its records a duplicate across entries could not be dropped.
    while (first.records !== undefined && this.#buffer.length > 0) {
      const next = this.#buffer[0] as BatchEntry;
      if (next.records === undefined || rows + next.keys.length > this.#options.maxBatchSize) break;
      this.#buffer.shift();
      batch.push(next);
      rows += next.keys.length;
    }
    this.#bufferedRows -= rows;
    this.#inFlightRows += rows;
    return batch;
  }

  async #send(batch: BatchEntry[]): Promise<void> {
    const rows = batch.reduce((n, entry) => n + entry.keys.length, 0);
    try {
      await this.#insertWithRetry(batch);
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error as StoreError);
    } finally {
      this.#inFlightRows -= rows;
      for (const wake of this.#roomWaiters.splice(0)) wake();
    }
  }

  async #insertWithRetry(batch: BatchEntry[]): Promise<void> {
    const { blocks, keys } = uniqueBlocks(batch);
    const rows = keys.length;
    const token = createHash('sha256').update(keys.join(',')).digest('hex');
    const settings: ClickHouseSettings = {
      ...this.#settings,
      insert_deduplication_token: token,
      // The token also deduplicates what the materialized views derive from the batch.
      deduplicate_blocks_in_dependent_materialized_views: 1,
    };
    // Staged before waiting for the previous insert, so this I/O overlaps the engine writing that
    // batch; the inserts themselves stay strictly one at a time (the embedded engine keeps settings
    // such as the token as session state).
    // A staging failure (a full disk, say) is retried with the insert below.
    let staged =
      this.#stagingDir === undefined
        ? undefined
        : await stage(this.#stagingDir, blocks).catch(() => undefined);
    const previous = this.#insertChain;
    let release: () => void = () => {};
    this.#insertChain = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      // Bounded by maxAttempts rather than by a longest wait.
      const backoff = new Backoff({
        initialMs: this.#options.retryBackoffMs,
        maxMs: Number.POSITIVE_INFINITY,
      });
      for (let attempt = 1; ; attempt++) {
        try {
          if (this.#stagingDir !== undefined) {
            staged ??= await stage(this.#stagingDir, blocks);
            // The embedded engine reads the block straight from the file: its connection would
            // decode a request body as UTF-8 text, which a binary block is not.
            await this.#client.command({
              query:
                `INSERT INTO ${this.#table} (${INSERT_COLUMN_LIST}) ` +
                `SELECT * FROM file(${quoteString(staged)}, 'Native', ${quoteString(TRACE_ROW_NATIVE_STRUCTURE)})`,
              clickhouse_settings: settings,
            });
          } else {
            const result = await this.#client.exec({
              query: `INSERT INTO ${this.#table} (${INSERT_COLUMN_LIST}) FORMAT Native`,
              values: Readable.from(blocks, { objectMode: false }),
              clickhouse_settings: settings,
            });
            result.stream.resume();
          }
          await this.#clearSessionToken();
          return;
        } catch (cause) {
          await this.#clearSessionToken();
          const error = new StoreError(
            'INSERT_FAILED',
            `insert of ${rows} spans failed (attempt ${attempt}/${this.#options.maxAttempts}): ${(cause as Error).message}`,
            { cause },
          );
          this.#options.onError?.(error, attempt);
          if (attempt >= this.#options.maxAttempts) throw error;
          await new Promise((resolve) => setTimeout(resolve, backoff.next()));
        }
      }
    } finally {
      release();
      if (staged !== undefined) await unlink(staged).catch(() => {});
    }
  }

  /**
   * The embedded connection applies settings as session-level SET statements, so a token would
   * stick and silently drop the next unrelated insert into the same table as a "duplicate".
   */
  async #clearSessionToken(): Promise<void> {
    if (this.#stagingDir === undefined) return;
    try {
      await this.#client.command({
        query: 'SELECT 1',
        clickhouse_settings: { insert_deduplication_token: '' },
      });
    } catch {
      // Best effort: every insert of this package sets its token explicitly anyway.
    }
  }
}

/**
 * The batch's blocks and span keys with every span stored once: the same span twice in one batch
 * (a writer retrying, or two writers) is dropped here. Without duplicates — nearly always — the
 * blocks encoded at write time go out as they are; otherwise the unique spans are encoded again.
 */
function uniqueBlocks(batch: readonly BatchEntry[]): { blocks: Uint8Array[]; keys: string[] } {
  const seen = new Set<string>();
  for (const entry of batch) for (const key of entry.keys) seen.add(key);
  const total = batch.reduce((n, entry) => n + entry.keys.length, 0);
  if (seen.size === total) {
    return { blocks: batch.map((entry) => entry.block), keys: batch.flatMap((entry) => entry.keys) };
  }
  const keys: string[] = [];
  const records: SpanRecord[] = [];
  seen.clear();
  for (const entry of batch) {
    entry.keys.forEach((key, i) => {
      if (seen.has(key)) return;
      seen.add(key);
      keys.push(key);
      // Only record-carrying entries share a batch, so a batch with a repeat has them all.
      records.push((entry.records as readonly SpanRecord[])[i] as SpanRecord);
    });
  }
  return { blocks: [encodeTraceRowsNative(records)], keys };
}

/** Writes a batch's blocks to a fresh file in `dir` for the engine to read; returns its path. */
async function stage(dir: string, blocks: readonly Uint8Array[]): Promise<string> {
  const path = join(dir, `${randomUUID()}.native`);
  // A staged batch is audit data: owner-only, like the data directory it sits in.
  const file = await open(path, 'w', 0o600).catch(async (error: NodeJS.ErrnoException) => {
    // Someone cleared the data directory's staging area under a running store: make it again.
    if (error.code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return open(path, 'w', 0o600);
  });
  try {
    await file.writev(blocks);
  } catch (cause) {
    await file.close();
    await unlink(path).catch(() => {});
    throw new StoreError('INSERT_FAILED', `cannot stage a batch in ${dir}: ${(cause as Error).message}`, {
      cause,
    });
  }
  await file.close();
  return path;
}
