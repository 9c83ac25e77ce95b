import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  StoreError,
  bootstrapStatements,
  migrationStatements,
  openStore,
  renderContext,
  resolveStoreOptions,
  type Store,
} from '@decisiontrail/clickhouse';
import { openTempStore } from '../support/temp-store.ts';

// Every scenario is its own database on one embedded engine (one data directory per process).

interface Recorded {
  version: number;
  name: string;
  checksum: string;
  applied_at: string;
}

let engine: Store;
let dataDir: string;
let cleanup: () => Promise<void>;
const opened: Store[] = [];

beforeAll(async () => {
  ({ store: engine, dataDir, cleanup } = await openTempStore({ migrate: false }));
});
afterAll(async () => {
  for (const store of opened) await store.close();
  await cleanup();
});

async function rows<T>(query: string): Promise<T[]> {
  const result = await engine.client.query({ query, format: 'JSONEachRow' });
  return result.json<T>();
}

async function records(database: string): Promise<Recorded[]> {
  return (
    await rows<Recorded>(
      `SELECT version, name, checksum, toString(applied_at) AS applied_at
       FROM ${database}.decisiontrail_migrations FINAL ORDER BY version`,
    )
  ).map((row) => ({ ...row, version: Number(row.version) }));
}

/** Opens (and so migrates) the store of `database` on the shared engine. */
async function open(database: string): Promise<Store> {
  const store = await openStore({ dataDir, database });
  opened.push(store);
  return store;
}

async function openError(database: string): Promise<StoreError> {
  const error: unknown = await open(database).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

const DEFAULT_RETENTION = resolveStoreOptions({}).retention;

/**
 * A store as the versions before released checksums left it: the migrations table only (no settings
 * table), migrations 1 to `upTo` applied and each recorded with the SHA-256 of its statements as rendered
 * for this store, and the retention recorded as the fake migration 1,000,000.
 */
async function writeLegacyStore(
  database: string,
  upTo: number,
  retention = DEFAULT_RETENTION,
): Promise<Recorded[]> {
  const context = renderContext({ database, cluster: undefined, retention });
  for (const statement of bootstrapStatements(context).filter((s) => !s.includes('decisiontrail_settings'))) {
    await engine.client.command({ query: statement });
  }
  const written: Recorded[] = [];
  for (const migration of MIGRATIONS.filter((m) => m.version <= upTo)) {
    const statements = migrationStatements(migration, context);
    for (const statement of statements) await engine.client.command({ query: statement });
    written.push({
      version: migration.version,
      name: migration.name,
      checksum: createHash('sha256').update(statements.join('\n;\n')).digest('hex'),
      applied_at: `2026-11-2${migration.version % 10} 10:00:00.000`,
    });
  }
  await engine.client.insert({
    table: `${database}.decisiontrail_migrations`,
    values: [
      ...written,
      {
        version: 1_000_000,
        name: 'retention',
        checksum: JSON.stringify(retention),
        applied_at: '2026-11-30 10:00:00.000',
      },
    ],
    format: 'JSONEachRow',
  });
  return written;
}

describe('a store written before released checksums', () => {
  it('opens: its records get the released checksums (applied_at kept), its retention becomes a setting', async () => {
    const legacy = await writeLegacyStore('legacy_current', MIGRATIONS.length);
    const store = await open('legacy_current');
    expect(await records('legacy_current')).toEqual(
      legacy.map((record) => ({
        ...record,
        checksum: MIGRATIONS[record.version - 1]!.checksum,
      })),
    );
    // The fake migration row is gone, not merely hidden by FINAL.
    expect(
      await rows<{ n: string }>(
        'SELECT toString(count()) AS n FROM legacy_current.decisiontrail_migrations WHERE version = 1000000',
      ),
    ).toEqual([{ n: '0' }]);
    expect(
      await rows<{ name: string; value: string }>(
        'SELECT name, value FROM legacy_current.decisiontrail_settings FINAL',
      ),
    ).toEqual([{ name: 'retention', value: JSON.stringify(DEFAULT_RETENTION) }]);
    expect(await store.migrate()).toEqual({ applied: [], current: MIGRATIONS.length });
  });

  it('opened at an earlier migration, gets the rest, and TTLs follow when the retention changed', async () => {
    await writeLegacyStore('legacy_at_8', 8, { ...DEFAULT_RETENTION, standard: 30 });
    const ttl = async () =>
      (
        await rows<{ create_table_query: string }>(
          "SELECT create_table_query FROM system.tables WHERE database = 'legacy_at_8' AND name = 'audit_decisions'",
        )
      )[0]?.create_table_query ?? '';
    expect(await ttl()).toContain('toDateTime(time) + toIntervalDay(30))');

    const store = await open('legacy_at_8');
    expect(await store.migrate()).toEqual({ applied: [], current: MIGRATIONS.length });
    const recorded = await records('legacy_at_8');
    expect(recorded.map((record) => record.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(recorded.map((record) => record.checksum)).toEqual(MIGRATIONS.map((m) => m.checksum));
    expect(await ttl()).toContain(`toDateTime(time) + toIntervalDay(${DEFAULT_RETENTION.standard}))`);
    expect(
      await rows<{ value: string }>(
        "SELECT value FROM legacy_at_8.decisiontrail_settings FINAL WHERE name = 'retention'",
      ),
    ).toEqual([{ value: JSON.stringify(DEFAULT_RETENTION) }]);
  });
});

describe('the checksum check at open', () => {
  /** A migrated store whose last migration is then forgotten, so that an open would apply it. */
  async function storeWithPendingMigration(database: string): Promise<void> {
    const store = await open(database);
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    await engine.client.command({
      query: `ALTER TABLE ${database}.decisiontrail_migrations DELETE WHERE version = ${MIGRATIONS.length}`,
      clickhouse_settings: { mutations_sync: '2' },
    });
  }

  async function record(database: string, version: number, name: string, checksum: string): Promise<void> {
    await engine.client.insert({
      table: `${database}.decisiontrail_migrations`,
      values: [{ version, name, checksum, applied_at: '2026-12-01 00:00:00.000' }],
      format: 'JSONEachRow',
    });
  }

  it('refuses a store that recorded another checksum for a migration, naming it, and applies nothing', async () => {
    await storeWithPendingMigration('changed_sql');
    const forged = `sha256:${'0'.repeat(64)}`;
    await record('changed_sql', 7, 'decision_timeline_lookups', forged);
    const before = await records('changed_sql');

    const error = await openError('changed_sql');
    expect(error.code).toBe('MIGRATION_CHECKSUM_MISMATCH');
    expect(error.message).toBe(
      `migration 7 (decision_timeline_lookups) was applied to this store with checksum ${forged}, ` +
        `but this version of decisiontrail releases it as ${MIGRATIONS[6]!.checksum}: ` +
        'the store was migrated with different SQL for it',
    );
    expect(await records('changed_sql')).toEqual(before);
    expect(before.map((row) => row.version)).not.toContain(MIGRATIONS.length);
  });

  it('refuses a store that names a migration differently', async () => {
    await storeWithPendingMigration('renamed');
    await record('renamed', 3, 'other_tables', MIGRATIONS[2]!.checksum);
    const error = await openError('renamed');
    expect(error.code).toBe('MIGRATION_CHECKSUM_MISMATCH');
    expect(error.message).toContain(
      "migration 3 is recorded as 'other_tables' in this store but is 'product_tables'",
    );
  });

  it('refuses a store migrated by a newer version, naming the migration it does not know', async () => {
    await storeWithPendingMigration('from_the_future');
    const next = MIGRATIONS.length + 1;
    await record('from_the_future', next, 'not_yet_written', `sha256:${'1'.repeat(64)}`);
    const before = await records('from_the_future');
    const error = await openError('from_the_future');
    expect(error.code).toBe('MIGRATION_UNKNOWN');
    expect(error.message).toBe(
      `migration ${next} (not_yet_written) is applied to this store but unknown to this version of ` +
        `decisiontrail, which knows migrations 1 to ${MIGRATIONS.length}: the store was migrated by a newer version`,
    );
    expect(await records('from_the_future')).toEqual(before);
  });

  it('checks legacy records too before upgrading them: a wrong name is refused and nothing is re-recorded', async () => {
    await writeLegacyStore('legacy_renamed', 5);
    await record('legacy_renamed', 2, 'audit_things', 'abc');
    const before = await records('legacy_renamed');
    const error = await openError('legacy_renamed');
    expect(error.code).toBe('MIGRATION_CHECKSUM_MISMATCH');
    expect(error.message).toContain("migration 2 is recorded as 'audit_things'");
    expect(await records('legacy_renamed')).toEqual(before);
  });
});

describe('opened for reading (migrate: check)', () => {
  const check = async (database: string): Promise<unknown> =>
    openStore({ dataDir, database, migrate: 'check' }).then(
      (store) => {
        opened.push(store);
        return store;
      },
      (failure: unknown) => failure,
    );

  it('refuses a store with no schema, and creates nothing', async () => {
    const error = await check('read_fresh');
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({
      code: 'MIGRATION_PENDING',
      message: expect.stringContaining('decisiontrail migrate'),
    });
    expect(await rows(`SELECT name FROM system.tables WHERE database = 'read_fresh'`)).toEqual([]);
  });

  it('refuses a store behind this version, naming the missing migration, until it is migrated', async () => {
    await open('read_behind');
    const latest = MIGRATIONS[MIGRATIONS.length - 1]!;
    await engine.client.command({
      query: `ALTER TABLE read_behind.decisiontrail_migrations DELETE WHERE version = ${latest.version}`,
      clickhouse_settings: { mutations_sync: '2' },
    });
    const error = await check('read_behind');
    expect(error).toMatchObject({
      code: 'MIGRATION_PENDING',
      message: expect.stringContaining(`${latest.version} ${latest.name}`),
    });
    // Reading changed nothing: the migration is still not recorded.
    expect((await records('read_behind')).map((r) => r.version)).not.toContain(latest.version);
    await open('read_behind');
    expect(await check('read_behind')).not.toBeInstanceOf(Error);
  });
});
