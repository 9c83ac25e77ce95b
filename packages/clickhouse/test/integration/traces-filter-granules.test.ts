import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrationStatements, renderContext, type Store } from '@decisiontrail/clickhouse';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { openTempStoreAt, rowsOf } from '../support/temp-store.ts';

/** Migration 32 sets otel_traces' attribute and span-name filters back to the rows the exporter's cover. */
const FILTERS = 32;

/** The exporter's skip indexes in its order, with the granularity each has after migration 32 (granules of 256 rows). */
const INDEXES = [
  { name: 'idx_trace_id', granularity: 1 },
  { name: 'idx_res_attr_key', granularity: 32 },
  { name: 'idx_res_attr_value', granularity: 32 },
  { name: 'idx_span_attr_key', granularity: 32 },
  { name: 'idx_span_attr_value', granularity: 32 },
  { name: 'idx_duration', granularity: 1 },
  { name: 'idx_lower_span_name', granularity: 256 },
];

describe('migration 32: otel_traces filters over as many rows as the exporter’s (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  const indexes = () =>
    rowsOf<{ name: string; granularity: number }>(
      store,
      `SELECT name, toUInt32(granularity) AS granularity FROM system.data_skipping_indices
       WHERE database = 'default' AND table = 'otel_traces'`,
    );
  /** The spans a search finds through the filters, and the same search with every skip index ignored. */
  const searched = async (where: string) => {
    const ids = (settings: string) =>
      rowsOf<{ SpanId: string }>(
        store,
        `SELECT SpanId FROM default.otel_traces WHERE ${where} ORDER BY SpanId ${settings}`,
      ).then((rows) => rows.map((row) => row.SpanId));
    return { filtered: await ids(''), scanned: await ids('SETTINGS use_skip_indexes = 0') };
  };

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStoreAt(FILTERS - 1));
    data = buildAuditDataset(21);
    await store.insertSpans(data.spans);
    expect(await indexes()).toEqual(
      INDEXES.map(({ name }) => ({ name, granularity: name === 'idx_lower_span_name' ? 8 : 1 })),
    );
    expect((await store.migrate()).applied).toEqual(
      MIGRATIONS.filter((m) => m.version >= FILTERS).map((m) => m.version),
    );
  });
  afterAll(async () => {
    await cleanup();
  });

  it('keeps the exporter’s filters in its order, each over 8192 rows (the span name’s over 65536)', async () => {
    expect(await indexes()).toEqual(INDEXES);
  });

  it('builds them for the spans stored before, and a search through them finds what a scan finds', async () => {
    const built = await rowsOf<{ name: string; bytes: string }>(
      store,
      `SELECT name, toString(data_compressed_bytes) AS bytes FROM system.data_skipping_indices
       WHERE database = 'default' AND table = 'otel_traces' AND name IN ('idx_span_attr_value', 'idx_span_attr_key')`,
    );
    for (const index of built) expect(Number(index.bytes), index.name).toBeGreaterThan(0);
    const decision = data.decisions[5]!;
    const byValue = await searched(`has(mapValues(SpanAttributes), '${decision.decisionId}')`);
    expect(byValue.filtered).toEqual(byValue.scanned);
    expect(byValue.filtered.length).toBeGreaterThan(0);
    const byKey = await searched(`mapContains(SpanAttributes, 'audit.oversight.action')`);
    expect(byKey.filtered).toEqual(byKey.scanned);
    expect(byKey.filtered.length).toBeGreaterThan(0);
    const spanName = data.spans[0]!.name;
    const byName = await searched(`lower(SpanName) = '${spanName.toLowerCase()}'`);
    expect(byName.filtered).toEqual(byName.scanned);
    expect(byName.filtered.length).toBeGreaterThan(0);
    const missing = await searched(`has(mapValues(SpanAttributes), 'no span carries this value')`);
    expect(missing).toEqual({ filtered: [], scanned: [] });
  });

  it('ends with the same filters when it runs again after stopping between the drop and the add', async () => {
    const statements = migrationStatements(
      MIGRATIONS.find((m) => m.version === FILTERS)!,
      renderContext({ database: 'default', cluster: undefined, retention: store.options.retention }),
    );
    expect(statements).toHaveLength(3);
    await store.client.command({ query: statements[0]! });
    expect((await indexes()).map((index) => index.name)).toEqual(['idx_trace_id', 'idx_duration']);
    for (const statement of statements) await store.client.command({ query: statement });
    expect(await indexes()).toEqual(INDEXES);
  });

  it('is not run on a cluster, whose otel_traces keeps its granules of 8192 rows (migration 31)', () => {
    const statements = migrationStatements(
      MIGRATIONS.find((m) => m.version === FILTERS)!,
      renderContext({ database: 'default', cluster: 'audit', retention: store.options.retention }),
    );
    expect(statements).toEqual([]);
  });
});
