import { parseVerifierKey, type NoteVerifierKey } from './signed-note.ts';

/** A trusted key: a {@link NoteVerifierKey} or its verifier key string (`name+keyid+base64`). */
export type TrustedKey = NoteVerifierKey | string;

/** Resolves trusted keys to {@link NoteVerifierKey}s (parsing verifier key strings). */
export function resolveTrustedKeys(keys: readonly TrustedKey[]): NoteVerifierKey[] {
  return keys.map((key) => (typeof key === 'string' ? parseVerifierKey(key) : key));
}
