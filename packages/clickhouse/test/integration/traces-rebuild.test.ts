import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, renderContext, spanRecordToTraceRow, type Store } from '@decisiontrail/clickhouse';
import { applyMigration } from '@decisiontrail/clickhouse/internal';
import type { SpanRecord } from '@decisiontrail/core';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { openTempStoreAt, rowsOf } from '../support/temp-store.ts';

/** Migration 31 rebuilds otel_traces with granules of 256 rows. */
const REBUILT = 31;

/**
 * `n` spans of one service, ten a trace, a second apart from `startMs`: one day's partition in parts of full 8192-row
 * granules (parts that large are what a vertical merge keeps the granules of).
 */
function plainSpans(n: number, startMs: number, seed: string): SpanRecord[] {
  const hex = (i: number, width: number) => (seed + i.toString(16)).padStart(width, '0').slice(-width);
  return Array.from({ length: n }, (_, i) => {
    const start = BigInt(startMs + i * 1000) * 1_000_000n;
    return {
      traceId: hex(Math.floor(i / 10), 32),
      spanId: hex(i, 16),
      parentSpanId: '',
      traceState: '',
      name: 'work',
      kind: 'SPAN_KIND_INTERNAL',
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + 1_000_000n),
      statusCode: 'STATUS_CODE_UNSET',
      statusMessage: '',
      attributes: { 'work.index': String(i) },
      resourceAttributes: { 'service.name': 'worker' },
      scopeName: 'test',
      scopeVersion: '1',
      events: [],
      links: [],
    };
  });
}

/** Every stored row of a table of otel_traces' columns, each as one JSON text, sorted. */
const spanRows = async (store: Store, table = 'otel_traces'): Promise<string[]> =>
  (
    await rowsOf<{ row: string }>(
      store,
      `SELECT formatRowNoNewline('JSONEachRow', *) AS row FROM default.${table}`,
    )
  )
    .map((r) => r.row)
    .sort();

const createOf = async (store: Store, table: string): Promise<string | undefined> =>
  (
    await rowsOf<{ create: string }>(
      store,
      `SELECT create_table_query AS create FROM system.tables WHERE database = 'default' AND name = '${table}'`,
    )
  )[0]?.create;

/** The most rows in one granule of any active part of a table. */
const largestGranule = async (store: Store, table = 'otel_traces'): Promise<number> =>
  Number(
    (
      await rowsOf<{ n: string }>(
        store,
        `SELECT max(rows_in_granule) AS n FROM mergeTreeIndex('default', '${table}')`,
      )
    )[0]?.n,
  );

/** The migration's statement for the rebuilt table, and the exchange, run by hand: a run stopped right after it. */
async function exchangeByHand(store: Store): Promise<void> {
  const migration = MIGRATIONS.find((m) => m.version === REBUILT)!;
  const context = renderContext({
    database: 'default',
    cluster: undefined,
    retention: store.options.retention,
  });
  // The step's own statement, as applyMigration renders it (a migration with the rebuild step only).
  const statements: string[] = [];
  const recording = new Proxy(store.client, {
    get(target, property) {
      if (property === 'command')
        return async (params: { query: string }) => {
          statements.push(params.query);
          if (/^CREATE TABLE /m.test(params.query)) return target.command(params);
          return undefined;
        };
      if (property === 'query') return target.query.bind(target);
      const value = target[property as keyof typeof target];
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  // Only the CREATE runs: every later command is recorded and skipped; the reads find nothing to move.
  await applyMigration(recording, migration, context);
  expect(statements[0]).toMatch(/^CREATE TABLE `default`\.`otel_traces_rebuilt`/m);
  await store.client.command({
    query: 'EXCHANGE TABLES default.otel_traces AND default.otel_traces_rebuilt',
  });
}

describe('otel_traces rebuilt with granules of 256 rows (migration 31, embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  let before: string[];
  const plain = plainSpans(60_000, Date.UTC(2026, 2, 1), 'a');

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStoreAt(REBUILT - 1));
    data = buildAuditDataset(17);
    const half = Math.floor(data.spans.length / 2);
    await store.insertSpans(data.spans.slice(0, half));
    await store.insertSpans(plain);
    before = await spanRows(store);
    expect(before.length).toBeGreaterThan(0);
    expect(await createOf(store, 'otel_traces')).toContain('index_granularity = 8192');
    // So that the rebuild has granules to cut (a table of 8192-row granules holds more than 512 rows in one).
    expect(await largestGranule(store)).toBeGreaterThan(2 * 256);
    // The rebuilt table merging vertically, as the embedded engine's tables do once tuned at open (a vertical merge
    // keeps its source parts' granules: the rebuild must merge the moved parts otherwise).
    const vertical = new Proxy(store.client, {
      get(target, property) {
        if (property === 'command')
          return (params: { query: string }) =>
            target.command({
              ...params,
              query: params.query.includes('`otel_traces_rebuilt` (')
                ? params.query.replace(
                    'non_replicated_deduplication_window = 1000',
                    'non_replicated_deduplication_window = 1000, vertical_merge_algorithm_min_rows_to_activate = 1, vertical_merge_algorithm_min_columns_to_activate = 1',
                  )
                : params.query,
            });
        const value = target[property as keyof typeof target];
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const migration = MIGRATIONS.find((m) => m.version === REBUILT)!;
    await applyMigration(
      vertical,
      migration,
      renderContext({ database: 'default', cluster: undefined, retention: store.options.retention }),
    );
    expect(await createOf(store, 'otel_traces')).toContain(
      'vertical_merge_algorithm_min_rows_to_activate = 1',
    );
    expect(await createOf(store, 'otel_traces')).not.toContain('enable_vertical_merge_algorithm');
    await store.client.command({
      query: `INSERT INTO default.decisiontrail_migrations VALUES (${migration.version}, '${migration.name}', '${migration.checksum}', now64())`,
    });
    expect((await store.migrate()).applied).toEqual(
      MIGRATIONS.filter((m) => m.version > REBUILT).map((m) => m.version),
    );
    await store.insertSpans(data.spans.slice(half));
  });
  afterAll(async () => {
    await cleanup();
  });

  it('keeps every row, in granules of 256 rows, and the exporter columns, codecs and indexes', async () => {
    const layout = (await createOf(store, 'otel_traces'))!;
    expect(layout).toContain('index_granularity = 256');
    // Migration 33: compressed blocks of 64 KB at least again (31 cut them at 8 KB).
    expect(layout).toContain('min_compress_block_size = 65536');
    expect(layout).not.toContain('min_compress_block_size = 8192');
    expect(await createOf(store, 'otel_traces_rebuilt')).toBeUndefined();
    const after = await spanRows(store);
    const kept = new Set(after);
    expect(before.filter((row) => !kept.has(row))).toEqual([]);
    expect(after).toHaveLength(data.spans.length + plain.length);
    expect(await largestGranule(store)).toBeLessThanOrEqual(2 * 256);
    // Everything but the settings is the table as migrations 1 and 19 made it.
    const columns = await rowsOf<{ name: string; type: string; codec: string }>(
      store,
      `SELECT name, type, compression_codec AS codec FROM system.columns
       WHERE database = 'default' AND table = 'otel_traces' ORDER BY position`,
    );
    expect(columns.find((c) => c.name === 'ResourceAttributes')?.codec).toBe('CODEC(ZSTD(6))');
    expect(columns.find((c) => c.name === 'TraceId')).toEqual({
      name: 'TraceId',
      type: 'String',
      codec: 'CODEC(ZSTD(1))',
    });
    expect(layout).toContain('INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1');
    expect(layout).toContain('ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)');
  });

  it('leaves the views reading otel_traces in place: spans stored after it reach every audit table once', async () => {
    const reconciled = await store.reconcileAuditTables();
    expect(reconciled.findings).toEqual([]);
    expect(reconciled.tables.find((t) => t.table === 'audit_decisions')?.rows).toBe(data.decisions.length);
    const [{ n }] = (await rowsOf<{ n: string }>(
      store,
      'SELECT count() AS n FROM default.otel_traces_trace_id_ts FINAL',
    )) as [{ n: string }];
    expect(Number(n)).toBe(new Set([...data.spans, ...plain].map((s) => s.traceId)).size);
  });
});

describe('migration 31 on a server where spans keep arriving (embedded engine, the race staged)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStoreAt(REBUILT - 1));
    data = buildAuditDataset(19);
  });
  afterAll(async () => {
    await cleanup();
  });

  it('moves the rows an insert wrote to the table as it was after the exchange, and finishes when run again', async () => {
    const third = Math.floor(data.spans.length / 3);
    await store.insertSpans(data.spans.slice(0, third));
    // Stopped right after the exchange: the table as it was holds the first third, under the rebuilt table's name.
    await exchangeByHand(store);
    expect(await spanRows(store)).toEqual([]);
    // A Collector's insert that started before the exchange ends after it: its rows land in the table as it was.
    await store.client.insert({
      table: 'default.otel_traces_rebuilt',
      values: [...data.spans.slice(third, 2 * third), ...plainSpans(1500, Date.UTC(2026, 2, 1), 'b')].map(
        spanRecordToTraceRow,
      ),
      format: 'JSONEachRow',
    });
    // Inserts after the exchange reach the new table.
    await store.insertSpans(data.spans.slice(2 * third));
    const old = await spanRows(store, 'otel_traces_rebuilt');
    expect(old.length).toBe(2 * third + 1500);
    const newer = await spanRows(store);
    expect(await largestGranule(store, 'otel_traces_rebuilt')).toBeGreaterThan(2 * 256);
    expect((await store.migrate()).applied).toEqual(
      MIGRATIONS.filter((m) => m.version >= REBUILT).map((m) => m.version),
    );
    expect(await createOf(store, 'otel_traces_rebuilt')).toBeUndefined();
    expect(await spanRows(store)).toEqual([...old, ...newer].sort());
    expect(await spanRows(store)).toHaveLength(data.spans.length + 1500);
    expect(await largestGranule(store)).toBeLessThanOrEqual(2 * 256);
  });
});

describe('migration 31 refuses a rebuilt table it did not create (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStoreAt(REBUILT - 1));
  });
  afterAll(async () => {
    await cleanup();
  });

  it('fails, naming it, and changes nothing', async () => {
    const data = buildAuditDataset(23);
    await store.insertSpans(data.spans.slice(0, 50));
    await store.client.command({
      query: 'CREATE TABLE default.otel_traces_rebuilt AS default.otel_traces',
    });
    await store.client.insert({
      table: 'default.otel_traces_rebuilt',
      values: data.spans.slice(50, 60).map(spanRecordToTraceRow),
      format: 'JSONEachRow',
    });
    const stored = await spanRows(store);
    const other = await spanRows(store, 'otel_traces_rebuilt');
    await expect(store.migrate()).rejects.toThrow(/otel_traces_rebuilt exists, holds rows/);
    expect(await createOf(store, 'otel_traces')).toContain('index_granularity = 8192');
    expect(await spanRows(store)).toEqual(stored);
    expect(await spanRows(store, 'otel_traces_rebuilt')).toEqual(other);
  });
});
