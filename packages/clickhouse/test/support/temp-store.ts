import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MIGRATIONS,
  bootstrapStatements,
  openStore,
  renderContext,
  type Store,
  type StoreOptions,
} from '@decisiontrail/clickhouse';
import { applyMigration } from '@decisiontrail/clickhouse/internal';

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

/**
 * A temporary store whose schema stops at `version`, as a store written by that release is: every migration up to it
 * applied as `migrate` applies it (statements and rebuild steps) and recorded with its released checksum.
 */
export async function openTempStoreAt(
  version: number,
): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  const opened = await openTempStore({ migrate: false });
  const context = renderContext({
    database: 'default',
    cluster: undefined,
    retention: opened.store.options.retention,
  });
  for (const statement of bootstrapStatements(context))
    await opened.store.client.command({ query: statement });
  for (const migration of MIGRATIONS.filter((m) => m.version <= version)) {
    await applyMigration(opened.store.client, migration, context);
    await opened.store.client.command({
      query: `INSERT INTO default.decisiontrail_migrations VALUES (${migration.version}, '${migration.name}', '${migration.checksum}', now64())`,
    });
  }
  return opened;
}

/** The rows of a query (tests only). */
export async function rowsOf<T>(store: Store, query: string): Promise<T[]> {
  const result = await store.client.query({ query, format: 'JSONEachRow' });
  return result.json<T>();
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
