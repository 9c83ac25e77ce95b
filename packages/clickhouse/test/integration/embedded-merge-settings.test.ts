import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMBEDDED_MAX_COMPRESS_BLOCK_SIZE,
  EMBEDDED_TRACES_MIN_ROWS_FOR_WIDE_PART,
  EMBEDDED_VERTICAL_MERGE_MIN_ROWS,
  openStore,
  type Store,
} from '@decisiontrail/clickhouse';
import { EMBEDDED_ENGINE_ARGS } from '@decisiontrail/clickhouse/internal';
import { buildAuditDataset } from '../support/audit-dataset.ts';
import { openTempStore, rowsOf } from '../support/temp-store.ts';

async function tableSettings(store: Store): Promise<Map<string, string>> {
  const result = await store.client.query({
    query:
      "SELECT name, create_table_query FROM system.tables WHERE database = 'default' AND engine LIKE '%MergeTree'",
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ name: string; create_table_query: string }>();
  return new Map(rows.map((row) => [row.name, row.create_table_query]));
}

describe('the embedded engine merges with bounded memory', () => {
  let store: Store;
  let dataDir: string;

  beforeAll(async () => {
    ({ store, dataDir } = await openTempStore());
  });
  afterAll(async () => {
    // the store of the last open (the second test reopens it)
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sets the vertical merge threshold on every MergeTree table, beside the compression-block cap', async () => {
    const tables = await tableSettings(store);
    expect([...tables.keys()]).toContain('otel_traces');
    for (const [name, query] of tables) {
      expect(query, name).toMatch(
        new RegExp(
          `\\bvertical_merge_algorithm_min_rows_to_activate = ${EMBEDDED_VERTICAL_MERGE_MIN_ROWS}\\b`,
        ),
      );
      expect(query, name).toContain(`max_compress_block_size = ${EMBEDDED_MAX_COMPRESS_BLOCK_SIZE}`);
    }
    // ClickHouse's own threshold is far higher: the setting is ours, not the engine's default
    const result = await store.client.query({
      query:
        "SELECT value FROM system.merge_tree_settings WHERE name = 'vertical_merge_algorithm_min_rows_to_activate'",
      format: 'JSONEachRow',
    });
    const [engine] = await result.json<{ value: string }>();
    expect(Number(engine!.value)).toBeGreaterThan(EMBEDDED_VERTICAL_MERGE_MIN_ROWS);
  });

  it('starts the engine with at most as many merges in progress as its merge pool has threads', async () => {
    expect(EMBEDDED_ENGINE_ARGS).toContain('--background_merges_mutations_concurrency_ratio=1');
    const result = await store.client.query({
      query:
        'SELECT value, changed FROM system.server_settings ' +
        "WHERE name = 'background_merges_mutations_concurrency_ratio'",
      format: 'JSONEachRow',
    });
    // changed: the engine's own default (2) is not what it runs with
    expect(await result.json()).toEqual([{ value: '1', changed: 1 }]);
  });

  it("writes otel_traces' parts of fewer rows than its threshold compact, whatever their size", async () => {
    const tables = await tableSettings(store);
    expect(tables.get('otel_traces')).toMatch(
      new RegExp(`\\bmin_rows_for_wide_part = ${EMBEDDED_TRACES_MIN_ROWS_FOR_WIDE_PART}\\b`),
    );
    // only otel_traces: the audit tables' parts keep the engine's own rule
    for (const [name, query] of tables) {
      if (name !== 'otel_traces') expect(query, name).not.toContain('min_rows_for_wide_part');
    }
    const [engine] = await rowsOf<{ value: string }>(
      store,
      "SELECT value FROM system.merge_tree_settings WHERE name = 'min_rows_for_wide_part'",
    );
    expect(Number(engine!.value)).toBeLessThan(EMBEDDED_TRACES_MIN_ROWS_FOR_WIDE_PART);
    // Without a byte threshold, the engine would write every part wide; the row threshold alone keeps these
    // (a few hundred spans per day's partition) compact.
    await store.client.command({
      query: 'ALTER TABLE otel_traces MODIFY SETTING min_bytes_for_wide_part = 0',
    });
    const { spans } = buildAuditDataset(3);
    expect(spans.length).toBeLessThan(EMBEDDED_TRACES_MIN_ROWS_FOR_WIDE_PART);
    await store.insertSpans(spans);
    const parts = await rowsOf<{ part_type: string; rows: string }>(
      store,
      "SELECT part_type, rows FROM system.parts WHERE database = 'default' AND table = 'otel_traces' AND active",
    );
    expect(parts.length).toBeGreaterThan(0);
    expect(parts.reduce((n, part) => n + Number(part.rows), 0)).toBe(spans.length);
    expect(new Set(parts.map((part) => part.part_type))).toEqual(new Set(['Compact']));
  });

  it('brings back a threshold a table lost when the store is opened again, keeping its other settings', async () => {
    await store.client.command({
      query:
        'ALTER TABLE otel_traces RESET SETTING vertical_merge_algorithm_min_rows_to_activate, min_rows_for_wide_part',
    });
    expect((await tableSettings(store)).get('otel_traces')).not.toMatch(
      /vertical_merge_algorithm_min_rows_to_activate|min_rows_for_wide_part/,
    );
    await store.close();
    store = await openStore({ dataDir });
    const otelTraces = (await tableSettings(store)).get('otel_traces')!;
    expect(otelTraces).toContain(
      `vertical_merge_algorithm_min_rows_to_activate = ${EMBEDDED_VERTICAL_MERGE_MIN_ROWS}`,
    );
    expect(otelTraces).toContain(`min_rows_for_wide_part = ${EMBEDDED_TRACES_MIN_ROWS_FOR_WIDE_PART}`);
    expect(otelTraces.match(/max_compress_block_size = \d+/g)).toEqual([
      `max_compress_block_size = ${EMBEDDED_MAX_COMPRESS_BLOCK_SIZE}`,
    ]);
  });
});
