import {
  SPAN_KIND_STRINGS,
  SPAN_KIND_UNSPECIFIED,
  STATUS_CODE_STRINGS,
} from '@decisiontrail/signing-exporter';
import type { SpanRecord, SpanRecordEvent, SpanRecordLink } from '@decisiontrail/signing-exporter';
import protobuf from 'protobufjs';
import { OtlpDecodeError } from './errors.ts';
import type { DecodedRequest } from './otlp-decoder.ts';
import { toWellFormed } from './well-formed.ts';

/**
 * A direct OTLP trace decoder over protobufjs's wire `Reader`: it walks ExportTraceServiceRequest and builds
 * SpanRecords without materializing protobufjs message objects, which costs about a tenth of reflection
 * decoding (`Type.decode` plus conversion) per span. Field numbers and wire types are those of
 * opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1); a known field with the wrong
 * wire type makes the body undecodable, unknown fields are skipped.
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

function fixed64String(r: Reader): string {
  const lo = r.fixed32();
  const hi = r.fixed32();
  return hi === 0 ? String(lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function hexId(bytes: Uint8Array, size: number, field: string, allowEmpty: boolean): string {
  if (bytes.length === 0 && allowEmpty) return '';
  if (bytes.length !== size) throw new SpanRejection(`${field}: must be ${size} bytes`);
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  if (/^0+$/.test(hex)) throw new SpanRejection(`${field}: all zero`);
  return hex;
}

function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Byte-wise UTF-8 order, as Go sorts map keys. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

class NonFiniteInJson extends Error {}

/**
 * Reads an AnyValue and returns its pcommon AsString form (`asJson` false) or the Go JSON of its raw value
 * inside a slice or map (`asJson` true). The last member of the oneof on the wire wins, as in protobuf.
 */
function anyValue(r: Reader, end: number, asJson: boolean, depth: number): string {
  if (depth > MAX_DEPTH) fail(`values nested deeper than ${MAX_DEPTH} levels`);
  let out = asJson ? 'null' : '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1: {
        expectWire(tag, LEN, 'AnyValue.string_value');
        const s = str(r);
        out = asJson ? goJsonString(s) : s;
        break;
      }
      case 2:
        expectWire(tag, VARINT, 'AnyValue.bool_value');
        out = r.bool() ? 'true' : 'false';
        break;
      case 3:
        expectWire(tag, VARINT, 'AnyValue.int_value');
        out = r.int64().toString();
        break;
      case 4: {
        expectWire(tag, I64, 'AnyValue.double_value');
        const d = r.double();
        if (asJson && !Number.isFinite(d)) throw new NonFiniteInJson();
        // pcommon formats doubles like ES6 Number#toString, non-finite ones included.
        out = String(d);
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
            items.push(anyValue(r, endOf(r), true, depth + 1));
          } else r.skipType(t & 7);
        }
        checkEnd(r, arrayEnd, 'array');
        out = `[${items.join(',')}]`;
        break;
      }
      case 6: {
        expectWire(tag, LEN, 'AnyValue.kvlist_value');
        const listEnd = endOf(r);
        const entries = new Map<string, string>();
        while (r.pos < listEnd) {
          const t = r.uint32();
          if (t >>> 3 === 1) {
            expectWire(t, LEN, 'KeyValueList.values');
            const [key, value] = keyValue(r, endOf(r), true, depth + 1);
            entries.set(key, value);
          } else r.skipType(t & 7);
        }
        checkEnd(r, listEnd, 'list');
        const keys = [...entries.keys()].sort(compareUtf8);
        out = `{${keys.map((k) => `${goJsonString(k)}:${entries.get(k)!}`).join(',')}}`;
        break;
      }
      case 7: {
        expectWire(tag, LEN, 'AnyValue.bytes_value');
        const b64 = Buffer.from(r.bytes()).toString('base64');
        out = asJson ? `"${b64}"` : b64;
        break;
      }
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'AnyValue');
  return out;
}

function keyValue(r: Reader, end: number, asJson: boolean, depth: number): [string, string] {
  let key = '';
  let value = asJson ? 'null' : '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN, 'KeyValue.key');
        key = str(r);
        break;
      case 2: {
        expectWire(tag, LEN, 'KeyValue.value');
        const valueEnd = endOf(r);
        if (asJson) {
          value = anyValue(r, valueEnd, true, depth);
        } else {
          try {
            value = anyValue(r, valueEnd, false, depth);
          } catch (error) {
            // Go's encoder refuses a nested NaN/Inf; pcommon's AsString then yields ''.
            if (!(error instanceof NonFiniteInJson)) throw error;
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
  return [key, value];
}

function attribute(r: Reader, into: Record<string, string>): void {
  const [key, value] = keyValue(r, endOf(r), false, 0);
  into[key] = value;
}

function decodeEvent(r: Reader, end: number): SpanRecordEvent {
  const event: SpanRecordEvent = { timeUnixNano: '0', name: '', attributes: {} };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, I64, 'Event.time_unix_nano');
        event.timeUnixNano = fixed64String(r);
        break;
      case 2:
        expectWire(tag, LEN, 'Event.name');
        event.name = str(r);
        break;
      case 3:
        expectWire(tag, LEN, 'Event.attributes');
        attribute(r, event.attributes);
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'Event');
  return event;
}

function decodeLink(r: Reader, end: number): SpanRecordLink & { rawTrace: Uint8Array; rawSpan: Uint8Array } {
  const empty: Uint8Array = new Uint8Array(0);
  const link = { traceId: '', spanId: '', traceState: '', attributes: {}, rawTrace: empty, rawSpan: empty };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN, 'Link.trace_id');
        link.rawTrace = r.bytes();
        break;
      case 2:
        expectWire(tag, LEN, 'Link.span_id');
        link.rawSpan = r.bytes();
        break;
      case 3:
        expectWire(tag, LEN, 'Link.trace_state');
        link.traceState = str(r);
        break;
      case 4:
        expectWire(tag, LEN, 'Link.attributes');
        attribute(r, link.attributes);
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  checkEnd(r, end, 'Link');
  return link;
}

function decodeSpan(
  r: Reader,
  end: number,
  resourceAttributes: Record<string, string>,
  scopeName: string,
  scopeVersion: string,
): SpanRecord {
  let traceId: Uint8Array = new Uint8Array(0);
  let spanId: Uint8Array = traceId;
  let parentSpanId: Uint8Array = traceId;
  let traceState = '';
  let name = '';
  let kind = 0;
  let start = '0';
  let stop = '0';
  const attributes: Record<string, string> = {};
  const events: SpanRecordEvent[] = [];
  const links: ReturnType<typeof decodeLink>[] = [];
  let statusCode = 0;
  let statusMessage = '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, LEN, 'Span.trace_id');
        traceId = r.bytes();
        break;
      case 2:
        expectWire(tag, LEN, 'Span.span_id');
        spanId = r.bytes();
        break;
      case 3:
        expectWire(tag, LEN, 'Span.trace_state');
        traceState = str(r);
        break;
      case 4:
        expectWire(tag, LEN, 'Span.parent_span_id');
        parentSpanId = r.bytes();
        break;
      case 5:
        expectWire(tag, LEN, 'Span.name');
        name = str(r);
        break;
      case 6:
        expectWire(tag, VARINT, 'Span.kind');
        kind = r.int32();
        break;
      case 7:
        expectWire(tag, I64, 'Span.start_time_unix_nano');
        start = fixed64String(r);
        break;
      case 8:
        expectWire(tag, I64, 'Span.end_time_unix_nano');
        stop = fixed64String(r);
        break;
      case 9:
        expectWire(tag, LEN, 'Span.attributes');
        attribute(r, attributes);
        break;
      case 11:
        expectWire(tag, LEN, 'Span.events');
        events.push(decodeEvent(r, endOf(r)));
        break;
      case 13:
        expectWire(tag, LEN, 'Span.links');
        links.push(decodeLink(r, endOf(r)));
        break;
      case 15: {
        expectWire(tag, LEN, 'Span.status');
        const statusEnd = endOf(r);
        while (r.pos < statusEnd) {
          const t = r.uint32();
          if (t >>> 3 === 2) {
            expectWire(t, LEN, 'Status.message');
            statusMessage = str(r);
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
  const record: SpanRecord = {
    traceId: hexId(traceId, 16, 'traceId', false),
    spanId: hexId(spanId, 8, 'spanId', false),
    parentSpanId: hexId(parentSpanId, 8, 'parentSpanId', true),
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
    links: links.map((l) => ({
      traceId: hexId(l.rawTrace, 16, 'links.traceId', false),
      spanId: hexId(l.rawSpan, 8, 'links.spanId', false),
      traceState: l.traceState,
      attributes: l.attributes,
    })),
  };
  if (name === '') throw new SpanRejection('name: empty');
  return record;
}

function decodeScopeSpans(
  r: Reader,
  end: number,
  resourceAttributes: Record<string, string>,
  out: DecodedRequest,
): void {
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
            scopeName = str(r);
          } else if (t >>> 3 === 2) {
            expectWire(t, LEN, 'InstrumentationScope.version');
            scopeVersion = str(r);
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
      out.records.push(decodeSpan(r, spanEnd, resourceAttributes, scopeName, scopeVersion));
    } catch (error) {
      if (!(error instanceof SpanRejection)) throw error;
      out.rejected += 1;
      if (out.rejectReasons.length < 3) out.rejectReasons.push(error.message);
    }
  }
  r.pos = end;
}

function decodeResourceSpans(r: Reader, end: number, out: DecodedRequest): void {
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
            attribute(r, resourceAttributes);
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

/** Decodes an OTLP protobuf ExportTraceServiceRequest body. @throws OtlpDecodeError */
export function decodeProtobufRequest(body: Uint8Array): DecodedRequest {
  const out: DecodedRequest = { records: [], rejected: 0, rejectReasons: [] };
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
  return out;
}
