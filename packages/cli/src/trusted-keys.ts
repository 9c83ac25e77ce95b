import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { loadVerifierKey, type NoteVerifierKey } from '@decisiontrail/core';
import { CliError } from './cli-error.ts';
import type { ResolvedSettings } from './settings.ts';

/** File name of the signing key inside the keys directory. */
export const SIGNING_KEY_FILE = 'signing.key';
/** File name of its public key (a signed-note verifier key) beside it, as `keys generate` writes it. */
export const PUBLIC_KEY_FILE = 'signing.pub';

/**
 * The public keys to trust: the --key files when given, else `keys.publicKeys` of the configuration, else every
 * `*.pub` in the keys directory (the current key and the retired ones `keys rotate` keeps). Each file holds a
 * signed-note verifier key or an Ed25519 public key PEM. No key at all is an error: verification without a
 * trusted key would prove nothing.
 */
export async function loadTrustedKeys(
  settings: ResolvedSettings,
  given: readonly string[],
  command: string,
): Promise<NoteVerifierKey[]> {
  let files = given.map((file) => path.resolve(settings.cwd, file));
  if (files.length === 0) files = settings.config.keys.publicKeys;
  if (files.length === 0) {
    const dir = settings.config.keys.dir;
    try {
      files = (await readdir(dir))
        .filter((name) => name.endsWith('.pub'))
        .sort()
        .map((name) => path.join(dir, name));
    } catch {
      files = [];
    }
  }
  if (files.length === 0) {
    throw new CliError(
      'KEY',
      `${command}: no public key to verify against: pass --key FILE (a .pub file from "decisiontrail keys show")`,
    );
  }
  const keys: NoteVerifierKey[] = [];
  for (const file of files) keys.push(await loadVerifierKey(file));
  return keys;
}
