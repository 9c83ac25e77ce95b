import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { SigningError } from './errors.ts';
import { assertValidKeyName, strictBase64 } from './signed-note.ts';

/** Signed-note signature type of a C2SP tlog-cosignature `cosignature/v1` key. */
const COSIGNATURE_V1_TYPE = 0x04;
const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Key id (4) ‖ big-endian timestamp (8) ‖ Ed25519 signature (64). */
const COSIGNATURE_BYTES = 4 + 8 + 64;

/**
 * A witness's public key as a verifier trusts it: the signed-note verifier key
 * `<name>+<hex key id>+<base64(0x04 ‖ Ed25519 public key)>` that the witness prints (litewitness logs it as
 * `vkey` at start). The name is the witness's own (its URL-like `-name`), never a log's origin.
 */
export interface CosignerKey {
  readonly name: string;
  /** Lowercase hex of the 4-byte key id, SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4]. */
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly vkey: string;
}

/** A cosignature that verified: which witness, and when it says it checked the checkpoint. */
export interface VerifiedCosignature {
  witness: string;
  keyId: string;
  /** Seconds since the epoch, as signed by the witness. */
  time: number;
  /** The signature line as received (`— <name> <base64>`). */
  line: string;
}

function cosignerKeyId(name: string, raw: Uint8Array): string {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, COSIGNATURE_V1_TYPE]))
    .update(raw)
    .digest()
    .subarray(0, 4)
    .toString('hex');
}

/** Parses a witness verifier key (`cosignature/v1`, type 0x04) and checks its key id. */
export function parseCosignerKey(vkey: string): CosignerKey {
  const text = vkey.trim();
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first < 0 || second < 0)
    throw new SigningError('KEY_INVALID', 'witness key must be <name>+<keyid>+<key>');
  const name = text.slice(0, first);
  const keyIdHex = text.slice(first + 1, second);
  const encoded = text.slice(second + 1);
  assertValidKeyName(name);
  const bytes = strictBase64(encoded);
  if (!bytes || bytes.length !== 33 || bytes[0] !== COSIGNATURE_V1_TYPE) {
    throw new SigningError(
      'KEY_WRONG_TYPE',
      'witness key is not a cosignature/v1 (type 0x04) Ed25519 signed-note key',
    );
  }
  const raw = bytes.subarray(1);
  const keyId = cosignerKeyId(name, raw);
  if (keyId !== keyIdHex)
    throw new SigningError('KEY_INVALID', 'witness key id does not match its name and key');
  const publicKey = createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
  return { name, keyId, publicKey, vkey: `${name}+${keyId}+${encoded}` };
}

/** The signed message of a cosignature/v1: `cosignature/v1`, `time <t>`, then the checkpoint body. */
function cosignedMessage(time: bigint, checkpointText: string): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${time}\n${checkpointText}`, 'utf8');
}

/**
 * Checks one signature line against the checkpoint body it should cosign, with the key of the witness the line
 * names. Returns why it does not count (`reason`) instead of throwing: a witness's answer is untrusted input.
 */
export function verifyCosignatureLine(
  checkpointText: string,
  line: string,
  key: CosignerKey,
): { ok: true; cosignature: VerifiedCosignature } | { ok: false; reason: string } {
  if (!line.startsWith(SIGNATURE_PREFIX)) return { ok: false, reason: 'not a signature line' };
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.lastIndexOf(' ');
  const name = space > 0 ? rest.slice(0, space) : '';
  const bytes = space > 0 ? strictBase64(rest.slice(space + 1)) : undefined;
  if (bytes === undefined) return { ok: false, reason: 'signature is not base64' };
  if (name !== key.name) return { ok: false, reason: `signed by ${JSON.stringify(name)}, not ${key.name}` };
  const keyId = Buffer.from(bytes.subarray(0, 4)).toString('hex');
  if (keyId !== key.keyId)
    return { ok: false, reason: `key id ${keyId} is not the trusted key ${key.keyId}` };
  if (bytes.length !== COSIGNATURE_BYTES) return { ok: false, reason: 'not a cosignature/v1 signature' };
  const time = Buffer.from(bytes).readBigUInt64BE(4);
  if (!verify(null, cosignedMessage(time, checkpointText), key.publicKey, bytes.subarray(12))) {
    return { ok: false, reason: `cosignature by ${key.name} (key ${key.keyId}) does not verify` };
  }
  return { ok: true, cosignature: { witness: key.name, keyId, time: Number(time), line } };
}

/** What the cosignatures of one checkpoint amount to against trusted witness keys. */
export interface CosignatureCheck {
  checkpoint: Checkpoint;
  /** One entry per trusted witness whose cosignature verified (a witness counts once). */
  verified: VerifiedCosignature[];
  /** Lines naming a trusted witness that did not verify, with why. */
  invalid: { line: string; reason: string }[];
  /** Lines by witnesses not among the trusted keys (ignored for the quorum). */
  untrusted: string[];
}

/**
 * Checks the cosignature lines stored with a checkpoint (its body `checkpointText`) against trusted witness
 * keys: how many distinct trusted witnesses cosigned it. A line by an untrusted name is set aside, a line by a
 * trusted name that does not verify is `invalid` (a forged or misattributed cosignature is evidence, not noise).
 */
export function checkCosignatures(
  checkpointText: string,
  lines: readonly string[],
  keys: readonly CosignerKey[],
): CosignatureCheck {
  const checkpoint = parseCheckpoint(checkpointText);
  const result: CosignatureCheck = { checkpoint, verified: [], invalid: [], untrusted: [] };
  for (const line of lines) {
    const name = line.startsWith(SIGNATURE_PREFIX)
      ? line.slice(SIGNATURE_PREFIX.length, line.lastIndexOf(' '))
      : undefined;
    const candidates = keys.filter((key) => key.name === name);
    if (candidates.length === 0) {
      result.untrusted.push(line);
      continue;
    }
    let reason = '';
    let done = false;
    for (const key of candidates) {
      const outcome = verifyCosignatureLine(checkpointText, line, key);
      if (outcome.ok) {
        if (!result.verified.some((v) => v.witness === key.name)) result.verified.push(outcome.cosignature);
        done = true;
        break;
      }
      reason = outcome.reason;
    }
    if (!done) result.invalid.push({ line, reason });
  }
  return result;
}

/** The signature lines of a witness's `add-checkpoint` answer body (one or more `— name sig` lines). */
export function parseSignatureLines(body: string): string[] | undefined {
  if (!body.endsWith('\n')) return undefined;
  const lines = body.slice(0, -1).split('\n');
  return lines.every((line) => /^\u2014 \S+ [A-Za-z0-9+/]+={0,2}$/u.test(line)) ? lines : undefined;
}
