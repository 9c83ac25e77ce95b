import path from 'node:path';
import type { SpanRecord } from '@decisiontrail/core';
import {
  ATTR_AUDIT_INPUT_CIPHERTEXT,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INPUT_ENCRYPTION_KEY_ID,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_OUTPUT_CIPHERTEXT,
  ATTR_AUDIT_OUTPUT_CONTENT,
  ATTR_AUDIT_OUTPUT_ENCRYPTION_KEY_ID,
  ATTR_AUDIT_OUTPUT_HASH,
} from '@decisiontrail/semconv';
import type { CommandContext } from './command.ts';
import type { SubjectContent } from './investigation-bundle.ts';
import { stringOption } from './commands/option-values.ts';

// The content a decision span recorded of its input and output — plaintext, ciphertext under the subject's key, or
// only a keyed hash — as `subject` shows it and `reproduce` re-runs it.

const FIELDS = [
  {
    field: 'input',
    content: ATTR_AUDIT_INPUT_CONTENT,
    ciphertext: ATTR_AUDIT_INPUT_CIPHERTEXT,
    keyId: ATTR_AUDIT_INPUT_ENCRYPTION_KEY_ID,
    hash: ATTR_AUDIT_INPUT_HASH,
  },
  {
    field: 'output',
    content: ATTR_AUDIT_OUTPUT_CONTENT,
    ciphertext: ATTR_AUDIT_OUTPUT_CIPHERTEXT,
    keyId: ATTR_AUDIT_OUTPUT_ENCRYPTION_KEY_ID,
    hash: ATTR_AUDIT_OUTPUT_HASH,
  },
] as const;

/** Decrypts one recorded field with the subject's key; throws when the key is not held. */
export interface Decrypt {
  (field: { ciphertext: string; keyId: string }): string;
}

/**
 * A decrypter over the subject data keys: --keystore, else DECISIONTRAIL_KEYSTORE_DIR, else keys.dir of the
 * configuration.
 */
export async function subjectKeyDecrypter(context: CommandContext): Promise<Decrypt> {
  const named =
    stringOption(context, 'keystore') ?? (context.settings.env['DECISIONTRAIL_KEYSTORE_DIR'] || undefined);
  const keystoreDir =
    named === undefined ? context.settings.config.keys.dir : path.resolve(context.settings.cwd, named);
  // Loaded here: the instrumentation package (its keystore and cipher) is only needed by the commands that decrypt.
  const { FileKeyStore, decryptField } = await import('@decisiontrail/instrumentation');
  const keyStore = new FileKeyStore(keystoreDir);
  return (field) => decryptField(keyStore, field);
}

/** The recorded content of a decision span's input and output: plaintext, decrypted, or why it is unreadable. */
export function contentOf(record: SpanRecord, decisionId: string, decrypt: Decrypt): SubjectContent[] {
  const out: SubjectContent[] = [];
  for (const f of FIELDS) {
    const a = record.attributes;
    const base = { decisionId, spanId: record.spanId, field: f.field };
    if ((a[f.content] ?? '') !== '') {
      out.push({ ...base, recorded: 'plaintext', text: a[f.content]!, unreadable: null });
    } else if ((a[f.ciphertext] ?? '') !== '') {
      const keyId = a[f.keyId] ?? '';
      try {
        out.push({
          ...base,
          recorded: 'encrypted',
          text: decrypt({ ciphertext: a[f.ciphertext]!, keyId }),
          unreadable: null,
        });
      } catch (error) {
        out.push({
          ...base,
          recorded: 'encrypted',
          text: null,
          unreadable: `key ${keyId} is not held (erased, or kept elsewhere): ${(error as Error).message}`,
        });
      }
    } else if ((a[f.hash] ?? '') !== '') {
      out.push({ ...base, recorded: 'hash', text: null, unreadable: 'only a keyed hash was recorded' });
    }
  }
  return out;
}
