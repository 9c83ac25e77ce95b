import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '@decisiontrail/cli/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A local server speaking the serve query endpoint's wire format (CONTRACTS.md), so the client side of the
// two-process path is exercised without a store: what it sends, and how each kind of answer becomes an exit code.
let server: Server;
let dataDir: string;
const requests: { name: string; body: unknown }[] = [];
let answer: (name: string) => { status: number; body: string } = () => ({
  status: 200,
  body: '{"result":null}',
});

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'decisiontrail-serve-client-'));
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const name = (req.url ?? '').replace('/v1/query/', '');
      requests.push({ name, body: JSON.parse(text) });
      const { status, body } = answer(name);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // This process is alive, so the CLI treats the file as a live serve.
  writeFileSync(
    path.join(dataDir, 'serve.json'),
    JSON.stringify({ pid: process.pid, url: `http://127.0.0.1:${port}` }),
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = { stdout: '', stderr: '' };
  stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const code = await runCli([...argv, '--data', dataDir], {
    stdout,
    stderr,
    env: {},
    cwd: dataDir,
    signal: new AbortController().signal,
  });
  return { code, ...out };
}

const INCIDENT = {
  incidentId: 'inc-1',
  version: 2,
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T11:00:00.000Z',
  title: 'x',
  description: '',
  severity: 'high',
  category: 'death',
  status: 'open',
  modelId: 'm',
  modelVersion: 'v1',
  decisionIds: [],
  occurredAt: '2026-03-01T09:00:00.000Z',
  reportDeadline: '2026-03-11T09:00:00.000Z',
  reportedAt: null,
  updatedBy: '',
};

describe('the CLI through a serve query endpoint', () => {
  it('sends the Store method argument with ISO dates and revives dates in the answer', async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ result: INCIDENT }) });
    const result = await run('incident', 'update', 'inc-1', '--severity', 'low', '--json');
    expect(result.code).toBe(0);
    expect(requests.at(-2)).toEqual({ name: 'getIncident', body: { incidentId: 'inc-1' } });
    expect(requests.at(-1)).toEqual({
      name: 'updateIncident',
      body: { incidentId: 'inc-1', severity: 'low' },
    });
    const shown = JSON.parse(result.stdout) as { reporting: { deadline: string; days: number } };
    expect(shown.reporting).toMatchObject({ deadline: '2026-03-11T09:00:00.000Z', days: 10 });
  });

  it('maps endpoint errors to exit codes with one line each', async () => {
    answer = () => ({
      status: 404,
      body: JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no incident "inc-2"' } }),
    });
    expect((await run('incident', 'show', 'inc-2')).code).toBe(3);
    answer = () => ({
      status: 400,
      body: JSON.stringify({ error: { code: 'QUERY_INVALID', message: 'bad parameters: x' } }),
    });
    expect((await run('incident', 'list')).code).toBe(2);
    answer = () => ({
      status: 500,
      body: JSON.stringify({ error: { code: 'QUERY_FAILED', message: 'engine exploded\nsecond line' } }),
    });
    const failed = await run('incident', 'list');
    expect(failed.code).toBe(4);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    answer = () => ({ status: 502, body: '<html>bad gateway</html>' });
    expect((await run('incident', 'list')).code).toBe(4);
  });

  it('a serve.json of a dead process is ignored', async () => {
    const stale = mkdtempSync(path.join(tmpdir(), 'decisiontrail-stale-'));
    try {
      // Beyond the kernel's pid range: no such process. The directory holds nothing but the stale file.
      writeFileSync(
        path.join(stale, 'serve.json'),
        JSON.stringify({ pid: 2 ** 22 + 12345, url: 'http://127.0.0.1:1' }),
      );
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let err = '';
      stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await runCli(['incident', 'list', '--data', stale], {
        stdout,
        stderr,
        env: {},
        cwd: stale,
        signal: new AbortController().signal,
      });
      expect(code).toBe(4);
      expect(err).toContain(`the store at ${stale} is empty`);
    } finally {
      rmSync(stale, { recursive: true, force: true });
    }
  });
});
