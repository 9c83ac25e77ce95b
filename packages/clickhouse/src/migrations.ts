import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './errors.ts';
import { MIGRATIONS, type Migration, type ObjectStep, type TableStep } from './migration-list.ts';
import {
  quoteIdentifier,
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
export type { Migration, ObjectStep, TableStep };

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
function migrationStepSql(migration: Migration, step: TableStep | ObjectStep): string {
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

function stepStatements(template: string, step: TableStep | ObjectStep, context: RenderContext): string[] {
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
      for (const statement of migrationStatements(migration, context)) {
        await client.command({ query: statement });
      }
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
