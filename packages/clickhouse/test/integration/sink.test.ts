import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { SpanRecord } from '@decisiontrail/signing-exporter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseSink, StoreError, spanRecordToTraceRow, type Store } from '@decisiontrail/clickhouse';
import { decisionIdAt, decisionSpan, randomHex, seededRandom } from '../support/span-fixtures.ts';
import { countRows, openTempStore } from '../support/temp-store.ts';

const random = seededRandom(99);

function decisions(n: number, modelId: string): SpanRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const startMs = Date.UTC(2026, 4, 1) + i * 1000;
    return decisionSpan({
      decisionId: decisionIdAt(startMs, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs,
      modelId,
      modelVersion: '1',
      outcome: 'approve',
      confidence: 0.9,
    });
  });
}

/** The store's real client, with inserts observed and optionally made to fail. */
function instrumentedClient(
  real: ClickHouseClient,
  hooks: { before?: () => Promise<void>; after?: (attempt: number) => void },
): { client: ClickHouseClient; inserts: number[] } {
  const inserts: number[] = [];
  const client = {
    exec: async (params: Parameters<ClickHouseClient['exec']>[0]) => {
      await hooks.before?.();
      // The sink sends one pre-serialized body; count its rows and hand the engine a fresh stream.
      let body = '';
      for await (const chunk of (params as { values: AsyncIterable<string | Buffer> }).values)
        body += chunk.toString();
      const result = await real.exec({ ...params, values: Readable.from([body], { objectMode: false }) });
      inserts.push(body.split('\n').filter((line) => line !== '').length);
      hooks.after?.(inserts.length);
      return result;
    },
  } as unknown as ClickHouseClient;
  return { client, inserts };
}

async function decisionsOf(store: Store, modelId: string, final: boolean): Promise<number> {
  const result = await store.client.query({
    query: `SELECT count() AS n FROM default.audit_decisions ${final ? 'FINAL' : ''} WHERE model_id = {m:String}`,
    query_params: { m: modelId },
    format: 'JSONEachRow',
  });
  return Number((await result.json<{ n: string }>())[0]?.n);
}

describe('ClickHouseSink (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
  });
  afterAll(async () => {
    await cleanup();
  });

  // First: the instrumented sinks below run without the embedded flag, so they leave their token in
  // the session, which would deduplicate a token-less insert and hide a missing one here.
  it("stores a batch re-sent through the store's own sink once, by its span ids (embedded raw insert)", async () => {
    const records = decisions(6, 'resend-model');
    const sink = store.createSink({ flushIntervalMs: 1 });
    await sink.write(records);
    // The same spans as the same batch again, as a writer whose ack was lost would send them; the
    // bytes differ (re-encoded by another exporter version), so only the span-id token can tell.
    await sink.write(records.map((record) => ({ ...record, statusMessage: 're-sent' })));
    await sink.close();
    expect(await decisionsOf(store, 'resend-model', false)).toBe(6);
    const result = await store.client.query({
      query: `SELECT count() AS n FROM default.otel_traces WHERE SpanAttributes['audit.model.id'] = 'resend-model'`,
      format: 'JSONEachRow',
    });
    expect(Number((await result.json<{ n: string }>())[0]?.n)).toBe(6);
  });

  it('retries a batch whose ack was lost without storing it twice', async () => {
    const { client, inserts } = instrumentedClient(store.client, {
      after: (attempt) => {
        if (attempt === 1) throw new Error('socket hang up after the server committed');
      },
    });
    const errors: StoreError[] = [];
    const sink = new ClickHouseSink(
      client,
      'default.otel_traces',
      {},
      { retryBackoffMs: 1, flushIntervalMs: 1, onError: (e) => errors.push(e) },
    );
    const records = decisions(7, 'retry-model');
    const before = await countRows(store, 'otel_traces');
    await sink.write(records);
    await sink.close();
    expect(inserts).toEqual([7, 7]);
    expect(errors.map((e) => e.code)).toEqual(['INSERT_FAILED']);
    expect((await countRows(store, 'otel_traces')) - before).toBe(7);
    expect(await decisionsOf(store, 'retry-model', true)).toBe(7);
    expect(await decisionsOf(store, 'retry-model', false)).toBe(7);
  });

  it('coalesces concurrent writes into batches of at most maxBatchSize', async () => {
    const { client, inserts } = instrumentedClient(store.client, {});
    const sink = new ClickHouseSink(
      client,
      'default.otel_traces',
      {},
      { maxBatchSize: 10, flushIntervalMs: 50 },
    );
    await Promise.all([0, 1, 2, 3, 4].map(() => sink.write(decisions(5, 'batch-model'))));
    await sink.close();
    expect(inserts.reduce((a, b) => a + b, 0)).toBe(25);
    expect(inserts.every((n) => n <= 10)).toBe(true);
    expect(inserts.length).toBeLessThanOrEqual(3);
    expect(await decisionsOf(store, 'batch-model', false)).toBe(25);
  });

  it('pushes back on writers when maxBufferedRows are pending', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { client } = instrumentedClient(store.client, { before: () => gate });
    const sink = new ClickHouseSink(
      client,
      'default.otel_traces',
      {},
      { maxBatchSize: 5, maxBufferedRows: 10, flushIntervalMs: 1 },
    );
    const accepted: number[] = [];
    const writes = [0, 1, 2].map((i) =>
      sink.write(decisions(5, 'pressure-model')).then(() => accepted.push(i)),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Two chunks fill the buffer; the third writer waits instead of growing it.
    expect(sink.pendingRows).toBe(10);
    expect(accepted).toEqual([]);
    release();
    await Promise.all(writes);
    expect(accepted.sort()).toEqual([0, 1, 2]);
    expect(sink.pendingRows).toBe(0);
    await sink.close();
  });

  it('rejects writers with INSERT_FAILED after the last attempt and refuses writes once closed', async () => {
    const failing = {
      exec: async () => {
        throw new Error('Code: 241. DB::Exception: Memory limit exceeded');
      },
    } as unknown as ClickHouseClient;
    const attempts: number[] = [];
    const sink = new ClickHouseSink(
      failing,
      'default.otel_traces',
      {},
      {
        maxAttempts: 3,
        retryBackoffMs: 1,
        flushIntervalMs: 1,
        onError: (_e, attempt) => attempts.push(attempt),
      },
    );
    const error = await sink.write(decisions(2, 'x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'INSERT_FAILED' });
    expect(attempts).toEqual([1, 2, 3]);
    await sink.close();
    await expect(sink.write(decisions(1, 'x'))).rejects.toMatchObject({ code: 'SINK_CLOSED' });
  });

  it('rejects a span that ends before it starts without writing anything', async () => {
    const [record] = decisions(1, 'bad-model');
    const broken = { ...record!, endTimeUnixNano: '1' };
    await expect(store.insertSpans([broken])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await decisionsOf(store, 'bad-model', false)).toBe(0);
  });

  it('leaves no deduplication token behind for the next writer on the embedded session', async () => {
    await store.insertSpans(decisions(3, 'token-model'));
    // Another writer on the same client (e.g. the Collector's format, no settings): must not be dropped.
    await store.client.insert({
      table: 'default.otel_traces',
      values: decisions(2, 'token-model').map(spanRecordToTraceRow),
      format: 'JSONEachRow',
    });
    expect(await decisionsOf(store, 'token-model', false)).toBe(5);
  });
});
