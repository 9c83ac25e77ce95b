import { createHash, createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto';

// SHA-256's block: the key is padded (or first hashed) to this many bytes (RFC 2104).
const BLOCK = 64;
// Messages up to this size are hashed from a buffer kept per hasher; larger ones through an Hmac object.
const BUFFERED_BYTES = 16 * 1024;
// TypedArray's own fill, without Buffer#fill's argument handling in JS.
const fillBytes = Uint8Array.prototype.fill;

/** HMAC-SHA-256 under one secret, with the key id recorded next to every digest. */
export class HmacHasher {
  /** The id recorded as `audit.*.hash_key_id`. */
  readonly keyId: string;
  /** For messages too large to copy: an HMAC over a raw buffer would import the key again on every digest. */
  readonly #key: KeyObject;
  /** The key XOR ipad, then room for a message: the inner hash is one SHA-256 of its first 64 + n bytes. */
  #inner: Buffer;
  /** The key XOR opad, then the inner digest: the outer hash. */
  readonly #outer: Buffer;

  constructor(key: Uint8Array, keyId?: string) {
    const material = Buffer.from(key);
    this.#key = createSecretKey(material);
    this.keyId = keyId ?? defaultKeyId(material);
    const padded = material.length > BLOCK ? createHash('sha256').update(material).digest() : material;
    this.#inner = Buffer.alloc(BLOCK + 1024, 0x36);
    this.#outer = Buffer.alloc(BLOCK + 32, 0x5c);
    for (let index = 0; index < padded.length; index++) {
      this.#inner[index]! ^= padded[index]!;
      this.#outer[index]! ^= padded[index]!;
    }
  }

  /**
   * Lowercase hex HMAC-SHA-256 of the UTF-8 text, or of the bytes. Worked out as RFC 2104 defines it, from two
   * one-shot SHA-256 digests over the padded key blocks made once: an `Hmac` object per digest costs several times
   * the hashing of a 1 KB message between SDK calls (the digests are those of `createHmac`, property-tested).
   * Between SDK calls each step of a digest costs microseconds (in the bench's loop a decision's two digests cost
   * 17–30 µs, 2.4 in a tight loop): a digest makes two calls into the binding, the two hashes, and no more.
   */
  digest(data: string | Uint8Array): string {
    const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
    if (size > BUFFERED_BYTES) {
      const hmac = createHmac('sha256', this.#key);
      if (typeof data === 'string') hmac.update(data, 'utf8');
      else hmac.update(data);
      return hmac.digest('hex');
    }
    if (BLOCK + size > this.#inner.length) {
      const grown = Buffer.alloc(BLOCK + BUFFERED_BYTES);
      this.#inner.copy(grown, 0, 0, BLOCK);
      this.#inner = grown;
    }
    if (typeof data === 'string') this.#inner.write(data, BLOCK, 'utf8');
    else this.#inner.set(data, BLOCK);
    // The inner digest as a one-byte string ('binary', latin1: bytes to characters one to one): a Buffer made by the
    // binding for 32 bytes costs more than the hashing of the outer block. Its characters are copied here, not by
    // Buffer#write (one more call into the binding).
    const innerDigest = hash('sha256', this.#inner.subarray(0, BLOCK + size), 'binary');
    for (let index = 0; index < 32; index++) this.#outer[BLOCK + index] = innerDigest.charCodeAt(index);
    // The message is the input or output the span must not carry: it does not stay in this long-lived buffer.
    fillBytes.call(this.#inner, 0, BLOCK, BLOCK + size);
    return hash('sha256', this.#outer, 'hex');
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
