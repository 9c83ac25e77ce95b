import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMBEDDED_MAX_COMPRESS_BLOCK_SIZE,
  EMBEDDED_VERTICAL_MERGE_MIN_ROWS,
  openStore,
  type Store,
} from '@decisiontrail/clickhouse';
import { EMBEDDED_ENGINE_ARGS } from '@decisiontrail/clickhouse/internal';
import { openTempStore } from '../support/temp-store.ts';

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

  it('brings back a threshold a table lost when the store is opened again, keeping its other settings', async () => {
    await store.client.command({
      query: 'ALTER TABLE otel_traces RESET SETTING vertical_merge_algorithm_min_rows_to_activate',
    });
    expect((await tableSettings(store)).get('otel_traces')).not.toContain(
      'vertical_merge_algorithm_min_rows_to_activate',
    );
    await store.close();
    store = await openStore({ dataDir });
    const otelTraces = (await tableSettings(store)).get('otel_traces')!;
    expect(otelTraces).toContain(
      `vertical_merge_algorithm_min_rows_to_activate = ${EMBEDDED_VERTICAL_MERGE_MIN_ROWS}`,
    );
    expect(otelTraces.match(/max_compress_block_size = \d+/g)).toEqual([
      `max_compress_block_size = ${EMBEDDED_MAX_COMPRESS_BLOCK_SIZE}`,
    ]);
  });
});
