import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { json, runBin } from '../support/run-bin.ts';

let facts: FixtureFacts;
const run = (...args: string[]) => runBin(args, { cwd: facts.root });

beforeAll(async () => {
  facts = await buildPopulatedStore();
});
afterAll(() => {
  if (facts !== undefined) removePopulatedStore(facts);
});

interface ReportJson {
  generatedAt: string;
  period: { from: string; to: string };
  totals: { decisions: number };
  decisionsOverTime: { start: string; decisions: number }[];
  accuracyByVersion: { version: string; decisions: number; withFeedback: number }[];
  retention: { recordClass: string; period: string }[];
}

describe('report correctness', () => {
  it('a period reaching past now ends at the time the report was generated', async () => {
    const to = new Date(Date.now() + 3_600_000);
    const report = json<ReportJson>(
      await run(
        'report',
        '--model',
        facts.modelId,
        '--from',
        facts.from.toISOString(),
        '--to',
        to.toISOString(),
        '--json',
      ),
    );
    expect(Date.parse(report.period.to)).toBeLessThanOrEqual(Date.parse(report.generatedAt));
    expect(Date.parse(report.period.to)).toBeLessThan(to.getTime());
    expect(report.totals.decisions).toBe(facts.decisions.length);
  });

  it('buckets the time chart to the period: a short period gets many bars that add up to its decisions', async () => {
    const from = new Date(facts.from.getTime() - 5_000);
    const to = new Date(Math.min(facts.to.getTime(), Date.now()));
    const report = json<ReportJson>(
      await run(
        'report',
        '--model',
        facts.modelId,
        '--from',
        from.toISOString(),
        '--to',
        to.toISOString(),
        '--json',
      ),
    );
    const series = report.decisionsOverTime;
    // The fixture spans about a minute: far more than the one or two bars of minute-wide buckets.
    expect(series.length).toBeGreaterThanOrEqual(10);
    expect(series.length).toBeLessThanOrEqual(60);
    expect(series[0]!.start).toBe(from.toISOString());
    const widths = new Set(series.slice(1).map((b, i) => Date.parse(b.start) - Date.parse(series[i]!.start)));
    expect(widths.size).toBe(1);
    const width = [...widths][0]!;
    expect(Date.parse(series.at(-1)!.start) + width).toBeGreaterThanOrEqual(Date.parse(report.period.to));
    expect(series.reduce((n, b) => n + b.decisions, 0)).toBe(facts.decisions.length);
  });

  it('each version row counts that version only', async () => {
    const report = json<ReportJson>(
      await run('report', '--model', facts.modelId, '--from', facts.from.toISOString(), '--json'),
    );
    const expected = ['v1', 'v2'].map((version) => ({
      version,
      decisions: facts.decisions.filter((d) => d.version === version).length,
      withFeedback: facts.decisions.filter(
        (d) => d.version === version && facts.feedback.has(d.reference.decisionId),
      ).length,
    }));
    expect(
      report.accuracyByVersion.map(({ version, decisions, withFeedback }) => ({
        version,
        decisions,
        withFeedback,
      })),
    ).toEqual(expected);
  });

  it('states retention in days by one rule: seven years are 2557 days by default and for "7y" in decisiontrail.yaml', async () => {
    // 7 × 365 days plus the two leap days any run of seven years holds; ten years hold three.
    const standard = (report: ReportJson) =>
      report.retention.find((r) => r.recordClass === 'standard')!.period;
    const highRisk = (report: ReportJson) =>
      report.retention.find((r) => r.recordClass === 'high_risk')!.period;
    const byDefault = json<ReportJson>(
      await run('report', '--model', facts.modelId, '--from', facts.from.toISOString(), '--json'),
    );
    expect(standard(byDefault)).toMatch(/^7 years \(2,557 days\);/);
    expect(highRisk(byDefault)).toMatch(/^10 years \(3,653 days\);/);
    const config = path.join(facts.root, 'retention.yaml');
    writeFileSync(config, 'retention:\n  standard: 7y\n  highRisk: 10y\n');
    const configured = json<ReportJson>(
      await run(
        'report',
        '--model',
        facts.modelId,
        '--from',
        facts.from.toISOString(),
        '--json',
        '--config',
        config,
      ),
    );
    expect(standard(configured)).toMatch(/^7 years \(2,557 days\);/);
    expect(highRisk(configured)).toMatch(/^10 years \(3,653 days\);/);
  });
});

describe('one format for people', () => {
  it('the timeline prints a confidence with three decimals, as stored to the last digit in --json', async () => {
    const id = facts.overridden.reference.decisionId;
    const doc = json<{
      decision: { confidence: number };
      entries: { kind: string; details: { label: string; value: string }[] }[];
    }>(await run('timeline', id, '--json'));
    const text = (await run('timeline', id)).stdout;
    const expected = (Math.round(doc.decision.confidence * 1000) / 1000).toFixed(3);
    expect(text).toMatch(new RegExp(`^  confidence\\s+${expected.replace('.', '\\.')}$`, 'm'));
    const detail = doc.entries
      .find((e) => e.kind === 'decision')!
      .details.find((d) => d.label === 'confidence');
    expect(detail?.value).toBe(expected);
  });

  it('report --help shows an example the demo can answer: its model and a version it deploys', async () => {
    const help = (await run('report', '--help')).stdout;
    const versions = [...help.matchAll(/--model \S+ --version (\S+)/g)].map((m) => m[1]);
    expect(versions.length).toBeGreaterThan(0);
    // The demo (README, "What the demo shows") deploys credit-risk 1.0.0 and then 2.0.0.
    for (const version of versions) {
      expect(['1.0.0', '2.0.0']).toContain(version);
      expect(help).toContain(`--model credit-risk --version ${version}`);
    }
  });
});

describe('fairness', () => {
  it('selection rate per group with its sample size and interval, and the four-fifths check', async () => {
    const metrics = json<{
      groups: {
        group: string;
        decisions: number;
        selectionRate: { rate: number; n: number; low: number; high: number };
      }[];
      selectionRateRatio: number;
      failsFourFifths: boolean;
    }>(
      await run(
        'fairness',
        '--model',
        facts.modelId,
        '--positive',
        'approve',
        '--from',
        facts.from.toISOString(),
        '--json',
      ),
    );
    const rates = ['a', 'b'].map((group) => {
      const of = facts.decisions.filter((d) => d.group === group);
      return of.filter((d) => d.outcome === 'approve').length / of.length;
    });
    expect(metrics.groups.map((g) => [g.group, g.decisions, g.selectionRate.rate])).toEqual([
      ['a', facts.decisions.filter((d) => d.group === 'a').length, rates[0]],
      ['b', facts.decisions.filter((d) => d.group === 'b').length, rates[1]],
    ]);
    for (const g of metrics.groups) {
      expect(g.selectionRate.low).toBeLessThanOrEqual(g.selectionRate.rate);
      expect(g.selectionRate.high).toBeGreaterThanOrEqual(g.selectionRate.rate);
    }
    const ratio = Math.min(...rates) / Math.max(...rates);
    expect(metrics.selectionRateRatio).toBeCloseTo(ratio, 12);
    expect(metrics.failsFourFifths).toBe(ratio < 0.8);
    const text = (
      await run(
        'fairness',
        '--model',
        facts.modelId,
        '--positive',
        'approve',
        '--from',
        facts.from.toISOString(),
      )
    ).stdout;
    expect(text).toMatch(/^ {2}selection rate {7}\d+\.\d% \[\d+\.\d%–\d+\.\d%\] n=\d+$/m);
    expect(text).toContain('four-fifths rule: lowest / highest selection rate');
    expect((await run('fairness', '--model', facts.modelId)).code).toBe(2);
  });
});

describe('fairness in the period report', () => {
  interface Estimate {
    rate: number | null;
    count: number;
    n: number;
    low: number | null;
    high: number | null;
  }
  interface Group {
    group: string;
    decisions: number;
    outcomeCount: number;
    selectionRate: Estimate;
    accuracy: Estimate;
    errorRate: Estimate;
    truePositiveRate: Estimate;
    falsePositiveRate: Estimate;
  }

  it('per group: selection rate, accuracy, error rate, TPR and FPR with sample sizes and intervals, four-fifths flag', async () => {
    const args = [
      'report',
      '--model',
      facts.modelId,
      '--from',
      facts.from.toISOString(),
      '--outcome',
      'approve',
    ];
    const report = json<{
      fairness: {
        outcome: string;
        groups: Group[];
        disparityRatio: number;
        failsFourFifths: boolean;
        smallGroups: string[];
      };
    }>(await run(...args, '--json'));
    expect(report.fairness.outcome).toBe('approve');
    const selection: number[] = [];
    for (const group of ['a', 'b']) {
      const of = facts.decisions.filter((d) => d.group === group);
      const labelled = of.filter((d) => facts.feedback.has(d.reference.decisionId));
      const correct = labelled.filter((d) => facts.feedback.get(d.reference.decisionId));
      // Ground truth is the label's actual outcome (the fixture always names one).
      const truth = (d: (typeof of)[number]) =>
        facts.feedbackActual.get(d.reference.decisionId) === 'approve';
      const positives = labelled.filter(truth);
      const negatives = labelled.filter((d) => !truth(d));
      const approved = of.filter((d) => d.outcome === 'approve');
      const row = report.fairness.groups.find((g) => g.group === group)!;
      const check = (e: Estimate, count: number, n: number) => {
        expect([e.count, e.n]).toEqual([count, n]);
        if (n === 0) return expect(e.rate).toBeNull();
        expect(e.rate).toBeCloseTo(count / n, 12);
        expect(e.low!).toBeLessThanOrEqual(e.rate!);
        expect(e.high!).toBeGreaterThanOrEqual(e.rate!);
      };
      expect(row.decisions).toBe(of.length);
      expect(row.outcomeCount).toBe(approved.length);
      check(row.selectionRate, approved.length, of.length);
      check(row.accuracy, correct.length, labelled.length);
      check(row.errorRate, labelled.length - correct.length, labelled.length);
      check(row.truePositiveRate, positives.filter((d) => d.outcome === 'approve').length, positives.length);
      check(row.falsePositiveRate, negatives.filter((d) => d.outcome === 'approve').length, negatives.length);
      selection.push(approved.length / of.length);
    }
    const ratio = Math.min(...selection) / Math.max(...selection);
    expect(report.fairness.disparityRatio).toBeCloseTo(ratio, 12);
    expect(report.fairness.failsFourFifths).toBe(ratio < 0.8);
    // 31 decisions per group at most: each is at or above the minimum of 30 only if it has 30.
    expect(report.fairness.smallGroups).toEqual(
      ['a', 'b'].filter((g) => facts.decisions.filter((d) => d.group === g).length < 30),
    );
    // An empty outcome is refused before the store is read.
    const empty = await run('report', '--model', facts.modelId, '--outcome', '');
    expect([empty.code, empty.stderr.trim()]).toEqual([
      2,
      'decisiontrail: report: --outcome needs a non-empty value',
    ]);
    const markdown = (await run(...args)).stdout;
    expect(markdown).toContain(
      '| fairness group | decisions | outcome "approve" (selection rate) | accuracy | error rate | true positive rate | false positive rate |',
    );
    expect(markdown).toMatch(
      /^\| a(?: \(too few to compare\))? \| \d+ \| \d+\.\d% \[\d+\.\d%–\d+\.\d%\] n=\d+ \|/m,
    );
    expect(markdown).toContain(
      `Disparity ratio (lowest group selection rate / highest): ${ratio.toFixed(3)} — ${ratio < 0.8 ? 'below 0.8: fails the four-fifths rule' : 'not below 0.8 (four-fifths rule)'}`,
    );
  });
});

describe('reproduce', () => {
  interface Recipe {
    decisionId: string;
    model: { id: string; version: string };
    provenance: Record<string, { value: string; from: string } | null>;
    input: { captureMode: string; hash: string; subjectId: string };
    expected: { outcome: string; confidence: string };
    missing: string[];
  }

  it('prints what a re-run needs and names what was not recorded', async () => {
    const overridden = facts.decisions.find(
      (d) => d.reference.decisionId === facts.overridden.reference.decisionId,
    )!;
    const recipe = json<Recipe>(await run('reproduce', overridden.reference.decisionId, '--json'));
    expect(recipe).toMatchObject({
      decisionId: overridden.reference.decisionId,
      model: { id: facts.modelId, version: overridden.version },
      input: { captureMode: 'hash' },
      // The outcome the model gave, before the reviewer's override.
      expected: { outcome: overridden.outcome, confidence: '0.52' },
    });
    expect(recipe.input.hash).toMatch(/^[0-9a-f]{64}$/);
    // The fixture records no weights, config or training data: the recipe says so instead of guessing.
    expect(recipe.provenance['weightsHash']).toBeNull();
    expect(recipe.missing).toEqual(
      expect.arrayContaining([
        'the weights hash',
        'the config hash',
        'the training data set',
        'the input itself (capture mode hash)',
      ]),
    );
    const encrypted = json<Recipe>(await run('reproduce', facts.encryptedSubject.decisionId, '--json'));
    expect(encrypted.input).toMatchObject({
      captureMode: 'encrypt',
      subjectId: facts.encryptedSubject.subjectId,
    });
    expect(encrypted.missing.some((m) => m.startsWith('the input itself'))).toBe(false);
    const text = (await run('reproduce', facts.encryptedSubject.decisionId)).stdout;
    expect(text).toContain(`content: decisiontrail subject ${facts.encryptedSubject.subjectId}`);
    expect((await run('reproduce', '01a20000-0000-7000-8000-000000000000')).code).toBe(3);
    expect((await run('reproduce', 'not-an-id')).code).toBe(2);
  });
});
