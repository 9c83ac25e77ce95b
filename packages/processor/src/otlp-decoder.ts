import { SPAN_KIND_STRINGS, SPAN_KIND_UNSPECIFIED, STATUS_CODE_STRINGS } from '@decisiontrail/core';
import protobuf from 'protobufjs';
import type { SpanRecord } from '@decisiontrail/core';
import { anyValueAsString, int64ToBigInt } from './any-value.ts';
import { OtlpDecodeError } from './errors.ts';
import { toWellFormed } from '@decisiontrail/core/internal';

/** The spans of one ExportTraceServiceRequest, and the spans rejected as invalid (OTLP partial success). */
export interface DecodedRequest {
  records: SpanRecord[];
  rejected: number;
  /** First few reasons, for `partial_success.error_message`. */
  rejectReasons: string[];
}

// OTLP numbers span kinds one higher than the JS API, whose order SPAN_KIND_STRINGS follows.
const SPAN_KINDS = [SPAN_KIND_UNSPECIFIED, ...SPAN_KIND_STRINGS] as const;
const STATUS_CODES = STATUS_CODE_STRINGS;
// OTLP/JSON should carry enums as integers; the generic protobuf JSON mapping also allows their
// protobuf names, which are not the strings a SpanRecord stores (`SPAN_KIND_SERVER` vs `Server`).
const SPAN_KIND_NAMES: readonly string[] = SPAN_KINDS.map((kind) => `SPAN_KIND_${kind.toUpperCase()}`);
const STATUS_CODE_NAMES: readonly string[] = STATUS_CODES.map((code) => `STATUS_CODE_${code.toUpperCase()}`);

/** A span is rejected (not the whole request) for these; the rest of the batch is still accepted. */
class SpanRejection extends Error {}

type Obj = Record<string, unknown>;

function obj(value: unknown, path: string): Obj {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw new OtlpDecodeError(`${path}: expected an object`);
  }
  return value as Obj;
}

function arr(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${path}: expected a list`);
  // A list element is a message: null is not one (an absent field is the only legal null).
  if (value.some((item) => item === null)) throw new OtlpDecodeError(`${path}: null in a list of messages`);
  return value;
}

function str(value: unknown, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpDecodeError(`${path}: expected a string`);
  // As the SDK-side SpanRecord does: protobuf's UTF-8 encoding replaces lone surrogates.
  return toWellFormed(value);
}

/** A protobuf field in either naming: lowerCamelCase (canonical JSON) or the proto name (also legal in JSON). */
function field(o: Obj, camel: string, snake: string): unknown {
  const v = o[camel];
  return v === undefined || v === null ? o[snake] : v;
}

const HEX = /^[0-9a-fA-F]*$/;

function id(value: unknown, bytes: number, path: string, allowEmpty: boolean): string {
  let hex: string;
  if (value instanceof Uint8Array)
    hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  // An absent bytes field decodes to protobufjs's shared default (util.emptyArray); a JSON [] is not that.
  else if (value === undefined || value === null || value === protobuf.util.emptyArray) hex = '';
  else if (typeof value === 'string') {
    // OTLP/JSON writes ids as hex, not the base64 of the generic protobuf JSON mapping.
    if (!HEX.test(value)) throw new SpanRejection(`${path}: not hex`);
    hex = value.toLowerCase();
  } else throw new OtlpDecodeError(`${path}: expected hex text`);
  if (hex.length === 0 && allowEmpty) return '';
  if (hex.length !== bytes * 2) throw new SpanRejection(`${path}: must be ${bytes} bytes`);
  if (/^0+$/.test(hex)) throw new SpanRejection(`${path}: all zero`);
  return hex;
}

function nanos(value: unknown, path: string): string {
  if (value === undefined || value === null) return '0';
  const n = int64ToBigInt(value, path);
  if (n < 0n) {
    // fixed64 on the wire: a Long from protobufjs is signed-agnostic; JSON may not be negative.
    if (typeof value === 'object') return BigInt.asUintN(64, n).toString();
    throw new OtlpDecodeError(`${path}: negative timestamp`);
  }
  return n.toString();
}

function enumIndex(value: unknown, names: readonly string[], path: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    const i = names.indexOf(value);
    if (i >= 0) return i;
  }
  throw new OtlpDecodeError(`${path}: not a valid enum value`);
}

function attributes(value: unknown, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  arr(value, path).forEach((kv, i) => {
    const p = `${path}[${i}]`;
    const o = obj(kv, p);
    out[toWellFormed(str(o.key, `${p}.key`))] = anyValueAsString(o.value, `${p}.value`);
  });
  return out;
}

function convertSpan(
  raw: unknown,
  path: string,
  resourceAttributes: Record<string, string>,
  scopeName: string,
  scopeVersion: string,
): SpanRecord {
  const s = obj(raw, path);
  // Structural errors (wrong JSON types) are thrown as OtlpDecodeError first; id problems reject the span only.
  const attrs = attributes(s.attributes, `${path}.attributes`);
  const status = obj(s.status, `${path}.status`);
  const kindIndex = enumIndex(s.kind, SPAN_KIND_NAMES, `${path}.kind`);
  const codeIndex = enumIndex(status.code, STATUS_CODE_NAMES, `${path}.status.code`);
  const events = arr(s.events, `${path}.events`).map((e, i) => {
    const p = `${path}.events[${i}]`;
    const ev = obj(e, p);
    return {
      timeUnixNano: nanos(field(ev, 'timeUnixNano', 'time_unix_nano'), `${p}.timeUnixNano`),
      name: str(ev.name, `${p}.name`),
      attributes: attributes(ev.attributes, `${p}.attributes`),
    };
  });
  const linkSources = arr(s.links, `${path}.links`).map(
    (l, i) => [obj(l, `${path}.links[${i}]`), `${path}.links[${i}]`] as const,
  );
  const linkAttrs = linkSources.map(([l, p]) => attributes(l.attributes, `${p}.attributes`));
  const name = str(s.name, `${path}.name`);
  const traceState = str(field(s, 'traceState', 'trace_state'), `${path}.traceState`);
  const statusMessage = str(status.message, `${path}.status.message`);
  const startTimeUnixNano = nanos(
    field(s, 'startTimeUnixNano', 'start_time_unix_nano'),
    `${path}.startTimeUnixNano`,
  );
  const endTimeUnixNano = nanos(field(s, 'endTimeUnixNano', 'end_time_unix_nano'), `${path}.endTimeUnixNano`);
  const traceId = id(field(s, 'traceId', 'trace_id'), 16, `${path}.traceId`, false);
  const spanId = id(field(s, 'spanId', 'span_id'), 8, `${path}.spanId`, false);
  const parentSpanId = id(field(s, 'parentSpanId', 'parent_span_id'), 8, `${path}.parentSpanId`, true);
  const links = linkSources.map(([l, p], i) => ({
    traceId: id(field(l, 'traceId', 'trace_id'), 16, `${p}.traceId`, false),
    spanId: id(field(l, 'spanId', 'span_id'), 8, `${p}.spanId`, false),
    traceState: str(field(l, 'traceState', 'trace_state'), `${p}.traceState`),
    attributes: linkAttrs[i]!,
  }));
  if (name === '') throw new SpanRejection(`${path}.name: empty`);
  return {
    traceId,
    spanId,
    parentSpanId,
    traceState,
    name,
    kind: SPAN_KINDS[kindIndex] ?? SPAN_KINDS[0],
    startTimeUnixNano,
    endTimeUnixNano,
    statusCode: STATUS_CODES[codeIndex] ?? STATUS_CODES[0],
    statusMessage,
    attributes: attrs,
    resourceAttributes,
    scopeName,
    scopeVersion,
    events,
    links,
  };
}

/** Converts a decoded (protobuf) or parsed (JSON) ExportTraceServiceRequest into SpanRecords. */
export function requestToSpanRecords(request: unknown): DecodedRequest {
  const out: DecodedRequest = { records: [], rejected: 0, rejectReasons: [] };
  const root = obj(request, 'request');
  arr(field(root, 'resourceSpans', 'resource_spans'), 'resourceSpans').forEach((rs, i) => {
    const rp = `resourceSpans[${i}]`;
    const r = obj(rs, rp);
    const resource = obj(r.resource, `${rp}.resource`);
    const resourceAttributes = attributes(resource.attributes, `${rp}.resource.attributes`);
    arr(field(r, 'scopeSpans', 'scope_spans'), `${rp}.scopeSpans`).forEach((ss, j) => {
      const sp = `${rp}.scopeSpans[${j}]`;
      const sc = obj(ss, sp);
      const scope = obj(sc.scope, `${sp}.scope`);
      const scopeName = str(scope.name, `${sp}.scope.name`);
      const scopeVersion = str(scope.version, `${sp}.scope.version`);
      arr(sc.spans, `${sp}.spans`).forEach((span, k) => {
        try {
          out.records.push(
            convertSpan(span, `${sp}.spans[${k}]`, resourceAttributes, scopeName, scopeVersion),
          );
        } catch (error) {
          if (!(error instanceof SpanRejection)) throw error;
          out.rejected += 1;
          if (out.rejectReasons.length < 3) out.rejectReasons.push(error.message);
        }
      });
    });
  });
  return out;
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest body. @throws OtlpDecodeError */
export function decodeJsonRequest(body: Uint8Array): DecodedRequest {
  let message: unknown;
  try {
    message = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new OtlpDecodeError(`invalid JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new OtlpDecodeError('invalid JSON: expected an ExportTraceServiceRequest object');
  }
  return requestToSpanRecords(message);
}
