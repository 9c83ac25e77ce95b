import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store, TimelineEntry } from '@decisiontrail/clickhouse';
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

const START = Date.UTC(2026, 4, 4, 9);
const random = seededRandom(23);

/** Decisions of one model in three versions, one of them without a version at all. */
const decisions: DecisionFixture[] = ['1.0.0', '1.0.0', '2.0.0', '2.0.0', '2.0.0', ''].map(
  (modelVersion, i) => ({
    decisionId: decisionIdAt(START + i * 60_000, random),
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    startMs: START + i * 60_000,
    modelId: 'scorer',
    modelVersion,
    outcome: i % 2 === 0 ? 'approve' : 'deny',
    confidence: 0.5 + i / 20,
  }),
);
const unversioned = decisions.at(-1)!;
/** Overrides of the unversioned decision and of one 2.0.0 decision, both in the decision's own trace. */
const followUps = [unversioned, decisions[2]!].flatMap((d, i) => [
  oversightSpan({
    decisionId: d.decisionId,
    decisionTraceId: d.traceId,
    decisionSpanId: d.spanId,
    traceId: d.traceId,
    spanId: `0${i}`.padEnd(16, 'a'),
    startMs: d.startMs + 1_000,
    action: 'override',
    newOutcome: 'deny',
  }),
  feedbackSpan({
    decisionId: d.decisionId,
    traceId: d.traceId,
    spanId: `0${i}`.padEnd(16, 'f'),
    startMs: d.startMs + 2_000,
    correct: false,
    actualOutcome: 'deny',
  }),
]);

describe('report and timeline correctness (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const period = { from: new Date(START - 60_000), to: new Date(START + 3_600_000) };

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    await store.insertSpans([...decisions.map(decisionSpan), ...followUps]);
  });
  afterAll(async () => {
    await cleanup();
  });

  it('a version filter of "" selects the decisions without a version, and no filter selects every version', async () => {
    const byVersion = async (modelVersion: string | undefined) => ({
      rows: (
        await store.decisions({
          ...period,
          modelId: 'scorer',
          ...(modelVersion === undefined ? {} : { modelVersion }),
        })
      ).map((r) => r.decisionId),
      report: await store.periodReport({
        ...period,
        modelId: 'scorer',
        ...(modelVersion === undefined ? {} : { modelVersion }),
        exact: true,
      }),
      oversight: await store.oversightRates({ ...period, modelId: 'scorer', modelVersion: modelVersion! }),
    });
    for (const version of ['', '1.0.0', '2.0.0']) {
      const expected = decisions.filter((d) => d.modelVersion === version).map((d) => d.decisionId);
      const got = await byVersion(version);
      expect(got.rows, `version ${JSON.stringify(version)}`).toEqual(expected);
      expect(got.report.totals.decisions).toBe(expected.length);
      expect(got.report.models.map((m) => m.modelVersion)).toEqual([version]);
      const overridden = [unversioned, decisions[2]!].filter((d) => d.modelVersion === version).length;
      expect(got.oversight).toMatchObject({ decisions: expected.length, overridden });
    }
    const all = await byVersion(undefined);
    expect(all.rows).toHaveLength(decisions.length);
    expect(all.report.totals.decisions).toBe(decisions.length);
    expect(all.oversight.overridden).toBe(2);
  });

  it('the rollup path and the exact path agree on the unversioned decision', async () => {
    const hourly = { from: new Date(START - 3_600_000), to: new Date(START + 2 * 3_600_000) };
    const rolled = await store.periodReport({ ...hourly, modelId: 'scorer', modelVersion: '' });
    const exact = await store.periodReport({ ...hourly, modelId: 'scorer', modelVersion: '', exact: true });
    expect(rolled.totals.decisions).toBe(1);
    expect(rolled.oversight).toEqual(exact.oversight);
    expect(rolled.accuracy).toEqual(exact.accuracy);
  });

  it('shows oversight and feedback recorded in the decision’s own trace once, as what they are', async () => {
    const viewRows = async (decisionId: string): Promise<TimelineEntry[]> => {
      const result = await store.client.query({
        query: `SELECT kind, span_id AS spanId FROM decision_timeline(decision_id = {d:String}, trace_id = '')`,
        query_params: { d: decisionId },
        format: 'JSONEachRow',
      });
      return result.json<TimelineEntry>();
    };
    for (const [i, d] of [unversioned, decisions[2]!].entries()) {
      const expected = [
        ['decision', d.spanId],
        ['oversight', `0${i}`.padEnd(16, 'a')],
        ['feedback', `0${i}`.padEnd(16, 'f')],
      ];
      const byStore = await store.decisionTimeline({ decisionId: d.decisionId });
      expect(byStore.map((e) => [e.kind, e.spanId])).toEqual(expected);
      const byTrace = await store.decisionTimeline({ traceId: d.traceId });
      expect(byTrace.map((e) => [e.kind, e.spanId])).toEqual(expected);
      expect((await viewRows(d.decisionId)).map((e) => [e.kind, e.spanId])).toEqual(expected);
    }
  });

  it('degradation and drift say "insufficient baseline" instead of claiming a signal without enough data', async () => {
    // No decision before this instant: 0 → 6 decisions is no baseline, whatever the rates after.
    const empty = await store.degradationSignal({
      modelId: 'scorer',
      at: new Date(START),
      windowMs: 3_600_000,
    });
    expect(empty).toMatchObject({ degraded: false, verdict: 'insufficient baseline' });
    expect(empty.insufficient).toEqual([
      { rate: 'override rate', before: 0, after: decisions.length, minimum: 30 },
      { rate: 'error rate', before: 0, after: 2, minimum: 30 },
    ]);
    // Three decisions each side, one override each: comparable with a minimum of 2, and not degraded; the one
    // label on each side is still too few for the error rate.
    const split = new Date(START + 3 * 60_000 - 1);
    const small = await store.degradationSignal({
      modelId: 'scorer',
      at: split,
      windowMs: 3_600_000,
      minDecisions: 2,
    });
    expect(small.verdict).toBe('not degraded');
    expect(small.overrideRateDelta).toBeCloseTo(1 / 3 - 1 / 3, 12);
    expect(small.insufficient).toEqual([{ rate: 'error rate', before: 1, after: 1, minimum: 2 }]);
    const drift = await store.driftSignal({
      modelId: 'scorer',
      baseline: { from: new Date(START - 3_600_000), to: new Date(START) },
      current: { from: new Date(START), to: new Date(START + 3_600_000) },
    });
    expect(drift.level).toBe('insufficient baseline');
    const both = await store.driftSignal({
      modelId: 'scorer',
      baseline: { from: new Date(START), to: split },
      current: { from: split, to: new Date(START + 3_600_000) },
      minDecisions: 3,
    });
    expect(['none', 'moderate', 'significant']).toContain(both.level);
    await expect(
      store.degradationSignal({ modelId: 'scorer', at: split, minDecisions: 0 }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('lists an incident opened after the period about decisions in it (its window overlaps the period)', async () => {
    const period = { from: new Date(START), to: new Date(START + 10 * 60_000) };
    const about = await store.createIncident({
      title: 'opened a day later about the period',
      severity: 'high',
      category: 'malfunction',
      modelId: 'scorer',
      occurredAt: new Date(START + 86_400_000),
      windowFrom: new Date(START + 60_000),
      windowTo: new Date(START + 5 * 60_000),
    });
    await store.createIncident({
      title: 'a day later about later decisions',
      severity: 'low',
      category: 'malfunction',
      modelId: 'scorer',
      occurredAt: new Date(START + 86_400_000),
      windowFrom: new Date(START + 20 * 60_000),
      windowTo: new Date(START + 30 * 60_000),
    });
    const report = await store.periodReport({ ...period, modelId: 'scorer', exact: true });
    expect(report.incidents.items.map((i) => i.incidentId)).toEqual([about.incidentId]);
    expect(report.incidents.total).toBe(1);
  });
});
