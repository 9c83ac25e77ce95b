import { SPAN_KIND_STRINGS, SPAN_KIND_UNSPECIFIED, STATUS_CODE_STRINGS } from '@decisiontrail/core';
import type { SpanRecord, SpanRecordEvent, SpanRecordLink } from '@decisiontrail/core';
import protobuf from 'protobufjs';
import { OtlpDecodeError } from './errors.ts';
import type { DecodedRequest } from './otlp-decoder.ts';
import {
  UnsupportedGoJsonValue,
  goJsonObject,
  goJsonString,
  toWellFormed,
} from '@decisiontrail/core/internal';

/**
 * A direct OTLP trace decoder over protobufjs's wire `Reader`: it walks ExportTraceServiceRequest and builds
 * SpanRecords without materializing protobufjs message objects, which costs about a tenth of reflection
 * decoding (`Type.decode` plus conversion) per span. Field numbers and wire types are those of
 * opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1); a known field with the wrong
 * wire type makes the body undecodable, unknown fields are skipped.
 *
 * Every function below walks its message the same way whether it builds records (`build`) or only checks
 * the body ({@link checkProtobufRequest}): a check reads every field a decode reads, through the same
 * reader calls, so it refuses and rejects exactly what a decode does, but it makes no strings or objects.
 */

type Reader = protobuf.Reader;

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

// Indexed by the OTLP enum value (the JS API's SpanKind is one lower).
const SPAN_KINDS: readonly string[] = [SPAN_KIND_UNSPECIFIED, ...SPAN_KIND_STRINGS];
const MAX_DEPTH = 32;

class SpanRejection extends Error {}

/** What one pass over a request collects. */
interface Collected {
  /** The spans' records, when the pass builds them. */
  records: SpanRecord[] | undefined;
  /** Valid spans. */
  spans: number;
  rejected: number;
  rejectReasons: string[];
}

/** What {@link checkProtobufRequest} finds in a request: what a decode would accept and reject. */
export interface RequestCheck {
  spans: number;
  rejected: number;
  /** First few reasons, for `partial_success.error_message`. */
  rejectReasons: string[];
}

/** What a check returns for a string field it skipped that was not empty (a span's name must not be). */
const SKIPPED = '\u0000';

function fail(message: string): never {
  throw new OtlpDecodeError(message);
}

function expectWire(tag: number, wire: number, field: string): void {
  if ((tag & 7) !== wire) fail(`${field}: wrong wire type ${tag & 7}`);
}

/** End offset of a length-delimited field starting at the reader's position. */
function endOf(r: Reader): number {
  const length = r.uint32();
  const end = r.pos + length;
  if (end > r.len) fail(`length ${length} runs past the end of the body`);
  return end;
}

/** A nested field must end inside its message; protobufjs only bounds reads by the whole body. */
function checkEnd(r: Reader, end: number, message: string): void {
  if (r.pos !== end) fail(`${message}: a field runs past the end of its message`);
}

function str(r: Reader): string {
  return toWellFormed(r.string());
}

/** Attribute keys kept by {@link attributeKey}, at most this many, each at most this many bytes long. */
const KEY_CACHE_ENTRIES = 4096;
const KEY_CACHE_KEY_BYTES = 128;
/** A cached attribute key, and the value it had last (see {@link attributeValue}). */
interface CachedKey {
  bytes: Uint8Array;
  text: string;
  /** The encoded AnyValue this key had last, and what it decoded to (a top-level attribute's). */
  value: Uint8Array | undefined;
  valueText: string;
  /** Values of this key that differed from {@link value} since it last matched. */
  misses: number;
}
/** Decoded attribute keys by a hash of their UTF-8 bytes (one per hash), with those bytes. */
const keyCache = new Map<number, CachedKey>();
/** The cache entry of the key {@link attributeKey} read last; undefined when it is not cached. */
let lastKey: CachedKey | undefined;
/** Encoded values longer than this are decoded every time. */
const VALUE_CACHE_BYTES = 96;
/** A key's remembered value is replaced by a new one after this many values that differed from it. */
const VALUE_RELEARN_MISSES = 16;

/**
 * A KeyValue's key, as {@link str} reads it: spans of one service repeat the same few dozen keys, so a key met
 * before is handed back as the same string — no decoding again, and V8 finds it interned when it becomes a
 * property name. A cached key is returned only for exactly its own bytes (compared, not just hashed).
 */
function attributeKey(r: Reader): string {
  const length = r.size();
  const start = r.pos;
  const end = start + length;
  if (end > r.len) throw new RangeError(`index out of range: ${start} + ${length} > ${r.len}`);
  const buf = r.buf as Buffer;
  r.pos = end;
  lastKey = undefined;
  if (length > KEY_CACHE_KEY_BYTES) return toWellFormed(buf.toString('utf8', start, end));
  let hash = length;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x0100_0193);
  const cached = keyCache.get(hash);
  if (cached !== undefined && cached.bytes.length === length) {
    const bytes = cached.bytes;
    let i = 0;
    while (i < length && bytes[i] === buf[start + i]) i++;
    if (i === length) {
      lastKey = cached;
      return cached.text;
    }
  }
  const text = toWellFormed(buf.toString('utf8', start, end));
  if (cached === undefined && keyCache.size < KEY_CACHE_ENTRIES) {
    const entry = {
      // A copy of its own (not a slice of Buffer's shared pool, which would keep a whole pool slab alive).
      bytes: new Uint8Array(buf.subarray(start, end)),
      text,
      value: undefined,
      valueText: '',
      misses: 0,
    };
    keyCache.set(hash, entry);
    lastKey = entry;
  }
  return text;
}

/**
 * A top-level attribute's value (pcommon AsString) as {@link anyValue} decodes `[r.pos, end)`, for the key cached
 * as `key`: spans of one service repeat most values too (the model, its version, the outcome, the capture modes),
 * so when the encoded AnyValue is byte for byte the one this key had last, its decoded text is handed back as the
 * same string instead of being decoded again. Decoding is a function of those bytes alone, so the result is the
 * same either way; only a value that decoded without error is remembered.
 */
function attributeValue(r: Reader, end: number, key: CachedKey, depth: number): string {
  const start = r.pos;
  const length = end - start;
  const buf = r.buf as Buffer;
  const last = key.value;
  if (last !== undefined && last.length === length) {
    let i = 0;
    while (i < length && last[i] === buf[start + i]) i++;
    if (i === length) {
      key.misses = 0;
      r.pos = end;
      return key.valueText;
    }
  }
  const text = anyValue(r, end, false, depth, true);
  if (length <= VALUE_CACHE_BYTES && (last === undefined || ++key.misses >= VALUE_RELEARN_MISSES)) {
    key.value = new Uint8Array(buf.subarray(start, end));
    key.valueText = text;
    key.misses = 0;
  }
  return text;
}

/**
 * A string field: its text when building, else skipped (`''` if empty, else {@link SKIPPED}). Skipping
 * bounds the length as `Reader.string` does and fails with the same error.
 */
function text(r: Reader, build: boolean): string {
  if (build) return str(r);
  const length = r.size();
  r.skip(length);
  return length === 0 ? '' : SKIPPED;
}

/** Skips a bytes field, bounded and failing as `Reader.bytes` does; returns its length. */
function skipBytes(r: Reader): number {
  const length = r.size();
  r.skip(length);
  return length;
}

/**
 * Decimal text of the unsigned 64-bit `hi·2³² + lo`, exact in doubles: long division by 10⁹ over four
 * 16-bit digits keeps every intermediate below 2⁵³ (the quotient is below 2⁶⁴ / 10⁹ ≈ 1.8·10¹⁰).
 */
export function uint64Decimal(hi: number, lo: number): string {
  let cur = (hi >>> 16) * 0x1_0000 + (hi & 0xffff);
  const q2 = Math.floor(cur / 1e9);
  cur = (cur - q2 * 1e9) * 0x1_0000 + (lo >>> 16);
  const q1 = Math.floor(cur / 1e9);
  cur = (cur - q1 * 1e9) * 0x1_0000 + (lo & 0xffff);
  const q0 = Math.floor(cur / 1e9);
  const rem = cur - q0 * 1e9;
  const quotient = (q2 * 0x1_0000 + q1) * 0x1_0000 + q0;
  return quotient === 0 ? String(rem) : `${quotient}${String(rem).padStart(9, '0')}`;
}

function fixed64String(r: Reader): string {
  const lo = r.fixed32();
  const hi = r.fixed32();
  return uint64Decimal(hi, lo);
}

/** Reads a fixed64 time: its decimal text when building, else just past it (through the same reads). */
function time(r: Reader, build: boolean): string {
  if (build) return fixed64String(r);
  r.fixed32();
  r.fixed32();
  return '0';
}

/** A trace or span id at `[at, at + length)` of the body, as lowercase hex (`''` when only checking). */
function hexId(
  r: Reader,
  at: number,
  length: number,
  size: number,
  field: string,
  allowEmpty: boolean,
  build: boolean,
): string {
  if (length === 0 && allowEmpty) return '';
  if (length !== size) throw new SpanRejection(`${field}: must be ${size} bytes`);
  const bytes = r.buf;
  let any = 0;
  for (let i = at; i < at + length; i++) any |= bytes[i]!;
  if (any === 0) throw new SpanRejection(`${field}: all zero`);
  return build ? (bytes as Buffer).toString('hex', at, at + length) : '';
}

/**
 * Reads an AnyValue and returns its pcommon AsString form (`asJson` false) or the Go JSON of its raw value
 * inside a slice or map (`asJson` true); `''` when only checking. The last member of the oneof on the wire
 * wins, as in protobuf.
 */
function anyValue(r: Reader, end: number, asJson: boolean, depth: number, build: boolean): string {
  if (depth > MAX_DEPTH) fail(`values nested deeper than ${MAX_DEPTH} levels`);
  let out = asJson && build ? 'null' : '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: {
        expectWire(tag, LEN, 'AnyValue.string_value');
        const s = text(r, build);
        if (build) out = asJson ? goJsonString(s) : s;
        break;
      }
      case 2: {
        expectWire(tag, VARINT, 'AnyValue.bool_value');
        const b = r.bool();
        if (build) out = b ? 'true' : 'false';
        break;
      }
      case 3: {
        expectWire(tag, VARINT, 'AnyValue.int_value');
        const i = r.int64();
        if (build) out = i.toString();
        break;
      }
      case 4: {
        expectWire(tag, I64, 'AnyValue.double_value');
        const d = r.double();
        // Thrown when only checking too: the caller then skips the rest of the value, as a decode does.
        if (asJson && !Number.isFinite(d)) throw new UnsupportedGoJsonValue();
        // pcommon formats doubles like ES6 Number#toString, non-finite ones included.
        if (build) out = String(d);
        break;
      }
      case 5: {
        expectWire(tag, LEN, 'AnyValue.array_value');
        const arrayEnd = endOf(r);
        const items: string[] = [];
        while (r.pos < arrayEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) {
            expectWire(t, LEN, 'ArrayValue.values');
            const item = anyValue(r, endOf(r), true, depth + 1, build);
            if (build) items.push(item);
          } else r.skipType(t & 7);
        }
        checkEnd(r, arrayEnd, 'array');
        if (build) out = `[${items.join(',')}]`;
        break;
      }
      case 6: {
        expectWire(tag, LEN, 'AnyValue.kvlist_value');
        const listEnd = endOf(r);
        // No prototype: any key is an own member; a repeated key keeps its last value.
        const entries = build ? (Object.create(null) as Record<string, string>) : undefined;
        while (r.pos < listEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) {
            expectWire(t, LEN, 'KeyValueList.values');
            keyValue(r, endOf(r), true, depth + 1, build, entries);
          } else r.skipType(t & 7);
        }
        checkEnd(r, listEnd, 'list');
        if (entries !== undefined) {
          out = goJsonObject(Object.entries(entries));
        }
        break;
      }
      case 7: {
        expectWire(tag, LEN, 'AnyValue.bytes_value');
        if (build) {
          const b64 = Buffer.from(r.bytes()).toString('base64');
          out = asJson ? `"${b64}"` : b64;
        } else skipBytes(r);
        break;
      }
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'AnyValue');
  return out;
}

/** Reads a KeyValue; when building, sets its key in `into` (a later repeat of a key wins). */
function keyValue(
  r: Reader,
  end: number,
  asJson: boolean,
  depth: number,
  build: boolean,
  into: Record<string, string> | undefined,
): void {
  let key = '';
  let cachedKey: CachedKey | undefined;
  let value = asJson ? 'null' : '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN, 'KeyValue.key');
        if (build) {
          key = attributeKey(r);
          cachedKey = lastKey;
        } else key = text(r, false);
        break;
      case 2: {
        expectWire(tag, LEN, 'KeyValue.value');
        const valueEnd = endOf(r);
        if (asJson) {
          value = anyValue(r, valueEnd, true, depth, build);
        } else {
          try {
            value =
              build && cachedKey !== undefined && depth === 0
                ? attributeValue(r, valueEnd, cachedKey, depth)
                : anyValue(r, valueEnd, false, depth, build);
          } catch (error) {
            // Go's encoder refuses a nested NaN/Inf; pcommon's AsString then yields ''.
            if (!(error instanceof UnsupportedGoJsonValue)) throw error;
            r.pos = valueEnd;
            value = '';
          }
        }
        break;
      }
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'KeyValue');
  if (into !== undefined) into[key] = value;
}

function attribute(r: Reader, build: boolean, into: Record<string, string>): void {
  keyValue(r, endOf(r), false, 0, build, build ? into : undefined);
}

function decodeEvent(r: Reader, end: number, build: boolean): SpanRecordEvent {
  const event: SpanRecordEvent = { timeUnixNano: '0', name: '', attributes: {} };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, I64, 'Event.time_unix_nano');
        event.timeUnixNano = time(r, build);
        break;
      case 2:
        expectWire(tag, LEN, 'Event.name');
        event.name = text(r, build);
        break;
      case 3:
        expectWire(tag, LEN, 'Event.attributes');
        attribute(r, build, event.attributes);
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'Event');
  return event;
}

/** A link as read: its ids are where they lie in the body, checked (and turned into hex) with the span's. */
interface RawLink {
  traceState: string;
  attributes: Record<string, string>;
  traceAt: number;
  traceLength: number;
  spanAt: number;
  spanLength: number;
}

function decodeLink(r: Reader, end: number, build: boolean): RawLink {
  const link: RawLink = {
    traceState: '',
    attributes: {},
    traceAt: 0,
    traceLength: 0,
    spanAt: 0,
    spanLength: 0,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN, 'Link.trace_id');
        link.traceLength = skipBytes(r);
        link.traceAt = r.pos - link.traceLength;
        break;
      case 2:
        expectWire(tag, LEN, 'Link.span_id');
        link.spanLength = skipBytes(r);
        link.spanAt = r.pos - link.spanLength;
        break;
      case 3:
        expectWire(tag, LEN, 'Link.trace_state');
        link.traceState = text(r, build);
        break;
      case 4:
        expectWire(tag, LEN, 'Link.attributes');
        attribute(r, build, link.attributes);
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'Link');
  return link;
}

/** Reads one span; its record when building, else undefined. Throws `SpanRejection` for an invalid span. */
function decodeSpan(
  r: Reader,
  end: number,
  resourceAttributes: Record<string, string>,
  scopeName: string,
  scopeVersion: string,
  build: boolean,
): SpanRecord | undefined {
  // Ids are kept as offsets into the body and checked once the whole span is read.
  let traceAt = 0;
  let traceLength = 0;
  let spanAt = 0;
  let spanLength = 0;
  let parentAt = 0;
  let parentLength = 0;
  let traceState = '';
  let name = '';
  let kind = 0;
  let start = '0';
  let stop = '0';
  const attributes: Record<string, string> = {};
  const events: SpanRecordEvent[] = [];
  const links: RawLink[] = [];
  let statusCode = 0;
  let statusMessage = '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN, 'Span.trace_id');
        traceLength = skipBytes(r);
        traceAt = r.pos - traceLength;
        break;
      case 2:
        expectWire(tag, LEN, 'Span.span_id');
        spanLength = skipBytes(r);
        spanAt = r.pos - spanLength;
        break;
      case 3:
        expectWire(tag, LEN, 'Span.trace_state');
        traceState = text(r, build);
        break;
      case 4:
        expectWire(tag, LEN, 'Span.parent_span_id');
        parentLength = skipBytes(r);
        parentAt = r.pos - parentLength;
        break;
      case 5:
        expectWire(tag, LEN, 'Span.name');
        name = text(r, build);
        break;
      case 6:
        expectWire(tag, VARINT, 'Span.kind');
        kind = r.int32();
        break;
      case 7:
        expectWire(tag, I64, 'Span.start_time_unix_nano');
        start = time(r, build);
        break;
      case 8:
        expectWire(tag, I64, 'Span.end_time_unix_nano');
        stop = time(r, build);
        break;
      case 9:
        expectWire(tag, LEN, 'Span.attributes');
        attribute(r, build, attributes);
        break;
      case 11: {
        expectWire(tag, LEN, 'Span.events');
        const event = decodeEvent(r, endOf(r), build);
        if (build) events.push(event);
        break;
      }
      case 13:
        expectWire(tag, LEN, 'Span.links');
        links.push(decodeLink(r, endOf(r), build));
        break;
      case 15: {
        expectWire(tag, LEN, 'Span.status');
        const statusEnd = endOf(r);
        while (r.pos < statusEnd) {
          const t = r.uint32();
          if (t >>> 3 === 2) {
            expectWire(t, LEN, 'Status.message');
            statusMessage = text(r, build);
          } else if (t >>> 3 === 3) {
            expectWire(t, VARINT, 'Status.code');
            statusCode = r.int32();
          } else r.skipType(t & 7);
        }
        checkEnd(r, statusEnd, 'status');
        break;
      }
      case 16:
        expectWire(tag, I32, 'Span.flags');
        r.fixed32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'Span');
  // The order of the checks decides which reason a span with several faults is rejected for.
  const traceId = hexId(r, traceAt, traceLength, 16, 'traceId', false, build);
  const spanId = hexId(r, spanAt, spanLength, 8, 'spanId', false, build);
  const parentSpanId = hexId(r, parentAt, parentLength, 8, 'parentSpanId', true, build);
  const spanLinks: SpanRecordLink[] = [];
  for (const l of links) {
    const link: SpanRecordLink = {
      traceId: hexId(r, l.traceAt, l.traceLength, 16, 'links.traceId', false, build),
      spanId: hexId(r, l.spanAt, l.spanLength, 8, 'links.spanId', false, build),
      traceState: l.traceState,
      attributes: l.attributes,
    };
    if (build) spanLinks.push(link);
  }
  if (name === '') throw new SpanRejection('name: empty');
  if (!build) return undefined;
  return {
    traceId,
    spanId,
    parentSpanId,
    traceState,
    name,
    kind: SPAN_KINDS[kind] ?? SPAN_KINDS[0]!,
    startTimeUnixNano: start,
    endTimeUnixNano: stop,
    statusCode: STATUS_CODE_STRINGS[statusCode] ?? STATUS_CODE_STRINGS[0],
    statusMessage,
    attributes,
    resourceAttributes,
    scopeName,
    scopeVersion,
    events,
    links: spanLinks,
  };
}

function decodeScopeSpans(
  r: Reader,
  end: number,
  resourceAttributes: Record<string, string>,
  out: Collected,
): void {
  const build = out.records !== undefined;
  let scopeName = '';
  let scopeVersion = '';
  // The scope may follow its spans on the wire: remember span ranges, decode them once the scope is known.
  const spans: [number, number][] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: {
        expectWire(tag, LEN, 'ScopeSpans.scope');
        const scopeEnd = endOf(r);
        while (r.pos < scopeEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) {
            expectWire(t, LEN, 'InstrumentationScope.name');
            scopeName = text(r, build);
          } else if (t >>> 3 === 2) {
            expectWire(t, LEN, 'InstrumentationScope.version');
            scopeVersion = text(r, build);
          } else r.skipType(t & 7);
        }
        checkEnd(r, scopeEnd, 'scope');
        break;
      }
      case 2: {
        expectWire(tag, LEN, 'ScopeSpans.spans');
        const spanEnd = endOf(r);
        spans.push([r.pos, spanEnd]);
        r.pos = spanEnd;
        break;
      }
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'ScopeSpans');
  for (const [spanStart, spanEnd] of spans) {
    r.pos = spanStart;
    try {
      const record = decodeSpan(r, spanEnd, resourceAttributes, scopeName, scopeVersion, build);
      out.spans += 1;
      if (record !== undefined) out.records?.push(record);
    } catch (error) {
      if (!(error instanceof SpanRejection)) throw error;
      out.rejected += 1;
      if (out.rejectReasons.length < 3) out.rejectReasons.push(error.message);
    }
  }
  r.pos = end;
}

function decodeResourceSpans(r: Reader, end: number, out: Collected): void {
  const build = out.records !== undefined;
  const resourceAttributes: Record<string, string> = {};
  const scopes: [number, number][] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: {
        expectWire(tag, LEN, 'ResourceSpans.resource');
        const resourceEnd = endOf(r);
        while (r.pos < resourceEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) {
            expectWire(t, LEN, 'Resource.attributes');
            attribute(r, build, resourceAttributes);
          } else r.skipType(t & 7);
        }
        checkEnd(r, resourceEnd, 'resource');
        break;
      }
      case 2: {
        expectWire(tag, LEN, 'ResourceSpans.scope_spans');
        const scopeEnd = endOf(r);
        scopes.push([r.pos, scopeEnd]);
        r.pos = scopeEnd;
        break;
      }
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'ResourceSpans');
  for (const [scopeStart, scopeEnd] of scopes) {
    r.pos = scopeStart;
    decodeScopeSpans(r, scopeEnd, resourceAttributes, out);
  }
  r.pos = end;
}

function walkRequest(body: Uint8Array, out: Collected): void {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const r = protobuf.Reader.create(buffer);
  try {
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) {
        expectWire(tag, LEN, 'ExportTraceServiceRequest.resource_spans');
        decodeResourceSpans(r, endOf(r), out);
      } else {
        r.skipType(tag & 7);
      }
    }
  } catch (error) {
    if (error instanceof OtlpDecodeError) throw error;
    // protobufjs reports truncation as RangeError and bad wire types as Error.
    throw new OtlpDecodeError(`invalid protobuf: ${(error as Error).message}`, { cause: error });
  }
}

/** Decodes an OTLP protobuf ExportTraceServiceRequest body. @throws OtlpDecodeError */
export function decodeProtobufRequest(body: Uint8Array): DecodedRequest {
  const records: SpanRecord[] = [];
  const out: Collected = { records, spans: 0, rejected: 0, rejectReasons: [] };
  walkRequest(body, out);
  return { records, rejected: out.rejected, rejectReasons: out.rejectReasons };
}

/**
 * Checks an OTLP protobuf ExportTraceServiceRequest body without building its records: what
 * {@link decodeProtobufRequest} would accept and reject, for a fraction of its cost. @throws OtlpDecodeError
 * exactly when a decode would.
 */
export function checkProtobufRequest(body: Uint8Array): RequestCheck {
  const out: Collected = { records: undefined, spans: 0, rejected: 0, rejectReasons: [] };
  walkRequest(body, out);
  return { spans: out.spans, rejected: out.rejected, rejectReasons: out.rejectReasons };
}
