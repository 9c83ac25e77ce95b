import protobuf from 'protobufjs';
import { OtlpDecodeError } from './errors.ts';
import {
  UnsupportedGoJsonValue,
  goJsonDouble,
  goJsonObject,
  goJsonString,
  toWellFormed,
} from '@decisiontrail/core/internal';

/**
 * OTLP `AnyValue` as either protobufjs decodes it or OTLP/JSON spells it (both use lowerCamelCase names):
 * int64 arrives as a Long-like object, a decimal string or a number; bytes as Uint8Array or base64 text.
 */
export interface AnyValueLike {
  stringValue?: unknown;
  boolValue?: unknown;
  intValue?: unknown;
  doubleValue?: unknown;
  arrayValue?: { values?: unknown } | null;
  kvlistValue?: { values?: unknown } | null;
  bytesValue?: unknown;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A Long-like object from protobufjs (`long` package) or a JSON int64 (string or safe number), as bigint. */
export function int64ToBigInt(value: unknown, path: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    // JSON senders (the JS OTLP transformer among them) write int64 as a number; beyond 2^53 it is already
    // rounded by JSON.parse, which matches what the same sender's SDK-side value holds.
    if (!Number.isInteger(value)) throw new OtlpDecodeError(`${path}: not an integer: ${value}`);
    return BigInt(value);
  }
  if (typeof value === 'string') {
    if (!/^-?\d{1,20}$/.test(value)) throw new OtlpDecodeError(`${path}: not an integer string`);
    const n = BigInt(value);
    if (n < INT64_MIN || n > INT64_MAX) throw new OtlpDecodeError(`${path}: out of int64 range`);
    return n;
  }
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const { low, high, unsigned } = value as { low: number; high: number; unsigned?: boolean };
    const bits = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    return unsigned === true ? bits : BigInt.asIntN(64, bits);
  }
  throw new OtlpDecodeError(`${path}: expected an integer`);
}

function bytesToBase64(value: unknown, path: string): string {
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (typeof value === 'string') {
    // OTLP/JSON carries bytes values as base64 (standard or URL-safe, per the protobuf JSON mapping).
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(value))
      throw new OtlpDecodeError(`${path}: bytesValue is not base64`);
    return Buffer.from(value, 'base64').toString('base64');
  }
  throw new OtlpDecodeError(`${path}: bytesValue has the wrong type`);
}

function asDouble(value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  // The protobuf JSON mapping spells non-finite doubles as strings.
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  throw new OtlpDecodeError(`${path}: doubleValue is not a number`);
}

function checkDepth(depth: number, path: string): void {
  // Bounded so a hostile body of deeply nested arrays is a clean 400, not a stack overflow.
  if (depth > 32) throw new OtlpDecodeError(`${path}: values nested deeper than 32 levels`);
}

function listOf(container: { values?: unknown } | null | undefined, path: string): unknown[] {
  const values = container?.values ?? [];
  if (!Array.isArray(values)) throw new OtlpDecodeError(`${path}.values: expected a list`);
  if (values.some((item) => item === null)) throw new OtlpDecodeError(`${path}.values: null in a list`);
  return values;
}

const ONEOF_FIELDS = [
  'stringValue',
  'boolValue',
  'intValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
] as const;

/**
 * Keeps only the member of the `value` oneof that is set. A protobufjs message has proto3 defaults on its
 * prototype (`stringValue: ''`), so the oneof's virtual `value` property says which member is real; a JSON
 * object carries only what the sender wrote.
 */
function asObject(value: unknown, path: string): AnyValueLike {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OtlpDecodeError(`${path}: expected an object`);
  }
  if (value instanceof protobuf.Message) {
    const which = (value as { value?: unknown }).value;
    if (typeof which !== 'string' || !(ONEOF_FIELDS as readonly string[]).includes(which)) return {};
    return { [which]: (value as unknown as Record<string, unknown>)[which] };
  }
  return value as AnyValueLike;
}

/** The raw JSON form (as Go's AsRaw + json.Marshal writes it) of a value nested in a map or slice. */
function anyValueToJson(raw: unknown, path: string, depth: number): string {
  checkDepth(depth, path);
  if (raw === null || raw === undefined) return 'null';
  const v = asObject(raw, path);
  if (v.stringValue !== undefined && v.stringValue !== null)
    return goJsonString(asString(v.stringValue, path));
  if (v.boolValue !== undefined && v.boolValue !== null) return String(asBool(v.boolValue, path));
  if (v.intValue !== undefined && v.intValue !== null)
    return int64ToBigInt(v.intValue, `${path}.intValue`).toString();
  if (v.doubleValue !== undefined && v.doubleValue !== null)
    return goJsonDouble(asDouble(v.doubleValue, path));
  if (v.arrayValue !== undefined && v.arrayValue !== null) {
    const items = listOf(v.arrayValue, `${path}.arrayValue`);
    return `[${items.map((item, i) => anyValueToJson(item, `${path}.arrayValue.values[${i}]`, depth + 1)).join(',')}]`;
  }
  if (v.kvlistValue !== undefined && v.kvlistValue !== null) return kvlistToJson(v.kvlistValue, path, depth);
  if (v.bytesValue !== undefined && v.bytesValue !== null)
    return goJsonString(bytesToBase64(v.bytesValue, path));
  return 'null';
}

function kvlistToJson(container: { values?: unknown }, path: string, depth: number): string {
  const entries = listOf(container, `${path}.kvlistValue`).map((kv, i) => {
    const p = `${path}.kvlistValue.values[${i}]`;
    const o = asObject(kv, p) as { key?: unknown; value?: unknown };
    return [
      toWellFormed(asString(o.key ?? '', `${p}.key`)),
      anyValueToJson(o.value, `${p}.value`, depth + 1),
    ] as const;
  });
  // Go marshals maps with sorted keys; later duplicates win, as in pcommon's map.
  return goJsonObject(new Map(entries));
}

function asString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new OtlpDecodeError(`${path}: expected a string`);
  return value;
}

function asBool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new OtlpDecodeError(`${path}: expected a boolean`);
  return value;
}

/**
 * The string the Collector's pcommon `Value.AsString()` gives for an OTLP AnyValue — the form the clickhouseexporter
 * writes to `SpanAttributes` and the canonical span hashes.
 */
export function anyValueAsString(raw: unknown, path: string): string {
  if (raw === null || raw === undefined) return '';
  const v = asObject(raw, path);
  if (v.stringValue !== undefined && v.stringValue !== null) {
    return toWellFormed(asString(v.stringValue, `${path}.stringValue`));
  }
  if (v.boolValue !== undefined && v.boolValue !== null)
    return String(asBool(v.boolValue, `${path}.boolValue`));
  if (v.intValue !== undefined && v.intValue !== null)
    return int64ToBigInt(v.intValue, `${path}.intValue`).toString();
  if (v.doubleValue !== undefined && v.doubleValue !== null) {
    const d = asDouble(v.doubleValue, `${path}.doubleValue`);
    // pcommon formats doubles like ES6 Number#toString, non-finite ones included (NaN, Infinity, -Infinity).
    return String(d);
  }
  if (
    (v.arrayValue !== undefined && v.arrayValue !== null) ||
    (v.kvlistValue !== undefined && v.kvlistValue !== null)
  ) {
    try {
      return anyValueToJson(v, path, 0);
    } catch (error) {
      if (error instanceof UnsupportedGoJsonValue) return '';
      throw error;
    }
  }
  if (v.bytesValue !== undefined && v.bytesValue !== null)
    return bytesToBase64(v.bytesValue, `${path}.bytesValue`);
  return '';
}
