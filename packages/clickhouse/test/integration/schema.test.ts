import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMBEDDED_MAX_COMPRESS_BLOCK_SIZE,
  MIGRATIONS,
  bootstrapStatements,
  migrationStatements,
  openStore,
  rbacStatements,
  renderContext,
  resolveStoreOptions,
  type Store,
} from '@decisiontrail/clickhouse';
import { openTempStore } from '../support/temp-store.ts';

// Column name → type and codec of the Collector contrib clickhouseexporter's traces table
// (internal/sqltemplates/traces_table.sql), written down independently of
// sql/migrations/001-otel-traces/otel-traces.sql.
const EXPORTER_COLUMNS: [string, string, string][] = [
  ['Timestamp', 'DateTime64(9)', 'CODEC(Delta(8), ZSTD(1))'],
  ['TraceId', 'String', 'CODEC(ZSTD(1))'],
  ['SpanId', 'String', 'CODEC(ZSTD(1))'],
  ['ParentSpanId', 'String', 'CODEC(ZSTD(1))'],
  ['TraceState', 'String', 'CODEC(ZSTD(1))'],
  ['SpanName', 'LowCardinality(String)', 'CODEC(ZSTD(1))'],
  ['SpanKind', 'LowCardinality(String)', 'CODEC(ZSTD(1))'],
  ['ServiceName', 'LowCardinality(String)', 'CODEC(ZSTD(1))'],
  ['ResourceAttributes', 'Map(LowCardinality(String), String)', 'CODEC(ZSTD(1))'],
  ['ScopeName', 'String', 'CODEC(ZSTD(1))'],
  ['ScopeVersion', 'String', 'CODEC(ZSTD(1))'],
  ['SpanAttributes', 'Map(LowCardinality(String), String)', 'CODEC(ZSTD(1))'],
  ['Duration', 'UInt64', 'CODEC(T64, ZSTD(1))'],
  ['StatusCode', 'LowCardinality(String)', 'CODEC(ZSTD(1))'],
  ['StatusMessage', 'String', 'CODEC(ZSTD(1))'],
  ['Events.Timestamp', 'Array(DateTime64(9))', 'CODEC(ZSTD(1))'],
  ['Events.Name', 'Array(LowCardinality(String))', 'CODEC(ZSTD(1))'],
  ['Events.Attributes', 'Array(Map(LowCardinality(String), String))', 'CODEC(ZSTD(1))'],
  ['Links.TraceId', 'Array(String)', 'CODEC(ZSTD(1))'],
  ['Links.SpanId', 'Array(String)', 'CODEC(ZSTD(1))'],
  ['Links.TraceState', 'Array(String)', 'CODEC(ZSTD(1))'],
  ['Links.Attributes', 'Array(Map(LowCardinality(String), String))', 'CODEC(ZSTD(1))'],
  ['ResourceAttributeItems', 'Array(String)', ''],
  ['SpanAttributeItems', 'Array(String)', ''],
];

const EXPORTER_INDEXES: [string, string, string][] = [
  ['idx_trace_id', 'TraceId', 'bloom_filter(0.001)'],
  ['idx_res_attr_key', 'mapKeys(ResourceAttributes)', 'bloom_filter(0.01)'],
  ['idx_res_attr_value', 'mapValues(ResourceAttributes)', 'bloom_filter(0.01)'],
  ['idx_span_attr_key', 'mapKeys(SpanAttributes)', 'bloom_filter(0.01)'],
  ['idx_span_attr_value', 'mapValues(SpanAttributes)', 'bloom_filter(0.01)'],
  ['idx_duration', 'Duration', 'minmax'],
  ['idx_lower_span_name', 'lower(SpanName)', 'tokenbf_v1(32768, 3, 0)'],
];

async function rows<T>(store: Store, query: string, params: Record<string, string> = {}): Promise<T[]> {
  const result = await store.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

describe('schema and migrations (embedded engine)', () => {
  let store: Store;
  let dataDir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, dataDir, cleanup } = await openTempStore());
  });
  afterAll(async () => {
    await cleanup();
  });

  it('creates otel_traces with the exporter columns, types, codecs (but one), indexes, partitioning and ordering', async () => {
    const columns = await rows<{ name: string; type: string; compression_codec: string }>(
      store,
      `SELECT name, type, compression_codec FROM system.columns
       WHERE database = 'default' AND table = 'otel_traces' ORDER BY position`,
    );
    // Migration 19 stores ResourceAttributes at ZSTD(6) (codecs are not part of the exporter's contract).
    expect(columns.map((c) => [c.name, c.type, c.compression_codec])).toEqual(
      EXPORTER_COLUMNS.map(([name, type, codec]) => [
        name,
        type,
        name === 'ResourceAttributes' ? 'CODEC(ZSTD(6))' : codec,
      ]),
    );
    const indexes = await rows<{ name: string; expr: string; type_full: string; granularity: number }>(
      store,
      `SELECT name, expr, type_full, granularity FROM system.data_skipping_indices
       WHERE database = 'default' AND table = 'otel_traces'`,
    );
    expect(indexes.map((i) => [i.name, i.expr, i.type_full])).toEqual(EXPORTER_INDEXES);
    const [table] = await rows<{
      partition_key: string;
      sorting_key: string;
      primary_key: string;
      engine: string;
      create_table_query: string;
    }>(
      store,
      `SELECT partition_key, sorting_key, primary_key, engine, create_table_query FROM system.tables
       WHERE database = 'default' AND name = 'otel_traces'`,
    );
    expect(table).toMatchObject({
      engine: 'MergeTree',
      partition_key: 'toDate(Timestamp)',
      primary_key: 'ServiceName, SpanName, toDateTime(Timestamp)',
      sorting_key: 'ServiceName, SpanName, toDateTime(Timestamp), Timestamp',
    });
    expect(table?.create_table_query).toContain('ttl_only_drop_parts = 1');
    expect(table?.create_table_query).toMatch(/TTL multiIf\(/);
  });

  it('creates the trace-id lookup table and its materialized view like the exporter', async () => {
    const columns = await rows<{ name: string; type: string }>(
      store,
      `SELECT name, type FROM system.columns WHERE database = 'default' AND table = 'otel_traces_trace_id_ts' ORDER BY position`,
    );
    expect(columns).toEqual([
      { name: 'TraceId', type: 'String' },
      { name: 'Start', type: 'SimpleAggregateFunction(min, DateTime)' },
      { name: 'End', type: 'SimpleAggregateFunction(max, DateTime)' },
    ]);
    const tables = await rows<{ name: string; engine: string }>(
      store,
      `SELECT name, engine FROM system.tables WHERE database = 'default' AND name LIKE 'otel_traces%' ORDER BY name`,
    );
    expect(tables).toEqual([
      { name: 'otel_traces', engine: 'MergeTree' },
      { name: 'otel_traces_trace_id_ts', engine: 'AggregatingMergeTree' },
      { name: 'otel_traces_trace_id_ts_mv', engine: 'MaterializedView' },
    ]);
  });

  it('caps the compression block of every embedded MergeTree table (merge memory), keeping the exporter schema', async () => {
    const tables = await rows<{ name: string; create_table_query: string }>(
      store,
      "SELECT name, create_table_query FROM system.tables WHERE database = 'default' AND engine LIKE '%MergeTree'",
    );
    expect(tables.map((t) => t.name)).toContain('otel_traces');
    expect(tables.length).toBeGreaterThanOrEqual(10);
    for (const table of tables) {
      expect(table.create_table_query, table.name).toContain(
        `max_compress_block_size = ${EMBEDDED_MAX_COMPRESS_BLOCK_SIZE}`,
      );
    }
    // the engine's own default (a query setting) is larger: the cap is ours, not the engine's
    const [engine] = await rows<{ value: string }>(
      store,
      "SELECT value FROM system.settings WHERE name = 'max_compress_block_size'",
    );
    expect(Number(engine!.value)).toBeGreaterThan(EMBEDDED_MAX_COMPRESS_BLOCK_SIZE);
  });

  it('records every migration once and is idempotent when opened again', async () => {
    const recorded = await rows<{ version: number; name: string }>(
      store,
      "SELECT version, name FROM default.decisiontrail_migrations FINAL WHERE name != 'retention' ORDER BY version",
    );
    expect(recorded).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(await store.migrate()).toEqual({ applied: [], current: MIGRATIONS.length });
    const views = await rows<{ name: string }>(
      store,
      `SELECT name FROM system.tables WHERE database = 'default' AND engine IN ('MaterializedView', 'View') ORDER BY name`,
    );
    expect(views.map((v) => v.name)).toEqual([
      'audit_checkpoint_spans_mv',
      'audit_checkpoints_mv',
      'audit_confidence_daily_stats_mv',
      'audit_confidence_stats_mv',
      'audit_decision_links_all_mv',
      'audit_decision_stats_mv',
      'audit_decisions_by_confidence_mv',
      'audit_decisions_mv',
      'audit_deployments_mv',
      'audit_feedback_mv',
      'audit_feedback_stats_mv',
      'audit_overrides_decisions_mv',
      'audit_overrides_oversight_mv',
      'audit_oversight_mv',
      'audit_oversight_stats_mv',
      'audit_routed_spans_mv',
      'decision_timeline',
      'otel_traces_trace_id_ts_mv',
    ]);
  });

  it('maps retention classes to TTLs from the options', async () => {
    const [table] = await rows<{ create_table_query: string }>(
      store,
      `SELECT create_table_query FROM system.tables WHERE database = 'default' AND name = 'audit_decisions'`,
    );
    const ddl = table?.create_table_query ?? '';
    expect(ddl).toContain("retention_class = 'high_risk', toDateTime(time) + toIntervalDay(3653)");
    expect(ddl).toContain("retention_class = 'incident', toDateTime('2106-01-01 00:00:00', 'UTC')");
    expect(ddl).toContain('toDateTime(time) + toIntervalDay(2557))');
    expect(ddl).toContain('PARTITION BY (retention_class, toYYYYMM(time))');
  });

  it('generates cluster DDL (ON CLUSTER, Replicated*, Distributed) that the engine parser accepts', async () => {
    const context = renderContext({
      database: 'audit',
      cluster: 'prod',
      retention: resolveStoreOptions({ retention: { standard: 400 } }).retention,
    });
    const statements = [
      ...bootstrapStatements(context),
      ...MIGRATIONS.flatMap((m) => migrationStatements(m, context)),
    ];
    const creates = statements.filter((s) => /^CREATE TABLE/.test(s.trim()));
    expect(creates.every((s) => s.includes('ON CLUSTER `prod`'))).toBe(true);
    expect(statements.join('\n')).toContain(
      "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
    );
    expect(statements.join('\n')).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version, deleted)",
    );
    expect(statements).toContain(
      'CREATE TABLE IF NOT EXISTS `audit`.`otel_traces` ON CLUSTER `prod` AS `audit`.`otel_traces_local` ' +
        'ENGINE = Distributed(`prod`, `audit`, `otel_traces_local`, cityHash64(TraceId))',
    );
    // Materialized views hang off the local tables that receive the rows; views read the Distributed ones.
    const mv = statements.find((s) => s.includes('audit_decisions_mv')) ?? '';
    expect(mv).toContain('TO `audit`.`audit_decisions_local`');
    expect(mv).toContain('FROM `audit`.`otel_traces_local`');
    const timeline = statements.find((s) => s.includes('decision_timeline')) ?? '';
    expect(timeline).toContain('FROM `audit`.`audit_decisions` FINAL');
    for (const statement of [
      ...statements,
      ...rbacStatements({
        database: 'audit',
        cluster: 'prod',
        rowPolicies: [{ role: 'tenant_a', services: ["loan's"] }],
      }),
    ]) {
      const [formatted] = await rows<{ q: string }>(store, 'SELECT formatQuery({s:String}) AS q', {
        s: statement,
      });
      expect(formatted?.q.length).toBeGreaterThan(0);
    }
  });

  it('generates RBAC DDL: writer inserts only, auditor reads typed tables and the view, row policies per service', async () => {
    const ddl = rbacStatements({
      database: 'default',
      rowPolicies: [{ role: 'tenant_a', services: ['loan-service'] }],
    });
    expect(ddl[0]).toBe(
      'CREATE ROLE IF NOT EXISTS decisiontrail_writer, decisiontrail_auditor, decisiontrail_investigator',
    );
    const writerGrants = ddl.filter((s) => s.startsWith('GRANT') && s.endsWith('TO decisiontrail_writer'));
    expect(writerGrants.every((s) => /^GRANT INSERT ON/.test(s))).toBe(true);
    expect(ddl).toContain(
      'REVOKE ALTER DELETE, ALTER UPDATE, TRUNCATE, DROP TABLE ON `default`.* FROM decisiontrail_writer',
    );
    const auditorGrants = ddl.filter((s) => s.endsWith('TO decisiontrail_auditor'));
    expect(auditorGrants.some((s) => s.includes('`otel_traces`'))).toBe(false);
    expect(auditorGrants).toContain('GRANT SELECT ON `default`.`decision_timeline` TO decisiontrail_auditor');
    expect(auditorGrants).toContain(
      'GRANT SELECT ON `default`.`audit_oversight_stats` TO decisiontrail_auditor',
    );
    // Rollups without a service column are closed to a service-restricted role.
    expect(ddl).toContain(
      'CREATE ROW POLICY IF NOT EXISTS `tenant_a_audit_feedback_stats` ON `default`.`audit_feedback_stats` FOR SELECT USING 0 TO tenant_a',
    );
    expect(ddl).toContain(
      "CREATE ROW POLICY IF NOT EXISTS `tenant_a_otel_traces` ON `default`.`otel_traces` FOR SELECT USING ServiceName IN ('loan-service') TO tenant_a",
    );
    expect(() => rbacStatements({ database: 'x; DROP TABLE y' })).toThrow(/database must match/);
  });

  it('refuses a second data directory in the same process with a typed error', async () => {
    await expect(openStore({ dataDir: `${dataDir}-other` })).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
    });
  });

  it('rewrites the TTLs when the retention options change', async () => {
    await store.close();
    const reopened = await openStore({ dataDir, retention: { standard: 30, high_risk: null } });
    try {
      const [table] = await rows<{ create_table_query: string }>(
        reopened,
        `SELECT create_table_query FROM system.tables WHERE database = 'default' AND name = 'audit_decisions'`,
      );
      expect(table?.create_table_query).toContain('toDateTime(time) + toIntervalDay(30))');
      expect(table?.create_table_query).toContain(
        "retention_class = 'high_risk', toDateTime('2106-01-01 00:00:00', 'UTC')",
      );
    } finally {
      await reopened.close();
    }
  });
});
