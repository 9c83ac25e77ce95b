import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InstrumentationError } from '../errors.ts';

/** A 256-bit data key and its id. */
export interface DataKey {
  keyId: string;
  key: Buffer;
}

/**
 * Holds one data key per data subject for `encrypt` mode. Deleting a subject's key makes every ciphertext
 * recorded for that subject unreadable while the records (and their integrity proofs) stay intact: crypto-shredding,
 * the erasure path for GDPR Art. 17. Methods are synchronous because they run inside the instrumented call.
 */
export interface KeyStore {
  /** The subject's key, created on first use. */
  getOrCreateKey(subjectId: string): DataKey;
  /** A key by id, or undefined when it was never created or has been deleted. */
  getKey(keyId: string): DataKey | undefined;
  /** Deletes the subject's key; returns whether there was one. */
  deleteSubjectKey(subjectId: string): boolean;
  /** Ids of every key held. */
  listKeyIds(): string[];
}

interface KeyFile {
  keyId: string;
  key: string;
  createdAt: string;
}

/**
 * A {@link KeyStore} keeping one JSON file per key (mode 0600) in a directory. Key ids are derived from the subject
 * id, so another process (the CLI's erase command) finds and deletes a subject's key without an index. Keys are
 * cached in memory; a process that already cached a key keeps it until restart, which is why erasure is run while
 * writers are stopped or followed by their restart.
 */
export class FileKeyStore implements KeyStore {
  readonly #dir: string;
  readonly #cache = new Map<string, DataKey>();

  /** @param dir directory of the key files, created when missing */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The key id a subject's key has in every FileKeyStore. */
  static keyIdForSubject(subjectId: string): string {
    return `sk-${createHash('sha256').update(subjectId, 'utf8').digest('hex').slice(0, 32)}`;
  }

  getOrCreateKey(subjectId: string): DataKey {
    const keyId = FileKeyStore.keyIdForSubject(subjectId);
    const existing = this.getKey(keyId);
    if (existing) return existing;
    const created: DataKey = { keyId, key: randomBytes(32) };
    const file: KeyFile = { keyId, key: created.key.toString('base64'), createdAt: new Date().toISOString() };
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      const temporary = join(this.#dir, `.${keyId}.${process.pid}.tmp`);
      writeFileSync(temporary, JSON.stringify(file), { mode: 0o600 });
      // Another process may have created the key meanwhile: keep whichever landed first.
      const raced = this.#read(keyId);
      if (raced) {
        rmSync(temporary, { force: true });
        return raced;
      }
      renameSync(temporary, this.#path(keyId));
    } catch (error) {
      throw new InstrumentationError('KEYSTORE_ERROR', `cannot write key ${keyId} in ${this.#dir}`, {
        cause: error,
      });
    }
    this.#cache.set(keyId, created);
    return created;
  }

  getKey(keyId: string): DataKey | undefined {
    const cached = this.#cache.get(keyId);
    if (cached) return cached;
    const read = this.#read(keyId);
    if (read) this.#cache.set(keyId, read);
    return read;
  }

  deleteSubjectKey(subjectId: string): boolean {
    const keyId = FileKeyStore.keyIdForSubject(subjectId);
    this.#cache.delete(keyId);
    try {
      rmSync(this.#path(keyId));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new InstrumentationError('KEYSTORE_ERROR', `cannot delete key ${keyId}`, { cause: error });
    }
  }

  listKeyIds(): string[] {
    try {
      return readdirSync(this.#dir)
        .filter((name) => name.startsWith('sk-') && name.endsWith('.json'))
        .map((name) => name.slice(0, -'.json'.length));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new InstrumentationError('KEYSTORE_ERROR', `cannot list ${this.#dir}`, { cause: error });
    }
  }

  #path(keyId: string): string {
    return join(this.#dir, `${keyId}.json`);
  }

  #read(keyId: string): DataKey | undefined {
    if (!/^sk-[0-9a-f]{32}$/.test(keyId)) return undefined;
    let text: string;
    try {
      text = readFileSync(this.#path(keyId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new InstrumentationError('KEYSTORE_ERROR', `cannot read key ${keyId}`, { cause: error });
    }
    const parsed = JSON.parse(text) as KeyFile;
    const key = Buffer.from(parsed.key, 'base64');
    if (parsed.keyId !== keyId || key.length !== 32) {
      throw new InstrumentationError('KEYSTORE_ERROR', `key file ${keyId} is malformed`);
    }
    return { keyId, key };
  }
}
