import path from 'node:path';
import {
  loadTrustedKeys as loadConfiguredKeys,
  loadVerifierKey,
  type NoteVerifierKey,
} from '@decisiontrail/core';
import { CliError } from './cli-error.ts';
import type { ResolvedSettings } from './settings.ts';

/** File name of the signing key inside the keys directory. */
export const SIGNING_KEY_FILE = 'signing.key';
/** File name of its public key (a signed-note verifier key) beside it, as `keys generate` writes it. */
export const PUBLIC_KEY_FILE = 'signing.pub';

/**
 * The public keys to trust: the --key files when given, else what the configuration trusts — the
 * same rule `serve` applies (`keys.publicKeys`, else every `*.pub` and `*.vkey` in the keys directory;
 * see `loadTrustedKeys` in @decisiontrail/core). No key at all is an error: verification without a
 * trusted key would prove nothing.
 */
export async function loadTrustedKeys(
  settings: ResolvedSettings,
  given: readonly string[],
  command: string,
): Promise<NoteVerifierKey[]> {
  const keys =
    given.length > 0
      ? await Promise.all(given.map((file) => loadVerifierKey(path.resolve(settings.cwd, file))))
      : await loadConfiguredKeys(settings.config.keys);
  if (keys.length === 0) {
    throw new CliError(
      'KEY',
      `${command}: no public key to verify against: pass --key FILE (a .pub file from "decisiontrail keys show")`,
    );
  }
  return keys;
}
