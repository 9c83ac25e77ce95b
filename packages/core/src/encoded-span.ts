import { hash } from 'node:crypto';
import { sameRange } from './byte-range.ts';
import { COMMITTED_RESOURCE_PREFIX, EXCLUDED_ATTRIBUTE_PREFIXES } from './canonical-span.ts';
import { normalizeSpanKind, normalizeStatusCode } from './span-record.ts';

/**
 * Slots of {@link EncodedSpan.fields}: the span's string fields, each a `[start, end)` byte range of
 * {@link EncodedSpan.bytes}.
 */
export const SPAN_FIELD = {
  traceId: 0,
  spanId: 1,
  parentSpanId: 2,
  traceState: 3,
  name: 4,
  kind: 5,
  startTimeUnixNano: 6,
  endTimeUnixNano: 7,
  statusCode: 8,
  statusMessage: 9,
  scopeName: 10,
  scopeVersion: 11,
} as const;

const FIELD_COUNT = 12;

/**
 * A stored span as UTF-8 byte ranges of one buffer (what a reader of the store's binary row formats finds),
 * so its leaf can be computed without turning every attribute into a JavaScript string. One instance is
 * reused row after row; the reader fills it with {@link reset}, {@link setField} and {@link addAttribute}.
 */
export class EncodedSpan {
  bytes: Uint8Array = new Uint8Array(0);
  /** `[start, end)` per {@link SPAN_FIELD} slot. */
  readonly fields = new Int32Array(FIELD_COUNT * 2);
  /** Span attributes: key start, key end, value start, value end, per attribute. */
  attributes: Int32Array<ArrayBuffer> = new Int32Array(4 * 64);
  attributeCount = 0;
  /** Resource attributes, laid out as {@link attributes}. */
  resource: Int32Array<ArrayBuffer> = new Int32Array(4 * 16);
  resourceCount = 0;
  /** The span has events or links; {@link encodedLeafHex} leaves those to the record path. */
  eventsOrLinks = false;
  /**
   * Where the keys of each map lie together (a reader that gets a map as its keys then its values sets these):
   * one range compared whole with the previous row's to reuse its member order. `-1` when the keys are not
   * contiguous; they are then compared one by one.
   */
  attributeKeys0 = -1;
  attributeKeys1 = -1;
  resourceKeys0 = -1;
  resourceKeys1 = -1;

  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.attributeCount = 0;
    this.resourceCount = 0;
    this.eventsOrLinks = false;
    this.attributeKeys0 = this.attributeKeys1 = this.resourceKeys0 = this.resourceKeys1 = -1;
  }

  setAttributeValue(index: number, start: number, end: number): void {
    this.attributes[4 * index + 2] = start;
    this.attributes[4 * index + 3] = end;
  }

  setResourceValue(index: number, start: number, end: number): void {
    this.resource[4 * index + 2] = start;
    this.resource[4 * index + 3] = end;
  }

  setField(slot: number, start: number, end: number): void {
    this.fields[2 * slot] = start;
    this.fields[2 * slot + 1] = end;
  }

  addAttribute(keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
    const at = 4 * this.attributeCount++;
    if (at + 4 > this.attributes.length) this.attributes = grown(this.attributes);
    const list = this.attributes;
    list[at] = keyStart;
    list[at + 1] = keyEnd;
    list[at + 2] = valueStart;
    list[at + 3] = valueEnd;
  }

  addResource(keyStart: number, keyEnd: number, valueStart: number, valueEnd: number): void {
    const at = 4 * this.resourceCount++;
    if (at + 4 > this.resource.length) this.resource = grown(this.resource);
    const list = this.resource;
    list[at] = keyStart;
    list[at + 1] = keyEnd;
    list[at + 2] = valueStart;
    list[at + 3] = valueEnd;
  }
}

function grown(list: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(list.length * 2);
  next.set(list);
  return next;
}

/**
 * The leaf hash (lowercase hex) of an encoded span — the same bytes as `leafHashHex` of the span record a
 * JSON reader would build from the same row: RFC 6962 `0x00 ‖` the RFC 8785 canonical span, written straight
 * from the stored UTF-8 (escaped as `JSON.stringify` escapes) with attribute maps in key order.
 *
 * `undefined` when the span is not the plain case this writer covers, so the caller takes the record path for
 * it instead: events or links; a kind or status code outside the known spellings; a string that is not valid
 * UTF-8 (a JSON reader would replace its bytes); an attribute map with a repeated key (a JSON reader keeps the
 * last) or with a key whose order in UTF-16 could differ from its byte order (a byte from 0xEE up).
 */
export function encodedLeafHex(span: EncodedSpan): string | undefined {
  if (span.eventsOrLinks) return undefined;
  const src = span.bytes;
  const f = span.fields;
  const kind = KIND_SPELLING.of(src, f[2 * SPAN_FIELD.kind]!, f[2 * SPAN_FIELD.kind + 1]!);
  const status = STATUS_SPELLING.of(src, f[2 * SPAN_FIELD.statusCode]!, f[2 * SPAN_FIELD.statusCode + 1]!);
  if (kind === undefined || status === undefined) return undefined;
  const attributeOrder = SPAN_ATTRIBUTE_ORDER.of(
    src,
    span.attributes,
    span.attributeCount,
    span.attributeKeys0,
    span.attributeKeys1,
  );
  const resourceOrder = RESOURCE_ORDER.of(
    src,
    span.resource,
    span.resourceCount,
    span.resourceKeys0,
    span.resourceKeys1,
  );
  if (attributeOrder === undefined || resourceOrder === undefined) return undefined;
  if (out.length > KEPT_BYTES) out = Buffer.allocUnsafe(START_BYTES);
  at = 0;
  reserve(1);
  out[at++] = 0x00;
  valid = true;
  ascii('{"attributes":');
  writeMap(src, span.attributes, attributeOrder);
  ascii(',"endTimeUnixNano":');
  field(src, f, SPAN_FIELD.endTimeUnixNano);
  ascii(',"events":[],"kind":');
  quoted(kind);
  ascii(',"links":[],"name":');
  field(src, f, SPAN_FIELD.name);
  ascii(',"parentSpanId":');
  field(src, f, SPAN_FIELD.parentSpanId);
  ascii(',"resource":');
  writeMap(src, span.resource, resourceOrder);
  ascii(',"scopeName":');
  field(src, f, SPAN_FIELD.scopeName);
  ascii(',"scopeVersion":');
  field(src, f, SPAN_FIELD.scopeVersion);
  ascii(',"spanId":');
  field(src, f, SPAN_FIELD.spanId);
  ascii(',"startTimeUnixNano":');
  field(src, f, SPAN_FIELD.startTimeUnixNano);
  ascii(',"statusCode":');
  quoted(status);
  ascii(',"statusMessage":');
  field(src, f, SPAN_FIELD.statusMessage);
  ascii(',"traceId":');
  field(src, f, SPAN_FIELD.traceId);
  ascii(',"traceState":');
  field(src, f, SPAN_FIELD.traceState);
  ascii('}');
  if (!valid) return undefined;
  return hash('sha256', out.subarray(0, at), 'hex');
}

/**
 * The canonical spelling of a short ASCII kind or status field, or `undefined`; the last field's bytes and answer
 * are kept, since one store spells a field the same way row after row.
 */
class KnownSpelling {
  readonly #normalize: (value: string) => string | undefined;
  readonly #last = new Uint8Array(32);
  #lastLength = -1;
  #answer: string | undefined;

  constructor(normalize: (value: string) => string | undefined) {
    this.#normalize = normalize;
  }

  of(src: Uint8Array, start: number, end: number): string | undefined {
    const length = end - start;
    if (length > 32) return undefined;
    if (length === this.#lastLength) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (src[start + i] !== this.#last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#answer;
    }
    let text = '';
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c >= 0x80) return undefined;
      text += String.fromCharCode(c);
    }
    this.#last.set(src.subarray(start, end));
    this.#lastLength = length;
    return (this.#answer = this.#normalize(text));
  }
}

const KIND_SPELLING = new KnownSpelling(normalizeSpanKind);
const STATUS_SPELLING = new KnownSpelling(normalizeStatusCode);

const START_BYTES = 16 * 1024;
/** A buffer grown past this for one huge span is not kept for the next. */
const KEPT_BYTES = 1024 * 1024;
let out = Buffer.allocUnsafe(START_BYTES);
let at = 0;
/** Every string written so far is valid UTF-8. */
let valid = true;

function reserve(bytes: number): void {
  if (at + bytes <= out.length) return;
  let size = out.length * 2;
  while (size < at + bytes) size *= 2;
  const next = Buffer.allocUnsafe(size);
  out.copy(next, 0, 0, at);
  out = next;
}

function ascii(text: string): void {
  reserve(text.length);
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
}

function quoted(text: string): void {
  reserve(text.length + 2);
  out[at++] = 0x22;
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  out[at++] = 0x22;
}

function field(src: Uint8Array, f: Int32Array, slot: number): void {
  string(src, f[2 * slot]!, f[2 * slot + 1]!);
}

const HEX = '0123456789abcdef';
/** The character after `\` of each two-character escape `JSON.stringify` writes, by byte; else 0. */
const SHORT_ESCAPES = new Uint8Array(0x80);
for (const unit of ['\b', '\t', '\n', '\f', '\r', '"', '\\']) {
  SHORT_ESCAPES[unit.charCodeAt(0)] = JSON.stringify(unit).charCodeAt(2);
}

/** Writes stored UTF-8 bytes as a JSON string, escaped as `JSON.stringify` escapes; clears {@link valid} if not UTF-8. */
function string(src: Uint8Array, start: number, end: number): void {
  reserve((end - start) * 6 + 2);
  reservedString(src, start, end);
}

/** {@link string} where the caller has reserved `(end - start) * 6 + 2` bytes. */
function reservedString(src: Uint8Array, start: number, end: number): void {
  const o = out;
  let p = at;
  let high = false;
  o[p++] = 0x22;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
      if (c >= 0x80) high = true;
      o[p++] = c;
      continue;
    }
    o[p++] = 0x5c;
    const short = SHORT_ESCAPES[c]!;
    if (short !== 0) {
      o[p++] = short;
    } else {
      o[p++] = 0x75;
      o[p++] = 0x30;
      o[p++] = 0x30;
      o[p++] = HEX.charCodeAt(c >> 4);
      o[p++] = HEX.charCodeAt(c & 0xf);
    }
  }
  o[p++] = 0x22;
  at = p;
  if (high && !isUtf8(src, start, end)) valid = false;
}

/**
 * Whether bytes are well-formed UTF-8 (Unicode 3.9 table 3-7: no overlong forms, no surrogates, nothing past
 * U+10FFFF) — exactly the bytes a UTF-8 decoder turns into text without replacement characters.
 */
export function isUtf8(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      i += 1;
      continue;
    }
    const c1 = i + 1 < end ? b[i + 1]! : 0;
    if (c >= 0xc2 && c <= 0xdf) {
      if ((c1 & 0xc0) !== 0x80) return false;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      if (i + 2 >= end || (c1 & 0xc0) !== 0x80 || (b[i + 2]! & 0xc0) !== 0x80) return false;
      if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) return false;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      if (
        i + 3 >= end ||
        (c1 & 0xc0) !== 0x80 ||
        (b[i + 2]! & 0xc0) !== 0x80 ||
        (b[i + 3]! & 0xc0) !== 0x80
      ) {
        return false;
      }
      if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

function writeMap(src: Uint8Array, entries: Int32Array, order: Int32Array): void {
  // Room for the whole map at once: each key and value escaped at worst, their quotes, a comma and a colon.
  let bytes = 2;
  for (let i = 0; i < order.length; i++) {
    const e = 4 * order[i]!;
    bytes += (entries[e + 1]! - entries[e]! + entries[e + 3]! - entries[e + 2]!) * 6 + 6;
  }
  reserve(bytes);
  out[at++] = 0x7b; // {
  for (let i = 0; i < order.length; i++) {
    const e = 4 * order[i]!;
    if (i > 0) out[at++] = 0x2c; // ,
    reservedString(src, entries[e]!, entries[e + 1]!);
    out[at++] = 0x3a; // :
    reservedString(src, entries[e + 2]!, entries[e + 3]!);
  }
  out[at++] = 0x7d; // }
}

const utf8 = new TextEncoder();

/**
 * Which entries of one kind of attribute map are written, in RFC 8785 order, remembered for the next map whose
 * keys are the same bytes in the same order (spans of one service carry the same attributes, so most rows
 * skip the filter and the sort).
 */
class EncodedMemberOrder {
  readonly #keep: (src: Uint8Array, start: number, end: number) => boolean;
  /** The previous map's buffer, its keys' ranges (start, end per key), and their block when contiguous. */
  #bytes: Uint8Array = new Uint8Array(0);
  #keyRanges = new Int32Array(128);
  #block0 = -1;
  #block1 = -1;
  #count = -1;
  /** Its order, or `undefined` when the record path must take it. */
  #order: Int32Array | undefined = new Int32Array(0);

  constructor(keep: (src: Uint8Array, start: number, end: number) => boolean) {
    this.#keep = keep;
  }

  /** The entries to write in RFC 8785 order; `block0`/`block1` bound the keys when they lie together, else -1. */
  of(src: Uint8Array, entries: Int32Array, count: number, block0 = -1, block1 = -1): Int32Array | undefined {
    if (this.#same(src, entries, count, block0, block1)) return this.#order;
    this.#remember(src, entries, count, block0, block1);
    const kept: number[] = [];
    for (let i = 0; i < count; i++) {
      const start = entries[4 * i]!;
      const end = entries[4 * i + 1]!;
      for (let j = start; j < end; j++) {
        // From 0xEE on (U+E000 and up) UTF-16 order and byte order can disagree: left to the record path.
        if (src[j]! >= 0xee) return (this.#order = undefined);
      }
      if (this.#keep(src, start, end)) kept.push(i);
    }
    kept.sort((a, b) => compareBytes(src, entries, a, b));
    for (let i = 1; i < kept.length; i++) {
      // A repeated key: a JSON reader keeps the last value, which the record path reproduces.
      if (compareBytes(src, entries, kept[i - 1]!, kept[i]!) === 0) return (this.#order = undefined);
    }
    return (this.#order = Int32Array.from(kept));
  }

  /** Whether the keys are the previous map's, byte for byte and in order. */
  #same(src: Uint8Array, entries: Int32Array, count: number, block0: number, block1: number): boolean {
    if (count !== this.#count) return false;
    const previous = this.#bytes;
    if (block0 >= 0 && this.#block0 >= 0) {
      // Both maps' keys lie together (with their lengths): one range against the other.
      return sameRange(previous, this.#block0, this.#block1, src, block0, block1);
    }
    const ranges = this.#keyRanges;
    for (let i = 0; i < count; i++) {
      if (
        !sameRange(previous, ranges[2 * i]!, ranges[2 * i + 1]!, src, entries[4 * i]!, entries[4 * i + 1]!)
      ) {
        return false;
      }
    }
    return true;
  }

  #remember(src: Uint8Array, entries: Int32Array, count: number, block0: number, block1: number): void {
    // The ranges point into the row's own buffer, kept alive until a map with other keys replaces it.
    this.#bytes = src;
    this.#block0 = block0;
    this.#block1 = block1;
    if (this.#keyRanges.length < 2 * count) this.#keyRanges = new Int32Array(4 * count);
    for (let i = 0; i < count; i++) {
      this.#keyRanges[2 * i] = entries[4 * i]!;
      this.#keyRanges[2 * i + 1] = entries[4 * i + 1]!;
    }
    this.#count = count;
  }
}

function compareBytes(src: Uint8Array, entries: Int32Array, a: number, b: number): number {
  let i = entries[4 * a]!;
  let j = entries[4 * b]!;
  const endA = entries[4 * a + 1]!;
  const endB = entries[4 * b + 1]!;
  for (; i < endA && j < endB; i++, j++) {
    if (src[i] !== src[j]) return src[i]! - src[j]!;
  }
  return endA - i - (endB - j);
}

function startsWith(src: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (src[start + i] !== prefix[i]) return false;
  return true;
}

const EXCLUDED_PREFIX_BYTES = EXCLUDED_ATTRIBUTE_PREFIXES.map((prefix) => utf8.encode(prefix));
const RESOURCE_PREFIX_BYTES = utf8.encode(COMMITTED_RESOURCE_PREFIX);

/** Span attributes without the excluded namespaces, as `canonicalSpan` commits them. */
const SPAN_ATTRIBUTE_ORDER = new EncodedMemberOrder(
  (src, start, end) => !EXCLUDED_PREFIX_BYTES.some((prefix) => startsWith(src, start, end, prefix)),
);
/** Resource attributes under `service.`, as `canonicalSpan` commits them. */
const RESOURCE_ORDER = new EncodedMemberOrder((src, start, end) =>
  startsWith(src, start, end, RESOURCE_PREFIX_BYTES),
);
