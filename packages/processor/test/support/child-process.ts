import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD_SCRIPT = fileURLToPath(new URL('./processor-child.ts', import.meta.url));

/** A processor running in a child process. */
export interface ChildProcessor {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | string>;
}

/** Starts `processor-child.ts` with `configFile` and waits until it listens. */
export async function spawnProcessor(configFile: string): Promise<ChildProcessor> {
  const child = spawn(process.execPath, ['--conditions=@decisiontrail/source', CHILD_SCRIPT, configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((code) => reject(new Error(`processor exited (${code}) before listening: ${stderr}`)));
  });
  return { url, child, stderr: () => stderr, exited };
}
