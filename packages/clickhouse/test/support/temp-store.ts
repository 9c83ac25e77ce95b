import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store, type StoreOptions } from '@decisiontrail/clickhouse';

/** A store on a fresh data directory under the OS temp dir, and its cleanup. */
export async function openTempStore(options: Omit<StoreOptions, 'kind' | 'dataDir'> = {}): Promise<{
  store: Store;
  dataDir: string;
  cleanup: () => Promise<void>;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), 'decisiontrail-ch-test-'));
  const store = await openStore({ ...options, dataDir });
  return {
    store,
    dataDir,
    cleanup: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Row count of a table (tests only; table names are constants of the test). */
export async function countRows(store: Store, table: string, final = false): Promise<number> {
  const result = await store.client.query({
    query: `SELECT count() AS n FROM ${store.options.database}.${table}${final ? ' FINAL' : ''}`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ n: string | number }>();
  return Number(row?.n ?? 0);
}

/** Runs a statement as an insider with write access to the store would (mutations wait; a repeated insert is kept). */
export async function tamper(store: Store, query: string): Promise<void> {
  await store.client.command({
    query,
    clickhouse_settings: { mutations_sync: '2', insert_deduplication_token: '' },
  });
}
