import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { killBinGroup, spawnBin } from '../support/run-bin.ts';

// In a checkout bin/decisiontrail.js runs the CLI in a second Node process. A supervisor's SIGKILL reaches the
// launcher alone and cannot be forwarded; the CLI must still stop rather than keep serving with its engine and port.

let root: string | undefined;
let launcher: ChildProcess | undefined;

afterAll(() => {
  killBinGroup(launcher);
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

function stateOf(pid: number): string | undefined {
  try {
    // The field after the parenthesised command name: R, S, Z (a zombie has exited), …
    return readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ')[0];
  } catch {
    return undefined;
  }
}

async function settledState(pid: number, limitMs: number): Promise<string> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const now = stateOf(pid) ?? 'gone';
    if (now === 'gone' || now === 'Z' || Date.now() > deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(process.platform !== 'linux')('launcher in a checkout', () => {
  it('stops serve when the launcher is killed with SIGKILL', { timeout: 180_000 }, async () => {
    root = mkdtempSync(path.join(tmpdir(), 'decisiontrail-launcher-'));
    launcher = spawnBin(['serve', '--port', '0'], { cwd: root });
    let log = '';
    // The launcher hands its stderr to the CLI, so this pipe stays open until the CLI itself has exited.
    const closed = new Promise<void>((resolve) => launcher!.stderr!.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      launcher!.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('listening on')) resolve();
      });
      launcher!.on('exit', () => reject(new Error(`serve exited before listening:\n${log}`)));
    });

    const state = JSON.parse(
      readFileSync(path.join(root, '.decisiontrail', 'data', 'serve.json'), 'utf8'),
    ) as {
      pid: number;
    };
    expect(state.pid).not.toBe(launcher.pid);
    expect(stateOf(state.pid)).toMatch(/^[RSD]$/);

    process.kill(launcher.pid!, 'SIGKILL');
    await closed;

    expect(log).toContain('stopping');
    // The kernel closes an exiting process's files before it marks it a zombie (after unmapping its memory, which for
    // the engine's mappings takes a while), so the pipe's close can be seen while /proc still says R for a moment.
    // Wait for the exit to finish, bounded: a CLI that keeps serving never gets there and fails the test.
    expect(await settledState(state.pid, 60_000)).toMatch(/^(gone|Z)$/);
  });
});
