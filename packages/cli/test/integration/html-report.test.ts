import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { runBin } from '../support/run-bin.ts';

/** Debian's Chromium, which .ci/run installs when missing. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const RESULTS = path.resolve(import.meta.dirname, '../../../../test-results');

let facts: FixtureFacts;
beforeAll(async () => {
  facts = await buildPopulatedStore();
});
afterAll(() => {
  if (facts !== undefined) removePopulatedStore(facts);
});

it('the HTML report opens offline in Chromium with its five charts', async () => {
  const file = path.join(facts.root, 'report.html');
  const result = await runBin(
    [
      'report',
      '--model',
      'credit-risk',
      '--from',
      facts.from.toISOString(),
      '--to',
      facts.to.toISOString(),
      '--format',
      'html',
      '--out',
      file,
    ],
    { cwd: facts.root },
  );
  expect(result.code).toBe(0);
  expect(result.stderr).toContain(`report written to ${file}`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) external.push(request.url());
    });
    await page.goto(pathToFileURL(file).href);
    expect(await page.title()).toBe('EU AI Act period report: credit-risk');
    const charts = await page.$$eval('svg[data-chart]', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        return {
          id: svg.getAttribute('data-chart'),
          bars: svg.querySelectorAll('rect.bar').length,
          points: svg.querySelectorAll('circle.point').length,
          visible: box.width > 100 && box.height > 50,
        };
      }),
    );
    expect(charts.map((c) => c.id)).toEqual([
      'decisions-over-time',
      'override-rate',
      'confidence-histogram',
      'accuracy-by-version',
      'outcome-rate-by-group',
    ]);
    expect(charts.every((c) => c.visible)).toBe(true);
    expect(charts.find((c) => c.id === 'confidence-histogram')!.bars).toBe(10);
    expect(charts.find((c) => c.id === 'accuracy-by-version')!.bars).toBe(2);
    expect(charts.find((c) => c.id === 'outcome-rate-by-group')!.bars).toBe(2);
    expect(charts.find((c) => c.id === 'override-rate')!.points).toBeGreaterThan(0);
    // Bars have real height: the chart draws the data, not just axes.
    const tallest = await page.$$eval('svg[data-chart="decisions-over-time"] rect.bar', (rects) =>
      Math.max(...rects.map((r) => Number(r.getAttribute('height')))),
    );
    expect(tallest).toBeGreaterThan(50);
    expect(await page.textContent('body')).toContain(`${facts.decisions.length}`);
    expect(external).toEqual([]);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS, 'cli-period-report.png'), fullPage: true });
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
  } finally {
    await browser.close();
  }
});
