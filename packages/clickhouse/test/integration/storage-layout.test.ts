import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  bootstrapStatements,
  migrationStatements,
  renderContext,
  type Store,
  type TimelineEntry,
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
  /**
   * What the timeline read at migration 14, per decision asked for (its evidence is not readable there since
   * migration 23: the check reads the covering checkpoints from audit_checkpoint_spans).
   */
  const before = new Map<string, TimelineEntry[]>();
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
    // The data set's checkpoints carry no leaf list; one of a stream of its own carries three leaves.
    const template = data.spans.find((s) => s.attributes['audit.record.type'] === 'checkpoint')!;
    data.spans.push({
      ...template,
      spanId: 'c0ffee00c0ffee00',
      attributes: {
        ...template.attributes,
        'audit.integrity.stream': 'stream-with-leaves',
        'audit.checkpoint.size': '1000',
        'audit.checkpoint.leaves': Buffer.alloc(96, 7).toString('base64'),
      },
    });
    await store.insertSpans(data.spans);
    for (const decisionId of asked()) before.set(decisionId, await store.decisionTimeline({ decisionId }));
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
      const now = await store.timelineWithEvidence({ decisionId });
      expect(canonical(now.entries)).toEqual(canonical(before.get(decisionId)!));
      for (const span of now.evidence.spans) {
        const stored = data.spans.find((s) => s.spanId === span.spanId)!;
        expect([span.traceId, span.attributes]).toEqual([stored.traceId, stored.attributes]);
      }
      // Migration 15 read a checkpoint from otel_traces where migration 11's copy held its ids, time and
      // attributes only; migration 23's copy (back-filled here) holds the whole span again.
      expect(now.evidence.checkpoints.length).toBeGreaterThan(0);
      for (const checkpoint of now.evidence.checkpoints) {
        const stored = data.spans.find((s) => s.spanId === checkpoint.spanId)!;
        expect([
          checkpoint.traceId,
          checkpoint.name,
          checkpoint.startTimeUnixNano,
          checkpoint.endTimeUnixNano,
          checkpoint.resourceAttributes,
          checkpoint.attributes,
        ]).toEqual([
          stored.traceId,
          stored.name,
          stored.startTimeUnixNano,
          stored.endTimeUnixNano,
          stored.resourceAttributes,
          stored.attributes,
        ]);
      }
      // The checkpoint entry the timeline shows is one of those read.
      const entry = now.entries.find((e) => e.kind === 'checkpoint');
      expect(now.evidence.checkpoints.map((c) => c.spanId)).toContain(entry?.spanId);
    }
  });

  it('back-fills audit_checkpoint_spans with every checkpoint span stored before (migrations 21, 23)', async () => {
    const result = await store.client.query({
      query: `SELECT stream, toString(tree_size) AS size, toString(first_leaf) AS first, span_id, span
        FROM audit_checkpoint_spans ORDER BY stream, tree_size`,
      format: 'JSONEachRow',
    });
    const rows = await result.json<{
      stream: string;
      size: string;
      first: string;
      span_id: string;
      span: string;
    }>();
    const checkpoints = data.spans.filter((s) => s.attributes['audit.record.type'] === 'checkpoint');
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.span_id).sort()).toEqual(checkpoints.map((c) => c.spanId).sort());
    for (const row of rows) {
      const stored = checkpoints.find((c) => c.spanId === row.span_id)!;
      expect([row.stream, row.size]).toEqual([
        stored.attributes['audit.integrity.stream'],
        stored.attributes['audit.checkpoint.size'],
      ]);
      // Its size less the leaves it carries; 0 (proposed for every leaf below its size) without a leaf list.
      expect(row.first).toBe(row.span_id === 'c0ffee00c0ffee00' ? '997' : '0');
      expect((JSON.parse(row.span) as { SpanAttributes: unknown }).SpanAttributes).toEqual(stored.attributes);
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
    expect(result.tables.find((t) => t.table === 'audit_checkpoint_spans')).toMatchObject({ findings: 0 });
  });
});
