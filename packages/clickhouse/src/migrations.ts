import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './errors.ts';
import {
  MIGRATIONS,
  type Migration,
  type ObjectStep,
  type RebuildStep,
  type TableStep,
} from './migration-list.ts';
import {
  quoteIdentifier,
  quoteString,
  readSqlFile,
  renderSql,
  storageTableName,
  ttlFor,
  type RenderContext,
} from './sql-template.ts';
import { dateToDateTime64 } from './time-format.ts';

const MIGRATIONS_TABLE: TableStep = {
  kind: 'table',
  name: 'decisiontrail_migrations',
  file: 'migrations-table.sql',
  shardingKey: 'version',
};

const SETTINGS_TABLE: TableStep = {
  kind: 'table',
  name: 'decisiontrail_settings',
  file: 'settings-table.sql',
  shardingKey: 'cityHash64(name)',
};

export { MIGRATIONS };
export type { Migration, ObjectStep, RebuildStep, TableStep };

const ALL_TABLES: ReadonlySet<string> = new Set(
  [MIGRATIONS_TABLE, SETTINGS_TABLE, ...MIGRATIONS.flatMap((m) => m.steps)].flatMap((s) =>
    s.kind === 'table' ? [s.name] : [],
  ),
);

/** Build the render context for a database/cluster/retention. */
export function renderContext(options: Omit<RenderContext, 'tables'>): RenderContext {
  return { ...options, tables: ALL_TABLES };
}

/** Where a migration's files live, below `sql/`: `migrations/007-decision-timeline-lookups`. */
export function migrationDirectory(migration: Pick<Migration, 'version' | 'name'>): string {
  return `migrations/${String(migration.version).padStart(3, '0')}-${migration.name.replaceAll('_', '-')}`;
}

/** The text of one step of a migration; it must not include other files, which could change after release. */
function migrationStepSql(migration: Migration, step: TableStep | ObjectStep | RebuildStep): string {
  const text = readSqlFile(`${migrationDirectory(migration)}/${step.file}`);
  if (text.includes('{{include:')) {
    throw new StoreError(
      'MIGRATION_FAILED',
      `migration ${migration.version} (${migration.name}): ${step.file} includes another file; ` +
        "a migration's SQL must be self-contained so that it cannot change after release",
    );
  }
  return text;
}

function stepStatements(
  template: string,
  step: TableStep | ObjectStep | RebuildStep,
  context: RenderContext,
): string[] {
  // A rebuild is code (rebuildTable): its file is one statement of it, run there.
  if (step.kind === 'rebuild') return [];
  if (step.kind === 'object' && step.singleNodeOnly === true && context.cluster !== undefined) return [];
  const statement = renderSql(template, context);
  if (step.kind === 'object' || context.cluster === undefined) {
    return [statement];
  }
  const db = quoteIdentifier(context.database);
  const local = storageTableName(step.name, context);
  return [
    statement,
    `CREATE TABLE IF NOT EXISTS ${db}.${quoteIdentifier(step.name)} ON CLUSTER ${quoteIdentifier(context.cluster)} ` +
      `AS ${db}.${quoteIdentifier(local)} ` +
      `ENGINE = Distributed(${quoteIdentifier(context.cluster)}, ${db}, ${quoteIdentifier(local)}, ${step.shardingKey})`,
  ];
}

/**
 * The DDL of one migration for single-node or cluster mode, in execution order. Exposed so cluster
 * DDL can be reviewed (and is validated by the engine's parser in tests) without a cluster.
 */
export function migrationStatements(migration: Migration, context: RenderContext): string[] {
  return migration.steps.flatMap((step) => stepStatements(migrationStepSql(migration, step), step, context));
}

/**
 * The checksum of a migration as its files are now: SHA-256 over each step (kind, table name and sharding key,
 * file name, single-node flag) and the file's text before rendering, so it does not depend on the database,
 * cluster or retention a store is opened with. A released migration's checksum never changes.
 */
export function migrationChecksum(migration: Migration): string {
  const hash = createHash('sha256');
  for (const step of migration.steps) {
    const text = migrationStepSql(migration, step);
    const head =
      step.kind === 'table'
        ? `table ${step.name} ${step.shardingKey} ${step.file}`
        : step.kind === 'rebuild'
          ? `rebuild ${step.name} ${step.file} single-node`
          : `object ${step.file}${step.singleNodeOnly === true ? ' single-node' : ''}`;
    hash.update(`${head}\n${Buffer.byteLength(text)}\n${text}\n`);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** The statements that create the database and the tables that record migrations and settings. */
export function bootstrapStatements(context: RenderContext): string[] {
  const statements = [
    `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(context.database)}` +
      (context.cluster === undefined ? '' : ` ON CLUSTER ${quoteIdentifier(context.cluster)}`),
  ];
  return [
    ...statements,
    ...[MIGRATIONS_TABLE, SETTINGS_TABLE].flatMap((table) =>
      stepStatements(readSqlFile(table.file), table, context),
    ),
  ];
}

/** What {@link runMigrations} did. */
export interface MigrationResult {
  /** Versions applied by this run. */
  applied: number[];
  /** Latest version now present. */
  current: number;
}

/** A row of `decisiontrail_migrations`. */
interface MigrationRecord {
  version: number;
  name: string;
  checksum: string;
  applied_at: string;
}

/**
 * The row that versions before the settings table wrote to record the applied retention, as if it were a
 * migration. The first open by this version moves it into `decisiontrail_settings` and deletes it.
 */
const LEGACY_RETENTION_VERSION = 1_000_000;
const CHECKSUM_PREFIX = 'sha256:';

/** The store's records, sorted out: what must be re-recorded, what is wrong. */
interface RecordReview {
  /** Applied before checksums were released ones (a hash of the rendered statements, or empty): re-recorded. */
  legacy: MigrationRecord[];
  /** The retention a legacy row recorded, when there is one. */
  legacyRetention: string | undefined;
  problems: { code: 'MIGRATION_CHECKSUM_MISMATCH' | 'MIGRATION_UNKNOWN'; message: string }[];
}

function reviewRecords(records: readonly MigrationRecord[]): RecordReview {
  const review: RecordReview = { legacy: [], legacyRetention: undefined, problems: [] };
  const known = new Map(MIGRATIONS.map((migration) => [migration.version, migration]));
  const latest = Math.max(...MIGRATIONS.map((migration) => migration.version));
  for (const record of records) {
    if (record.version === LEGACY_RETENTION_VERSION && record.name === 'retention') {
      review.legacyRetention = record.checksum;
      continue;
    }
    const migration = known.get(record.version);
    if (migration === undefined) {
      review.problems.push({
        code: 'MIGRATION_UNKNOWN',
        message:
          `migration ${record.version} (${record.name}) is applied to this store but unknown to this version of ` +
          `decisiontrail, which knows migrations 1 to ${latest}: the store was migrated by a newer version`,
      });
    } else if (record.name !== migration.name) {
      review.problems.push({
        code: 'MIGRATION_CHECKSUM_MISMATCH',
        message:
          `migration ${record.version} is recorded as '${record.name}' in this store but is ` +
          `'${migration.name}' in this version of decisiontrail: the store was migrated by a different build`,
      });
    } else if (!record.checksum.startsWith(CHECKSUM_PREFIX)) {
      review.legacy.push(record);
    } else if (record.checksum !== migration.checksum) {
      review.problems.push({
        code: 'MIGRATION_CHECKSUM_MISMATCH',
        message:
          `migration ${record.version} (${record.name}) was applied to this store with checksum ` +
          `${record.checksum}, but this version of decisiontrail releases it as ${migration.checksum}: ` +
          'the store was migrated with different SQL for it',
      });
    }
  }
  return review;
}

/**
 * Checks that every migration's files still give the checksum it was released with; a package whose released
 * SQL was edited must not touch a store.
 */
function checkReleasedMigrations(): void {
  const changed = MIGRATIONS.flatMap((migration) => {
    const actual = migrationChecksum(migration);
    return actual === migration.checksum
      ? []
      : [
          `migration ${migration.version} (${migration.name}): its files in sql/${migrationDirectory(migration)} ` +
            `give ${actual}, but it was released as ${migration.checksum}; a released migration never changes ` +
            '(append a new one)',
        ];
  });
  if (changed.length > 0) throw new StoreError('MIGRATION_CHECKSUM_MISMATCH', changed.join('\n'));
}

/** Runs one migration's steps in order: their statements, and each rebuild ({@link rebuildTable}) on a single node. */
export async function applyMigration(
  client: ClickHouseClient,
  migration: Migration,
  context: RenderContext,
): Promise<void> {
  for (const step of migration.steps) {
    const template = migrationStepSql(migration, step);
    if (step.kind === 'rebuild') {
      if (context.cluster === undefined)
        await rebuildTable(client, context, step.name, renderSql(template, context));
      continue;
    }
    for (const statement of stepStatements(template, step, context))
      await client.command({ query: statement });
  }
}

/** How long a rebuild waits for the inserts that were running into the table as it was. */
const REBUILD_INSERT_WAIT_MS = 10 * 60 * 1000;

/** `index_granularity = N` of a `CREATE TABLE` statement. */
function granularityOf(create: string | undefined): string | undefined {
  return create === undefined ? undefined : /\bindex_granularity = (\d+)/.exec(create)?.[1];
}

/**
 * Rebuilds `name` under its own name as `create` (the `CREATE TABLE` of `<name>_rebuilt`) makes it, with no row lost
 * on a server where others write the table meanwhile (the Collector writes `otel_traces` directly):
 *
 * 1. `<name>_rebuilt` is created empty and the two are exchanged in one step. From then on inserts reach the new
 *    table, and the materialized views reading `name` follow the name (as the audit tables' views do with
 *    migration 27's exchange); an insert that started before writes its rows to the table as it was.
 * 2. Every partition of the old table holding rows is moved into the new one (`MOVE PARTITION … TO TABLE`: its parts
 *    as they are, no view fires again); then the rebuild waits until no insert that started before this run is still
 *    running, and moves what such inserts left.
 * 3. Each partition of `name` with a part written under the old settings (a granule of more than twice the rows the
 *    new ones allow) is merged again (`OPTIMIZE … FINAL`, horizontally: a vertical merge keeps its parts' granules),
 *    which writes it under the new ones; parts inserted meanwhile stay beside it.
 * 4. The old table is dropped only when it holds no row; otherwise the rebuild fails, saying so, and leaves it.
 *
 * Run again after a stop at any point it finishes the job: whether the exchange happened is read from `name`'s own
 * settings, and a `<name>_rebuilt` met before the exchange holds nothing (nothing writes it before) and is made anew.
 * Not covered: a retried insert whose first attempt reached the old table is not recognised as a duplicate by the new
 * one (its deduplication window starts empty), so it is stored twice — two exact copies, which readers count once.
 */
export async function rebuildTable(
  client: ClickHouseClient,
  context: RenderContext,
  name: string,
  create: string,
): Promise<void> {
  const startedAt = Date.now();
  const db = quoteIdentifier(context.database);
  const table = `${db}.${quoteIdentifier(name)}`;
  const rebuilt = `${db}.${quoteIdentifier(`${name}_rebuilt`)}`;
  const rows = async <T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> =>
    (await client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
  const createOf = async (of: string): Promise<string | undefined> =>
    (
      await rows<{ create: string }>(
        'SELECT create_table_query AS create FROM system.tables WHERE database = {db:String} AND name = {name:String}',
        { db: context.database, name: of },
      )
    )[0]?.create;
  /** The partitions of a table that hold rows, by id. */
  const partitionsOf = async (of: string, where = ''): Promise<string[]> =>
    (
      await rows<{ id: string }>(
        `SELECT partition_id AS id FROM system.parts
         WHERE active AND database = {db:String} AND table = {name:String} ${where}
         GROUP BY partition_id HAVING sum(rows) > 0 ORDER BY partition_id`,
        { db: context.database, name: of },
      )
    ).map((row) => row.id);
  const moveAll = async (): Promise<void> => {
    for (const id of await partitionsOf(`${name}_rebuilt`))
      await client.command({
        query: `ALTER TABLE ${rebuilt} MOVE PARTITION ID ${quoteString(id)} TO TABLE ${table}`,
      });
  };

  const target = granularityOf(create);
  if (target === undefined)
    throw new StoreError('MIGRATION_FAILED', `rebuild of ${name}: its statement sets no index_granularity`);
  if (granularityOf(await createOf(name)) !== target) {
    // Not exchanged yet: a rebuilt table met here was left empty by a run that stopped before its exchange.
    if ((await createOf(`${name}_rebuilt`)) !== undefined) {
      if ((await partitionsOf(`${name}_rebuilt`)).length > 0)
        throw new StoreError(
          'MIGRATION_FAILED',
          `rebuild of ${name}: ${name}_rebuilt exists, holds rows and is not the table this rebuild creates; left as it is`,
        );
      await client.command({ query: `DROP TABLE ${rebuilt}` });
    }
    await client.command({ query: create });
    await client.command({ query: `EXCHANGE TABLES ${table} AND ${rebuilt}` });
  }
  if ((await createOf(`${name}_rebuilt`)) !== undefined) {
    await moveAll();
    // The inserts that may still write the table as it was started before this run.
    for (;;) {
      const [running] = await rows<{ n: string }>(
        "SELECT count() AS n FROM system.processes WHERE query_kind = 'Insert' AND elapsed >= {seconds:Float64}",
        { seconds: (Date.now() - startedAt) / 1000 },
      );
      if (Number(running?.n ?? 0) === 0) break;
      if (Date.now() - startedAt > REBUILD_INSERT_WAIT_MS)
        throw new StoreError(
          'MIGRATION_FAILED',
          `rebuild of ${name}: inserts that started before it are still running after ${REBUILD_INSERT_WAIT_MS / 60_000} minutes; run the migration again when they end (nothing is lost: ${name}_rebuilt keeps their rows)`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await moveAll();
  }
  // Parts written under the old settings hold granules of many more rows than the new setting allows (a part written
  // under it may end on a granule a little larger: the engine folds a short remainder into the last one). They are
  // merged horizontally: a vertical merge keeps its source parts' granules (at 10 M, 138 k rows merged vertically
  // kept 35 granules; horizontally, 541).
  const oldParts = `AND name IN (SELECT part_name FROM mergeTreeIndex(${quoteString(context.database)}, ${quoteString(name)})
      WHERE rows_in_granule > ${2 * Number(target)})`;
  const regranulate = await partitionsOf(name, oldParts);
  if (regranulate.length > 0)
    await client.command({
      query: `ALTER TABLE ${table} MODIFY SETTING enable_vertical_merge_algorithm = 0`,
    });
  for (const id of regranulate)
    await client.command({ query: `OPTIMIZE TABLE ${table} PARTITION ID ${quoteString(id)} FINAL` });
  // Back to the table's own merges (also after a run that stopped between the two).
  if (/\benable_vertical_merge_algorithm = 0\b/.test((await createOf(name)) ?? ''))
    await client.command({ query: `ALTER TABLE ${table} RESET SETTING enable_vertical_merge_algorithm` });
  if ((await createOf(`${name}_rebuilt`)) === undefined) return;
  if ((await partitionsOf(`${name}_rebuilt`)).length > 0)
    throw new StoreError(
      'MIGRATION_FAILED',
      `rebuild of ${name}: rows reached ${name}_rebuilt (the table as it was) after every part was moved; run the migration again to move them`,
    );
  await client.command({ query: `DROP TABLE ${rebuilt}` });
}

/**
 * Checks what the store has applied against the released migrations, then applies every migration not yet
 * recorded, in order, and records each one with its released checksum. A recorded migration that is unknown, named
 * differently or recorded with another checksum is an error naming it, raised before anything is written. Safe to
 * run concurrently with itself and repeatedly: statements are idempotent and the record is a ReplacingMergeTree
 * keyed on the version.
 *
 * Stores written by versions before released checksums recorded a hash of the statements as rendered for that
 * store (database, cluster and the retention of the day), which cannot be recomputed: their records are re-recorded
 * once with the released checksums, keeping `applied_at`, and checked from then on.
 */
export async function runMigrations(
  client: ClickHouseClient,
  context: RenderContext,
): Promise<MigrationResult> {
  try {
    checkReleasedMigrations();
    for (const statement of bootstrapStatements(context)) {
      await client.command({ query: statement });
    }
    const table = `${quoteIdentifier(context.database)}.${quoteIdentifier(MIGRATIONS_TABLE.name)}`;
    const recorded = await client.query({
      query: `SELECT version, name, checksum, toString(applied_at) AS applied_at FROM ${table} FINAL ORDER BY version`,
      format: 'JSONEachRow',
    });
    const records = (await recorded.json<MigrationRecord>()).map((row) => ({
      ...row,
      version: Number(row.version),
    }));
    const review = reviewRecords(records);
    const [first] = review.problems;
    if (first !== undefined) {
      throw new StoreError(first.code, review.problems.map((problem) => problem.message).join('\n'));
    }
    if (review.legacy.length > 0) {
      await client.insert({
        table,
        values: review.legacy.map((record) => ({
          ...record,
          checksum: MIGRATIONS.find((migration) => migration.version === record.version)?.checksum,
        })),
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: '' },
      });
    }
    const appliedBefore = new Set(records.map((record) => record.version));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (appliedBefore.has(migration.version)) continue;
      await applyMigration(client, migration, context);
      await client.insert({
        table,
        values: [
          {
            version: migration.version,
            name: migration.name,
            checksum: migration.checksum,
            applied_at: dateToDateTime64(new Date()),
          },
        ],
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: '' },
      });
      applied.push(migration.version);
    }
    // A store created by this run already has the configured TTLs; only record them.
    await applyRetention(client, context, applied.includes(1), review.legacyRetention);
    if (review.legacyRetention !== undefined) {
      const storage = `${quoteIdentifier(context.database)}.${quoteIdentifier(storageTableName(MIGRATIONS_TABLE.name, context))}`;
      const onCluster =
        context.cluster === undefined ? '' : ` ON CLUSTER ${quoteIdentifier(context.cluster)}`;
      await client.command({
        query: `ALTER TABLE ${storage}${onCluster} DELETE WHERE version = ${LEGACY_RETENTION_VERSION}`,
        clickhouse_settings: { mutations_sync: '2' },
      });
    }
    return { applied, current: Math.max(0, ...MIGRATIONS.map((m) => m.version)) };
  } catch (cause) {
    if (cause instanceof StoreError) throw cause;
    throw new StoreError('MIGRATION_FAILED', `schema migration failed: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * For a store opened without migrating (reading commands never change the store): checks that it has every
 * released migration this version reads, so a query does not fail later on a table or view the store lacks.
 * Recorded migrations are reviewed as {@link runMigrations} reviews them (an unknown or changed one is its error);
 * missing ones are `MIGRATION_PENDING`, naming them and the command that applies them. Writes nothing.
 */
export async function checkMigrationsApplied(
  client: ClickHouseClient,
  context: RenderContext,
): Promise<void> {
  let records: MigrationRecord[];
  try {
    const table = `${quoteIdentifier(context.database)}.${quoteIdentifier(MIGRATIONS_TABLE.name)}`;
    const exists = await client.query({
      query: `SELECT count() AS n FROM system.tables WHERE database = {database:String} AND name = {name:String}`,
      query_params: { database: context.database, name: MIGRATIONS_TABLE.name },
      format: 'JSONEachRow',
    });
    const [found] = await exists.json<{ n: string | number }>();
    if (Number(found?.n ?? 0) === 0) {
      throw new StoreError(
        'MIGRATION_PENDING',
        `the store has no decisiontrail schema (database ${context.database}): create it with \`decisiontrail migrate\` or by starting \`decisiontrail serve\``,
      );
    }
    const recorded = await client.query({
      query: `SELECT version, name, checksum, toString(applied_at) AS applied_at FROM ${table} FINAL ORDER BY version`,
      format: 'JSONEachRow',
    });
    records = (await recorded.json<MigrationRecord>()).map((row) => ({
      ...row,
      version: Number(row.version),
    }));
  } catch (cause) {
    if (cause instanceof StoreError) throw cause;
    throw new StoreError(
      'MIGRATION_FAILED',
      `cannot read the store's migrations: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const [first, ...more] = reviewRecords(records).problems;
  if (first !== undefined) {
    throw new StoreError(first.code, [first, ...more].map((problem) => problem.message).join('\n'));
  }
  const applied = new Set(records.map((record) => record.version));
  const pending = MIGRATIONS.filter((migration) => !applied.has(migration.version));
  if (pending.length > 0) {
    const names = pending.map((migration) => `${migration.version} ${migration.name}`).join(', ');
    throw new StoreError(
      'MIGRATION_PENDING',
      `the store lacks ${pending.length} migration(s) this version of decisiontrail reads (${names}); ` +
        'apply them with `decisiontrail migrate` (it changes the store; reading commands never do)',
    );
  }
}

/** Tables whose TTL follows the retention options. */
const RETENTION_TABLES = [
  'otel_traces',
  'otel_traces_trace_id_ts',
  'audit_decisions',
  'audit_oversight',
  'audit_feedback',
  'audit_decision_links',
  'audit_decisions_by_confidence',
  'audit_overrides',
  'audit_decision_stats',
  'audit_oversight_stats',
  'audit_feedback_stats',
  'audit_confidence_stats',
  'audit_quarantine',
];

/** The setting that records the retention the TTLs were last set to. */
const RETENTION_SETTING = 'retention';

/**
 * Keeps TTLs in step with the configured retention: when it differs from what was last applied,
 * every table's TTL is rewritten. Existing parts are not rewritten (`materialize_ttl_after_modify
 * = 0`): the new TTL applies as parts merge and to new parts.
 */
async function applyRetention(
  client: ClickHouseClient,
  context: RenderContext,
  createdNow: boolean,
  legacyRetention: string | undefined,
): Promise<void> {
  const fingerprint = JSON.stringify(context.retention);
  const recorded = (await readSetting(client, context, RETENTION_SETTING)) ?? legacyRetention;
  if (recorded === fingerprint && legacyRetention === undefined) return;
  if (recorded !== fingerprint && !createdNow) await rewriteTtls(client, context);
  await writeSetting(client, context, RETENTION_SETTING, fingerprint);
}

function settingsTable(context: RenderContext): string {
  return `${quoteIdentifier(context.database)}.${quoteIdentifier(SETTINGS_TABLE.name)}`;
}

/** The current value of a store setting, or undefined when it was never written. */
async function readSetting(
  client: ClickHouseClient,
  context: RenderContext,
  name: string,
): Promise<string | undefined> {
  const result = await client.query({
    query: `SELECT value FROM ${settingsTable(context)} FINAL WHERE name = {name:String}`,
    query_params: { name },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ value: string }>();
  return row?.value;
}

async function writeSetting(
  client: ClickHouseClient,
  context: RenderContext,
  name: string,
  value: string,
): Promise<void> {
  await client.insert({
    table: settingsTable(context),
    values: [{ name, value, updated_at: dateToDateTime64(new Date()) }],
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: '' },
  });
}

async function rewriteTtls(client: ClickHouseClient, context: RenderContext): Promise<void> {
  const onCluster = context.cluster === undefined ? '' : ` ON CLUSTER ${quoteIdentifier(context.cluster)}`;
  const names = RETENTION_TABLES.map((name) => storageTableName(name, context));
  // REMOVE TTL fails on a table that has none, so look first.
  const result = await client.query({
    query: `SELECT name FROM system.tables
            WHERE database = {database:String} AND has({names:Array(String)}, name) AND match(create_table_query, '\\bTTL\\b')`,
    query_params: { database: context.database, names },
    format: 'JSONEachRow',
  });
  const withTtl = new Set((await result.json<{ name: string }>()).map((row) => row.name));
  for (const name of RETENTION_TABLES) {
    const ttl = ttlFor(name, context.retention);
    const storage = storageTableName(name, context);
    if (ttl === '' && !withTtl.has(storage)) continue;
    const target = `${quoteIdentifier(context.database)}.${quoteIdentifier(storage)}${onCluster}`;
    await client.command({
      query: ttl === '' ? `ALTER TABLE ${target} REMOVE TTL` : `ALTER TABLE ${target} MODIFY ${ttl}`,
      clickhouse_settings: { materialize_ttl_after_modify: 0 },
    });
  }
}
