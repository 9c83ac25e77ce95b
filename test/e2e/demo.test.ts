// `npm run demo` as a newcomer runs it: the launcher, default settings, a fresh working directory; then once more in
// the same place, because a demo that only works on a clean checkout is not a demo.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runDecisiontrail, tempDir } from './support/e2e-harness.ts';

let cwd: string | undefined;

afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

/** The number after a label in the demo's counts block, e.g. `credit decisions     3,000`. */
function count(output: string, label: string): number {
  const match = new RegExp(`^  ${label}\\s+([\\d,]+)`, 'm').exec(output);
  if (match === null) throw new Error(`no "${label}" line in the demo output:\n${output}`);
  return Number(match[1]!.replaceAll(',', ''));
}

it('tells the whole story, and tells it again when run a second time', async () => {
  cwd = await tempDir('demo');
  const first = await runDecisiontrail(['demo'], cwd);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  const out = first.stdout;
  for (let step = 1; step <= 9; step++) expect(out).toContain(`[${step}/9]`);

  // Counts come back out of the store and match what the workload sent (the demo prints a red line otherwise).
  expect(count(out, 'credit decisions')).toBe(3_000);
  expect(count(out, 'human reviews')).toBeGreaterThan(0);
  expect(count(out, 'outcomes fed back')).toBe(2_100);
  expect(out).not.toContain('the store disagrees with what was sent');

  // The timeline of an overridden decision, the report summary, the incident pointing at the v2 deployment.
  expect(out).toMatch(/outcome\s+approve → reject \(overridden\)|outcome\s+reject → approve \(overridden\)/);
  expect(out).toMatch(/v1\.0\.0\s+1,500 decisions\s+accuracy/);
  const deployment = /v2 went live with deployment ([0-9a-f-]{36})/.exec(out)?.[1];
  expect(deployment).toBeDefined();
  expect(out).toContain(`degradation: degraded around deployment ${deployment}`);
  // The credit model records its allow-listed features (driftFeatures in the demo's decisiontrail.yaml), and the
  // riskier applicants who came with v2 show as input drift that the overall drift level counts.
  expect(out).toMatch(
    /input drift debt_to_income: significant \(PSI [\d.]+, KS [\d.]+; baseline [\d,]+ decisions/,
  );
  expect(out).toMatch(
    /drift: significant \(PSI confidence [\d.]+, outcomes [\d.]+, input debt_to_income [\d.]+\)/,
  );

  // verify passes on the store, fails on the tampered copy and names the altered decision and its span.
  expect(out).toMatch(/\[8\/9\][\s\S]*intact: 1 stream/);
  const altered = /set audit\.decision\.outcome of decision ([0-9a-f-]{36}) \(span ([0-9a-f]{16})\)/.exec(
    out,
  );
  expect(altered).not.toBeNull();
  const [, decisionId, spanId] = altered!;
  expect(out).toMatch(new RegExp(`modified \\(span ${spanId!}, seq \\d+, decision ${decisionId!}\\)`));
  expect(out).toContain(`verify failed as it must (exit code 1) and named decision ${decisionId!}`);

  // Every count for people carries thousands separators, in every step's lines (verify's rows, the report's
  // retention): a run of four or more digits standing alone is one printed raw. Leaf positions (seq, leaf, a
  // checkpoint's size) are printed as they are signed, and ids, hashes and times are not standalone numbers.
  const rawNumbers = out
    .split('\n')
    .flatMap((line) => [
      ...line.replace(/\b(?:seq|leaf|size):? \d+/g, '').matchAll(/(?<![\w.:/-])\d{4,}(?![\w.:/-])/g),
    ])
    .map((m) => m.input);
  expect(rawNumbers).toEqual([]);

  const report = await readFile(path.join(cwd, '.decisiontrail/demo/report.html'), 'utf8');
  expect(report).toContain('<svg');
  expect(report).toContain('credit-risk');

  const second = await runDecisiontrail(['demo', '--applicants', '300'], cwd);
  expect(second.code, second.stdout + second.stderr).toBe(0);
  expect(count(second.stdout, 'credit decisions')).toBe(300);
  expect(existsSync(path.join(cwd, '.decisiontrail/demo/tampered'))).toBe(true);
});

it('refuses to delete a directory it did not make', async () => {
  const dir = await tempDir('demo-foreign');
  try {
    await writeFile(path.join(dir, 'precious.txt'), 'keep me');
    const run = await runDecisiontrail(['demo', '--dir', dir], dir);
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('was not made by the demo');
    expect(existsSync(path.join(dir, 'precious.txt'))).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
