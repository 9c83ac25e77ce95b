import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestCertificates } from '../../../../test/support/test-certificates.ts';
import { BIN, json, runBin } from '../support/run-bin.ts';

// `decisiontrail serve` with TLS and bearer tokens, and the other commands reaching it: they find the token
// (environment, or an entry of processor.auth.tokens they can read), trust processor.receiver.tls.ca, and report
// a refused credential in one line without printing the token.

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const READER_TOKEN = 'reader-token-0123456789abcdef';

let root: string;
let serve: ChildProcess | undefined;
let serveLog = '';

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; serve said:\n${serveLog}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runBin(args, { cwd: root, env: { DT_ADMIN_TOKEN: '', DECISIONTRAIL_TOKEN: '', ...env } });

const openIncident = [
  'incident',
  'open',
  '--title',
  't',
  '--severity',
  'low',
  '--category',
  'malfunction',
  '--model',
  'credit-risk',
  '--from',
  '1d',
];

describe('serve with TLS and bearer tokens, and the CLI through it', () => {
  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'decisiontrail-serve-auth-'));
    const certs = writeTestCertificates(root);
    writeFileSync(path.join(root, 'reader.token'), `${READER_TOKEN}\n`, { mode: 0o600 });
    writeFileSync(
      path.join(root, 'decisiontrail.yaml'),
      `processor:
  receiver:
    tls: { cert: ${certs.serverCert}, key: ${certs.serverKey}, ca: ${certs.ca} }
  auth:
    tokens:
      - { name: ops, scopes: [admin], env: DT_ADMIN_TOKEN }
      - { name: reader, scopes: [read], file: reader.token }
`,
    );
    serve = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', DT_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    serve.stderr!.on('data', (chunk: Buffer) => (serveLog += chunk.toString()));
    await waitFor(() => existsSync(path.join(root, '.decisiontrail', 'data', 'serve.json')), 'serve.json');
    await waitFor(() => serveLog.includes('listening on'), 'the listening line');
  });
  afterAll(async () => {
    if (serve !== undefined) {
      const exited = new Promise((resolve) => serve!.once('exit', resolve));
      serve.kill('SIGTERM');
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('serve announces HTTPS and its authentication', () => {
    const state = JSON.parse(
      readFileSync(path.join(root, '.decisiontrail', 'data', 'serve.json'), 'utf8'),
    ) as {
      url: string;
    };
    expect(state.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(serveLog).toContain('authentication: 2 token(s)');
    expect(serveLog).not.toContain(ADMIN_TOKEN);
  });

  it('with only the readable reader token from the config: reads work, writes are refused for scope', async () => {
    expect(json<unknown[]>(await run(['incident', 'list', '--json']))).toEqual([]);
    const refused = await run(openIncident);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('the credential lacks the write scope');
    expect(refused.stderr).not.toContain(READER_TOKEN);
  });

  it('with the admin token in the variable the config names, writes go through', async () => {
    const opened = await run([...openIncident, '--json'], { DT_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(opened.code).toBe(0);
    const listed = json<{ title: string }[]>(await run(['incident', 'list', '--json']));
    expect(listed.map((i) => i.title)).toEqual(['t']);
  });

  it('a wrong DECISIONTRAIL_TOKEN is refused in one line that does not echo it', async () => {
    const wrong = 'wrong-token-0123456789abcdef';
    const refused = await run(['incident', 'list'], { DECISIONTRAIL_TOKEN: wrong });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('the bearer token is not valid');
    expect(refused.stderr).not.toContain(wrong);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('serve refuses a non-loopback bind without authentication unless --insecure-no-auth', async () => {
    const bare = mkdtempSync(path.join(tmpdir(), 'decisiontrail-serve-bind-'));
    try {
      const refused = await runBin(['serve', '--host', '0.0.0.0', '--port', '0'], { cwd: bare });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('refusing to listen on 0.0.0.0 without authentication');
      expect(refused.stderr).toContain('--insecure-no-auth');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
