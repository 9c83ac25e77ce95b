import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  bootstrapStatements,
  migrationStatements,
  renderContext,
  type Store,
  type TimelineWithEvidence,
} from '@decisiontrail/clickhouse';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { openTempStore } from '../support/temp-store.ts';

/** The version of the layout every store had before this session's storage migrations. */
const BEFORE = 14;

async function tableNames(store: Store): Promise<string[]> {
  const result = await store.client.query({
    query: "SELECT name FROM system.tables WHERE database = 'default' ORDER BY name",
    format: 'JSONEachRow',
  });
  return (await result.json<{ name: string }>()).map((row) => row.name);
}

const canonical = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).sort();

/**
 * A store written at migration 14 and then migrated keeps answering as it did: what later migrations take out of
 * the audit tables is read from the spans instead, for the rows stored before as for those stored after.
 */
describe('storage layout migrations (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  /** What the timeline with its evidence read at migration 14, per decision asked for. */
  const before = new Map<string, TimelineWithEvidence>();
  const asked = (): string[] =>
    [0, 6, 150, data.decisions.length - 1].map((i) => data.decisions[i]!.decisionId);

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore({ migrate: false }));
    const context = renderContext({
      database: 'default',
      cluster: undefined,
      retention: store.options.retention,
    });
    for (const statement of bootstrapStatements(context)) await store.client.command({ query: statement });
    for (const migration of MIGRATIONS.filter((m) => m.version <= BEFORE)) {
      for (const statement of migrationStatements(migration, context)) {
        await store.client.command({ query: statement });
      }
      await store.client.command({
        query: `INSERT INTO default.decisiontrail_migrations VALUES (${migration.version}, '${migration.name}', '${migration.checksum}', now64())`,
      });
    }
    data = buildAuditDataset();
    await store.insertSpans(data.spans);
    for (const decisionId of asked())
      before.set(decisionId, await store.timelineWithEvidence({ decisionId }));
    expect((await store.migrate()).applied).toEqual(
      MIGRATIONS.filter((m) => m.version > BEFORE).map((m) => m.version),
    );
  });
  afterAll(async () => {
    await cleanup();
  });

  it('drops audit_checkpoint_leaves and its view (migration 15)', async () => {
    const names = await tableNames(store);
    expect(names).toContain('audit_checkpoints');
    expect(names).not.toContain('audit_checkpoint_leaves');
    expect(names).not.toContain('audit_checkpoint_leaves_mv');
  });

  it('reads the same timeline, and each covering checkpoint as its whole stored span', async () => {
    for (const decisionId of asked()) {
      const was = before.get(decisionId)!;
      const now = await store.timelineWithEvidence({ decisionId });
      expect(canonical(now.entries)).toEqual(canonical(was.entries));
      expect(canonical(now.evidence.spans)).toEqual(canonical(was.evidence.spans));
      // Before, a checkpoint came from the copy of its attributes (ids, time, attributes); now from otel_traces.
      expect(now.evidence.checkpoints.length).toBeGreaterThan(0);
      const key = (c: (typeof was.evidence.checkpoints)[number]) =>
        JSON.stringify([c.traceId, c.spanId, c.startTimeUnixNano, c.attributes]);
      expect(now.evidence.checkpoints.map(key).sort()).toEqual(was.evidence.checkpoints.map(key).sort());
      // The whole span now: its name, end time and resource as stored (the copy had none of them).
      for (const checkpoint of now.evidence.checkpoints) {
        const stored = data.spans.find((s) => s.spanId === checkpoint.spanId)!;
        expect([checkpoint.name, checkpoint.endTimeUnixNano, checkpoint.resourceAttributes]).toEqual([
          stored.name,
          stored.endTimeUnixNano,
          stored.resourceAttributes,
        ]);
      }
    }
  });

  it('stores the decision rollup and the trace-id table with their new codecs, same columns and types (migration 18)', async () => {
    const result = await store.client.query({
      query: `SELECT table, name, type, compression_codec FROM system.columns
        WHERE database = 'default' AND table IN ('audit_decision_stats', 'otel_traces_trace_id_ts')
          AND name IN ('decisions', 'first_time', 'confidence_quantiles', 'Start', 'End')
        ORDER BY table, name`,
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([
      {
        table: 'audit_decision_stats',
        name: 'confidence_quantiles',
        type: 'AggregateFunction(quantilesTDigest(0.5, 0.9), Float64)',
        compression_codec: 'CODEC(ZSTD(3))',
      },
      {
        table: 'audit_decision_stats',
        name: 'decisions',
        type: 'SimpleAggregateFunction(sum, UInt64)',
        compression_codec: 'CODEC(T64, ZSTD(1))',
      },
      {
        table: 'audit_decision_stats',
        name: 'first_time',
        type: 'SimpleAggregateFunction(min, DateTime64(9))',
        compression_codec: 'CODEC(T64, ZSTD(1))',
      },
      {
        table: 'otel_traces_trace_id_ts',
        name: 'End',
        type: 'SimpleAggregateFunction(max, DateTime)',
        compression_codec: 'CODEC(T64, ZSTD(1))',
      },
      {
        table: 'otel_traces_trace_id_ts',
        name: 'Start',
        type: 'SimpleAggregateFunction(min, DateTime)',
        compression_codec: 'CODEC(T64, ZSTD(1))',
      },
    ]);
    // Rows stored before and merged after the change read back the same (the rollup's sum over every decision).
    await store.client.command({ query: 'OPTIMIZE TABLE default.audit_decision_stats FINAL' });
    await store.client.command({ query: 'OPTIMIZE TABLE default.otel_traces_trace_id_ts FINAL' });
    const counted = await store.client.query({
      query: `SELECT (SELECT sum(decisions) FROM default.audit_decision_stats) AS decisions,
        (SELECT count() FROM (SELECT TraceId FROM default.otel_traces_trace_id_ts GROUP BY TraceId)) AS traces`,
      format: 'JSONEachRow',
    });
    expect(await counted.json()).toEqual([
      {
        decisions: data.decisions.length,
        traces: new Set(data.spans.map((span) => span.traceId)).size,
      },
    ]);
  });

  it('finds nothing to reconcile in the migrated store', async () => {
    const result = await store.reconcileAuditTables();
    expect(result.findings).toEqual([]);
    expect(result.tables.map((t) => t.table)).not.toContain('audit_checkpoint_leaves');
  });
});
