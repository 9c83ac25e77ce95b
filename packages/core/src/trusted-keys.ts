import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { SigningError } from './errors.ts';
import { loadVerifierKey } from './key-file.ts';
import { parseVerifierKey, type NoteVerifierKey } from './signed-note.ts';

/** A trusted key: a {@link NoteVerifierKey} or its verifier key string (`name+keyid+base64`). */
export type TrustedKey = NoteVerifierKey | string;

/** Resolves trusted keys to {@link NoteVerifierKey}s (parsing verifier key strings). */
export function resolveTrustedKeys(keys: readonly TrustedKey[]): NoteVerifierKey[] {
  return keys.map((key) => (typeof key === 'string' ? parseVerifierKey(key) : key));
}

/**
 * File name endings taken as public keys in a keys directory: `.pub` is what `decisiontrail keys
 * generate` and `keys rotate` write beside the signing key; `.vkey` is the signed-note ecosystem's
 * name for the same verifier key text.
 */
export const PUBLIC_KEY_SUFFIXES: readonly string[] = ['.pub', '.vkey'];

/** Where trusted keys come from: the `keys` section of `decisiontrail.yaml`. */
export interface TrustedKeySource {
  /** The keys directory. */
  dir: string;
  /** Public key files to trust; when empty, every public key file in {@link dir}. */
  publicKeys: readonly string[];
}

/**
 * The public key files to trust: `publicKeys` when it names any, else every `*.pub` and `*.vkey` in
 * `dir` in name order (the current key and the retired ones `keys rotate` keeps). A keys directory
 * that does not exist holds no keys; one that exists but cannot be read is an error (`KEY_UNREADABLE`)
 * — reading it as empty would leave a key the operator placed there untrusted without a word.
 */
export async function trustedKeyFiles(source: TrustedKeySource): Promise<string[]> {
  if (source.publicKeys.length > 0) return [...source.publicKeys];
  let names: string[];
  try {
    names = await readdir(source.dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new SigningError(
      'KEY_UNREADABLE',
      `cannot read keys directory ${source.dir}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return names
    .filter((name) => PUBLIC_KEY_SUFFIXES.some((suffix) => name.endsWith(suffix)))
    .sort()
    .map((name) => path.join(source.dir, name));
}

/**
 * Loads every key {@link trustedKeyFiles} names. Each file holds a signed-note verifier key or an
 * Ed25519 public key PEM; one that cannot be read or parsed fails the whole load (`KEY_UNREADABLE`,
 * `KEY_INVALID`) rather than being skipped. The one rule `serve`'s verify stage and the CLI's
 * `verify`, `timeline` and `export` share, so a key one of them trusts the others trust too.
 */
export async function loadTrustedKeys(source: TrustedKeySource): Promise<NoteVerifierKey[]> {
  const files = await trustedKeyFiles(source);
  return Promise.all(files.map((file) => loadVerifierKey(file)));
}
