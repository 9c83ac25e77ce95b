import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { SigningError } from './errors.ts';

/** Signed-note signature type byte for Ed25519 (C2SP signed-note). */
const ED25519_TYPE = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A public key a verifier trusts, in signed-note terms. */
export interface NoteVerifierKey {
  /** Key name (the signer's identity in signature lines). */
  readonly name: string;
  /** Lowercase hex of the 4-byte key id. */
  readonly keyId: string;
  /** The Ed25519 public key, built once. */
  readonly publicKey: KeyObject;
  /** The verifier key string `<name>+<hex key id>+<base64(0x01 ‖ public key)>`. */
  readonly vkey: string;
}

/** Signs note texts with one Ed25519 key. */
export interface NoteSigner {
  readonly name: string;
  /** Lowercase hex of the 4-byte key id. */
  readonly keyId: string;
  /** The matching verifier key. */
  readonly verifierKey: NoteVerifierKey;
  /** Returns the signed note: `text`, a blank line, and this key's signature line. */
  sign(text: string): string;
}

/** A verified note: its text and the keys whose signatures verified. */
export interface OpenedNote {
  text: string;
  verifiedBy: NoteVerifierKey[];
}

/** Checks a signed-note key name: non-empty, no whitespace, no `+`. */
export function assertValidKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) {
    throw new SigningError('KEY_INVALID', `invalid signed-note key name ${JSON.stringify(name)}`);
  }
}

/** Key id: first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), per C2SP signed-note. */
export function computeKeyId(name: string, rawPublicKey: Uint8Array): Uint8Array {
  const hash = createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_TYPE]))
    .update(rawPublicKey)
    .digest();
  return hash.subarray(0, 4);
}

/** The 32 raw bytes of an Ed25519 public key. */
function rawEd25519PublicKey(publicKey: KeyObject): Uint8Array {
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new SigningError(
      'KEY_WRONG_TYPE',
      `expected an Ed25519 key, got ${publicKey.asymmetricKeyType ?? 'a secret key'}`,
    );
  }
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

/** Builds a {@link NoteVerifierKey} from a key name and an Ed25519 public key. */
export function noteVerifierKey(name: string, publicKey: KeyObject): NoteVerifierKey {
  assertValidKeyName(name);
  const raw = rawEd25519PublicKey(publicKey);
  const keyId = Buffer.from(computeKeyId(name, raw)).toString('hex');
  const encoded = Buffer.concat([Buffer.from([ED25519_TYPE]), raw]).toString('base64');
  return { name, keyId, publicKey, vkey: `${name}+${keyId}+${encoded}` };
}

/** Parses a verifier key string `<name>+<hex key id>+<base64(0x01 ‖ 32-byte key)>` and checks its key id. */
export function parseVerifierKey(vkey: string): NoteVerifierKey {
  // The base64 key may itself contain '+': only the first two '+' separate fields.
  const text = vkey.trim();
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first < 0 || second < 0)
    throw new SigningError('KEY_INVALID', 'verifier key must be <name>+<keyid>+<key>');
  const name = text.slice(0, first);
  const keyIdHex = text.slice(first + 1, second);
  const encoded = text.slice(second + 1);
  assertValidKeyName(name);
  const bytes = strictBase64(encoded);
  if (!bytes || bytes.length !== 33 || bytes[0] !== ED25519_TYPE) {
    throw new SigningError('KEY_WRONG_TYPE', 'verifier key is not an Ed25519 signed-note key');
  }
  const raw = bytes.subarray(1);
  const keyId = Buffer.from(computeKeyId(name, raw)).toString('hex');
  if (keyId !== keyIdHex)
    throw new SigningError('KEY_INVALID', 'verifier key id does not match its name and key');
  const publicKey = createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
  return { name, keyId, publicKey, vkey: `${name}+${keyId}+${encoded}` };
}

/** Creates a {@link NoteSigner} from an Ed25519 private key (the KeyObject is used as given, never rebuilt). */
export function createNoteSigner(name: string, privateKey: KeyObject): NoteSigner {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new SigningError('KEY_WRONG_TYPE', 'expected an Ed25519 private key');
  }
  const verifierKey = noteVerifierKey(name, createPublicKey(privateKey));
  const keyIdBytes = Buffer.from(verifierKey.keyId, 'hex');
  return {
    name,
    keyId: verifierKey.keyId,
    verifierKey,
    sign(text: string): string {
      assertNoteText(text);
      const signature = sign(null, Buffer.from(text, 'utf8'), privateKey);
      return `${text}\n${SIGNATURE_PREFIX}${name} ${Buffer.concat([keyIdBytes, signature]).toString('base64')}\n`;
    },
  };
}

function assertNoteText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n'))
    throw new SigningError('NOTE_MALFORMED', 'note text must end in a newline');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/u.test(text))
    throw new SigningError('NOTE_MALFORMED', 'note text has control characters');
  if (text.includes('\n\n'))
    throw new SigningError('NOTE_MALFORMED', 'note text must not contain a blank line');
}

/**
 * Verifies a signed note against trusted keys (C2SP signed-note): the text must carry at least one
 * signature by a trusted key, and every signature line naming a trusted key must verify.
 * Throws {@link SigningError} `NOTE_MALFORMED`, `NOTE_UNKNOWN_KEY` or `NOTE_INVALID_SIGNATURE`.
 */
export function openNote(note: string, keys: readonly NoteVerifierKey[]): OpenedNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n'))
    throw new SigningError('NOTE_MALFORMED', 'note has no signature block');
  const text = note.slice(0, split + 1);
  assertNoteText(text);
  const lines = note.slice(split + 2, -1).split('\n');
  const verifiedBy: NoteVerifierKey[] = [];
  const unknown: string[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_PREFIX))
      throw new SigningError('NOTE_MALFORMED', 'malformed signature line');
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.lastIndexOf(' ');
    const name = rest.slice(0, space);
    const bytes = space > 0 ? strictBase64(rest.slice(space + 1)) : undefined;
    if (!bytes || bytes.length < 5) throw new SigningError('NOTE_MALFORMED', 'malformed signature line');
    const keyId = Buffer.from(bytes.subarray(0, 4)).toString('hex');
    const key = keys.find((candidate) => candidate.name === name && candidate.keyId === keyId);
    if (!key) {
      unknown.push(`${name}+${keyId}`);
      continue;
    }
    if (bytes.length !== 68 || !verify(null, Buffer.from(text, 'utf8'), key.publicKey, bytes.subarray(4))) {
      throw new SigningError('NOTE_INVALID_SIGNATURE', `signature by ${name} (key ${keyId}) does not verify`);
    }
    if (!verifiedBy.includes(key)) verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) {
    throw new SigningError(
      'NOTE_UNKNOWN_KEY',
      `note is not signed by a trusted key (signed by ${unknown.join(', ')})`,
    );
  }
  return { text, verifiedBy };
}

/** The text of a signed note (through the newline before the blank line), unverified: what its signatures sign. */
export function noteText(note: string): string {
  return note.slice(0, note.lastIndexOf('\n\n') + 1);
}

/** The key ids (hex) named by a note's signature lines, without verifying anything. */
export function noteSignatureKeyIds(note: string): string[] {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return [];
  const ids: string[] = [];
  for (const line of note.slice(split + 2).split('\n')) {
    const encoded = line.slice(line.lastIndexOf(' ') + 1);
    const bytes = line.startsWith(SIGNATURE_PREFIX) ? strictBase64(encoded) : undefined;
    if (bytes && bytes.length >= 4) ids.push(Buffer.from(bytes.subarray(0, 4)).toString('hex'));
  }
  return ids;
}

/**
 * Standard padded base64 that decodes and re-encodes to the same text, else `undefined`. The re-encoding is the
 * whole check: it holds only for text of the standard alphabet, padded, with no other character anywhere (the
 * decoder skips or maps what it does not know, and the re-encoding then differs).
 */
export function strictBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
