import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COLLECTOR_CONFIG_DIR } from './collector-config-model.ts';

const SCRIPT = join(COLLECTOR_CONFIG_DIR, 'scripts', 'build-collector.mjs');
const manifestHash = createHash('sha256')
  .update(readFileSync(join(COLLECTOR_CONFIG_DIR, 'builder-config.yaml')))
  .digest('hex');

function runScript(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
}

describe('collector-config/scripts/build-collector.mjs', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'build-collector-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('keys the binary by the SHA-256 of the builder manifest, under the XDG cache', () => {
    const result = runScript(['--print-path'], { XDG_CACHE_HOME: join(scratch, 'xdg') });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `${join(scratch, 'xdg', 'decisiontrail', 'otelcol', manifestHash, 'otelcol-decisiontrail')}\n`,
    );
  });

  it('prefers DECISIONTRAIL_OTELCOL_CACHE', () => {
    const result = runScript(['--print-path'], {
      XDG_CACHE_HOME: join(scratch, 'xdg'),
      DECISIONTRAIL_OTELCOL_CACHE: join(scratch, 'own'),
    });
    expect(result.stdout).toBe(`${join(scratch, 'own', manifestHash, 'otelcol-decisiontrail')}\n`);
  });

  it('reuses a binary already in the cache instead of building', () => {
    const root = join(scratch, 'reuse');
    const binary = join(root, manifestHash, 'otelcol-decisiontrail');
    mkdirSync(join(root, manifestHash), { recursive: true });
    writeFileSync(binary, '');
    // No Go on PATH: a build would fail, so success means nothing was built.
    const result = runScript([], { DECISIONTRAIL_OTELCOL_CACHE: root, PATH: '/nonexistent' });
    expect(result.stderr).toContain(`reusing ${binary}`);
    expect(result.stdout).toBe(`${binary}\n`);
    expect(result.status).toBe(0);
  });
});
