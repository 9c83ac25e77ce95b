import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSigningKey, WITNESS_FILE_NAME, type SigningKey } from '@decisiontrail/core';
import { nonEmpty } from './config.ts';

/** Environment variables of the register entry's signing, with the defaults `decisiontrail keys generate` writes. */
export const SIGNING_VARIABLES = {
  /** The Ed25519 private key itself, as PEM text. */
  key: 'DECISIONTRAIL_SIGNING_KEY',
  /** A file holding the Ed25519 private key as PEM. */
  keyFile: 'DECISIONTRAIL_SIGNING_KEY_FILE',
  /** Where `signing.key` and the checkpoint witness are looked for; `keys.dir` of decisiontrail.yaml. */
  keysDir: 'DECISIONTRAIL_KEYS_DIR',
  /** The durable spool's directory. */
  spoolDir: 'DECISIONTRAIL_SPOOL_DIR',
} as const;

const DEFAULT_KEYS_DIR = path.join('.decisiontrail', 'keys');
const DEFAULT_SPOOL_DIR = path.join('.decisiontrail', 'spool');
const KEY_FILE_NAME = 'signing.key';

/** How the register entry signs: the key and where its spool and witness go, or why it cannot sign. */
export type ZeroCodeSigning =
  | {
      kind: 'signed';
      key: SigningKey;
      /** Where the key came from, for the start-up line. */
      source: string;
      spoolDir: string;
      witnessPath: string;
    }
  | {
      kind: 'unsigned';
      /** Whether a key was configured (and could not be used) rather than absent. */
      configured: boolean;
      /** One sentence for stderr. */
      reason: string;
    };

/**
 * The signing key the register entry uses, from (first match wins) `DECISIONTRAIL_SIGNING_KEY` (PEM text),
 * `DECISIONTRAIL_SIGNING_KEY_FILE`, or `signing.key` in the keys directory (where `decisiontrail keys generate`
 * writes it) when that file exists. The keys directory and the witness file are decisiontrail.yaml's `keys.dir` and
 * `keys.witness` when the entry found a configuration file (`keys`), else `DECISIONTRAIL_KEYS_DIR` (default
 * `./.decisiontrail/keys`) and the witness file in it. Setting both key variables is refused: one of them would be
 * silently ignored. Relative paths are resolved against `cwd`.
 */
export function signingFromEnvironment(
  env: NodeJS.ProcessEnv,
  cwd: string,
  keys?: { dir: string; witness: string },
): ZeroCodeSigning {
  const pem = nonEmpty(env[SIGNING_VARIABLES.key]);
  const keyFile = nonEmpty(env[SIGNING_VARIABLES.keyFile]);
  const keysDir =
    keys?.dir ?? path.resolve(cwd, nonEmpty(env[SIGNING_VARIABLES.keysDir]) ?? DEFAULT_KEYS_DIR);
  const spoolDir = path.resolve(cwd, nonEmpty(env[SIGNING_VARIABLES.spoolDir]) ?? DEFAULT_SPOOL_DIR);
  const witnessPath = keys?.witness ?? path.join(keysDir, WITNESS_FILE_NAME);
  if (pem !== undefined && keyFile !== undefined) {
    return {
      kind: 'unsigned',
      configured: true,
      reason: `both ${SIGNING_VARIABLES.key} and ${SIGNING_VARIABLES.keyFile} are set; set one`,
    };
  }
  let source: string;
  let text: string;
  if (pem !== undefined) {
    source = SIGNING_VARIABLES.key;
    text = pem;
  } else {
    const file = keyFile === undefined ? path.join(keysDir, KEY_FILE_NAME) : path.resolve(cwd, keyFile);
    if (keyFile === undefined && !existsSync(file)) {
      return {
        kind: 'unsigned',
        configured: false,
        reason: `no signing key configured (${SIGNING_VARIABLES.key}, ${SIGNING_VARIABLES.keyFile}, or ${file})`,
      };
    }
    source = `key file ${file}`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      return {
        kind: 'unsigned',
        configured: true,
        reason: `cannot read ${source}: ${(error as Error).message}`,
      };
    }
  }
  try {
    return { kind: 'signed', key: parseSigningKey(text, source), source, spoolDir, witnessPath };
  } catch (error) {
    return { kind: 'unsigned', configured: true, reason: (error as Error).message };
  }
}
