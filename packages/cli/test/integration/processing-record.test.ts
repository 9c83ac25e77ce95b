import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { json, runBin } from '../support/run-bin.ts';

let facts: FixtureFacts;
const run = (...args: string[]) => runBin(args, { cwd: facts.root });

interface RecordJson {
  activities: {
    model: string;
    versions: string[];
    decisions: number;
    dataCategories: { category: string; recorded: string; decisions: number }[];
    retention: { recordClass: string; days: number | null; decisions: number }[];
  }[];
  recipients: { recipient: string; receives: string }[];
  toComplete: string[];
}

beforeAll(async () => {
  facts = await buildPopulatedStore();
});
afterAll(() => {
  if (facts !== undefined) removePopulatedStore(facts);
});

describe('processing-record (GDPR Art. 30)', () => {
  it('per model: versions, how many decisions, the categories of data and how each was recorded, retention', async () => {
    const config = path.join(facts.root, 'art30.yaml');
    writeFileSync(config, 'retention:\n  standard: 30d\n  highRisk: 7y\nwitnesses:\n  list: []\n');
    const record = json<RecordJson>(await run('processing-record', '--json', '--config', config));
    expect(record.activities.map((a) => a.model)).toEqual([facts.modelId]);
    const credit = record.activities[0]!;
    expect(credit.versions).toEqual(['v1', 'v2']);
    expect(credit.decisions).toBe(facts.decisions.length);
    const category = (name: string) => credit.dataCategories.filter((c) => c.category === name);
    expect(category('pseudonymous data-subject id')[0]!.decisions).toBe(facts.decisions.length);
    // One decision's input was encrypted under its subject's key; the others were recorded as keyed hashes.
    const inputs = Object.fromEntries(
      category('model input').map((c) => [c.recorded.split(' ')[0], c.decisions]),
    );
    expect(Object.values(inputs).reduce((a, b) => a + b, 0)).toBe(facts.decisions.length);
    expect(category('model input').find((c) => c.recorded.includes('encrypted'))?.decisions).toBe(1);
    // Retention as configured: 30 days, and 7 years = 2557 days for high-risk records.
    const days = Object.fromEntries(credit.retention.map((r) => [r.recordClass, r.days]));
    for (const [cls, value] of Object.entries(days)) {
      expect(value).toBe(cls === 'high_risk' ? 2557 : cls === 'standard' ? 30 : null);
    }
    expect(credit.retention.reduce((n, r) => n + r.decisions, 0)).toBe(facts.decisions.length);
    expect(record.recipients[0]!.recipient).toContain('the embedded store at');
    expect(record.toComplete.length).toBeGreaterThan(0);
  });

  it('Markdown and HTML carry the sections; the HTML page has no scripts; an unknown format is exit 2', async () => {
    const md = (await run('processing-record')).stdout;
    expect(md).toMatch(/^# Record of processing activities \(GDPR Art\. 30\)$/m);
    expect(md).toContain(`## Processing activity: decisions of model ${facts.modelId}`);
    expect(md).toContain('## To be completed by the controller');
    const out = path.join(facts.root, 'art30.html');
    const result = await run('processing-record', '--format', 'html', '--out', out);
    expect(result.code).toBe(0);
    const html = (await import('node:fs')).readFileSync(out, 'utf8');
    expect(html).toContain(`decisions of model ${facts.modelId}`);
    expect(html).not.toMatch(/<script/i);
    const bad = await run('processing-record', '--format', 'pdf');
    expect(bad.code).toBe(2);
  });
});
