import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseCheckpoint } from './checkpoint.ts';
import { SigningError } from './errors.ts';
import { streamOfOrigin } from './record-classifier.ts';

/** File name of the checkpoint witness in the keys directory. */
export const WITNESS_FILE_NAME = 'checkpoints.witness.jsonl';

/**
 * The one default witness location, relative to the working directory: `<keys.dir>/checkpoints.witness.jsonl`
 * with `keys.dir` at its default. The signing exporter and the durable span processor write it, and `verify`
 * (through `keys.witness` of decisiontrail.yaml, whose default is the same file) reads it.
 */
export const DEFAULT_WITNESS_PATH = join('.decisiontrail', 'keys', WITNESS_FILE_NAME);

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
    // Owner-only: the witness is what truncation is judged against.
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const handle = await open(this.path, 'a', 0o600);
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

/** A witness file as read: its signed notes and the lines that are not one. */
export interface WitnessFileContents {
  notes: string[];
  /** Lines that are not `{"note": "<text>"}` (1-based), with the stream when the line still names an origin. */
  malformed: { line: number; problem: string; stream?: string }[];
}

/**
 * Reads a witness file strictly: every line that is not `{"note": "<text>"}` is reported, a torn last line
 * too (a verifier says so rather than guess whether a crash or an edit made it). A missing or unreadable
 * file rejects with the file system's error: the caller decides whether that is fatal.
 */
export async function readWitnessEntries(path: string): Promise<WitnessFileContents> {
  const text = await readFile(path, 'utf8');
  const contents: WitnessFileContents = { notes: [], malformed: [] };
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.length === 0 && index === lines.length - 1) return;
    let problem: string;
    try {
      const parsed = JSON.parse(line) as { note?: unknown } | null;
      if (typeof parsed?.note === 'string' && parsed.note.length > 0) {
        contents.notes.push(parsed.note);
        return;
      }
      problem = 'no "note" text';
    } catch (error) {
      problem = `not JSON (${(error as Error).message})`;
    }
    const origin = /"note"\s*:\s*"([^"\\]*)\\n/u.exec(line)?.[1];
    const stream = origin === undefined ? undefined : streamOfOrigin(origin);
    contents.malformed.push({ line: index + 1, problem, ...(stream ? { stream } : {}) });
  });
  return contents;
}

/**
 * The signed notes of a witness file, as its writer needs them: a missing file holds none, and a torn last
 * line (a crash mid-append) is skipped. Verifiers use {@link readWitnessEntries}.
 */
export async function readWitnessFile(path: string): Promise<string[]> {
  try {
    return (await readWitnessEntries(path)).notes;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
