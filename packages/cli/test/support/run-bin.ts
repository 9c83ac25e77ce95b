import { execFile } from 'node:child_process';
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
