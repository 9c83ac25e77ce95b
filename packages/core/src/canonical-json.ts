import { isWellFormed } from './well-formed.ts';

/** The JSON values the canonical span is made of: only strings, arrays and objects. */
export type CanonicalJsonValue =
  string | readonly CanonicalJsonValue[] | { readonly [key: string]: CanonicalJsonValue };

/**
 * RFC 8785 (JCS) serialization restricted to strings, arrays and objects, which is all the
 * canonical span uses (numbers are carried as decimal strings, so the ECMAScript number
 * serialization of JCS is never needed). Object members are sorted by UTF-16 code units and strings
 * are escaped exactly as ECMAScript `JSON.stringify` does, which is what RFC 8785 §3.2.2.2 requires.
 * Strings that are not well-formed Unicode (lone surrogates) are rejected, as RFC 8785 §3.1 demands.
 */
export function canonicalJson(value: CanonicalJsonValue): string {
  if (typeof value === 'string') return canonicalString(value);
  if (Array.isArray(value))
    return `[${(value as readonly CanonicalJsonValue[]).map(canonicalJson).join(',')}]`;
  const record = value as { readonly [key: string]: CanonicalJsonValue };
  // Array.prototype.sort without a comparator orders strings by UTF-16 code units (RFC 8785 §3.2.3).
  const keys = Object.keys(record).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ',';
    out += `${canonicalString(key)}:${canonicalJson(record[key] as CanonicalJsonValue)}`;
  }
  return `${out}}`;
}

function canonicalString(value: string): string {
  if (typeof value !== 'string') throw new TypeError('canonical JSON holds only strings, arrays and objects');
  if (!isWellFormed(value)) throw new TypeError('canonical JSON strings must be well-formed Unicode');
  return JSON.stringify(value);
}
