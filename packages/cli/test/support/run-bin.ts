import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** The launcher the README tells people to run. */
export const BIN = path.resolve(import.meta.dirname, '../../bin/decisiontrail.js');

/** Output of one `decisiontrail` run. */
export interface BinResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `decisiontrail` as a child process (through the launcher, as users do) and collects its output. */
export function runBin(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<BinResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, NO_COLOR: '1', ...options.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Parses stdout as JSON, failing the test with the output when it is not. */
export function json<T = Record<string, unknown>>(result: BinResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** Asserts the shape of every error the CLI prints: exactly one line, no stack trace. */
export function isOneLineError(result: BinResult): boolean {
  const lines = result.stderr.trim().split('\n');
  return lines.length === 1 && lines[0]!.startsWith('decisiontrail: ') && !/\n\s+at /.test(result.stderr);
}

/**
 * A long-running `decisiontrail` command (`serve`) as a child in a process group of its own. In a checkout the
 * launcher runs the CLI in a second Node process; a SIGKILL of the launcher alone cannot be forwarded and would leave
 * that process — serve with its embedded engine — running after the test. {@link killBinGroup} ends both.
 */
export function spawnBin(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    detached: true,
  });
}

/** Kills a {@link spawnBin} child and its process group (the launcher and the CLI it runs); gone already is fine. */
export function killBinGroup(child: ChildProcess | undefined): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
