import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** HMAC-SHA-256 under one secret, with the key id recorded next to every digest. */
export class HmacHasher {
  /** The id recorded as `audit.*.hash_key_id`. */
  readonly keyId: string;
  /** Made once: an HMAC over a raw buffer would import the key again on every digest. */
  readonly #key: KeyObject;

  constructor(key: Uint8Array, keyId?: string) {
    const material = Buffer.from(key);
    this.#key = createSecretKey(material);
    this.keyId = keyId ?? defaultKeyId(material);
  }

  /** Lowercase hex HMAC-SHA-256 of the UTF-8 text, or of the bytes. */
  digest(data: string | Uint8Array): string {
    const hmac = createHmac('sha256', this.#key);
    if (typeof data === 'string') hmac.update(data, 'utf8');
    else hmac.update(data);
    return hmac.digest('hex');
  }
}

/**
 * A key id derived from the key itself, so two processes configured with the same secret agree on it without more
 * configuration. Hashing a high-entropy secret reveals nothing usable about it.
 */
function defaultKeyId(key: Buffer): string {
  return `hk-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * Decodes a configured key: `base64:`/`hex:` prefixes are explicit; otherwise 64 hex digits are read as hex, and
 * anything else as UTF-8 text.
 */
export function decodeKeyMaterial(value: string | Uint8Array): Buffer {
  if (typeof value !== 'string') return Buffer.from(value);
  if (value.startsWith('base64:')) return Buffer.from(value.slice(7), 'base64');
  if (value.startsWith('hex:')) return Buffer.from(value.slice(4), 'hex');
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  return Buffer.from(value, 'utf8');
}
