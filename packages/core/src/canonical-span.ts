import { hash } from 'node:crypto';
import {
  ATTR_AUDIT_COMPLETENESS_MISSING,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_SERVICE_NAME,
} from '@decisiontrail/semconv';
import type { CanonicalJsonValue } from './canonical-json.ts';
import { SigningError } from './errors.ts';
import { normalizeSpanKind, normalizeStatusCode, type SpanRecord } from './span-record.ts';

/** The value of `audit.integrity.algorithm`: RFC 6962 SHA-256 leaves over RFC 8785 canonical JSON. */
export const INTEGRITY_ALGORITHM = 'rfc6962-sha256-jcs';

function namespaceOf(attributeName: string): string {
  return attributeName.slice(0, attributeName.lastIndexOf('.') + 1);
}

/**
 * Attribute namespaces left out of the leaf.
 * - `audit.integrity.*` is written by the signer itself (stream, seq, algorithm, key id): it locates
 *   the leaf and cannot be inside it.
 * - `audit.completeness.*` is written by the processor after the span was signed (it annotates
 *   which required attributes were absent), so including it would make every annotated span look
 *   modified.
 */
export const EXCLUDED_ATTRIBUTE_PREFIXES: readonly string[] = [
  namespaceOf(ATTR_AUDIT_INTEGRITY_STREAM),
  namespaceOf(ATTR_AUDIT_COMPLETENESS_MISSING),
];

/**
 * Only `service.*` resource attributes are committed: collectors and processors on the way
 * commonly add or rewrite others (host, k8s, cloud detectors), which would break verification
 * without any tampering by an attacker.
 */
export const COMMITTED_RESOURCE_PREFIX = namespaceOf(ATTR_SERVICE_NAME);

function isExcludedAttribute(key: string): boolean {
  for (const prefix of EXCLUDED_ATTRIBUTE_PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}

function committedAttributes(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(attributes)) {
    if (!isExcludedAttribute(key)) out[key] = attributes[key] as string;
  }
  return out;
}

function committedResource(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(attributes)) {
    if (key.startsWith(COMMITTED_RESOURCE_PREFIX)) out[key] = attributes[key] as string;
  }
  return out;
}

/**
 * Why a record has no canonical span: a kind or status code that is neither spelling the
 * Collector's ClickHouse exporter writes. `undefined` when both are known.
 */
export function uncanonicalReason(record: SpanRecord): string | undefined {
  if (normalizeSpanKind(record.kind) === undefined) return `unknown span kind ${JSON.stringify(record.kind)}`;
  if (normalizeStatusCode(record.statusCode) === undefined) {
    return `unknown status code ${JSON.stringify(record.statusCode)}`;
  }
  return undefined;
}

/**
 * Kind and status code in their one canonical spelling, the current exporter's (`Server`, `Error`).
 * Exporters before the switch to pdata `String()` wrote `SPAN_KIND_SERVER` / `STATUS_CODE_ERROR` for
 * the same span, and a store may hold rows of both, so the leaf must not depend on the spelling. Any
 * other string is not mapped to a guess: it throws, and the verifier reports the row.
 */
function canonicalKindAndStatus(record: SpanRecord): { kind: string; statusCode: string } {
  const kind = normalizeSpanKind(record.kind);
  const statusCode = normalizeStatusCode(record.statusCode);
  if (kind === undefined || statusCode === undefined) {
    throw new SigningError('SPAN_INVALID', `span ${record.spanId}: ${uncanonicalReason(record) as string}`);
  }
  return { kind, statusCode };
}

/**
 * The canonical span: exactly the parts of a {@link SpanRecord} that the leaf commits to. Every
 * value is a string, array or object, so RFC 8785 serialization needs no number formatting.
 * Kind and status are normalized to the current exporter spelling (`Server`, `Error`); an unknown
 * kind or status throws {@link SigningError} `SPAN_INVALID`.
 */
export function canonicalSpan(record: SpanRecord): CanonicalJsonValue {
  const { kind, statusCode } = canonicalKindAndStatus(record);
  return {
    traceId: record.traceId,
    spanId: record.spanId,
    parentSpanId: record.parentSpanId,
    traceState: record.traceState,
    name: record.name,
    kind,
    startTimeUnixNano: record.startTimeUnixNano,
    endTimeUnixNano: record.endTimeUnixNano,
    statusCode,
    statusMessage: record.statusMessage,
    attributes: committedAttributes(record.attributes),
    resource: committedResource(record.resourceAttributes),
    scopeName: record.scopeName,
    scopeVersion: record.scopeVersion,
    events: record.events.map((event) => ({
      timeUnixNano: event.timeUnixNano,
      name: event.name,
      attributes: event.attributes,
    })),
    links: record.links.map((link) => ({
      traceId: link.traceId,
      spanId: link.spanId,
      traceState: link.traceState,
      attributes: link.attributes,
    })),
  };
}

/**
 * RFC 8785 JSON text of the canonical span. Equal to `canonicalJson(canonicalSpan(record))`, built
 * directly: the member names of the span, events and links are fixed ASCII, so their order is
 * written out here; only attribute maps are sorted at run time. Throws {@link SigningError}
 * `SPAN_INVALID` for an unknown kind or status code.
 */
export function canonicalSpanJson(record: SpanRecord): string {
  const { kind, statusCode } = canonicalKindAndStatus(record);
  const out = writeSpan(record, kind, statusCode, 0);
  return out.toString('utf8', 0, length);
}

/**
 * The canonical span is written as UTF-8 straight into this one buffer (grown as needed, reused by
 * every span): the leaf hash then reads its bytes, with no JSON string per value, no concatenation and
 * no second UTF-8 encoding. Nothing here calls out while writing, so one buffer per thread is enough.
 */
const SCRATCH_BYTES = 16 * 1024;
/** A buffer grown past this for one huge span is not kept for the next. */
const SCRATCH_KEPT_BYTES = 1024 * 1024;
let scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
/** Bytes of {@link scratch} written so far. */
let length = 0;

function reserve(bytes: number): void {
  if (length + bytes <= scratch.length) return;
  let size = scratch.length * 2;
  while (size < length + bytes) size *= 2;
  const grown = Buffer.allocUnsafe(size);
  scratch.copy(grown, 0, 0, length);
  scratch = grown;
}

/** Writes the canonical span into {@link scratch} from `offset` on; returns the buffer (valid until the next span). */
function writeSpan(record: SpanRecord, kind: string, statusCode: string, offset: number): Buffer {
  if (scratch.length > SCRATCH_KEPT_BYTES) scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  length = offset;
  literal('{"attributes":');
  committedMap(record.attributes, true);
  literal(',"endTimeUnixNano":');
  str(record.endTimeUnixNano);
  literal(',"events":[');
  for (let i = 0; i < record.events.length; i++) {
    const event = record.events[i] as SpanRecord['events'][number];
    literal(i > 0 ? ',{"attributes":' : '{"attributes":');
    map(event.attributes);
    literal(',"name":');
    str(event.name);
    literal(',"timeUnixNano":');
    str(event.timeUnixNano);
    literal('}');
  }
  literal('],"kind":');
  str(kind);
  literal(',"links":[');
  for (let i = 0; i < record.links.length; i++) {
    const link = record.links[i] as SpanRecord['links'][number];
    literal(i > 0 ? ',{"attributes":' : '{"attributes":');
    map(link.attributes);
    literal(',"spanId":');
    str(link.spanId);
    literal(',"traceId":');
    str(link.traceId);
    literal(',"traceState":');
    str(link.traceState);
    literal('}');
  }
  literal('],"name":');
  str(record.name);
  literal(',"parentSpanId":');
  str(record.parentSpanId);
  literal(',"resource":');
  committedMap(record.resourceAttributes, false);
  literal(',"scopeName":');
  str(record.scopeName);
  literal(',"scopeVersion":');
  str(record.scopeVersion);
  literal(',"spanId":');
  str(record.spanId);
  literal(',"startTimeUnixNano":');
  str(record.startTimeUnixNano);
  literal(',"statusCode":');
  str(statusCode);
  literal(',"statusMessage":');
  str(record.statusMessage);
  literal(',"traceId":');
  str(record.traceId);
  literal(',"traceState":');
  str(record.traceState);
  literal('}');
  return scratch;
}

/** Writes fixed ASCII text (member names and punctuation). */
function literal(text: string): void {
  reserve(text.length);
  const out = scratch;
  let at = length;
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  length = at;
}

const HEX = '0123456789abcdef';

/** The character after `\` of each two-character escape JSON.stringify writes, by code unit; else 0. */
const SHORT_ESCAPES = new Uint8Array(0x80);
for (const unit of ['\b', '\t', '\n', '\f', '\r', '"', '\\']) {
  SHORT_ESCAPES[unit.charCodeAt(0)] = JSON.stringify(unit).charCodeAt(2);
}

/**
 * Writes a JSON string exactly as ECMAScript `JSON.stringify` escapes it (RFC 8785 §3.2.2.2), UTF-8
 * encoded; a string that is not well-formed Unicode (a lone surrogate) is rejected (RFC 8785 §3.1).
 */
function str(value: string): void {
  if (typeof value !== 'string') throw new TypeError('canonical span fields must be strings');
  const units = value.length;
  // At most six bytes per UTF-16 unit (`\u001f`; UTF-8 needs at most three), and the quotes.
  reserve(units * 6 + 2);
  const out = scratch;
  let at = length;
  out[at++] = 0x22;
  for (let i = 0; i < units; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        out[at++] = c;
        continue;
      }
      out[at++] = 0x5c;
      const short = SHORT_ESCAPES[c] as number;
      if (short !== 0) {
        out[at++] = short;
      } else {
        // \u00XX with lowercase hex digits, as JSON.stringify writes them.
        out[at++] = 0x75;
        out[at++] = 0x30;
        out[at++] = 0x30;
        out[at++] = HEX.charCodeAt(c >> 4);
        out[at++] = HEX.charCodeAt(c & 0xf);
      }
    } else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c >= 0xe000) {
      out[at++] = 0xe0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    } else {
      const next = i + 1 < units ? value.charCodeAt(i + 1) : 0;
      if (c >= 0xdc00 || next < 0xdc00 || next >= 0xe000) {
        throw new TypeError('canonical JSON strings must be well-formed Unicode');
      }
      const point = ((c - 0xd800) << 10) + (next - 0xdc00) + 0x10000;
      out[at++] = 0xf0 | (point >> 18);
      out[at++] = 0x80 | ((point >> 12) & 0x3f);
      out[at++] = 0x80 | ((point >> 6) & 0x3f);
      out[at++] = 0x80 | (point & 0x3f);
      i++;
    }
  }
  out[at++] = 0x22;
  length = at;
}

/**
 * The member order of one kind of map, remembered for the next map with the same keys in the same order:
 * spans of one service carry the same attributes, so most maps skip the filter and the sort. Keys from
 * `Object.keys` are interned strings, so comparing them is cheap. With the order it keeps each member's
 * name as written before its value (`"key":`, after a `,` but for the first), UTF-8 encoded by {@link str}.
 */
class MemberOrder {
  #keys: readonly string[] = [];
  #ordered: readonly string[] = [];
  #names: readonly Uint8Array[] = [];
  readonly #keep: ((key: string) => boolean) | undefined;

  /** `keep` selects the members the map commits to (all when undefined). */
  constructor(keep?: (key: string) => boolean) {
    this.#keep = keep;
  }

  /** The members of `values` to write, in RFC 8785 order; {@link names} then holds their written names. */
  of(values: Readonly<Record<string, string>>): readonly string[] {
    const keys = Object.keys(values);
    const last = this.#keys;
    if (keys.length === last.length) {
      let same = true;
      for (let i = 0; i < keys.length && same; i++) same = keys[i] === last[i];
      if (same) return this.#ordered;
    }
    const keep = this.#keep;
    const ordered = keep === undefined ? [...keys] : keys.filter(keep);
    // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
    ordered.sort();
    // Written past the span's bytes so far and taken back: the span being written stays as it is.
    const names = ordered.map((key, i) => {
      const start = length;
      if (i > 0) literal(',');
      str(key);
      literal(':');
      const name = new Uint8Array(scratch.subarray(start, length));
      length = start;
      return name;
    });
    this.#keys = keys;
    this.#ordered = ordered;
    this.#names = names;
    return ordered;
  }

  /** The written names of the members {@link of} returned last, in the same order. */
  get names(): readonly Uint8Array[] {
    return this.#names;
  }
}

/** Span attributes without excluded namespaces. */
const SPAN_ATTRIBUTES = new MemberOrder((key) => !isExcludedAttribute(key));
/** Resource attributes under `service.`. */
const RESOURCE_ATTRIBUTES = new MemberOrder((key) => key.startsWith(COMMITTED_RESOURCE_PREFIX));
/** Event and link attributes, all committed. */
const OTHER_ATTRIBUTES = new MemberOrder();

function map(values: Readonly<Record<string, string>>): void {
  mapOf(values, OTHER_ATTRIBUTES);
}

/** Attributes without excluded namespaces (`spanAttributes`), or resource attributes under `service.`. */
function committedMap(values: Readonly<Record<string, string>>, spanAttributes: boolean): void {
  mapOf(values, spanAttributes ? SPAN_ATTRIBUTES : RESOURCE_ATTRIBUTES);
}

function mapOf(values: Readonly<Record<string, string>>, order: MemberOrder): void {
  const keys = order.of(values);
  const names = order.names;
  literal('{');
  for (let i = 0; i < keys.length; i++) {
    const name = names[i] as Uint8Array;
    reserve(name.length);
    scratch.set(name, length);
    length += name.length;
    str(values[keys[i] as string] as string);
  }
  literal('}');
}

/** RFC 8785 JSON of the canonical span, UTF-8 encoded. */
export function canonicalSpanBytes(record: SpanRecord): Uint8Array {
  const { kind, statusCode } = canonicalKindAndStatus(record);
  return Buffer.from(writeSpan(record, kind, statusCode, 0).subarray(0, length));
}

/** Writes `0x00 ‖ canonical bytes` (what a leaf hashes) into the scratch buffer; returns a view of them. */
function leafInput(record: SpanRecord, kind: string, statusCode: string): Buffer {
  const out = writeSpan(record, kind, statusCode, 1);
  out[0] = 0x00;
  return out.subarray(0, length);
}

/** The RFC 6962 leaf hash of a span: `SHA-256(0x00 ‖ canonical bytes)`. */
export function leafHash(record: SpanRecord): Uint8Array {
  const { kind, statusCode } = canonicalKindAndStatus(record);
  return hash('sha256', leafInput(record, kind, statusCode), 'buffer');
}

/** {@link leafHash} as lowercase hex (how the verifiers keep leaves). */
export function leafHashHex(record: SpanRecord): string {
  const { kind, statusCode } = canonicalKindAndStatus(record);
  return hash('sha256', leafInput(record, kind, statusCode), 'hex');
}

/**
 * A hash standing for a record that has no canonical span (see {@link uncanonicalReason}), so the
 * verifier can still place it in its stream and report it as modified or unexpected. It hashes the
 * record with its kind and status as stored; no signed leaf can equal it, because every signed
 * canonical span carries a known kind and status.
 */
export function uncanonicalLeafHash(record: SpanRecord): Uint8Array {
  return hash('sha256', leafInput(record, record.kind, record.statusCode), 'buffer');
}
