import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { isOneLineError, json, killBinGroup, runBin, spawnBin } from '../support/run-bin.ts';

interface Found {
  decisionId: string;
  timeUnixNano: string;
  modelVersion: string;
  fairnessGroup: string;
  outcome: string;
  subjectId: string;
  confidence: number | null;
  overridden: boolean;
  integrity: string | null;
}
interface Page {
  decisions: Found[];
  nextCursor: string | null;
}

let facts: FixtureFacts;
let overridden: Set<string>;
const run = (...args: string[]) => runBin(args, { cwd: facts.root });
const page = async (...args: string[]) => json<Page>(await run('decisions', ...args, '--json'));

/** Every page of a search, following the cursors the command hands out. */
async function allPages(...args: string[]): Promise<Found[]> {
  const found: Found[] = [];
  let cursor: string | null = null;
  do {
    const next: Page = await page(...args, ...(cursor === null ? [] : ['--cursor', cursor]));
    found.push(...next.decisions);
    cursor = next.nextCursor;
  } while (cursor !== null);
  return found;
}

beforeAll(async () => {
  facts = await buildPopulatedStore();
  // The fixture's overrides: v2 decisions i of group b rejected with i % 4 = 1, and the special decision.
  const v2 = facts.decisions.filter((d) => d.version === 'v2').slice(0, 30);
  overridden = new Set([
    ...v2
      .filter((d, i) => d.group === 'b' && d.outcome === 'reject' && i % 4 === 1)
      .map((d) => d.reference.decisionId),
    facts.overridden.reference.decisionId,
  ]);
});
afterAll(() => {
  if (facts !== undefined) removePopulatedStore(facts);
});

describe('decisions', () => {
  it('lists every decision newest first, each marked overridden or not', async () => {
    const all = await page('--limit', '1000');
    expect(all.nextCursor).toBeNull();
    expect(new Set(all.decisions.map((d) => d.decisionId))).toEqual(
      new Set(facts.decisions.map((d) => d.reference.decisionId)),
    );
    const times = all.decisions.map((d) => BigInt(d.timeUnixNano));
    expect(times).toEqual([...times].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    for (const d of all.decisions) expect(d.overridden).toBe(overridden.has(d.decisionId));
  });

  it('filters by version, group and override, and pages through the result without repeats or gaps', async () => {
    const want = facts.decisions
      .filter((d) => d.version === 'v2' && d.group === 'b' && overridden.has(d.reference.decisionId))
      .map((d) => d.reference.decisionId);
    expect(want.length).toBeGreaterThan(1);
    const found = await allPages('--version', 'v2', '--group', 'b', '--overridden', 'yes', '--limit', '2');
    expect(new Set(found.map((d) => d.decisionId))).toEqual(new Set(want));
    expect(found).toHaveLength(want.length);
    const notOverridden = await allPages('--model', facts.modelId, '--overridden', 'no', '--limit', '9');
    expect(notOverridden).toHaveLength(facts.decisions.length - overridden.size);
    expect(notOverridden.some((d) => overridden.has(d.decisionId))).toBe(false);
  });

  it('filters by subject, outcome and a confidence range; sorts by confidence', async () => {
    expect((await page('--subject', 'applicant-special')).decisions.map((d) => d.decisionId)).toEqual([
      facts.overridden.reference.decisionId,
    ]);
    const rejects = facts.decisions.filter((d) => d.outcome === 'reject').length;
    expect((await page('--outcome', 'reject', '--limit', '1000')).decisions).toHaveLength(rejects);
    const ranged = await allPages(
      '--min-confidence',
      '0.5',
      '--max-confidence',
      '0.6',
      '--sort',
      'confidence',
      '--asc',
    );
    expect(ranged.length).toBeGreaterThan(0);
    const confidences = ranged.map((d) => d.confidence!);
    expect(confidences.every((c) => c >= 0.5 && c <= 0.6)).toBe(true);
    expect(confidences).toEqual([...confidences].sort((a, b) => a - b));
  });

  it('finds what an incident affected: its named decision and its version in its window', async () => {
    const opened = json<{ incidentId: string }>(
      await run(
        'incident',
        'open',
        '--title',
        'v1 in its first seconds',
        '--severity',
        'low',
        '--category',
        'malfunction',
        '--model',
        facts.modelId,
        '--version',
        'v1',
        '--from',
        facts.from.toISOString(),
        '--to',
        facts.to.toISOString(),
        '--decision',
        facts.overridden.reference.decisionId,
        '--json',
      ),
    );
    const found = await allPages('--incident', opened.incidentId, '--limit', '25');
    const want = new Set([
      ...facts.decisions.filter((d) => d.version === 'v1').map((d) => d.reference.decisionId),
      facts.overridden.reference.decisionId,
    ]);
    expect(new Set(found.map((d) => d.decisionId))).toEqual(want);
    const unknown = await run('decisions', '--incident', 'no-such-incident');
    expect(unknown.code).toBe(3);
    expect(isOneLineError(unknown)).toBe(true);
  });

  it('with the trusted key: every decision has one integrity status, and each status filters', async () => {
    const all = await page('--limit', '1000');
    const statuses = new Map<string, number>();
    for (const d of all.decisions) {
      expect(['sealed', 'unsealed', 'untrusted', 'unsigned']).toContain(d.integrity);
      statuses.set(d.integrity!, (statuses.get(d.integrity!) ?? 0) + 1);
    }
    expect(statuses.get('sealed') ?? 0).toBeGreaterThan(0);
    for (const status of ['sealed', 'unsealed', 'untrusted', 'unsigned']) {
      const filtered = await page('--integrity', status, '--limit', '1000');
      expect(filtered.decisions).toHaveLength(statuses.get(status) ?? 0);
      expect(filtered.decisions.every((d) => d.integrity === status)).toBe(true);
    }
  });

  it('--csv is a header and one row per decision, and names the next page on stderr', async () => {
    const result = await run('decisions', '--csv', '--limit', '4');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'time,decision_id,model_id,model_version,outcome,confidence,overridden,integrity,subject_id,fairness_group,service,trace_id,span_id',
    );
    expect(lines).toHaveLength(5);
    const first = (await page('--limit', '4')).decisions;
    expect(lines.slice(1).map((line) => line.split(',')[1])).toEqual(first.map((d) => d.decisionId));
    expect(result.stderr).toMatch(/next page: .* --cursor \S+/);
  });

  it('the table for people: one format for times and confidences', async () => {
    const result = await run('decisions', '--subject', 'applicant-special');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^time\s+decision\s+model\s+outcome\s+confidence\s+overridden\s+subject\s+integrity$/m,
    );
    expect(result.stdout).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+${facts.overridden.reference.decisionId}\\s+credit-risk v2\\s+reject\\s+0\\.520\\s+yes\\s+applicant-special`,
        'm',
      ),
    );
    expect(result.stdout).toMatch(/^1 decision\(s\); no more pages$/m);
  });

  it('bad input: a clear one-line error, exit 2', async () => {
    for (const args of [
      ['--limit', '0'],
      ['--limit', 'ten'],
      ['--min-confidence', '2'],
      ['--min-confidence', '0.8', '--max-confidence', '0.2'],
      ['--overridden', 'maybe'],
      ['--integrity', 'intact'],
      ['--sort', 'outcome'],
      ['--from', 'yesterday'],
      ['--cursor', 'garbage'],
      ['--json', '--csv'],
    ]) {
      const result = await run('decisions', ...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(isOneLineError(result), result.stderr).toBe(true);
    }
  });
});

describe('decisions through serve', () => {
  let serve: ChildProcess | undefined;
  afterAll(() => {
    killBinGroup(serve);
  });

  it('answers the same pages while serve holds the store', async () => {
    const args = ['--version', 'v2', '--limit', '7', '--sort', 'confidence'];
    const direct = await allPages(...args);
    const serveFile = path.join(facts.dataDir, 'serve.json');
    let log = '';
    serve = spawnBin(['serve', '--port', '0'], { cwd: facts.root });
    serve.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const deadline = Date.now() + 180_000;
    while (!existsSync(serveFile)) {
      if (Date.now() > deadline) throw new Error(`serve did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const viaServe = await allPages(...args);
    expect(viaServe).toEqual(direct);
    const bad = await run('decisions', '--cursor', 'garbage');
    expect(bad.code).toBe(2);
    // incident show asks serve for its signals with the incident's window as the parameters (nothing more).
    const incident = json<{ incidentId: string }>(
      await run(
        'incident',
        'open',
        '--title',
        'through serve',
        '--severity',
        'low',
        '--category',
        'malfunction',
        '--model',
        facts.modelId,
        '--from',
        facts.from.toISOString(),
        '--json',
      ),
    );
    const shown = await run('incident', 'show', incident.incidentId);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('Investigation signals');
  });
});
