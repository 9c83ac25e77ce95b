import { open, readFile } from 'node:fs/promises';
import { parseCheckpoint } from './checkpoint.ts';
import { SigningError } from './errors.ts';

/**
 * Receives every signed checkpoint, outside the store, so truncation of the stored log shows up
 * against it. Implementations may be a file, a remote witness or a transparency service.
 */
export interface CheckpointWitness {
  /** Records a signed checkpoint note. Rejects a checkpoint that would make an origin shrink. */
  witness(note: string): Promise<void>;
}

/**
 * The default witness: an append-only file with one JSON line `{"note": "..."}` per checkpoint,
 * fsynced per append. It refuses a checkpoint smaller than the last one it holds for the same
 * origin (`WITNESS_REJECTED`), so a rolled-back signer cannot rewrite history through it.
 */
export class FileCheckpointWitness implements CheckpointWitness {
  readonly path: string;
  #sizes: Map<string, number> | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  witness(note: string): Promise<void> {
    const run = this.#queue.then(() => this.#append(note));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #append(note: string): Promise<void> {
    const sizes = (this.#sizes ??= await this.#loadSizes());
    const checkpoint = parseCheckpoint(note.slice(0, note.lastIndexOf('\n\n') + 1));
    const last = sizes.get(checkpoint.origin);
    if (last !== undefined && checkpoint.size < last) {
      throw new SigningError(
        'WITNESS_REJECTED',
        `checkpoint for ${checkpoint.origin} shrinks the log from ${last} to ${checkpoint.size}`,
      );
    }
    const handle = await open(this.path, 'a');
    try {
      await handle.appendFile(`${JSON.stringify({ note })}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    sizes.set(checkpoint.origin, checkpoint.size);
  }

  async #loadSizes(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const note of await readWitnessFile(this.path)) {
      const checkpoint = parseCheckpoint(note.slice(0, note.lastIndexOf('\n\n') + 1));
      sizes.set(checkpoint.origin, Math.max(sizes.get(checkpoint.origin) ?? 0, checkpoint.size));
    }
    return sizes;
  }
}

/** Reads the signed notes of a witness file (missing file: none). A torn last line is skipped. */
export async function readWitnessFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const notes: string[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    try {
      const parsed = JSON.parse(line) as { note?: unknown };
      if (typeof parsed.note === 'string') notes.push(parsed.note);
    } catch {
      // A crash mid-append leaves a partial last line; every complete line before it stands.
    }
  }
  return notes;
}
