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

class UnsupportedGoJsonValue extends Error {}

function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return goJsonString(toWellFormed(value));
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (Number.isInteger(value)) return integerToString(value);
      if (!Number.isFinite(value)) throw new UnsupportedGoJsonValue();
      return String(value);
    case 'object': {
      if (value instanceof Uint8Array) return `"${Buffer.from(value).toString('base64')}"`;
      if (Array.isArray(value)) return `[${value.map((item) => goJson(item)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const entries = Object.keys(record)
        .map((key) => [toWellFormed(key), record[key]] as const)
        .sort((a, b) => compareUtf8(a[0], b[0]));
      return `{${entries.map(([key, item]) => `${goJsonString(key)}:${goJson(item)}`).join(',')}}`;
    }
    default:
      return 'null';
  }
}

/** Go `encoding/json` string encoding as pcommon uses it (HTML escaping off; Go ≥ 1.22 short escapes). */
function goJsonString(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    switch (char) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      default:
        if (code < 0x20 || code === 0x2028 || code === 0x2029) {
          out += `\\u${code.toString(16).padStart(4, '0')}`;
        } else {
          out += char;
        }
    }
  }
  return `${out}"`;
}

/** Byte-wise UTF-8 order (Go's `strings.Compare`), which equals code point order. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
