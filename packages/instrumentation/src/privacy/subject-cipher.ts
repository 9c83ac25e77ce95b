import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InstrumentationError } from '../errors.ts';
import type { KeyStore } from './key-store.ts';

/** Subject id used for content that belongs to no data subject: one shared key, erasable as a whole. */
export const UNSCOPED_SUBJECT = '*unscoped*';

/** Ciphertext of one field and the key it was encrypted under. */
export interface EncryptedField {
  /** base64 of IV (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes). */
  ciphertext: string;
  keyId: string;
}

/** Encrypts a field under the data subject's key (AES-256-GCM). */
export function encryptForSubject(
  keyStore: KeyStore,
  subjectId: string | undefined,
  plaintext: string,
): EncryptedField {
  const { keyId, key } = keyStore.getOrCreateKey(subjectId ?? UNSCOPED_SUBJECT);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64'), keyId };
}

/**
 * Decrypts what {@link encryptForSubject} produced. Throws `UNKNOWN_KEY` when the key is gone — after erasure
 * that is the expected answer.
 */
export function decryptField(keyStore: KeyStore, field: EncryptedField): string {
  const dataKey = keyStore.getKey(field.keyId);
  if (!dataKey)
    throw new InstrumentationError('UNKNOWN_KEY', `no key ${field.keyId} (erased or never created)`);
  const bytes = Buffer.from(field.ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', dataKey.key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}
