// Quarantine in view from the CLI: spans the processor refuses at ingest (an unsigned decision under
// verify.unsigned: quarantine, a record whose audit.decision.id is malformed) are listed and shown with their
// reasons, and the timeline of a quarantined decision says where it went — through serve's query endpoint while
// `decisiontrail serve` holds the store, and with the store opened directly once it stopped.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOneLineError, json, killBinGroup, runBin, spawnBin } from '../support/run-bin.ts';

const UNSIGNED_DECISION = '019ab3f0-1111-7000-8000-000000000001';
const MALFORMED = 'not-a-uuid';
const NOWHERE = '019ab3f0-2222-7000-8000-000000000002';

let root: string;
let serve: ChildProcess | undefined;
let serveLog = '';
const run = (...args: string[]) => runBin(args, { cwd: root });

/** An OTLP/JSON request with one decision span per id, as an SDK would send it. */
function otlpBody(decisionIds: readonly string[]): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  const attribute = (key: string, value: string) => ({ key, value: { stringValue: value } });
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [attribute('service.name', 'loan-api')] },
        scopeSpans: [
          {
            scope: { name: 'quarantine-test' },
            spans: decisionIds.map((id, i) => ({
              traceId: randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
              name: 'audit.decision credit-risk',
              kind: 1,
              startTimeUnixNano: String(now + BigInt(i)),
              endTimeUnixNano: String(now + BigInt(i) + 1000n),
              attributes: [
                attribute('audit.record.type', 'decision'),
                attribute('audit.decision.id', id),
                attribute('audit.model.id', 'credit-risk'),
                attribute('audit.decision.outcome', 'reject'),
              ],
            })),
          },
        ],
      },
    ],
  });
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; serve said:\n${serveLog}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'decisiontrail-quarantine-'));
  mkdirSync(path.join(root, '.decisiontrail', 'keys'), { recursive: true });
  writeFileSync(
    path.join(root, 'decisiontrail.yaml'),
    'processor:\n  stages:\n    verify: { enabled: true, unsigned: quarantine }\n',
  );
  expect((await run('migrate')).code).toBe(0);
  const serveFile = path.join(root, '.decisiontrail', 'data', 'serve.json');
  serve = spawnBin(['serve', '--port', '0'], { cwd: root });
  serve.stderr!.on('data', (chunk: Buffer) => (serveLog += chunk.toString()));
  await waitFor(() => existsSync(serveFile), 'serve.json');
  const { url } = JSON.parse(readFileSync(serveFile, 'utf8')) as { url: string };
  const response = await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: otlpBody([UNSIGNED_DECISION, MALFORMED]),
  });
  expect(response.status).toBe(200);
  await waitFor(
    async () => json<unknown[]>(await run('quarantine', 'list', '--json')).length === 2,
    'both spans quarantined',
  );
});
afterAll(() => {
  killBinGroup(serve);
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/** The same checks, through serve and then directly. */
function quarantineChecks(): void {
  it('lists the refused spans with their reason codes and reasons', async () => {
    const result = await run('quarantine', 'list');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('MALFORMED_DECISION_ID');
    expect(result.stdout).toContain(`decision "${MALFORMED}"`);
    expect(result.stdout).toContain('audit.decision.id "not-a-uuid" is not a UUID');
    expect(result.stdout).toContain('UNSIGNED');
    expect(result.stdout).toContain('audit span carries no integrity attributes');
    const only = json<{ code: string; decisionId: string; recordType: string }[]>(
      await run('quarantine', 'list', '--code', 'MALFORMED_DECISION_ID', '--json'),
    );
    expect(only).toEqual([
      expect.objectContaining({
        code: 'MALFORMED_DECISION_ID',
        decisionId: MALFORMED,
        recordType: 'decision',
      }),
    ]);
    expect(json<unknown[]>(await run('quarantine', 'list', '--to', '2000-01-01', '--json'))).toEqual([]);
  });

  it('shows one quarantined record with every attribute it arrived with', async () => {
    const result = await run('quarantine', 'show', MALFORMED);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('MALFORMED_DECISION_ID');
    expect(result.stdout).toContain('audit.model.id = "credit-risk"');
    const [entry] = json<{ spanId: string; traceId: string; attributes: Record<string, string> }[]>(
      await run('quarantine', 'show', MALFORMED, '--json'),
    );
    expect(entry!.attributes['audit.decision.outcome']).toBe('reject');
    // Found by its span id and by its trace id as well.
    for (const id of [entry!.spanId, entry!.traceId]) {
      const [found] = json<{ spanId: string }[]>(await run('quarantine', 'show', id, '--json'));
      expect(found!.spanId).toBe(entry!.spanId);
    }
  });

  it('timeline of a quarantined decision says it was quarantined and why', async () => {
    const result = await run('timeline', UNSIGNED_DECISION);
    expect(result.code).toBe(3);
    expect(isOneLineError(result)).toBe(true);
    expect(result.stderr).toContain(`decision ${UNSIGNED_DECISION} is not in the store: quarantined at`);
    expect(result.stderr).toContain('UNSIGNED: audit span carries no integrity attributes');
    expect(result.stderr).toContain(`decisiontrail quarantine show ${UNSIGNED_DECISION}`);
    const unknown = await run('timeline', NOWHERE);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain(`no decision with id ${NOWHERE} in the store`);
  });

  it('answers an id nothing was quarantined with exit 3', async () => {
    const missing = await run('quarantine', 'show', NOWHERE);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`nothing quarantined with id "${NOWHERE}"`);
  });
}

describe('through serve', () => {
  quarantineChecks();
  it('answers bad arguments with a usage error before reaching the store', async () => {
    for (const args of [
      ['quarantine', 'list', '--limit', '0'],
      ['quarantine', 'list', '--limit', 'ten'],
      ['quarantine', 'list', '--from', 'yesterday-ish'],
      ['quarantine', 'list', '--from', '2026-02-02', '--to', '2026-02-01'],
      ['quarantine', 'show'],
      ['quarantine', 'show', 'a\u0007b'],
    ]) {
      const result = await run(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(isOneLineError(result), args.join(' ')).toBe(true);
    }
  });
});

describe('with the store opened directly', () => {
  beforeAll(async () => {
    serve!.kill('SIGTERM');
    const serveFile = path.join(root, '.decisiontrail', 'data', 'serve.json');
    await waitFor(() => !existsSync(serveFile), 'serve to stop');
  });
  quarantineChecks();
});
