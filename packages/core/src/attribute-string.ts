import { toWellFormed } from './well-formed.ts';

/**
 * Attribute values in the string form the OpenTelemetry Collector's ClickHouse exporter writes to
 * `otel_traces` (pcommon `Value.AsString`), computed from the JavaScript value an SDK span holds.
 *
 * The path a value takes is: JS value → OTLP `AnyValue` (the JS OTLP transformer: integral
 * numbers become `intValue`, other numbers `doubleValue`, `Uint8Array` becomes `bytesValue`,
 * arrays `arrayValue`, plain objects `kvlistValue`, `null`/`undefined` an empty value) → pcommon
 * `AsString` in the Collector:
 * - string: as is; bool: `true`/`false`; int: base-10;
 * - double: shortest round-trip digits with the ECMAScript exponent cut-offs (`1e-7`, `1e+21`),
 *   and `NaN` / `Infinity` / `-Infinity` for non-finite values;
 * - bytes: standard base64 with padding;
 * - arrays and maps: Go `encoding/json` of the raw value with HTML escaping off: keys sorted
 *   byte-wise, control characters and U+2028/U+2029 escaped, and the whole string empty when a
 *   nested double is not finite (the encoder fails and `AsString` ignores the error).
 * Verified against pdata v1.71.0 with the Go program in `test-vectors/pcommon-asstring/`.
 * - empty: the empty string.
 * Strings are first made well-formed, as protobuf's UTF-8 encoding replaces lone surrogates.
 */
export function attributeValueToString(value: unknown): string {
  if (value === null || value === undefined) return '';
  switch (typeof value) {
    case 'string':
      return toWellFormed(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isInteger(value) ? integerToString(value) : doubleToString(value);
    case 'object':
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      try {
        return goJson(value);
      } catch (error) {
        if (error instanceof UnsupportedGoJsonValue) return '';
        throw error;
      }
    default:
      return '';
  }
}

/** Converts an attribute map to the string map the ClickHouse exporter writes. */
export function attributesToStringMap(attributes: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(attributes)) out[toWellFormed(key)] = attributeValueToString(attributes[key]);
  return out;
}

function integerToString(value: number): string {
  // Integral JS numbers travel as OTLP int64; beyond 2^53 String() would switch to exponent form.
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}

function doubleToString(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  // ECMAScript Number::toString and Go's float64AsString agree on digits and exponent cut-offs.
  return String(value);
}

/**
 * Thrown while writing Go JSON for a value `encoding/json` refuses (a non-finite double inside an
 * array or map): pcommon's `AsString` then ignores the error and yields the empty string.
 */
export class UnsupportedGoJsonValue extends Error {}

/** A double as Go JSON inside an array or map; {@link UnsupportedGoJsonValue} when it is not finite. */
export function goJsonDouble(value: number): string {
  if (!Number.isFinite(value)) throw new UnsupportedGoJsonValue();
  return String(value);
}

/**
 * A Go JSON object from its members' keys (well-formed) and already-encoded values: keys sorted
 * byte-wise as `encoding/json` sorts map keys. Callers keep one member per key (pcommon maps keep the
 * last of a repeated key).
 */
export function goJsonObject(members: Iterable<readonly [string, string]>): string {
  const sorted = [...members].sort((a, b) => compareUtf8(a[0], b[0]));
  return `{${sorted.map(([key, value]) => `${goJsonString(key)}:${value}`).join(',')}}`;
}

function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return goJsonString(toWellFormed(value));
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isInteger(value) ? integerToString(value) : goJsonDouble(value);
    case 'object': {
      if (value instanceof Uint8Array) return `"${Buffer.from(value).toString('base64')}"`;
      if (Array.isArray(value)) return `[${value.map((item) => goJson(item)).join(',')}]`;
      const record = value as Record<string, unknown>;
      return goJsonObject(
        Object.keys(record).map((key) => [toWellFormed(key), goJson(record[key])] as const),
      );
    }
    default:
      return 'null';
  }
}

/**
 * Go `encoding/json` string encoding as pcommon uses it (HTML escaping off; Go ≥ 1.22 short escapes
 * `\b` `\f`): for a well-formed string that is `JSON.stringify` plus U+2028/U+2029 escaped.
 */
export function goJsonString(value: string): string {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Byte-wise UTF-8 order (Go's `strings.Compare`), which equals code point order. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
