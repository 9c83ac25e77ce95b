import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeriodReport, Store } from '@decisiontrail/clickhouse';
import type { SpanRecord } from '@decisiontrail/core';
import {
  decisionIdAt,
  decisionSpan,
  feedbackSpan,
  oversightSpan,
  randomHex,
  seededRandom,
  type DecisionFixture,
} from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 4, 4, 10);

/**
 * 300 decisions in one hour, a third of them reviewed and a half labelled by spans that carry the
 * decided model (so the oversight and feedback rollups hold them).
 */
function buildHour(): { decisions: DecisionFixture[]; spans: SpanRecord[] } {
  const random = seededRandom(300);
  const decisions: DecisionFixture[] = [];
  const spans: SpanRecord[] = [];
  for (let i = 0; i < 300; i++) {
    const startMs = START + i * 11_000;
    const d: DecisionFixture = {
      decisionId: decisionIdAt(startMs, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs,
      modelId: 'credit-scorer',
      modelVersion: '2.0.0',
      outcome: i % 4 === 0 ? 'deny' : 'approve',
      confidence: Math.round(random() * 1000) / 1000,
      stream: 'stream-dup',
      seq: i,
    };
    decisions.push(d);
    spans.push(decisionSpan(d));
    const model = { id: d.modelId, version: d.modelVersion };
    if (i % 3 === 0) {
      spans.push(
        oversightSpan({
          decisionId: d.decisionId,
          decisionTraceId: d.traceId,
          decisionSpanId: d.spanId,
          traceId: randomHex(random, 16),
          spanId: randomHex(random, 8),
          startMs: startMs + 60_000,
          action: i % 6 === 0 ? 'override' : 'review',
          model,
        }),
      );
    }
    if (i % 2 === 0) {
      spans.push(
        feedbackSpan({
          decisionId: d.decisionId,
          traceId: randomHex(random, 16),
          spanId: randomHex(random, 8),
          startMs: startMs + 120_000,
          correct: i % 5 !== 0,
          actualOutcome: d.outcome,
          model,
        }),
      );
    }
  }
  return { decisions, spans };
}

/** The numbers a report shows about the period's decisions. */
function shown(report: PeriodReport) {
  return {
    decisions: report.totals.decisions,
    byOutcome: report.totals.byOutcome,
    models: report.models.map((m) => [m.modelVersion, m.decisions]),
    buckets: report.confidence.buckets.map((b) => b.count),
    mean: report.confidence.mean,
    quantiles: [report.confidence.p50, report.confidence.p90],
    reviewed: report.oversight.reviewed,
    overridden: report.oversight.overridden,
    byAction: report.oversight.byAction,
    labelled: report.accuracy.labelled,
    correct: report.accuracy.correct,
    withIntegrity: report.dataGovernance.withIntegrity,
  };
}

async function copySpan(store: Store, spanId: string, replace = ''): Promise<void> {
  await store.client.command({
    query: `INSERT INTO otel_traces SELECT *${replace === '' ? '' : ` REPLACE (${replace})`}
            FROM (SELECT * FROM otel_traces WHERE SpanId = {span_id:String})`,
    query_params: { span_id: spanId },
    clickhouse_settings: { insert_deduplication_token: '' },
  });
}

describe('copies of a span in otel_traces', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const { decisions, spans } = buildHour();
  const hour = { from: new Date(START), to: new Date(START + HOUR) };
  // Whole hour from the rollups plus partial hours at both edges, and every decision with FINAL.
  const reports = {
    rollup: { ...hour },
    edges: { from: new Date(START - HOUR / 2), to: new Date(START + 1.5 * HOUR) },
    exact: { ...hour, exact: true },
  };
  const before: Record<string, ReturnType<typeof shown>> = {};

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    const sink = store.createSink({ maxBatchSize: 150, flushIntervalMs: 5 });
    await sink.write(spans);
    await sink.flush();
    for (const [name, query] of Object.entries(reports))
      before[name] = shown(await store.periodReport(query));
  });
  afterAll(async () => {
    await cleanup();
  });

  it('counts 300 decisions before any copy', () => {
    for (const name of Object.keys(reports)) {
      expect(before[name]?.decisions, name).toBe(300);
      expect(before[name]?.reviewed, name).toBe(100);
      expect(before[name]?.labelled, name).toBe(150);
    }
  });

  it('an exact duplicate (redelivery in another batch) changes no count and is no finding', async () => {
    const duplicated = spans.filter((_, i) => i % 40 === 0).map((s) => s.spanId);
    for (const spanId of duplicated) await copySpan(store, spanId);
    for (const [name, query] of Object.entries(reports)) {
      expect(shown(await store.periodReport(query)), name).toEqual(before[name]);
    }
    expect((await store.reconcileAuditTables()).findings).toEqual([]);
    const read = await store.spansForVerification({ stream: 'stream-dup' });
    expect(read).toHaveLength(300);
    expect(new Set(read.map((s) => s.spanId)).size).toBe(300);
  });

  it('a conflicting copy (same span id, outcome changed) is read next to the original by the verifier', async () => {
    const target = decisions[7]!;
    await copySpan(
      store,
      target.spanId,
      "mapUpdate(SpanAttributes, map('audit.decision.outcome', 'reject')) AS SpanAttributes, " +
        'Timestamp + toIntervalNanosecond(1) AS Timestamp',
    );
    const copies = (await store.spansForVerification({ stream: 'stream-dup' })).filter(
      (s) => s.spanId === target.spanId,
    );
    expect(copies.map((s) => s.attributes['audit.decision.outcome']).sort()).toEqual([
      target.outcome,
      'reject',
    ]);
    const inTrace = (await store.traceSpans(target.traceId)).filter((s) => s.spanId === target.spanId);
    expect(inTrace).toHaveLength(2);
    // Each stored audit row is what one of the copies derives to: the conflict is the verifier's finding.
    expect((await store.reconcileAuditTables()).findings).toEqual([]);
    // Still one decision (the report shows whichever copy audit_decisions keeps).
    for (const [name, query] of Object.entries(reports)) {
      expect((await store.periodReport(query)).totals.decisions, name).toBe(300);
    }
  });
});

describe('copies written straight into an audit table', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const { decisions, spans } = buildHour();

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    await store.insertSpans(spans);
  });
  afterAll(async () => {
    await cleanup();
  });

  it('finds a forged copy of an audit_decisions row through the decision rollup', async () => {
    expect((await store.reconcileAuditTables()).findings).toEqual([]);
    const target = decisions[11]!;
    // An identical second row of a decision: audit_decisions itself still shows one (FINAL), but the
    // rollups summed it again.
    await store.client.command({
      query: `INSERT INTO audit_decisions SELECT * FROM (SELECT * FROM audit_decisions WHERE decision_id = {id:String})`,
      query_params: { id: target.decisionId },
      clickhouse_settings: { insert_deduplication_token: '' },
    });
    const found = (await store.reconcileAuditTables()).findings;
    expect(found.filter((f) => f.table === 'audit_decisions')).toEqual([]);
    expect(found).toContainEqual(
      expect.objectContaining({
        table: 'audit_decision_stats',
        code: 'different',
        key: expect.stringContaining(target.outcome),
        message: expect.stringMatching(/decisions \d+ \(derived \d+\)/),
      }),
    );
    // One more value in a digest of 300 moves its p50/p90 by less than the digest tolerance: the
    // counts of audit_decision_stats are what catch it.
  });

  it('finds an edited rollup cell while audit_decisions holds one row per span (rollups recomputed from it)', async () => {
    await store.client.command({
      query: `ALTER TABLE audit_decision_stats UPDATE failed = failed + 1 WHERE outcome = 'deny'`,
      clickhouse_settings: { mutations_sync: '2' },
    });
    const found = (await store.reconcileAuditTables({ tables: ['audit_decisions', 'audit_decision_stats'] }))
      .findings;
    expect(found.filter((f) => f.table === 'audit_decisions')).toEqual([]);
    const edited = found.filter(
      (f) => f.table === 'audit_decision_stats' && /failed \d+ \(derived \d+\)/.test(f.message),
    );
    expect(edited.length).toBeGreaterThan(0);
    expect(edited.every((f) => f.key?.includes("'deny'"))).toBe(true);
  });
});
