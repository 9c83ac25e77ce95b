import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS,
  migrationStatements,
  renderContext,
  type Store,
  type TimelineEntry,
} from '@decisiontrail/clickhouse';
import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';
import { buildAuditDataset, type AuditDataset } from '../support/audit-dataset.ts';
import { decisionSpan, type DecisionFixture } from '../support/span-fixtures.ts';
import { openTempStoreAt, rowsOf } from '../support/temp-store.ts';

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
    ({ store, cleanup } = await openTempStoreAt(BEFORE));
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

/** The last version whose audit_decisions held the input and output hashes. */
const WITH_HASHES = 23;

/**
 * Migration 22 takes the input and output hashes out of audit_decisions: a store written before it gets whether each
 * was there and the input hash's fingerprint from the hashes it held, and every reader that shows a hash reads the
 * same hash from the decision span.
 */
describe('the decision hashes leave audit_decisions (migration 24, embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  /** The dataset's decisions and two more: one without an input hash, one without either hash. */
  let decisions: DecisionFixture[];
  let spans: SpanRecord[];
  const hashesOf = (decisionId: string): { inputHash: string; outputHash: string } => {
    const span = spans.find(
      (s) =>
        s.attributes[ATTR_AUDIT_DECISION_ID] === decisionId &&
        s.attributes[ATTR_AUDIT_RECORD_TYPE] === AUDIT_RECORD_TYPE_VALUES.DECISION,
    )!;
    return {
      inputHash: span.attributes[ATTR_AUDIT_INPUT_HASH] ?? '',
      outputHash: span.attributes[ATTR_AUDIT_OUTPUT_HASH] ?? '',
    };
  };
  const everything = { from: new Date(0), to: new Date(Date.now() + 86_400_000) };
  /** Decision ids grouped by the input hash their spans carry, each group sorted, the groups sorted. */
  const byInput = (): string[][] => {
    const groups = new Map<string, string[]>();
    for (const d of decisions) {
      const { inputHash } = hashesOf(d.decisionId);
      if (inputHash !== '') groups.set(inputHash, [...(groups.get(inputHash) ?? []), d.decisionId]);
    }
    return [...groups.values()].map((ids) => ids.sort()).sort();
  };
  const storedGroups = async (): Promise<string[][]> =>
    (
      await rowsOf<{ ids: string[] }>(
        store,
        `SELECT arraySort(groupArray(decision_id)) AS ids FROM default.audit_decisions FINAL
         WHERE has_input_hash GROUP BY input_fingerprint`,
      )
    )
      .map((row) => row.ids)
      .sort();
  /** What the readers that show a decision's hashes show, by decision id. */
  const shownHashes = async () => {
    const ids = [0, 150, 205, 240, 241].map((i) => decisions[i]!.decisionId);
    const fromTimeline = async (read: (decisionId: string) => Promise<TimelineEntry[]>) =>
      Promise.all(
        ids.map(async (decisionId) => {
          const row = (await read(decisionId)).find((e) => e.kind === 'decision')!;
          return [decisionId, row.attributes['input_hash'], row.attributes['output_hash']];
        }),
      );
    return {
      timeline: await fromTimeline((decisionId) => store.decisionTimeline({ decisionId })),
      withEvidence: await fromTimeline(
        async (decisionId) => (await store.timelineWithEvidence({ decisionId })).entries,
      ),
      subject: (await store.subjectDecisions({ subjectId: 'subject-5' })).map((d) => [
        d.decisionId,
        d.inputHash,
        d.outputHash,
      ]),
      byModel: (await store.decisions({ ...everything, limit: 1000 })).map((d) => [
        d.decisionId,
        d.inputHash,
        d.outputHash,
      ]),
    };
  };
  const expectedHashes = (rows: string[][]) =>
    rows.map(([id]) => [id, hashesOf(id!).inputHash, hashesOf(id!).outputHash]);

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStoreAt(WITH_HASHES));
    data = buildAuditDataset();
    const last = data.decisions[data.decisions.length - 1]!;
    const extra = [1, 2].map((n) => ({
      ...last,
      decisionId: `${last.decisionId.slice(0, -2)}f${n}`,
      spanId: `${last.spanId.slice(0, -2)}f${n}`,
      subjectId: 'subject-5',
      inputHash: undefined,
    }));
    const extraSpans = extra.map(decisionSpan);
    delete extraSpans[1]!.attributes[ATTR_AUDIT_OUTPUT_HASH];
    decisions = [...data.decisions, ...extra];
    spans = [...data.spans, ...extraSpans];
    await store.insertSpans(spans);
    expect((await store.migrate()).applied).toEqual(
      MIGRATIONS.filter((m) => m.version > WITH_HASHES).map((m) => m.version),
    );
  });
  afterAll(async () => {
    await cleanup();
  });

  it('holds no hash in audit_decisions, and back-fills the flags and the fingerprint of the rows stored before', async () => {
    const columns = await rowsOf<{ name: string; type: string }>(
      store,
      `SELECT name, type FROM system.columns WHERE database = 'default' AND table = 'audit_decisions'
         AND (name LIKE '%hash%' OR name LIKE '%fingerprint%') ORDER BY position`,
    );
    expect(columns).toEqual([
      { name: 'has_input_hash', type: 'Bool' },
      { name: 'has_output_hash', type: 'Bool' },
      { name: 'input_fingerprint', type: 'UInt64' },
    ]);
    const flags = await rowsOf<{ decision_id: string; has_input_hash: boolean; has_output_hash: boolean }>(
      store,
      'SELECT decision_id, has_input_hash, has_output_hash FROM default.audit_decisions FINAL ORDER BY decision_id',
    );
    expect(flags).toEqual(
      decisions
        .map((d) => ({
          decision_id: d.decisionId,
          has_input_hash: hashesOf(d.decisionId).inputHash !== '',
          has_output_hash: hashesOf(d.decisionId).outputHash !== '',
        }))
        .sort((a, b) => (a.decision_id < b.decision_id ? -1 : 1)),
    );
    expect(flags.filter((f) => !f.has_input_hash)).toHaveLength(2);
    // Equal fingerprints exactly where the spans carry equal input hashes.
    expect(await storedGroups()).toEqual(byInput());
  });

  it('shows the hashes of each decision from its span: timelines, subject access, decisions by model, the signal', async () => {
    const shown = await shownHashes();
    for (const rows of Object.values(shown)) expect(rows).toEqual(expectedHashes(rows as string[][]));
    expect(shown.subject.length).toBe(decisions.filter((d) => d.subjectId === 'subject-5').length);
    expect(shown.byModel.length).toBe(decisions.length);
    // The probing actor's repeated input (12 decisions, one hash) is found by fingerprint and shown with its hash.
    const signals = await store.adversarialSignals({ ...everything, minRepeats: 2 });
    const probe = decisions.filter((d) => d.actorId === 'actor-probe');
    expect(signals.repeatedInputs).toContainEqual(
      expect.objectContaining({
        actorId: 'actor-probe',
        inputHash: hashesOf(probe[0]!.decisionId).inputHash,
        decisions: probe.length,
      }),
    );
    for (const repeat of signals.repeatedInputs)
      for (const id of repeat.decisionIds) expect(hashesOf(id).inputHash).toBe(repeat.inputHash);
    const [activity] = await store.processingActivities();
    expect([activity!.withInputHash, activity!.withOutputHash]).toEqual([
      decisions.filter((d) => hashesOf(d.decisionId).inputHash !== '').length,
      decisions.filter((d) => hashesOf(d.decisionId).outputHash !== '').length,
    ]);
  });

  it('finds nothing to reconcile, and changes nothing when the migration runs again', async () => {
    expect((await store.reconcileAuditTables()).findings).toEqual([]);
    const before = await shownHashes();
    const context = renderContext({
      database: 'default',
      cluster: undefined,
      retention: store.options.retention,
    });
    for (const statement of migrationStatements(
      MIGRATIONS.find((m) => m.version === 24)!,
      context,
    ))
      await store.client.command({ query: statement });
    expect(await storedGroups()).toEqual(byInput());
    expect((await store.reconcileAuditTables()).findings).toEqual([]);
    expect(await shownHashes()).toEqual(before);
  });
});

/**
 * Migration 27 rebuilds audit_decisions with smaller granules and swaps it in by name: the rows stay, and the views
 * into it (from otel_traces) and out of it (the rollups, audit_decisions_by_confidence, audit_overrides) follow the
 * name, so spans stored after the migration reach every table as before.
 */
describe('audit_decisions rebuilt with granules of 256 rows (migration 27, embedded engine)', () => {
  const REBUILT = 27;
  let store: Store;
  let cleanup: () => Promise<void>;
  let data: AuditDataset;
  const decisionRows = () =>
    rowsOf<Record<string, unknown>>(
      store,
      'SELECT * FROM default.audit_decisions FINAL ORDER BY decision_id',
    );
  const layout = async () =>
    (
      await rowsOf<{ create_table_query: string }>(
        store,
        "SELECT create_table_query FROM system.tables WHERE database = 'default' AND name = 'audit_decisions'",
      )
    )[0]!.create_table_query;
  let storedBefore: Record<string, unknown>[];
  /** The skip indexes of audit_decisions: name and granularity (in granules of the table). */
  const indexes = () =>
    rowsOf<{ name: string; granularity: number }>(
      store,
      `SELECT name, toUInt32(granularity) AS granularity FROM system.data_skipping_indices
       WHERE database = 'default' AND table = 'audit_decisions' ORDER BY name`,
    );
  /** Each skip index covers as many rows as before migration 27 but the time's, which is per granule (migration 29). */
  const REBUILT_INDEXES = [
    // Migration 30: the integrity stream's minmax per 1024 rows (the finder's unsigned search).
    { name: 'idx_integrity_stream', granularity: 4 },
    { name: 'idx_model', granularity: 32 },
    { name: 'idx_subject_id', granularity: 8 },
    { name: 'idx_time', granularity: 1 },
    { name: 'idx_trace_id', granularity: 8 },
  ];

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStoreAt(REBUILT - 1));
    data = buildAuditDataset(13);
    // Half the spans before the migration, half after: reviews stored before their decision and after it, both.
    const half = Math.floor(data.spans.length / 2);
    await store.insertSpans(data.spans.slice(0, half));
    storedBefore = await decisionRows();
    expect(storedBefore.length).toBeGreaterThan(0);
    expect(await layout()).toContain('index_granularity = 2048');
    expect((await store.migrate()).applied).toEqual(
      MIGRATIONS.filter((m) => m.version >= REBUILT).map((m) => m.version),
    );
    expect(await layout()).toContain('index_granularity = 256');
    expect(await indexes()).toEqual(REBUILT_INDEXES);
    expect(await decisionRows()).toEqual(storedBefore);
    await store.insertSpans(data.spans.slice(half));
  });
  afterAll(async () => {
    await cleanup();
  });

  it('holds every decision once, and the views fill every table from spans stored after it', async () => {
    const ids = (await decisionRows()).map((row) => row['decision_id']);
    expect(ids).toEqual(data.decisions.map((d) => d.decisionId).sort());
    const reconciled = await store.reconcileAuditTables();
    expect(reconciled.findings).toEqual([]);
    for (const table of ['audit_decisions', 'audit_decisions_by_confidence', 'audit_decision_stats'])
      expect(reconciled.tables.find((t) => t.table === table)?.rows, table).toBeGreaterThan(0);
    expect(reconciled.tables.find((t) => t.table === 'audit_decisions')?.rows).toBe(data.decisions.length);
    // Found through each rebuilt index: a trace's decisions, a subject's.
    const d = data.decisions[3]!;
    const byTrace = await rowsOf<{ decision_id: string }>(
      store,
      `SELECT decision_id FROM default.audit_decisions WHERE trace_id = '${d.traceId}'`,
    );
    expect(byTrace.map((r) => r.decision_id)).toContain(d.decisionId);
    const bySubject = await store.findDecisions({ subjectId: d.subjectId!, limit: 1000 });
    expect(bySubject.decisions.map((f) => f.decisionId).sort()).toEqual(
      data.decisions
        .filter((x) => x.subjectId === d.subjectId)
        .map((x) => x.decisionId)
        .sort(),
    );
  });

  it('ends with the rebuilt table when it runs again after stopping at the exchange', async () => {
    const context = renderContext({
      database: 'default',
      cluster: undefined,
      retention: store.options.retention,
    });
    const statements = migrationStatements(
      MIGRATIONS.find((m) => m.version === REBUILT)!,
      context,
    );
    const exchange = statements.findIndex((s) => s.includes('EXCHANGE TABLES'));
    const before = await decisionRows();
    // Stopped after the exchange: the table as it was is left under the rebuilt table's name.
    for (const statement of statements.slice(0, exchange + 1))
      await store.client.command({ query: statement });
    expect(await tableNames(store)).toContain('audit_decisions_rebuilt');
    for (const statement of statements) await store.client.command({ query: statement });
    // A store whose 27 stopped has not recorded it, so 29 and 30 run after it again.
    const later = [29, 30].flatMap((version) =>
      migrationStatements(
        MIGRATIONS.find((m) => m.version === version)!,
        context,
      ),
    );
    for (const statement of later) await store.client.command({ query: statement });
    expect(await indexes()).toEqual(REBUILT_INDEXES);
    expect(await tableNames(store)).not.toContain('audit_decisions_rebuilt');
    expect(await layout()).toContain('index_granularity = 256');
    expect(await decisionRows()).toEqual(before);
    expect((await store.reconcileAuditTables()).findings).toEqual([]);
  });
});
