// Each example runs exactly as `npm start -w examples/<name>` runs it (the same node flags, read from its
// package.json), but in a fresh directory under the OS temp dir, so its keys and store never land in the repository.
import { execFile } from 'node:child_process';
import { copyFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { openStore } from '@decisiontrail/clickhouse';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, tempDir } from './support/e2e-harness.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');
const made: string[] = [];

afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

/** Runs the example's start script with the working directory in a fresh temp dir holding its decisiontrail.yaml. */
async function start(name: string): Promise<{ code: number; stdout: string; stderr: string; cwd: string }> {
  const root = path.join(EXAMPLES, name);
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [command, ...args] = manifest.scripts.start.split(' ');
  expect(command).toBe('node');
  const cwd = await tempDir(`example-${name}`);
  made.push(cwd);
  await copyFile(path.join(root, 'decisiontrail.yaml'), path.join(cwd, 'decisiontrail.yaml'));
  const argv = args.map((arg) => (arg.startsWith('src/') ? path.join(root, arg) : arg));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      argv,
      { cwd, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
          cwd,
        });
      },
    );
  });
}

describe('examples', () => {
  it('quickstart records a decision and its review, signed and intact', async () => {
    const run = await start('quickstart');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/model\s+loan-rules 1\.4\.0/);
    expect(run.stdout).toMatch(/outcome\s+approve/);
    expect(run.stdout).toMatch(/oversight\s+approve\s+reviewer: alice@example\.com/);
    expect(run.stdout).toMatch(/integrity\s+verified/);
    expect(run.stdout).toContain('intact: 1 stream(s)');
  });

  it('loan-approval shows the override, the accuracy from feedback, and the report', async () => {
    const run = await start('loan-approval');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/outcome\s+reject → approve \(overridden\)/);
    expect(run.stdout).toContain('reviewer: underwriter-jonas · reason: stable employment');
    // Six applications; the model is right about four of them (see app.ts), all six get feedback.
    expect(run.stdout).toContain('| 3.2.0 | 6 | 6 | 66.7% |');
    expect(run.stdout).toContain('intact: 1 stream(s)');
  });

  it('openai-assistant streams the answer and records it with feedback and escalation', async () => {
    const run = await start('openai-assistant');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('Refunds are possible within 30 days');
    expect(run.stdout).toMatch(/DECISION\s+chat gpt-4o-mini/);
    expect(run.stdout).toMatch(/model\s+gpt-4o-mini gpt-4o-mini-2026-01-01/);
    expect(run.stdout).toContain('feedback: incorrect');
    expect(run.stdout).toMatch(/oversight\s+escalate/);
    expect(run.stdout).toContain('intact: 1 stream(s)');
    // The prompt was stored in redact mode: the e-mail address is gone, the question is still readable.
    const store = await openStore({ dataDir: path.join(run.cwd, '.decisiontrail/data'), migrate: false });
    try {
      const rows = await (
        await store.client.query({
          query: `SELECT SpanAttributes['audit.input.content'] AS prompt FROM otel_traces
                  WHERE SpanAttributes['audit.record.type'] = 'decision'`,
          format: 'JSONEachRow',
        })
      ).json<{ prompt: string }>();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.prompt).toContain('arrived broken');
      expect(rows[0]!.prompt).toContain('[REDACTED:email]');
      expect(rows[0]!.prompt).not.toContain('jo@example.com');
    } finally {
      await store.close();
    }
  });

  it('express-service puts the HTTP, Express and database spans in the decision’s trace', async () => {
    const run = await start('express-service');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const timeline = run.stdout.slice(run.stdout.indexOf('Timeline'));
    expect(timeline).toMatch(/span\s+POST \/loans\/decision \[loan-api\]/);
    expect(timeline).toMatch(/span\s+middleware - jsonParser/);
    expect(timeline).toMatch(/span\s+SELECT applicants \[loan-api\]/);
    expect(timeline).toMatch(/DECISION\s+audit\.decision credit-policy/);
    expect(run.stdout).toMatch(/integrity\s+verified/);
  });
});
