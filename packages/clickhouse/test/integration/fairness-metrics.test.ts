import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wilsonInterval, type Store } from '@decisiontrail/clickhouse';
import {
  decisionIdAt,
  decisionSpan,
  feedbackSpan,
  randomHex,
  seededRandom,
  type DecisionFixture,
} from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

const START = Date.UTC(2026, 8, 1, 9);
const random = seededRandom(83);

interface Case extends DecisionFixture {
  /** The latest label, if any: the actual outcome (or only "correct / incorrect"). */
  label?: { correct: boolean; actual: string };
}

/** Two groups, approve as the positive outcome, labels of both kinds, a relabelled decision. */
const cases: Case[] = Array.from({ length: 80 }, (_, i) => {
  const group = i % 2 === 0 ? 'a' : 'b';
  const approve = group === 'a' ? i % 5 !== 0 : i % 3 === 0;
  const outcome = approve ? 'approve' : 'deny';
  const actual = i % 7 === 0 ? (approve ? 'deny' : 'approve') : outcome;
  return {
    decisionId: decisionIdAt(START + i * 1000, random),
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    startMs: START + i * 1000,
    modelId: 'credit',
    modelVersion: '1',
    outcome,
    fairnessGroup: group,
    ...(i % 4 === 3 ? {} : { label: { correct: actual === outcome, actual: i % 8 === 0 ? '' : actual } }),
  };
});

/** Computed here from the cases, the way the metrics are defined. */
function expected(group: string) {
  const of = cases.filter((c) => c.fairnessGroup === group);
  const labelled = of.filter((c) => c.label !== undefined);
  const truth = (c: Case): boolean =>
    c.label!.actual !== '' ? c.label!.actual === 'approve' : c.label!.correct === (c.outcome === 'approve');
  const positives = labelled.filter(truth);
  const negatives = labelled.filter((c) => !truth(c));
  return {
    decisions: of.length,
    selected: of.filter((c) => c.outcome === 'approve').length,
    labelled: labelled.length,
    correct: labelled.filter((c) => c.label!.correct).length,
    positives: positives.length,
    truePositives: positives.filter((c) => c.outcome === 'approve').length,
    negatives: negatives.length,
    falsePositives: negatives.filter((c) => c.outcome === 'approve').length,
  };
}

describe('fairnessMetrics (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    const labels = cases.flatMap((c, i) =>
      c.label === undefined
        ? []
        : [
            // An earlier, wrong label first: the latest one counts.
            ...(i % 6 === 0
              ? [
                  feedbackSpan({
                    decisionId: c.decisionId,
                    traceId: randomHex(random, 16),
                    spanId: randomHex(random, 8),
                    startMs: c.startMs + 1_000,
                    correct: !c.label.correct,
                    actualOutcome: 'x',
                  }),
                ]
              : []),
            feedbackSpan({
              decisionId: c.decisionId,
              traceId: randomHex(random, 16),
              spanId: randomHex(random, 8),
              startMs: c.startMs + 60_000,
              correct: c.label.correct,
              actualOutcome: c.label.actual,
            }),
          ],
    );
    await store.insertSpans([...cases.map(decisionSpan), ...labels]);
  });
  afterAll(async () => {
    await cleanup();
  });

  it('per group: selection rate, accuracy, error rate, TPR and FPR over their own denominators', async () => {
    const metrics = await store.fairnessMetrics({
      from: new Date(START),
      to: new Date(START + 3_600_000),
      modelId: 'credit',
      positiveOutcome: 'approve',
    });
    expect(metrics.groups.map((g) => g.group)).toEqual(['a', 'b']);
    for (const g of metrics.groups) {
      const e = expected(g.group);
      expect(g.decisions).toBe(e.decisions);
      expect(g.selectionRate).toMatchObject({
        n: e.decisions,
        count: e.selected,
        rate: e.selected / e.decisions,
      });
      expect(g.accuracy).toMatchObject({ n: e.labelled, rate: e.correct / e.labelled });
      expect(g.errorRate.rate).toBeCloseTo(1 - e.correct / e.labelled, 12);
      expect(g.truePositiveRate).toMatchObject({ n: e.positives, rate: e.truePositives / e.positives });
      expect(g.falsePositiveRate).toMatchObject({ n: e.negatives, rate: e.falsePositives / e.negatives });
      expect(g.selectionRate.low!).toBeLessThan(g.selectionRate.rate!);
      expect(g.selectionRate.high!).toBeGreaterThan(g.selectionRate.rate!);
    }
    const [a, b] = [expected('a'), expected('b')];
    const ratio =
      Math.min(a.selected / a.decisions, b.selected / b.decisions) /
      Math.max(a.selected / a.decisions, b.selected / b.decisions);
    expect(metrics.selectionRateRatio).toBeCloseTo(ratio, 12);
    expect(metrics.failsFourFifths).toBe(ratio < 0.8);
    // 40 decisions per group: enough at the default minimum of 30, too few for 50.
    expect(metrics.smallGroups).toEqual([]);
    const strict = await store.fairnessMetrics({
      from: new Date(START),
      to: new Date(START + 3_600_000),
      positiveOutcome: 'approve',
      minDecisions: 50,
    });
    expect(strict.smallGroups).toEqual(['a', 'b']);
  });

  it('the Wilson interval matches known values', () => {
    // 8 of 10: 95 % Wilson interval 0.4902 … 0.9433 (Newcombe 1998, method 3).
    const w = wilsonInterval(8, 10);
    expect(w.low!).toBeCloseTo(0.4902, 4);
    expect(w.high!).toBeCloseTo(0.9433, 4);
    expect(wilsonInterval(0, 0)).toEqual({ rate: null, count: 0, n: 0, low: null, high: null });
    expect(wilsonInterval(0, 5).low).toBe(0);
  });

  it('refuses an empty positive outcome', async () => {
    await expect(
      store.fairnessMetrics({ from: new Date(START), to: new Date(START + 1), positiveOutcome: '' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
