import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildPopulatedStore, removePopulatedStore, type FixtureFacts } from '../fixtures/populated-store.ts';
import { json, killBinGroup, runBin, spawnBin } from '../support/run-bin.ts';

let facts: FixtureFacts;
let serve: ChildProcess | undefined;
let serveLog = '';

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; serve said:\n${serveLog}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  facts = await buildPopulatedStore();
});
afterAll(() => {
  killBinGroup(serve);
  if (facts !== undefined) removePopulatedStore(facts);
});

it('while serve holds the embedded store, the other commands go through its query endpoint', async () => {
  const serveFile = path.join(facts.dataDir, 'serve.json');
  serve = spawnBin(['serve', '--port', '0'], { cwd: facts.root });
  serve.stderr!.on('data', (chunk: Buffer) => (serveLog += chunk.toString()));
  await waitFor(() => existsSync(serveFile), 'serve.json');
  const state = JSON.parse(readFileSync(serveFile, 'utf8')) as { pid: number; url: string };
  expect(state.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  const run = (...args: string[]) => runBin(args, { cwd: facts.root });
  const timeline = json<{ decision: { finalOutcome: string } }>(
    await run('timeline', facts.overridden.reference.decisionId, '--json'),
  );
  expect(timeline.decision.finalOutcome).toBe('approve');
  const report = json<{ totals: { decisions: number } }>(
    await run(
      'report',
      '--model',
      'credit-risk',
      '--from',
      facts.from.toISOString(),
      '--to',
      facts.to.toISOString(),
      '--json',
    ),
  );
  expect(report.totals.decisions).toBe(facts.decisions.length);
  // Writes go through serve too.
  const opened = json<{ incidentId: string; occurredAt: string }>(
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
      'credit-risk',
      '--from',
      '1d',
      '--json',
    ),
  );
  const shown = await run('incident', 'show', opened.incidentId);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain('through serve');
  expect((await run('incident', 'show', '01a20000-0000-7000-8000-000000000000')).code).toBe(3);
  const erased = json<{ keyDestroyed: boolean; unreadableRecords: unknown[] }>(
    await run('erase', '--subject', facts.encryptedSubject.subjectId, '--json'),
  );
  expect(erased.keyDestroyed).toBe(true);
  expect(erased.unreadableRecords).toHaveLength(1);
  expect((await run('verify', '--witness', facts.witnessFile)).code).toBe(0);
  // A second serve on the same store refuses in one line.
  const second = await run('serve', '--port', '0');
  expect(second.code).toBe(4);
  expect(second.stderr).toContain(`already holds the store`);
  // migrate refuses: serve holds the store.
  const migrate = await run('migrate');
  expect(migrate.code).toBe(4);
  expect(migrate.stderr).toContain(`pid ${state.pid}`);

  const exited = new Promise<number | null>((resolve) => serve!.once('exit', (code) => resolve(code)));
  serve.kill('SIGTERM');
  expect(await exited).toBe(0);
  serve = undefined;
  expect(existsSync(serveFile)).toBe(false);
  // With serve gone, the CLI opens the store itself and sees what was written through serve.
  const after = json<{ title: string }>(await run('incident', 'show', opened.incidentId, '--json'));
  expect(after.title).toBe('through serve');
});
