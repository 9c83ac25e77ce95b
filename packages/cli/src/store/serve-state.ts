import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Contents of `<dataDir>/serve.json` while `decisiontrail serve` holds the embedded store. */
export interface ServeState {
  pid: number;
  url: string;
}

/** File name written next to the embedded store's data while serve holds it. */
export const SERVE_STATE_FILE = 'serve.json';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running serve that holds `dataDir`, or undefined when there is none (no file, or a stale one). */
export async function findLiveServe(dataDir: string): Promise<ServeState | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, SERVE_STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof state !== 'object' || state === null) return undefined;
  const { pid, url } = state as Partial<ServeState>;
  if (typeof pid !== 'number' || typeof url !== 'string' || !URL.canParse(url)) return undefined;
  return isAlive(pid) ? { pid, url } : undefined;
}
