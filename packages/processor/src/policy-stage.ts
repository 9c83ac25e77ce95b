import { createHash, createHmac } from 'node:crypto';
import {
  ATTR_AUDIT_INPUT_CAPTURE_MODE,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INPUT_HASH_KEY_ID,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_OUTPUT_CAPTURE_MODE,
  ATTR_AUDIT_OUTPUT_CONTENT,
  ATTR_AUDIT_OUTPUT_HASH,
  ATTR_AUDIT_OUTPUT_HASH_KEY_ID,
  AUDIT_INPUT_CAPTURE_MODE_VALUES,
} from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';
import { verifierLeafHex } from '@decisiontrail/core/internal';

/** Value written in place of a redacted attribute. */
export const REDACTED_VALUE = '[REDACTED]';

/** Configuration of {@link PolicyStage}. */
export interface PolicyStageOptions {
  hash: readonly string[];
  redact: readonly string[];
  signedPlaintext: 'quarantine' | 'keep';
  /** HMAC-SHA-256 key; required when `hash` is not empty. */
  hmacKey: Uint8Array | undefined;
}

/**
 * What the stage did with one span. A quarantined signed span has its configured attributes changed like any
 * other (no plaintext the policy names is kept); `leaf` is the hex leaf it arrived with, which the verify stage
 * checks in place of the changed record's own.
 */
export type PolicyOutcome =
  | { action: 'unchanged' }
  | { action: 'applied'; attributes: string[] }
  | { action: 'quarantine'; reason: string; attributes: string[]; leaf: string };

// Content attributes have a dedicated hash field: hashing moves the value there, as capture mode `hash` would have.
const CONTENT_HASH_FIELDS: Readonly<Record<string, { hash: string; keyId: string; mode: string }>> = {
  [ATTR_AUDIT_INPUT_CONTENT]: {
    hash: ATTR_AUDIT_INPUT_HASH,
    keyId: ATTR_AUDIT_INPUT_HASH_KEY_ID,
    mode: ATTR_AUDIT_INPUT_CAPTURE_MODE,
  },
  [ATTR_AUDIT_OUTPUT_CONTENT]: {
    hash: ATTR_AUDIT_OUTPUT_HASH,
    keyId: ATTR_AUDIT_OUTPUT_HASH_KEY_ID,
    mode: ATTR_AUDIT_OUTPUT_CAPTURE_MODE,
  },
};

/**
 * Hashes or redacts configured attributes of spans that arrive with plaintext. Runs at receipt, before the
 * write-ahead log, so what it removes never reaches disk.
 *
 * A signed span commits to its attribute values, so a changed one can never be stored as verified: a signed
 * span that carries a configured plaintext attribute is quarantined, changed like any other (its arrival leaf
 * travels with it for the verify stage), or kept unchanged when `signedPlaintext: keep`; the fix belongs in
 * the app's capture mode.
 */
export class PolicyStage {
  private readonly hash: ReadonlySet<string>;
  private readonly redact: ReadonlySet<string>;
  private readonly signedPlaintext: 'quarantine' | 'keep';
  private readonly hmacKey: Uint8Array | undefined;
  private readonly names: readonly Buffer[];
  /** Whether a name decodes to one a protobuf decode could also produce from other bytes (see mentionedIn). */
  private readonly replacementInName: boolean;
  /** Key id written next to hashes: the first 8 bytes of SHA-256 of the key, hex. */
  readonly keyId: string | undefined;

  constructor(options: PolicyStageOptions) {
    this.hash = new Set(options.hash);
    this.redact = new Set(options.redact);
    this.signedPlaintext = options.signedPlaintext;
    this.hmacKey = options.hmacKey;
    this.names = [...new Set([...options.hash, ...options.redact])].map((name) => Buffer.from(name, 'utf8'));
    this.replacementInName = [...this.hash, ...this.redact].some((name) =>
      /[\uFFFD\uD800-\uDFFF]/.test(name),
    );
    if (this.hash.size > 0 && this.hmacKey === undefined)
      throw new Error('policy hash rules need an HMAC key');
    this.keyId =
      this.hmacKey === undefined
        ? undefined
        : createHash('sha256').update(this.hmacKey).digest('hex').slice(0, 16);
  }

  /** Whether any rule is configured (the stage is skipped otherwise). */
  get active(): boolean {
    return this.hash.size > 0 || this.redact.size > 0;
  }

  /**
   * Whether any configured attribute name occurs in a protobuf request body. Protobuf carries names as their
   * raw UTF-8 bytes, so when none occurs no span of the body has one and the policy changes nothing (a name
   * that is only a substring of other bytes just costs a decode).
   */
  mentionedIn(body: Uint8Array): boolean {
    if (this.replacementInName) return true;
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return this.names.some((name) => bytes.includes(name));
  }

  /** The rule a configured attribute falls under (redact wins when both name it, as {@link apply} does). */
  ruleFor(attribute: string): 'hash' | 'redact' {
    return this.redact.has(attribute) ? 'redact' : 'hash';
  }

  /** Applies the rules to `record` in place. */
  apply(record: SpanRecord): PolicyOutcome {
    const hits = Object.keys(record.attributes).filter((k) => this.hash.has(k) || this.redact.has(k));
    if (hits.length === 0) return { action: 'unchanged' };
    if (record.attributes[ATTR_AUDIT_INTEGRITY_STREAM] !== undefined) {
      if (this.signedPlaintext === 'keep') return { action: 'unchanged' };
      const leaf = verifierLeafHex(record);
      this.change(record, hits);
      return {
        action: 'quarantine',
        reason: `signed span carries plaintext ${hits.join(', ')} (removed before storing); change the capture mode at the source`,
        attributes: hits,
        leaf,
      };
    }
    this.change(record, hits);
    return { action: 'applied', attributes: hits };
  }

  private change(record: SpanRecord, hits: readonly string[]): void {
    for (const key of hits) {
      const value = record.attributes[key]!;
      if (this.redact.has(key)) {
        record.attributes[key] = REDACTED_VALUE;
        const content = CONTENT_HASH_FIELDS[key];
        if (content !== undefined) record.attributes[content.mode] = AUDIT_INPUT_CAPTURE_MODE_VALUES.REDACT;
        continue;
      }
      const digest = createHmac('sha256', this.hmacKey!).update(value, 'utf8').digest('hex');
      const content = CONTENT_HASH_FIELDS[key];
      if (content === undefined) {
        record.attributes[key] = digest;
        continue;
      }
      delete record.attributes[key];
      record.attributes[content.hash] = digest;
      record.attributes[content.keyId] = this.keyId!;
      record.attributes[content.mode] = AUDIT_INPUT_CAPTURE_MODE_VALUES.HASH;
    }
  }
}
