import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { SigningError } from './errors.ts';
import {
  createNoteSigner,
  noteVerifierKey,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifierKey,
} from './signed-note.ts';

/** Default signed-note key name. */
export const DEFAULT_KEY_NAME = 'decisiontrail';

/** An Ed25519 signing key with its signer; its KeyObjects are built once, when the key is loaded. */
export interface SigningKey {
  readonly name: string;
  /** Lowercase hex signed-note key id. */
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly signer: NoteSigner;
  readonly verifierKey: NoteVerifierKey;
}

/** Builds a {@link SigningKey} around an Ed25519 private KeyObject. */
export function signingKeyFromKeyObject(privateKey: KeyObject, name: string = DEFAULT_KEY_NAME): SigningKey {
  const signer = createNoteSigner(name, privateKey);
  return {
    name,
    keyId: signer.keyId,
    privateKey,
    publicKey: signer.verifierKey.publicKey,
    signer,
    verifierKey: signer.verifierKey,
  };
}

/** Generates a fresh in-memory Ed25519 signing key. */
export function generateSigningKey(name: string = DEFAULT_KEY_NAME): SigningKey {
  return signingKeyFromKeyObject(generateKeyPairSync('ed25519').privateKey, name);
}

/**
 * Generates an Ed25519 key and writes it as a PKCS#8 PEM file readable only by its owner.
 * Refuses to overwrite an existing file (`KEY_EXISTS`).
 */
export async function generateSigningKeyFile(
  path: string,
  name: string = DEFAULT_KEY_NAME,
): Promise<SigningKey> {
  const key = generateSigningKey(name);
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' });
  try {
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SigningError('KEY_EXISTS', `key file ${path} already exists`, { cause: error });
    }
    throw new SigningError('KEY_UNREADABLE', `cannot write key file ${path}`, { cause: error });
  }
  return key;
}

async function readKeyText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new SigningError('KEY_UNREADABLE', `cannot read key file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Loads an Ed25519 private key from a PEM file. Typed errors: `KEY_UNREADABLE` (missing or not
 * readable), `KEY_INVALID` (not a PEM private key), `KEY_WRONG_TYPE` (a private key, but not Ed25519).
 */
export async function loadSigningKey(path: string, name: string = DEFAULT_KEY_NAME): Promise<SigningKey> {
  return parseSigningKey(await readKeyText(path), `key file ${path}`, name);
}

/**
 * Reads an Ed25519 private key from PEM text; `source` says where the text came from in error messages (`key file
 * <path>`, `DECISIONTRAIL_SIGNING_KEY`). Typed errors: `KEY_INVALID`, `KEY_WRONG_TYPE`.
 */
export function parseSigningKey(pem: string, source: string, name: string = DEFAULT_KEY_NAME): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new SigningError('KEY_INVALID', `${source} does not hold a PEM private key`, {
      cause: error,
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new SigningError(
      'KEY_WRONG_TYPE',
      `${source} holds a ${privateKey.asymmetricKeyType ?? 'non-asymmetric'} key; an Ed25519 key is required`,
    );
  }
  return signingKeyFromKeyObject(privateKey, name);
}

/** The public half of a signing key: SPKI PEM and the signed-note verifier key string. */
export function exportPublicKey(key: SigningKey): { pem: string; vkey: string } {
  return {
    pem: key.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    vkey: key.verifierKey.vkey,
  };
}

/**
 * Loads a trusted verifier key from a file holding either a signed-note verifier key string
 * (`name+keyid+base64`) or an Ed25519 public key PEM (then `name` names it).
 */
export async function loadVerifierKey(
  path: string,
  name: string = DEFAULT_KEY_NAME,
): Promise<NoteVerifierKey> {
  const text = (await readKeyText(path)).trim();
  if (!text.startsWith('-----BEGIN')) return parseVerifierKey(text);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: text, format: 'pem' });
  } catch (error) {
    throw new SigningError('KEY_INVALID', `key file ${path} does not hold a PEM public key`, {
      cause: error,
    });
  }
  return noteVerifierKey(name, publicKey);
}

/**
 * Rotates the key in `path`: the old file moves to `<path>.<old key id>.retired` (keep its public
 * key: checkpoints it signed keep verifying under it) and a new key is written in its place.
 */
export async function rotateSigningKeyFile(
  path: string,
  name: string = DEFAULT_KEY_NAME,
): Promise<{ previous: SigningKey; current: SigningKey; retiredPath: string }> {
  const previous = await loadSigningKey(path, name);
  const retiredPath = `${path}.${previous.keyId}.retired`;
  await rename(path, retiredPath);
  const current = await generateSigningKeyFile(path, name);
  return { previous, current, retiredPath };
}
