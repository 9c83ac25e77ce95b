import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { SpanRecord } from '@decisiontrail/signing-exporter';
import { rawInsertOf, type RawInsert } from './client-factory.ts';
import { StoreError } from './errors.ts';
import { TRACE_ROW_INSERT_COLUMNS, traceRowLine } from './trace-row.ts';

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
  /** `JSONCompactEachRow` lines, encoded when written (which also validates the spans). */
  lines: string[];
  /** `traceId/spanId` of each line, for deduplication and the insert's token. */
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

  readonly #embedded: boolean;
  readonly #rawInsert: RawInsert | undefined;

  /**
   * Use {@link Store.createSink}; the table is the store's `otel_traces`. `embedded` marks the chdb
   * backend, where settings persist in the session (see the insert below).
   */
  constructor(
    client: ClickHouseClient,
    table: string,
    settings: ClickHouseSettings,
    options: SinkOptions = {},
    embedded = false,
  ) {
    this.#embedded = embedded;
    this.#rawInsert = embedded ? rawInsertOf(client) : undefined;
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
    const lines = records.map(traceRowLine);
    const keys = records.map((record) => `${record.traceId}/${record.spanId}`);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < lines.length; i += this.#options.maxBatchSize) {
      const chunk = lines.slice(i, i + this.#options.maxBatchSize);
      const chunkKeys = keys.slice(i, i + this.#options.maxBatchSize);
      while (!this.#hasRoom(chunk.length)) {
        await this.#roomFreed();
        if (this.#closed) throw new StoreError('SINK_CLOSED', 'the sink closed while waiting for room');
      }
      pending.push(
        new Promise<void>((resolve, reject) => {
          this.#buffer.push({ lines: chunk, keys: chunkKeys, resolve, reject });
        }),
      );
      this.#bufferedRows += chunk.length;
      this.#schedule();
    }
    await Promise.all(pending);
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
    const batch: BatchEntry[] = [];
    let rows = 0;
    while (
      this.#buffer.length > 0 &&
      rows + (this.#buffer[0] as BatchEntry).lines.length <= this.#options.maxBatchSize
    ) {
      const entry = this.#buffer.shift() as BatchEntry;
      batch.push(entry);
      rows += entry.lines.length;
    }
    this.#bufferedRows -= rows;
    this.#inFlightRows += rows;
    return batch;
  }

  async #send(batch: BatchEntry[]): Promise<void> {
    const rows = batch.reduce((n, entry) => n + entry.lines.length, 0);
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
    // The same span twice in one batch is stored once.
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const entry of batch) {
      for (let i = 0; i < entry.lines.length; i++) {
        const key = entry.keys[i] as string;
        if (seen.has(key)) continue;
        seen.add(key);
        lines.push(entry.lines[i] as string);
      }
    }
    const rows = lines.length;
    const token = createHash('sha256')
      .update([...seen].join(','))
      .digest('hex');
    // Built before waiting for the previous insert, so this JavaScript work overlaps the engine
    // writing that batch; the inserts themselves stay strictly one at a time (the embedded engine
    // keeps settings such as the token as session state).
    const body = Buffer.from(lines.join(''));
    const previous = this.#insertChain;
    let release: () => void = () => {};
    this.#insertChain = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          if (this.#rawInsert !== undefined) {
            await this.#rawInsert({
              table: this.#table,
              columns: TRACE_ROW_INSERT_COLUMNS,
              format: 'JSONCompactEachRow',
              body,
              settings: { ...statementSettings(this.#settings), insert_deduplication_token: token },
            });
            // Even a statement's own SETTINGS outlive it in the embedded session.
            await this.#clearSessionToken();
            return;
          }
          // exec rather than insert: the client accepts only object streams for JSON formats and would
          // serialize every row again inside the insert, on the critical path.
          const result = await this.#client.exec({
            query: `INSERT INTO ${this.#table} (${INSERT_COLUMN_LIST}) FORMAT JSONCompactEachRow`,
            values: Readable.from([body], { objectMode: false }),
            clickhouse_settings: {
              ...this.#settings,
              insert_deduplication_token: token,
              // The token also deduplicates what the materialized views derive from the batch.
              deduplicate_blocks_in_dependent_materialized_views: 1,
            },
          });
          result.stream.resume();
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
          await new Promise((resolve) =>
            setTimeout(resolve, this.#options.retryBackoffMs * 2 ** (attempt - 1)),
          );
        }
      }
    } finally {
      release();
    }
  }

  /**
   * The embedded connection applies settings as session-level SET statements, so a token would
   * stick and silently drop the next unrelated insert into the same table as a "duplicate".
   */
  async #clearSessionToken(): Promise<void> {
    if (!this.#embedded) return;
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
 * The sink's settings as statement-level `SETTINGS` for the raw insert, plus the one that makes the
 * token also deduplicate what the materialized views derive from the batch.
 */
function statementSettings(settings: ClickHouseSettings): Record<string, string | number> {
  const out: Record<string, string | number> = { deduplicate_blocks_in_dependent_materialized_views: 1 };
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value === 'string' || typeof value === 'number') out[key] = value;
    else if (typeof value === 'boolean') out[key] = value ? 1 : 0;
  }
  return out;
}
