import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { SpanRecord } from '@decisiontrail/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClickHouseSink,
  EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE,
  StoreError,
  encodeSpansForSink,
  spanRecordToTraceRow,
  type Store,
} from '@decisiontrail/clickhouse';
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

/**
 * The store's real client, with the sink's inserts observed (rows counted from the staged block)
 * and optionally made to fail.
 */
function instrumentedClient(
  real: ClickHouseClient,
  hooks: { before?: () => Promise<void>; after?: (attempt: number, rows: number) => void },
): { client: ClickHouseClient; inserts: number[] } {
  const inserts: number[] = [];
  const client = {
    command: async (params: Parameters<ClickHouseClient['command']>[0]) => {
      const staged = /SELECT \* FROM (file\(.*\))$/s.exec(params.query)?.[1];
      if (staged === undefined) return real.command(params);
      await hooks.before?.();
      const counted = await real.query({
        query: `SELECT count() AS n FROM ${staged}`,
        format: 'JSONEachRow',
      });
      const rows = Number((await counted.json<{ n: string }>())[0]?.n);
      const result = await real.command(params);
      inserts.push(rows);
      hooks.after?.(inserts.length, rows);
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

  let stagingDir: string;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    stagingDir = mkdtempSync(join(tmpdir(), 'decisiontrail-sink-staging-'));
  });
  afterAll(async () => {
    await cleanup();
    rmSync(stagingDir, { recursive: true, force: true });
  });

  it("stores a batch re-sent through the store's own sink once, by its span ids", async () => {
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
      stagingDir,
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
      stagingDir,
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
      stagingDir,
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
      command: async () => {
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
      stagingDir,
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

  it('stores every column exactly as the Collector exporter writes it (events, links, UTF-8, long and empty values)', async () => {
    const [first, second, third] = decisions(3, 'native-model');
    const spans: SpanRecord[] = [
      {
        ...first!,
        statusCode: 'Error',
        statusMessage: 'model timed out — retrying',
        events: [
          {
            timeUnixNano: first!.startTimeUnixNano,
            name: 'exception',
            attributes: { 'exception.message': 'ü€𝄞' },
          },
          { timeUnixNano: first!.endTimeUnixNano, name: 'retry', attributes: {} },
        ],
      },
      {
        ...second!,
        parentSpanId: 'aaaaaaaaaaaaaaaa',
        traceState: 'vendor=1',
        links: [
          {
            traceId: 'b'.repeat(32),
            spanId: 'c'.repeat(16),
            traceState: 'x=y',
            attributes: { why: 'retry' },
          },
        ],
      },
      {
        ...third!,
        attributes: {
          ...third!.attributes,
          'audit.note': 'é'.repeat(200),
          empty: '',
          long: 'x'.repeat(70_000),
        },
      },
    ];
    await store.client.command({
      query: 'CREATE TABLE default.exporter_rows AS default.otel_traces ENGINE = Memory',
    });
    await store.client.insert({
      table: 'default.exporter_rows',
      values: spans.map(spanRecordToTraceRow),
      format: 'JSONEachRow',
    });
    await store.insertSpans(spans);
    const rows = async (table: string) => {
      const result = await store.client.query({
        query: `SELECT * FROM ${table} WHERE SpanAttributes['audit.model.id'] = 'native-model' ORDER BY SpanId`,
        format: 'JSONEachRow',
      });
      return result.json<Record<string, unknown>>();
    };
    const stored = await rows('default.otel_traces');
    expect(stored).toHaveLength(3);
    expect(stored).toEqual(await rows('default.exporter_rows'));
    const { dataDir } = store.options as { dataDir: string };
    expect(readdirSync(join(dataDir, 'decisiontrail-staging'))).toEqual([]);
  });

  it('stores each row under its own attribute keys when rows repeat, reorder, drop or add keys of the row before', async () => {
    const base = decisions(6, 'key-order-model');
    const attributeSets: Record<string, string>[] = [
      { a: '1', b: '2', c: '3' },
      { a: '1', b: '2', c: '3' },
      { c: '3', a: '1', b: '2' },
      { a: 'x', c: 'y' },
      {},
      { b: '2', a: '1', d: '4', c: '3' },
    ];
    const spans = base.map((span, i) => ({
      ...span,
      // Alternating and repeated span names and services (dictionary columns), as well as the attribute keys.
      name: i % 3 === 0 ? 'decide' : 'score',
      resourceAttributes: { 'service.name': i < 3 ? 'svc-a' : 'svc-b' },
      attributes: { 'audit.model.id': 'key-order-model', ...attributeSets[i]! },
    }));
    await store.client.command({
      query: 'CREATE TABLE default.exporter_key_rows AS default.otel_traces ENGINE = Memory',
    });
    await store.client.insert({
      table: 'default.exporter_key_rows',
      values: spans.map(spanRecordToTraceRow),
      format: 'JSONEachRow',
    });
    await store.insertSpans(spans);
    const rows = async (table: string) => {
      const result = await store.client.query({
        query:
          'SELECT SpanId, SpanName, ServiceName, SpanAttributes, ResourceAttributes FROM ' +
          `${table} WHERE SpanAttributes['audit.model.id'] = 'key-order-model' ORDER BY SpanId`,
        format: 'JSONEachRow',
      });
      return result.json<Record<string, unknown>>();
    };
    const stored = await rows('default.otel_traces');
    expect(stored).toHaveLength(6);
    expect(stored).toEqual(await rows('default.exporter_key_rows'));
  });

  it('stages again when its staging directory was removed under it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'decisiontrail-sink-gone-'));
    const sink = new ClickHouseSink(store.client, 'default.otel_traces', {}, { flushIntervalMs: 1 }, dir);
    rmSync(dir, { recursive: true });
    await sink.write(decisions(2, 'regone-model'));
    await sink.close();
    expect(await decisionsOf(store, 'regone-model', false)).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a block encoded elsewhere as an insert of its own, each span once, retried without repeats', async () => {
    // The encoded block (4 spans; plain writes come as 3, 2 or 5) fails once after the server committed it,
    // whichever insert it turns out to be: the order of the inserts depends on the flush timer.
    let encodedFailed = false;
    const { client, inserts } = instrumentedClient(store.client, {
      after: (_attempt, rows) => {
        if (rows === 4 && !encodedFailed) {
          encodedFailed = true;
          throw new Error('connection reset after the server committed');
        }
      },
    });
    const sink = new ClickHouseSink(
      client,
      'default.otel_traces',
      {},
      { maxBatchSize: 100, flushIntervalMs: 20, retryBackoffMs: 1 },
      stagingDir,
    );
    const plain = decisions(3, 'encoded-plain-model');
    const encodedRecords = decisions(4, 'encoded-model');
    // A repeat inside the block is dropped when it is encoded.
    const encoded = encodeSpansForSink([...encodedRecords, { ...encodedRecords[1]! }]);
    expect(encoded.keys).toHaveLength(4);
    expect(encoded.keys[0]).toBe(`${encodedRecords[0]!.traceId}/${encodedRecords[0]!.spanId}`);
    await Promise.all([
      sink.write(plain),
      sink.writeEncoded(encoded),
      sink.write(decisions(2, 'encoded-plain-model')),
    ]);
    await sink.close();
    // The encoded block never shares an insert: it is sent twice as 4 (the retry), and the plain writes go as
    // their own inserts, together or apart, never mixed with it.
    expect(encodedFailed).toBe(true);
    expect(inserts.filter((rows) => rows === 4)).toEqual([4, 4]);
    expect(
      inserts
        .filter((rows) => rows !== 4)
        .sort((a, b) => a - b)
        .join(','),
    ).toMatch(/^(2,3|5)$/);
    expect(await decisionsOf(store, 'encoded-model', false)).toBe(4);
    expect(await decisionsOf(store, 'encoded-plain-model', false)).toBe(5);
  });

  it('stores a span written twice in one batch once', async () => {
    const [record] = decisions(1, 'twice-model');
    await store.insertSpans([record!, { ...record! }]);
    const result = await store.client.query({
      query: `SELECT count() AS n FROM default.otel_traces WHERE SpanAttributes['audit.model.id'] = 'twice-model'`,
      format: 'JSONEachRow',
    });
    expect(Number((await result.json<{ n: string }>())[0]?.n)).toBe(1);
  });

  it.each([
    ['a number as an attribute value', (r: SpanRecord) => ({ ...r, attributes: { ...r.attributes, n: 1 } })],
    [
      'a start time that is not decimal nanoseconds',
      (r: SpanRecord) => ({ ...r, startTimeUnixNano: '1.5e18' }),
    ],
    ['a missing trace id', (r: SpanRecord) => ({ ...r, traceId: undefined })],
    ['events that are not an array', (r: SpanRecord) => ({ ...r, events: {} })],
  ])('rejects a write with %s, naming the span, and stores none of it', async (_what, corrupt) => {
    const records = decisions(3, 'corrupt-model');
    records[2] = corrupt(records[2]!) as unknown as SpanRecord;
    const error = await store.insertSpans(records).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((error as Error).message).toContain(records[2]!.spanId ?? '');
    expect(await decisionsOf(store, 'corrupt-model', false)).toBe(0);
  });

  it('cleans up the files it staged, also when the insert fails for good', async () => {
    const { client } = instrumentedClient(store.client, {
      after: () => {
        throw new Error('connection reset');
      },
    });
    const sink = new ClickHouseSink(
      client,
      'default.otel_traces',
      {},
      { maxAttempts: 2, retryBackoffMs: 1, flushIntervalMs: 1 },
      stagingDir,
    );
    await expect(sink.write(decisions(2, 'staging-model'))).rejects.toMatchObject({ code: 'INSERT_FAILED' });
    await sink.close();
    expect(readdirSync(stagingDir)).toEqual([]);
  });

  it('sends a server the same Native block over HTTP (the official client, FORMAT Native, token in the settings)', async () => {
    // ClickHouse's HTTP interface in front of the real engine: the body the client sends is handed
    // to the engine byte for byte, as a server would read it.
    const requests: { query: string; token: string | null; bytes: number }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://localhost');
        const query = url.searchParams.get('query') ?? '';
        const body = Buffer.concat(chunks);
        requests.push({
          query,
          token: url.searchParams.get('insert_deduplication_token'),
          bytes: body.length,
        });
        const insert = /^INSERT INTO (\S+) \((.*)\) FORMAT Native$/s.exec(query);
        if (insert === null) {
          response.writeHead(400).end(`unexpected query: ${query}`);
          return;
        }
        const path = join(stagingDir, 'http-body.native');
        writeFileSync(path, body);
        store.client
          .command({
            query: `INSERT INTO ${insert[1]} (${insert[2]}) SELECT * FROM file('${path}', 'Native')`,
            clickhouse_settings: { insert_deduplication_token: '' },
          })
          .then(
            () => response.writeHead(200).end(),
            (error: Error) => response.writeHead(500).end(error.message),
          );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = createClient({ url: `http://127.0.0.1:${port}` });
    try {
      const sink = new ClickHouseSink(client, 'default.otel_traces', {}, { flushIntervalMs: 1 });
      await sink.write(decisions(4, 'http-model'));
      await sink.close();
    } finally {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ token: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await decisionsOf(store, 'http-model', false)).toBe(4);
  });
});

describe('the embedded sink and the skip indexes of otel_traces', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
  });
  afterAll(async () => cleanup());

  /** Skip-index names of each active otel_traces part, from the index files in the part's directory. */
  async function indexesByPart(): Promise<string[][]> {
    const result = await store.client.query({
      query:
        "SELECT path FROM system.parts WHERE database = 'default' AND table = 'otel_traces' AND active ORDER BY name",
      format: 'JSONEachRow',
    });
    const parts = await result.json<{ path: string }>();
    return parts.map(({ path }) =>
      [
        ...new Set(
          readdirSync(path)
            .filter((file) => file.startsWith('skp_idx_'))
            .map((file) => file.slice('skp_idx_'.length, file.indexOf('.'))),
        ),
      ].sort(),
    );
  }

  it('leaves the attribute filters to the first merge, which builds every index, and finds the same spans meanwhile', async () => {
    const declared = await store.client.query({
      query:
        "SELECT name FROM system.data_skipping_indices WHERE database = 'default' AND table = 'otel_traces'",
      format: 'JSONEachRow',
    });
    const all = (await declared.json<{ name: string }>()).map((row) => row.name).sort();
    // the exporter's seven indexes are all still declared
    expect(all).toHaveLength(7);
    for (const name of EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE) expect(all).toContain(name);
    const atInsert = all.filter(
      (name) => !(EMBEDDED_SKIP_INDEXES_BUILT_AT_MERGE as readonly string[]).includes(name),
    );
    expect(atInsert).toEqual(['idx_duration', 'idx_trace_id']);

    await store.client.command({ query: 'SYSTEM STOP MERGES default.otel_traces' });
    const first = decisions(5, 'index-model');
    await store.insertSpans(first);
    await store.insertSpans(decisions(5, 'index-model'));
    const inserted = await indexesByPart();
    expect(inserted).toHaveLength(2);
    for (const part of inserted) expect(part).toEqual(atInsert);

    // a search the attribute filters would serve reads the unindexed parts whole and finds the same rows
    const byAttributeValue = async (): Promise<number> => {
      const result = await store.client.query({
        query:
          "SELECT count() AS n FROM default.otel_traces WHERE has(mapValues(SpanAttributes), 'index-model') AND TraceId = {trace:String}",
        query_params: { trace: first[0]!.traceId },
        format: 'JSONEachRow',
      });
      return Number((await result.json<{ n: string }>())[0]?.n);
    };
    expect(await byAttributeValue()).toBe(1);

    await store.client.command({ query: 'SYSTEM START MERGES default.otel_traces' });
    await store.client.command({ query: 'OPTIMIZE TABLE default.otel_traces FINAL' });
    const merged = await indexesByPart();
    expect(merged).toHaveLength(1);
    expect(merged[0]).toEqual(all);
    expect(await byAttributeValue()).toBe(1);
    expect(await decisionsOf(store, 'index-model', false)).toBe(10);
  });
});
