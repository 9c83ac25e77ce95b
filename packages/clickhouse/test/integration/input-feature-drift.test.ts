import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '@decisiontrail/core';
import type { FeatureDrift, Store } from '@decisiontrail/clickhouse';
import { decisionIdAt, decisionSpan, randomHex, seededRandom } from '../support/span-fixtures.ts';
import { openTempStore } from '../support/temp-store.ts';

// Input drift on the numeric features decisions record (audit.input.features): every figure below is computed
// here from the values written, by the definitions the signal documents — equal-width bins over the baseline's
// range (three around a constant baseline), PSI with shares floored at 1e-4, the two-sample KS statistic.
const random = seededRandom(404);
const T0 = Date.UTC(2026, 10, 2, 8);
const HOUR = 3_600_000;
const BUCKETS = 10;

interface Made {
  ms: number;
  features: Record<string, number>;
}

const baseline: Made[] = Array.from({ length: 60 }, (_, i) => ({
  ms: T0 + i * 50_000,
  features: {
    income: 20 + ((i * 37) % 60),
    ratio: Math.round(random() * 1000) / 1000,
    flag: 1,
    ...(i < 5 ? { rare: i } : {}),
  },
}));
const current: Made[] = Array.from({ length: 50 }, (_, i) => ({
  ms: T0 + HOUR + i * 60_000,
  // Incomes moved up and past the baseline's highest; ratios alike; the flag now also 0 and 2.
  features: {
    income: 45 + ((i * 53) % 70),
    ratio: Math.round(random() * 1000) / 1000,
    flag: i % 5 === 0 ? 0 : i % 7 === 0 ? 2 : 1,
    rare: i,
  },
}));

function span(made: Made, modelId = 'scorer'): SpanRecord {
  const record = decisionSpan({
    decisionId: decisionIdAt(made.ms, random),
    traceId: randomHex(random, 16),
    spanId: randomHex(random, 8),
    startMs: made.ms,
    modelId,
    modelVersion: '1',
    outcome: 'approve',
  });
  return {
    ...record,
    attributes: { ...record.attributes, 'audit.input.features': JSON.stringify(made.features) },
  };
}

/** Bins as the signal defines them, from the baseline's values. */
function binsOf(base: number[], now: number[]): { inBase: number[]; inNow: number[] } {
  const lo = Math.min(...base);
  const hi = Math.max(...base);
  const count = lo === hi ? 3 : BUCKETS;
  const bin = (v: number): number =>
    lo === hi
      ? v < lo
        ? 0
        : v === lo
          ? 1
          : 2
      : Math.min(BUCKETS - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * BUCKETS)));
  const inBase = Array.from({ length: count }, () => 0);
  const inNow = Array.from({ length: count }, () => 0);
  for (const v of base) inBase[bin(v)]!++;
  for (const v of now) inNow[bin(v)]!++;
  return { inBase, inNow };
}

function psi(inBase: number[], inNow: number[]): number {
  const nb = inBase.reduce((a, b) => a + b, 0);
  const nn = inNow.reduce((a, b) => a + b, 0);
  let sum = 0;
  inBase.forEach((count, i) => {
    const e = Math.max(count / nb, 1e-4);
    const a = Math.max(inNow[i]! / nn, 1e-4);
    sum += (a - e) * Math.log(a / e);
  });
  return sum;
}

/** sup |F_base(x) − F_now(x)| over every value seen. */
function ks(base: number[], now: number[]): number {
  const cdf = (sample: number[], x: number) => sample.filter((v) => v <= x).length / sample.length;
  return Math.max(...[...base, ...now].map((x) => Math.abs(cdf(base, x) - cdf(now, x))));
}

const valuesOf = (made: Made[], name: string) =>
  made.flatMap((m) => (m.features[name] === undefined ? [] : [m.features[name]]));

describe('input feature drift (embedded engine)', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let features: FeatureDrift[];
  let level: string;
  let psiOutcome: number | null;

  beforeAll(async () => {
    ({ store, cleanup } = await openTempStore());
    const spans = [...baseline, ...current].map((m) => span(m));
    // A second copy of one baseline span (a replayed export) counts once; another model's decisions not at all.
    const other = current.slice(0, 10).map((m) => span({ ...m, features: { income: 1e6 } }, 'other-model'));
    await store.insertSpans([...spans, spans[3]!, ...other]);
    const signal = await store.driftSignal({
      modelId: 'scorer',
      baseline: { from: new Date(T0), to: new Date(T0 + HOUR) },
      current: { from: new Date(T0 + HOUR), to: new Date(T0 + 2 * HOUR) },
    });
    features = signal.features;
    level = signal.level;
    psiOutcome = signal.psiOutcome;
  });
  afterAll(async () => {
    await cleanup();
  });

  it('lists each recorded feature once, in name order, with the decisions of each window', () => {
    expect(features.map((f) => [f.feature, f.baselineDecisions, f.currentDecisions])).toEqual([
      ['flag', 60, 50],
      ['income', 60, 50],
      ['rare', 5, 50],
      ['ratio', 60, 50],
    ]);
  });

  it('PSI over equal-width bins of the baseline range, and the KS statistic, as computed from the values', () => {
    for (const name of ['income', 'ratio', 'flag']) {
      const base = valuesOf(baseline, name);
      const now = valuesOf(current, name);
      const { inBase, inNow } = binsOf(base, now);
      const drift = features.find((f) => f.feature === name)!;
      expect(drift.bins.map((b) => b.baselineShare)).toEqual(inBase.map((n) => n / base.length));
      expect(drift.bins.map((b) => b.currentShare)).toEqual(inNow.map((n) => n / now.length));
      expect(drift.psi).toBeCloseTo(psi(inBase, inNow), 10);
      expect(drift.ks).toBeCloseTo(ks(base, now), 10);
    }
    const income = features.find((f) => f.feature === 'income')!;
    expect(income.bins[0]!.lower).toBe(Math.min(...valuesOf(baseline, 'income')));
    expect(income.bins.at(-1)!.upper).toBe(Math.max(...valuesOf(baseline, 'income')));
  });

  it('bands each feature, and says insufficient baseline for one the baseline hardly recorded', () => {
    const level = (name: string) => features.find((f) => f.feature === name)!.level;
    const band = (name: string) => {
      const { inBase, inNow } = binsOf(valuesOf(baseline, name), valuesOf(current, name));
      const value = psi(inBase, inNow);
      return value >= 0.25 ? 'significant' : value >= 0.1 ? 'moderate' : 'none';
    };
    expect(level('income')).toBe(band('income'));
    expect(level('income')).toBe('significant');
    expect(level('flag')).toBe(band('flag'));
    expect(level('ratio')).toBe(band('ratio'));
    // 5 baseline decisions against the minimum of 30.
    expect(level('rare')).toBe('insufficient baseline');
  });

  it('counts every feature with enough decisions in the overall level: here input drift alone makes it significant', () => {
    // Every decision approves and none records a confidence: outcomes and confidence alone say no drift.
    expect(psiOutcome).toBe(0);
    const eligible = ['flag', 'income', 'ratio'].map((name) => {
      const { inBase, inNow } = binsOf(valuesOf(baseline, name), valuesOf(current, name));
      return psi(inBase, inNow);
    });
    const worst = Math.max(0, ...eligible);
    expect(level).toBe(worst >= 0.25 ? 'significant' : worst >= 0.1 ? 'moderate' : 'none');
    expect(level).toBe('significant');
  });

  it('leaves a feature recorded too rarely out of the overall level', async () => {
    // 40 decisions a window with the same spread of `steady`; `jumpy` recorded 3 times before and 40 times after,
    // far away — its PSI would be significant, but 3 baseline values are below the minimum of 30.
    const at = T0 + 10 * HOUR;
    const made = (ms: number, features: Record<string, number>) => span({ ms, features }, 'narrow');
    await store.insertSpans([
      ...Array.from({ length: 40 }, (_, i) =>
        made(at + i * 60_000, { steady: i % 10, ...(i < 3 ? { jumpy: i } : {}) }),
      ),
      ...Array.from({ length: 40 }, (_, i) =>
        made(at + HOUR + i * 60_000, { steady: i % 10, jumpy: 100 + i }),
      ),
    ]);
    const signal = await store.driftSignal({
      modelId: 'narrow',
      baseline: { from: new Date(at), to: new Date(at + HOUR) },
      current: { from: new Date(at + HOUR), to: new Date(at + 2 * HOUR) },
    });
    const jumpy = signal.features.find((f) => f.feature === 'jumpy')!;
    expect([jumpy.baselineDecisions, jumpy.level]).toEqual([3, 'insufficient baseline']);
    expect(jumpy.psi).toBeGreaterThan(0.25);
    expect(signal.features.find((f) => f.feature === 'steady')!.psi).toBe(0);
    expect(signal.level).toBe('none');
  });

  it('a window with no decision of the model gives no figures, and a model without features none at all', async () => {
    const empty = await store.driftSignal({
      modelId: 'scorer',
      baseline: { from: new Date(T0 - 2 * HOUR), to: new Date(T0 - HOUR) },
      current: { from: new Date(T0 + HOUR), to: new Date(T0 + 2 * HOUR) },
    });
    expect(empty.features.map((f) => [f.feature, f.baselineDecisions, f.psi, f.ks, f.level])).toEqual([
      ['flag', 0, null, null, 'insufficient baseline'],
      ['income', 0, null, null, 'insufficient baseline'],
      ['rare', 0, null, null, 'insufficient baseline'],
      ['ratio', 0, null, null, 'insufficient baseline'],
    ]);
    const none = await store.driftSignal({
      modelId: 'no-such-model',
      baseline: { from: new Date(T0), to: new Date(T0 + HOUR) },
      current: { from: new Date(T0 + HOUR), to: new Date(T0 + 2 * HOUR) },
    });
    expect(none.features).toEqual([]);
  });
});
