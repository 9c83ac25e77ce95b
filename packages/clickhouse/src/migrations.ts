import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './errors.ts';
import {
  quoteIdentifier,
  readSqlFile,
  renderSql,
  storageTableName,
  ttlFor,
  type RenderContext,
} from './sql-template.ts';
import { dateToDateTime64 } from './time-format.ts';

/** A table this package owns; on a cluster it becomes Replicated `<name>_local` + Distributed `<name>`. */
interface TableStep {
  kind: 'table';
  name: string;
  file: string;
  /** Distributed sharding key: rows that are read together land on one shard. */
  shardingKey: string;
}

/** A view, materialized view or one-off statement (run once per node, never distributed). */
interface ObjectStep {
  kind: 'object';
  file: string;
}

/** One versioned migration. Every statement is idempotent (`IF NOT EXISTS`). */
export interface Migration {
  version: number;
  name: string;
  steps: readonly (TableStep | ObjectStep)[];
}

const MIGRATIONS_TABLE: TableStep = {
  kind: 'table',
  name: 'decisiontrail_migrations',
  file: 'migrations-table.sql',
  shardingKey: 'version',
};

/** Every migration, in order. Append only: a shipped migration never changes. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'otel_traces',
    steps: [
      { kind: 'table', name: 'otel_traces', file: 'otel-traces.sql', shardingKey: 'cityHash64(TraceId)' },
      {
        kind: 'table',
        name: 'otel_traces_trace_id_ts',
        file: 'otel-traces-trace-id-ts.sql',
        shardingKey: 'cityHash64(TraceId)',
      },
      { kind: 'object', file: 'otel-traces-trace-id-ts-mv.sql' },
    ],
  },
  {
    version: 2,
    name: 'audit_tables',
    steps: [
      {
        kind: 'table',
        name: 'audit_decisions',
        file: 'audit-decisions.sql',
        shardingKey: 'cityHash64(trace_id)',
      },
      { kind: 'object', file: 'audit-decisions-mv.sql' },
      {
        kind: 'table',
        name: 'audit_oversight',
        file: 'audit-oversight.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-oversight-mv.sql' },
      {
        kind: 'table',
        name: 'audit_feedback',
        file: 'audit-feedback.sql',
        shardingKey: 'cityHash64(decision_id)',
      },
      { kind: 'object', file: 'audit-feedback-mv.sql' },
      {
        kind: 'table',
        name: 'audit_deployments',
        file: 'audit-deployments.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-deployments-mv.sql' },
      {
        kind: 'table',
        name: 'audit_checkpoints',
        file: 'audit-checkpoints.sql',
        shardingKey: 'cityHash64(stream)',
      },
      { kind: 'object', file: 'audit-checkpoints-mv.sql' },
    ],
  },
  {
    version: 3,
    name: 'product_tables',
    steps: [
      {
        kind: 'table',
        name: 'audit_incidents',
        file: 'audit-incidents.sql',
        shardingKey: 'cityHash64(incident_id)',
      },
      {
        kind: 'table',
        name: 'audit_quarantine',
        file: 'audit-quarantine.sql',
        shardingKey: 'cityHash64(span_id)',
      },
      {
        kind: 'table',
        name: 'audit_erasures',
        file: 'audit-erasures.sql',
        shardingKey: 'cityHash64(subject_id)',
      },
    ],
  },
  {
    version: 4,
    name: 'investigation_views',
    steps: [{ kind: 'object', file: 'decision-timeline.sql' }],
  },
  {
    version: 5,
    name: 'decision_stats_rollup',
    steps: [
      {
        kind: 'table',
        name: 'audit_decision_stats',
        file: 'audit-decision-stats.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-decision-stats-mv.sql' },
      { kind: 'object', file: 'audit-decision-stats-backfill.sql' },
    ],
  },
  {
    version: 6,
    name: 'report_rollups',
    steps: [
      { kind: 'object', file: 'audit-oversight-model-columns.sql' },
      { kind: 'object', file: 'audit-oversight-model-columns-read.sql' },
      { kind: 'object', file: 'audit-feedback-model-columns.sql' },
      { kind: 'object', file: 'audit-feedback-model-columns-read.sql' },
      {
        kind: 'table',
        name: 'audit_oversight_stats',
        file: 'audit-oversight-rollup.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-oversight-rollup-mv.sql' },
      {
        kind: 'table',
        name: 'audit_feedback_stats',
        file: 'audit-feedback-rollup.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-feedback-rollup-mv.sql' },
      {
        kind: 'table',
        name: 'audit_confidence_stats',
        file: 'audit-confidence-rollup.sql',
        shardingKey: 'cityHash64(model_id)',
      },
      { kind: 'object', file: 'audit-confidence-rollup-mv.sql' },
      { kind: 'object', file: 'audit-confidence-daily-rollup-mv.sql' },
      { kind: 'object', file: 'audit-confidence-rollup-backfill.sql' },
      // The span views fill the model only once the rollups listen, so no row misses its rollup.
      { kind: 'object', file: 'audit-oversight-model-mv.sql' },
      { kind: 'object', file: 'audit-feedback-model-mv.sql' },
      { kind: 'object', file: 'audit-oversight-rollup-backfill.sql' },
      { kind: 'object', file: 'audit-feedback-rollup-backfill.sql' },
    ],
  },
  {
    version: 7,
    name: 'decision_timeline_lookups',
    steps: [{ kind: 'object', file: 'decision-timeline-view.sql' }],
  },
  {
    // Trace spans bounded by the decisions' time instead of a trace-id-table scalar subquery.
    version: 8,
    name: 'decision_timeline_span_window',
    steps: [{ kind: 'object', file: 'decision-timeline-view.sql' }],
  },
  {
    // Oversight and feedback recorded in the decision's own trace shown once, not also as trace spans.
    version: 9,
    name: 'decision_timeline_follow_ups_once',
    steps: [{ kind: 'object', file: 'decision-timeline-view.sql' }],
  },
  {
    // Independent witnesses' cosignatures of stored checkpoints (written by serve's witness submitter).
    version: 10,
    name: 'audit_cosignatures',
    steps: [
      {
        kind: 'table',
        name: 'audit_cosignatures',
        file: 'audit-cosignatures.sql',
        shardingKey: 'cityHash64(stream)',
      },
    ],
  },
];

const ALL_TABLES: ReadonlySet<string> = new Set(
  [MIGRATIONS_TABLE, ...MIGRATIONS.flatMap((m) => m.steps)].flatMap((s) =>
    s.kind === 'table' ? [s.name] : [],
  ),
);

/** Build the render context for a database/cluster/retention. */
export function renderContext(options: Omit<RenderContext, 'tables'>): RenderContext {
  return { ...options, tables: ALL_TABLES };
}

function stepStatements(step: TableStep | ObjectStep, context: RenderContext): string[] {
  const statement = renderSql(readSqlFile(step.file), context);
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
  const statements = migration.steps.flatMap((step) => stepStatements(step, context));
  if (migration.version === 1 && context.cluster === undefined) {
    // Insert deduplication tokens work on non-replicated tables only with a window (replicated
    // tables keep one by default). Settings are not part of the exporter's schema contract.
    statements.push(
      `ALTER TABLE ${quoteIdentifier(context.database)}.${quoteIdentifier('otel_traces')} ` +
        'MODIFY SETTING non_replicated_deduplication_window = 1000',
    );
  }
  return statements;
}

/** The statements that create the migrations table itself. */
export function bootstrapStatements(context: RenderContext): string[] {
  const statements = [
    `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(context.database)}` +
      (context.cluster === undefined ? '' : ` ON CLUSTER ${quoteIdentifier(context.cluster)}`),
  ];
  return [...statements, ...stepStatements(MIGRATIONS_TABLE, context)];
}

function checksum(statements: string[]): string {
  return createHash('sha256').update(statements.join('\n;\n')).digest('hex');
}

/** What {@link runMigrations} did. */
export interface MigrationResult {
  /** Versions applied by this run. */
  applied: number[];
  /** Latest version now present. */
  current: number;
}

/**
 * Applies every migration not yet recorded, in order, and records each one. Safe to run
 * concurrently with itself and repeatedly: statements are idempotent and the record is a
 * ReplacingMergeTree keyed on the version.
 */
export async function runMigrations(
  client: ClickHouseClient,
  context: RenderContext,
): Promise<MigrationResult> {
  try {
    for (const statement of bootstrapStatements(context)) {
      await client.command({ query: statement });
    }
    const table = `${quoteIdentifier(context.database)}.${quoteIdentifier('decisiontrail_migrations')}`;
    const done = await client.query({
      query: `SELECT DISTINCT version FROM ${table}`,
      format: 'JSONEachRow',
    });
    const appliedBefore = new Set((await done.json<{ version: number }>()).map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (appliedBefore.has(migration.version)) continue;
      const statements = migrationStatements(migration, context);
      for (const statement of statements) {
        await client.command({ query: statement });
      }
      await client.insert({
        table,
        values: [
          {
            version: migration.version,
            name: migration.name,
            checksum: checksum(statements),
            applied_at: dateToDateTime64(new Date()),
          },
        ],
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: '' },
      });
      applied.push(migration.version);
    }
    // A store created by this run already has the configured TTLs; only record them.
    await applyRetention(client, context, table, applied.includes(1));
    return { applied, current: Math.max(0, ...MIGRATIONS.map((m) => m.version)) };
  } catch (cause) {
    if (cause instanceof StoreError) throw cause;
    throw new StoreError('MIGRATION_FAILED', `schema migration failed: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/** Tables whose TTL follows the retention options. */
const RETENTION_TABLES = [
  'otel_traces',
  'otel_traces_trace_id_ts',
  'audit_decisions',
  'audit_oversight',
  'audit_feedback',
  'audit_decision_stats',
  'audit_oversight_stats',
  'audit_feedback_stats',
  'audit_confidence_stats',
  'audit_quarantine',
];

/** Row of `decisiontrail_migrations` that records the retention the TTLs were last set to. */
const RETENTION_RECORD_VERSION = 1_000_000;

/**
 * Keeps TTLs in step with the configured retention: when it differs from what was last applied,
 * every table's TTL is rewritten. Existing parts are not rewritten (`materialize_ttl_after_modify
 * = 0`): the new TTL applies as parts merge and to new parts.
 */
async function applyRetention(
  client: ClickHouseClient,
  context: RenderContext,
  migrationsTable: string,
  createdNow: boolean,
): Promise<void> {
  const fingerprint = JSON.stringify(context.retention);
  const result = await client.query({
    query: `SELECT argMax(checksum, applied_at) AS retention FROM ${migrationsTable} WHERE version = {version:UInt32}`,
    query_params: { version: RETENTION_RECORD_VERSION },
    format: 'JSONEachRow',
  });
  const [recorded] = await result.json<{ retention: string }>();
  if (recorded?.retention === fingerprint) return;
  if (!createdNow) await rewriteTtls(client, context);
  await client.insert({
    table: migrationsTable,
    values: [
      {
        version: RETENTION_RECORD_VERSION,
        name: 'retention',
        checksum: fingerprint,
        applied_at: dateToDateTime64(new Date()),
      },
    ],
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
