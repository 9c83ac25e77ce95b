import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decryptField,
  encryptForSubject,
  FileKeyStore,
  InstrumentationError,
  Redactor,
} from '@decisiontrail/instrumentation';
import {
  auditText,
  decodeKeyMaterial,
  HmacHasher,
  recordField,
  resolveAuditSettings,
} from '@decisiontrail/instrumentation/internal';

const directories: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dt-keys-'));
  directories.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

describe('HmacHasher', () => {
  it('is stable under one key, differs under another, and is never the bare SHA-256', async () => {
    const { createHash } = await import('node:crypto');
    const a = new HmacHasher(Buffer.from('key-one'));
    const b = new HmacHasher(Buffer.from('key-two'));
    expect(a.digest('applicant 42')).toBe(new HmacHasher(Buffer.from('key-one')).digest('applicant 42'));
    expect(a.digest('applicant 42')).not.toBe(b.digest('applicant 42'));
    expect(a.digest('applicant 42')).not.toBe(createHash('sha256').update('applicant 42').digest('hex'));
    expect(a.digest('applicant 42')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the digests of createHmac for every key and message length around the block and buffer sizes', async () => {
    const { createHmac, randomBytes } = await import('node:crypto');
    // Keys shorter than, equal to and longer than SHA-256's 64-byte block (a longer key is hashed first); messages
    // around the padding boundary (55/56), the buffer the hasher starts with (1 KB), and the size above which it
    // falls back to an Hmac object (16 KB); the same hasher reused, so a longer message cannot leave bytes behind.
    for (const keyLength of [0, 1, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLength);
      const hasher = new HmacHasher(key);
      for (const size of [0, 1, 55, 56, 64, 1023, 1024, 1025, 5000, 16 * 1024, 16 * 1024 + 1, 40_000, 3]) {
        const bytes = randomBytes(size);
        expect(hasher.digest(bytes)).toBe(createHmac('sha256', key).update(bytes).digest('hex'));
        const text = 'é€\u{1F600}a\uD800'.repeat(size).slice(0, size);
        expect(hasher.digest(text)).toBe(createHmac('sha256', key).update(text, 'utf8').digest('hex'));
      }
    }
  });

  it('derives a key id from the key unless one is given', () => {
    expect(new HmacHasher(Buffer.from('k')).keyId).toMatch(/^hk-[0-9a-f]{16}$/);
    expect(new HmacHasher(Buffer.from('k')).keyId).toBe(new HmacHasher(Buffer.from('k')).keyId);
    expect(new HmacHasher(Buffer.from('k'), 'prod-2026').keyId).toBe('prod-2026');
  });

  it('decodes hex, base64 and text key material', () => {
    expect(decodeKeyMaterial('hex:0a0b')).toEqual(Buffer.from([10, 11]));
    expect(decodeKeyMaterial('base64:AQI=')).toEqual(Buffer.from([1, 2]));
    expect(decodeKeyMaterial('a'.repeat(64))).toHaveLength(32);
    expect(decodeKeyMaterial('plain secret')).toEqual(Buffer.from('plain secret'));
  });
});

describe('Redactor', () => {
  const redactor = new Redactor([{ name: 'customer-number', pattern: /CUST-\d{6}/ }]);

  it.each([
    ['mail jane.doe@example.com now', 'email', 'jane.doe@example.com'],
    ['call +44 20 7946 0958 today', 'phone', '7946 0958'],
    ['card 4111 1111 1111 1111 ok', 'card', '4111 1111 1111 1111'],
    ['iban DE89 3704 0044 0532 0130 00 ok', 'iban', '3704 0044'],
    ['ssn 123-45-6789 ok', 'national-id', '123-45-6789'],
    ['nino AB 12 34 56 C ok', 'national-id', 'AB 12 34 56 C'],
    ['customer CUST-123456 here', 'customer-number', 'CUST-123456'],
  ])('redacts %s', (text, rule, secret) => {
    const redacted = redactor.redact(text);
    expect(redacted).toContain(`[REDACTED:${rule}]`);
    expect(redacted).not.toContain(secret);
  });

  it('leaves ordinary text and short numbers alone', () => {
    expect(redactor.redact('approve 3 of 4 loans for 2026')).toBe('approve 3 of 4 loans for 2026');
  });
});

describe('FileKeyStore and subject encryption', () => {
  it('encrypts per subject, decrypts, and crypto-shreds on key deletion (also from another instance)', () => {
    const dir = freshDir();
    const store = new FileKeyStore(dir);
    const field = encryptForSubject(store, 'subject-1', 'Jane Doe, 1 Main St');
    expect(field.keyId).toBe(FileKeyStore.keyIdForSubject('subject-1'));
    expect(Buffer.from(field.ciphertext, 'base64').toString('utf8')).not.toContain('Jane');
    expect(decryptField(store, field)).toBe('Jane Doe, 1 Main St');
    // A second process (the CLI) sees the same key file …
    const other = new FileKeyStore(dir);
    expect(decryptField(other, field)).toBe('Jane Doe, 1 Main St');
    expect(other.listKeyIds()).toEqual([field.keyId]);
    expect(statSync(join(dir, `${field.keyId}.json`)).mode & 0o777).toBe(0o600);
    // … and erases it: nobody can read the ciphertext any more.
    expect(other.deleteSubjectKey('subject-1')).toBe(true);
    expect(other.deleteSubjectKey('subject-1')).toBe(false);
    expect(() => decryptField(new FileKeyStore(dir), field)).toThrow(InstrumentationError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('uses a different key per subject', () => {
    const store = new FileKeyStore(freshDir());
    const a = encryptForSubject(store, 'a', 'same text');
    const b = encryptForSubject(store, 'b', 'same text');
    expect(a.keyId).not.toBe(b.keyId);
    expect(() => decryptField(store, { ...a, keyId: b.keyId })).toThrow();
  });
});

describe('resolveAuditSettings', () => {
  it('defaults to hash mode and reads the key from the environment', () => {
    const settings = resolveAuditSettings(
      {},
      { DECISIONTRAIL_HMAC_KEY: 'env-key', DECISIONTRAIL_HMAC_KEY_ID: 'k1' },
    );
    expect(settings.captureInput).toBe('hash');
    expect(settings.captureOutput).toBe('hash');
    expect(settings.hasher?.keyId).toBe('k1');
  });

  it('lets explicit options win over DECISIONTRAIL_* over OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', () => {
    const env = {
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      DECISIONTRAIL_CAPTURE_OUTPUT: 'redact',
    };
    const settings = resolveAuditSettings({}, env);
    expect(settings.captureInput).toBe('full');
    expect(settings.captureOutput).toBe('redact');
    expect(resolveAuditSettings({ captureInput: 'encrypt' }, env).captureInput).toBe('encrypt');
    expect(
      resolveAuditSettings({}, { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'false' }).captureInput,
    ).toBe('hash');
  });

  it('rejects unknown capture modes with a typed error', () => {
    expect(() => resolveAuditSettings({}, { DECISIONTRAIL_CAPTURE_INPUT: 'plaintext' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });

  it('records size only when hash mode has no key', () => {
    const settings = resolveAuditSettings({}, {});
    const attributes: Record<string, unknown> = {};
    recordField(attributes as never, 'input', 'secret', 'hash', settings, undefined);
    expect(attributes).toEqual({ 'audit.input.size': 6, 'audit.input.capture_mode': 'none' });
  });

  it('serializes inputs stably for hashing', () => {
    expect(auditText('text')).toBe('text');
    expect(auditText({ a: 1 })).toBe('{"a":1}');
    expect(auditText(undefined)).toBe('');
  });
});
