import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '@decisiontrail/core';
import {
  MIGRATIONS,
  bootstrapStatements,
  migrationStatements,
  renderContext,
  type DecisionFilter,
  type Store,
} from '@decisiontrail/clickhouse';
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

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ACTIONS = ['review', 'approve', 'override', 'escalate'];

interface FollowUp {
  decisionId: string;
  spanId: string;
  startMs: number;
  /** Oversight action, or undefined for feedback. */
  action?: string;
  correct?: boolean;
  span: SpanRecord;
}

/**
 * Decisions of two models over eight hours, each with up to two oversight and two feedback spans
 * of which some carry the decided model (current instrumentation) and some do not (older
 * producers); some decisions have a non-UUIDv7 id, some feedback disagrees with itself.
 */
function buildDataset() {
  const random = seededRandom(11);
  const start = Date.UTC(2026, 3, 1);
  const decisions: DecisionFixture[] = [];
  const followUps: FollowUp[] = [];
  for (let i = 0; i < 70; i++) {
    const startMs = start + i * 7 * MINUTE + Math.floor(random() * 1000);
    const credit = i % 3 !== 0;
    const decision: DecisionFixture = {
      // Every 23rd decision has a random (version 4) id, which the rollups cannot place in time.
      decisionId:
        i % 23 === 5
          ? decisionIdAt(startMs, random).replace(/^(.{14})7/, (_, head: string) => `${head}4`)
          : decisionIdAt(startMs, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs,
      modelId: credit ? 'credit-scorer' : 'fraud-check',
      modelVersion: credit ? (i % 2 === 0 ? '2.0.0' : '1.0.0') : '1.0',
      outcome: random() < 0.5 ? 'approve' : 'deny',
      confidence: Math.round(random() * 1000) / 1000,
      subjectId: `subject-${i % 9}`,
      actorId: 'actor-1',
      inputHash: randomHex(random, 32),
      fairnessGroup: 'group-a',
      riskLevel: 'high',
      stream: 'stream-1',
      seq: i,
    };
    decisions.push(decision);
    const model = { id: decision.modelId, version: decision.modelVersion };
    for (let k = 0; k < Math.floor(random() * 3); k++) {
      const action = ACTIONS[Math.floor(random() * ACTIONS.length)] as string;
      const o = {
        decisionId: decision.decisionId,
        spanId: randomHex(random, 8),
        startMs: startMs + (k + 1) * 20 * MINUTE,
        action,
      };
      const span = oversightSpan({
        ...o,
        decisionTraceId: decision.traceId,
        decisionSpanId: decision.spanId,
        traceId: randomHex(random, 16),
        ...(action === 'override' ? { newOutcome: 'deny' } : {}),
        ...(random() < 0.6 ? { model } : {}),
      });
      followUps.push({ ...o, span });
    }
    for (let k = 0; k < Math.floor(random() * 3); k++) {
      const f = {
        decisionId: decision.decisionId,
        spanId: randomHex(random, 8),
        startMs: startMs + (k + 1) * 45 * MINUTE,
        correct: random() < 0.7,
      };
      const span = feedbackSpan({
        ...f,
        traceId: randomHex(random, 16),
        actualOutcome: f.correct ? decision.outcome : 'other',
        ...(random() < 0.6 ? { model } : {}),
      });
      followUps.push({ ...f, span });
    }
  }
  return { start, end: start + 9 * HOUR, decisions, followUps };
}

/** What the report must say about oversight and accuracy, computed from the fixtures. */
function expected(
  decisions: DecisionFixture[],
  followUps: FollowUp[],
  filter: DecisionFilter,
): {
  reviewed: number;
  overridden: number;
  byAction: Record<string, number>;
  labelled: number;
  correct: number;
} {
  const ids = new Set(
    decisions
      .filter(
        (d) =>
          d.startMs >= filter.from.getTime() &&
          d.startMs < filter.to.getTime() &&
          (filter.modelId === undefined || d.modelId === filter.modelId) &&
          (filter.modelVersion === undefined || d.modelVersion === filter.modelVersion),
      )
      .map((d) => d.decisionId),
  );
  const mine = followUps.filter((f) => ids.has(f.decisionId));
  const oversight = mine.filter((f) => f.action !== undefined);
  const byAction: Record<string, number> = {};
  for (const o of oversight) byAction[o.action!] = (byAction[o.action!] ?? 0) + 1;
  const latest = new Map<string, FollowUp>();
  for (const f of mine.filter((x) => x.correct !== undefined)) {
    const current = latest.get(f.decisionId);
    if (current === undefined || f.startMs > current.startMs) latest.set(f.decisionId, f);
  }
  return {
    reviewed: new Set(oversight.map((o) => o.decisionId)).size,
    overridden: new Set(oversight.filter((o) => o.action === 'override').map((o) => o.decisionId)).size,
    byAction: Object.fromEntries(Object.entries(byAction).sort(([a], [b]) => (a < b ? -1 : 1))),
    labelled: latest.size,
    correct: [...latest.values()].filter((f) => f.correct).length,
  };
}

describe('period report over the oversight and feedback rollups (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const data = buildDataset();
  const followUps: FollowUp[] = [];

  const filters = (): DecisionFilter[] => [
    { from: new Date(data.start), to: new Date(data.end) },
    { from: new Date(data.start), to: new Date(data.end), modelId: 'credit-scorer' },
    // Partial hours at both edges, one version.
    {
      from: new Date(data.start + 37 * MINUTE + 5),
      to: new Date(data.end - 2 * HOUR - 11 * MINUTE),
      modelId: 'credit-scorer',
      modelVersion: '2.0.0',
    },
    { from: new Date(data.start + HOUR), to: new Date(data.start + 5 * HOUR), modelId: 'fraud-check' },
    // Decision service: oversight spans do not carry it, so this one joins.
    { from: new Date(data.start), to: new Date(data.end), service: 'loan-service' },
  ];

  async function checkReports(): Promise<void> {
    for (const filter of filters()) {
      const want = expected(data.decisions, followUps, filter);
      for (const exact of [false, true]) {
        const report = await store.periodReport({ ...filter, exact });
        const scope = JSON.stringify({ ...filter, exact });
        expect({ scope, ...report.oversight }).toMatchObject({
          scope,
          reviewed: want.reviewed,
          overridden: want.overridden,
          byAction: want.byAction,
        });
        expect({ scope, ...report.accuracy }).toMatchObject({
          scope,
          labelled: want.labelled,
          correct: want.correct,
          incorrect: want.labelled - want.correct,
        });
      }
    }
  }

  beforeAll(async () => {
    // A store of migration 5, with half of the data stored before migration 6 adds the model columns.
    ({ store, cleanup } = await openTempStore({ migrate: false }));
    const context = renderContext({
      database: 'default',
      cluster: undefined,
      retention: store.options.retention,
    });
    for (const statement of bootstrapStatements(context)) await store.client.command({ query: statement });
    for (const migration of MIGRATIONS.filter((m) => m.version <= 5)) {
      for (const statement of migrationStatements(migration, context)) {
        await store.client.command({ query: statement });
      }
      await store.client.command({
        query: `INSERT INTO default.decisiontrail_migrations VALUES (${migration.version}, '${migration.name}', '', now64())`,
      });
    }
    const half = Math.floor(data.followUps.length / 2);
    await store.insertSpans([
      ...data.decisions.map(decisionSpan),
      ...data.followUps.slice(0, half).map((f) => f.span),
    ]);
    followUps.push(...data.followUps.slice(0, half));
    expect((await store.migrate()).applied).toEqual(
      MIGRATIONS.filter((m) => m.version >= 6).map((m) => m.version),
    );
    await store.insertSpans(data.followUps.slice(half).map((f) => f.span));
    followUps.push(...data.followUps.slice(half));
  });
  afterAll(async () => {
    await cleanup();
  });

  it('rolls up only rows that carry the model and a UUIDv7 id, stored after migration 6', async () => {
    const rolled = data.followUps
      .slice(Math.floor(data.followUps.length / 2))
      .filter((f) => f.span.attributes['audit.model.id'] !== undefined && /^.{14}7/.test(f.decisionId));
    const result = await store.client.query({
      query: `SELECT (SELECT uniqExactMerge(records) FROM default.audit_oversight_stats) +
                (SELECT uniqExactMerge(labelled) FROM default.audit_feedback_stats) AS n`,
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string }>();
    // Oversight: distinct records; feedback: distinct labelled decisions.
    const oversightSpans = rolled.filter((f) => f.action !== undefined).length;
    const feedbackDecisions = new Set(rolled.filter((f) => f.correct !== undefined).map((f) => f.decisionId))
      .size;
    expect(Number(row?.n)).toBe(oversightSpans + feedbackDecisions);
    expect(rolled.length).toBeGreaterThan(10);
  });

  it('has confidence digests for decisions stored before migration 6 (backfill)', async () => {
    const period = { from: new Date(data.start), to: new Date(data.end) };
    const fast = await store.periodReport(period);
    const exact = await store.periodReport({ ...period, exact: true });
    expect(fast.confidence.p50).not.toBeNull();
    expect(Math.abs(fast.confidence.p50! - exact.confidence.p50!)).toBeLessThan(0.05);
    expect(Math.abs(fast.confidence.p90! - exact.confidence.p90!)).toBeLessThan(0.05);
  });

  it('merges confidence digests of whole days, the hours around them and the edges once each', async () => {
    // Edge (17:40): 5 × 0.1; whole hours of day one (18:00–24:00): 30 × 0.5; whole day two: 25 × 0.9.
    // Leaving out or doubling any part moves the median or the 90th percentile off 0.5 / 0.9.
    const day = Date.UTC(2026, 4, 1);
    const random = seededRandom(3);
    const probe = (startMs: number, confidence: number, seq: number): DecisionFixture => ({
      decisionId: decisionIdAt(startMs, random),
      traceId: randomHex(random, 16),
      spanId: randomHex(random, 8),
      startMs,
      modelId: 'digest-probe',
      modelVersion: '1',
      outcome: 'approve',
      confidence,
      subjectId: 'subject-p',
      actorId: 'actor-p',
      inputHash: randomHex(random, 32),
      fairnessGroup: 'group-a',
      riskLevel: 'high',
      stream: 'stream-p',
      seq,
    });
    const probes = [
      ...Array.from({ length: 5 }, (_, i) => probe(day + 17 * HOUR + 40 * MINUTE + i, 0.1, i)),
      ...Array.from({ length: 30 }, (_, i) => probe(day + 18 * HOUR + i * 11 * MINUTE, 0.5, 10 + i)),
      ...Array.from({ length: 25 }, (_, i) => probe(day + 24 * HOUR + i * 55 * MINUTE, 0.9, 50 + i)),
    ];
    await store.insertSpans(probes.map(decisionSpan));
    const period = {
      from: new Date(day + 17 * HOUR + 30 * MINUTE),
      to: new Date(day + 48 * HOUR),
      modelId: 'digest-probe',
    };
    for (const exact of [false, true]) {
      const report = await store.periodReport({ ...period, exact });
      expect(report.totals.decisions).toBe(60);
      expect(report.confidence.p50).toBeCloseTo(0.5, 6);
      expect(report.confidence.p90).toBeCloseTo(0.9, 6);
    }
  });

  it('counts oversight and accuracy right with rows with and without the model mixed', async () => {
    // The dataset really mixes both kinds on single decisions and has self-contradicting labels.
    const kinds = new Map<string, Set<boolean>>();
    for (const f of followUps) {
      const set = kinds.get(f.decisionId) ?? new Set<boolean>();
      set.add(f.span.attributes['audit.model.id'] !== undefined);
      kinds.set(f.decisionId, set);
    }
    expect([...kinds.values()].filter((set) => set.size === 2).length).toBeGreaterThan(3);
    await checkReports();
  });

  it('counts an oversight span arriving long after its decision, and duplicates once', async () => {
    const late = data.decisions[4]!;
    expect(late.decisionId).toMatch(/^.{14}7/);
    const span = oversightSpan({
      decisionId: late.decisionId,
      decisionTraceId: late.traceId,
      decisionSpanId: late.spanId,
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      startMs: late.startMs + 40 * 24 * HOUR,
      action: 'override',
      newOutcome: 'deny',
      model: { id: late.modelId, version: late.modelVersion },
    });
    await store.insertSpans([span]);
    followUps.push({
      decisionId: late.decisionId,
      spanId: 'b'.repeat(16),
      startMs: late.startMs,
      action: 'override',
      span,
    });
    // Retries after a lost acknowledgement, in other batches than the first delivery: the insert
    // token cannot catch them; FINAL (audit tables) and the rollups' distinct sets must.
    await store.insertSpans(followUps.filter((_, i) => i % 3 === 0).map((f) => f.span));
    await store.insertSpans(followUps.filter((_, i) => i % 5 === 1).map((f) => f.span));
    await checkReports();
  });

  it('changes nothing when the rollup backfills run again', async () => {
    const context = renderContext({
      database: 'default',
      cluster: undefined,
      retention: store.options.retention,
    });
    const v6 = MIGRATIONS.find((m) => m.version === 6)!;
    for (const statement of migrationStatements(v6, context))
      await store.client.command({ query: statement });
    await checkReports();
  });
});
