import type { HashedLeafRecord, SpanRecord } from '@decisiontrail/core';
import { EncodedSpan, SPAN_FIELD, encodedLeafHex, sameRange, streamOf } from '@decisiontrail/core/internal';
import {
  ATTR_AUDIT_CHECKPOINT_SIZE,
  ATTR_AUDIT_INTEGRITY_SEQ,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
} from '@decisiontrail/semconv';
import { StoreError } from './errors.ts';
import type { QueryContext } from './query-context.ts';
import { verificationParams, verificationStatement, type VerificationQuery } from './verification-spans.ts';

/** What the verifier is handed per stored row: the plain leaf case already hashed, anything else as a record. */
export type VerificationRecord = SpanRecord | HashedLeafRecord;

/**
 * The columns of {@link verificationRecords}' rows, in the order the decoder reads them: every value a string,
 * a map of strings, or an array of those, so RowBinary carries each as length-prefixed UTF-8 (a
 * LowCardinality column is written as its nested String). The times are decimal nanoseconds, the end as start
 * plus duration in Int128 (exact, as the span record path's BigInt sum). Together they hold every column of
 * `TRACE_ROW_COPY` (`ServiceName`, last, only for that: no leaf reads it), so two rows with the same bytes are
 * exact copies, which the decoder reads once.
 */
const BINARY_COLUMNS = `
  TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
  toString(toUnixTimestamp64Nano(Timestamp)) AS start_ns,
  toString(toInt128(toUnixTimestamp64Nano(Timestamp)) + toInt128(Duration)) AS end_ns,
  StatusCode, StatusMessage, ScopeName, ScopeVersion,
  mapKeys(ResourceAttributes) AS resource_keys, mapValues(ResourceAttributes) AS resource_values,
  mapKeys(SpanAttributes) AS attribute_keys, mapValues(SpanAttributes) AS attribute_values,
  arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS event_times_ns,
  Events.Name AS event_names, Events.Attributes AS event_attributes,
  Links.TraceId AS link_trace_ids, Links.SpanId AS link_span_ids, Links.TraceState AS link_trace_states,
  Links.Attributes AS link_attributes, ServiceName`;

/**
 * The stored spans `spansForVerification` reads — the same rows and order — decoded from
 * RowBinary: a plain leaf record becomes a {@link HashedLeafRecord} whose leaf is computed from the stored
 * bytes (`encodedLeafHex`) without building its span record; checkpoints, loss records and any row that
 * writer declines become span records exactly as the JSON reader builds them. What the verifier concludes is
 * the same either way; this path turns far fewer values into JavaScript strings. With `decoders`, large results
 * are decoded on their threads (verification-decoder.ts), so several reads in flight decode side by side.
 */
export async function verificationRecords(
  ctx: QueryContext,
  query: VerificationQuery = {},
  decoders?: { decode(bytes: Buffer): Promise<VerificationRecord[]> },
): Promise<VerificationRecord[]> {
  const bytes = await ctx.bytes(
    verificationStatement(BINARY_COLUMNS, { ordered: false, copies: 'reader' }),
    'RowBinary',
    verificationParams(query),
  );
  return decoders === undefined ? decodeVerificationRows(bytes) : decoders.decode(bytes);
}

const utf8 = new TextEncoder();
const STREAM_KEY = utf8.encode(ATTR_AUDIT_INTEGRITY_STREAM);
const SEQ_KEY = utf8.encode(ATTR_AUDIT_INTEGRITY_SEQ);
const TYPE_KEY = utf8.encode(ATTR_AUDIT_RECORD_TYPE);
/** Record types read as span records: their attributes matter beyond the leaf. */
const RECORD_PATH_TYPES = [AUDIT_RECORD_TYPE_VALUES.CHECKPOINT, AUDIT_RECORD_TYPE_VALUES.LOSS].map((t) =>
  utf8.encode(t),
);

/** The string fields read after the span's times, in column order. */
const LATER_FIELDS = [
  SPAN_FIELD.statusCode,
  SPAN_FIELD.statusMessage,
  SPAN_FIELD.scopeName,
  SPAN_FIELD.scopeVersion,
] as const;

/** A decoded row with what the log order sorts it by. */
interface Sortable {
  /** A record-path row's span record; `undefined` for a hashed leaf (its stream, seq, span id and {@link leafHex}). */
  record: SpanRecord | undefined;
  /** The hashed leaf (64 hex digits) and its sequence number, for a row without a span record. */
  leafHex: string;
  seq: number;
  stream: string;
  /** A checkpoint of size S at 2S, the leaf of seq N at 2N + 1 (as the JSON reader's ORDER BY). */
  key: number | bigint;
  /** Byte ranges of the start time (decimal nanoseconds) and the span id in the result buffer. */
  start0: number;
  start1: number;
  span0: number;
  span1: number;
  /** The whole row's byte range. */
  row0: number;
  row1: number;
}

/**
 * Decodes the rows of {@link BINARY_COLUMNS} in RowBinary and puts them in the log order the JSON reader's
 * statement has the engine sort them in: by stream, then a checkpoint of size S right after the leaf S - 1 it
 * seals, then start time and span id. Sorting here spares the engine four attribute-map lookups per row. An
 * exact copy of a row (the same bytes: a redelivery) is read once, as the JSON reader's statement has the engine
 * keep one row per distinct hash of the same columns; copies that differ in any byte are all read. Exported for
 * tests.
 */
export function decodeVerificationRows(bytes: Buffer): VerificationRecord[] {
  const rows = sortedRows(bytes);
  const records: VerificationRecord[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    records[i] = row.record ?? {
      stream: row.stream,
      seq: row.seq,
      spanId: bytes.toString('utf8', row.span0, row.span1),
      leafHex: row.leafHex,
    };
  }
  return records;
}

/**
 * {@link decodeVerificationRows}' records in a form a thread hands over cheaply: the hashed leaves as a few
 * strings and typed arrays (a handful of values to copy, where one object per row costs a structured clone of
 * each and a heap object per field on the receiving side), the span records as they are.
 * {@link unpackVerificationRows} turns it back into the same records in the same order.
 */
export interface PackedVerificationRows {
  /** Per record: the index in `streams` of a hashed leaf's stream, or {@link RECORD_PATH} for the next of `records`. */
  kinds: Uint32Array<ArrayBuffer>;
  /** Per hashed leaf: its sequence number. */
  seqs: Float64Array<ArrayBuffer>;
  /** The hashed leaves' leaf hashes, 64 hex digits each, in order. */
  leaves: string;
  /** The hashed leaves' span ids, one after another; each ends at its entry of `spanIdEnds`. */
  spanIds: string;
  spanIdEnds: Uint32Array<ArrayBuffer>;
  streams: string[];
  records: SpanRecord[];
}

/** A record of {@link PackedVerificationRows.kinds} that is the next span record. */
const RECORD_PATH = 0xffff_ffff;
const LEAF_HEX_LENGTH = 64;

/** {@link decodeVerificationRows} as a {@link PackedVerificationRows} (a decoder thread's answer). */
export function packVerificationRows(bytes: Buffer): PackedVerificationRows {
  const rows = sortedRows(bytes);
  const kinds = new Uint32Array(rows.length);
  let hashed = 0;
  for (const row of rows) if (row.record === undefined) hashed += 1;
  const seqs = new Float64Array(hashed);
  const spanIdEnds = new Uint32Array(hashed);
  const leaves: string[] = new Array(hashed);
  const spanIds: string[] = new Array(hashed);
  const streamIndex = new Map<string, number>();
  const records: SpanRecord[] = [];
  let leaf = 0;
  let spanIdEnd = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.record !== undefined) {
      kinds[i] = RECORD_PATH;
      records.push(row.record);
      continue;
    }
    let index = streamIndex.get(row.stream);
    if (index === undefined) streamIndex.set(row.stream, (index = streamIndex.size));
    kinds[i] = index;
    seqs[leaf] = row.seq;
    if (row.leafHex.length !== LEAF_HEX_LENGTH)
      throw new StoreError('QUERY_FAILED', 'leaf hash of unexpected length');
    leaves[leaf] = row.leafHex;
    const spanId = bytes.toString('utf8', row.span0, row.span1);
    spanIds[leaf] = spanId;
    spanIdEnd += spanId.length;
    spanIdEnds[leaf] = spanIdEnd;
    leaf += 1;
  }
  return {
    kinds,
    seqs,
    leaves: leaves.join(''),
    spanIds: spanIds.join(''),
    spanIdEnds,
    streams: [...streamIndex.keys()],
    records,
  };
}

/** The records a {@link PackedVerificationRows} holds, as {@link decodeVerificationRows} gives them. */
export function unpackVerificationRows(packed: PackedVerificationRows): VerificationRecord[] {
  const { kinds, seqs, leaves, spanIds, spanIdEnds, streams, records } = packed;
  const out: VerificationRecord[] = new Array(kinds.length);
  let leaf = 0;
  let record = 0;
  let spanIdStart = 0;
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i]!;
    if (kind === RECORD_PATH) {
      out[i] = records[record++]!;
      continue;
    }
    const spanIdEnd = spanIdEnds[leaf]!;
    out[i] = {
      stream: streams[kind]!,
      seq: seqs[leaf]!,
      spanId: spanIds.substring(spanIdStart, spanIdEnd),
      leafHex: leaves.substring(LEAF_HEX_LENGTH * leaf, LEAF_HEX_LENGTH * (leaf + 1)),
    };
    spanIdStart = spanIdEnd;
    leaf += 1;
  }
  return out;
}

/** {@link decodeVerificationRows}' rows, sorted and without exact copies. */
function sortedRows(bytes: Buffer): Sortable[] {
  const reader = new RowReader(bytes);
  const span = new EncodedSpan();
  const rows: Sortable[] = [];
  const streams: { start: number; end: number; text: string }[] = [];
  const streamText = (start: number, end: number): string => {
    for (const known of streams)
      if (sameRange(bytes, known.start, known.end, bytes, start, end)) return known.text;
    const text = bytes.toString('utf8', start, end);
    if (streams.length < 64) streams.push({ start, end, text });
    return text;
  };
  while (reader.at < bytes.length) {
    const row = reader.at;
    span.reset(bytes);
    for (let slot = SPAN_FIELD.traceId; slot <= SPAN_FIELD.kind; slot++) {
      reader.string();
      span.setField(slot, reader.start, reader.end);
    }
    reader.string();
    span.setField(SPAN_FIELD.startTimeUnixNano, reader.start, reader.end);
    reader.string();
    span.setField(SPAN_FIELD.endTimeUnixNano, reader.start, reader.end);
    for (let i = 0; i < LATER_FIELDS.length; i++) {
      reader.string();
      span.setField(LATER_FIELDS[i]!, reader.start, reader.end);
    }
    // A map comes as its keys, then its values: the keys of a row are one byte range, compared whole with the
    // previous row's to reuse its member order.
    const resourceCount = reader.count();
    span.resourceKeys0 = reader.at;
    for (let i = 0; i < resourceCount; i++) span.addResource(reader.string(), reader.end, 0, 0);
    span.resourceKeys1 = reader.at;
    if (reader.count() !== resourceCount) throw mismatched();
    for (let i = 0; i < resourceCount; i++) span.setResourceValue(i, reader.string(), reader.end);
    // The attributes the verifier routes by; a repeated key counts as its last value, as a JSON reader keeps it.
    let stream0 = -1;
    let stream1 = -1;
    let seq0 = -1;
    let seq1 = -1;
    let recordPath = false;
    const attributeCount = reader.count();
    span.attributeKeys0 = reader.at;
    for (let i = 0; i < attributeCount; i++) span.addAttribute(reader.string(), reader.end, 0, 0);
    span.attributeKeys1 = reader.at;
    if (reader.count() !== attributeCount) throw mismatched();
    const entries = span.attributes;
    for (let i = 0; i < attributeCount; i++) {
      const v0 = reader.string();
      const v1 = reader.end;
      span.setAttributeValue(i, v0, v1);
      const k0 = entries[4 * i]!;
      const k1 = entries[4 * i + 1]!;
      if (sameRange(bytes, k0, k1, STREAM_KEY, 0, STREAM_KEY.length)) {
        stream0 = v0;
        stream1 = v1;
      } else if (sameRange(bytes, k0, k1, SEQ_KEY, 0, SEQ_KEY.length)) {
        seq0 = v0;
        seq1 = v1;
      } else if (sameRange(bytes, k0, k1, TYPE_KEY, 0, TYPE_KEY.length)) {
        recordPath = RECORD_PATH_TYPES.some((type) => sameRange(bytes, v0, v1, type, 0, type.length));
      }
    }
    // Events (times, names, attribute maps), then links (trace ids, span ids, trace states, attribute maps).
    for (let column = 0; column < 7; column++) {
      const isMaps = column === 2 || column === 6;
      for (let n = reader.count(); n > 0; n--) {
        span.eventsOrLinks = true;
        if (isMaps) reader.skipMap();
        else reader.string();
      }
    }
    reader.string(); // ServiceName: compared with the row, in no leaf
    const row1 = reader.at;
    const f = span.fields;
    const [start0, start1] = [f[2 * SPAN_FIELD.startTimeUnixNano]!, f[2 * SPAN_FIELD.startTimeUnixNano + 1]!];
    const [span0, span1] = [f[2 * SPAN_FIELD.spanId]!, f[2 * SPAN_FIELD.spanId + 1]!];
    const seq = stream0 < stream1 ? parseSeq(bytes, seq0, seq1) : undefined;
    const leafHex = recordPath || seq === undefined ? undefined : encodedLeafHex(span);
    if (leafHex === undefined) {
      const record = spanRecordOf(bytes, row);
      rows.push({
        record,
        leafHex: '',
        seq: -1,
        stream: streamOf(record) ?? '',
        key: logOrderKey(record),
        start0,
        start1,
        span0,
        span1,
        row0: row,
        row1,
      });
      continue;
    }
    const stream = streamText(stream0, stream1);
    rows.push({
      record: undefined,
      leafHex,
      seq: seq as number,
      stream,
      key: 2 * (seq as number) + 1,
      start0,
      start1,
      span0,
      span1,
      row0: row,
      row1,
    });
  }
  const order = (a: Sortable, b: Sortable): number => {
    if (a.stream !== b.stream) return a.stream < b.stream ? -1 : 1;
    if (a.key !== b.key) return a.key < b.key ? -1 : 1;
    return compareTimes(bytes, a, b) || compareRanges(bytes, a.span0, a.span1, b.span0, b.span1);
  };
  rows.sort(order);
  // Exact copies tie on every sort key, so they sit in one run of rows that do: a row is compared with the rows
  // of its run before it (a run is the copies of one span: rarely more than one row; a row dropped as a copy
  // has the bytes of one kept).
  const kept: Sortable[] = [];
  let run = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (i === 0 || order(rows[i - 1]!, row) !== 0) run = i;
    else if (copyBefore(bytes, rows, run, i)) continue;
    kept.push(row);
  }
  return kept;
}

/** Whether one of `rows[from]` to `rows[i - 1]` has the bytes of `rows[i]`. */
function copyBefore(bytes: Buffer, rows: readonly Sortable[], from: number, i: number): boolean {
  const row = rows[i]!;
  for (let k = from; k < i; k++) {
    const other = rows[k]!;
    if (
      other.row1 - other.row0 === row.row1 - row.row0 &&
      bytes.compare(bytes, row.row0, row.row1, other.row0, other.row1) === 0
    )
      return true;
  }
  return false;
}

/**
 * A record-path row's place in its stream, as ClickHouse's `toUInt64OrZero` reads the size or seq (anything
 * but plain digits in range is 0).
 */
function logOrderKey(record: SpanRecord): number | bigint {
  const checkpoint = record.attributes[ATTR_AUDIT_RECORD_TYPE] === AUDIT_RECORD_TYPE_VALUES.CHECKPOINT;
  const text = record.attributes[checkpoint ? ATTR_AUDIT_CHECKPOINT_SIZE : ATTR_AUDIT_INTEGRITY_SEQ] ?? '';
  let value = /^[0-9]{1,20}$/u.test(text) ? BigInt(text) : 0n;
  if (value >= 2n ** 64n) value = 0n;
  const key = checkpoint ? 2n * value : 2n * value + 1n;
  return key <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(key) : key;
}

/** Start times as decimal nanoseconds: by length, then digits (a negative time by value). */
function compareTimes(bytes: Buffer, a: Sortable, b: Sortable): number {
  if (bytes[a.start0] === 0x2d || bytes[b.start0] === 0x2d) {
    const [x, y] = [
      BigInt(bytes.toString('latin1', a.start0, a.start1)),
      BigInt(bytes.toString('latin1', b.start0, b.start1)),
    ];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const lengths = a.start1 - a.start0 - (b.start1 - b.start0);
  return lengths !== 0 ? lengths : compareRanges(bytes, a.start0, a.start1, b.start0, b.start1);
}

/** Byte order of two ranges of one buffer, as ClickHouse compares strings. */
function compareRanges(bytes: Buffer, a0: number, a1: number, b0: number, b1: number): number {
  return bytes.compare(bytes, b0, b1, a0, a1);
}

/**
 * `audit.integrity.seq` as `seqOf` reads it: a canonical non-negative decimal of at most 16 digits that is a
 * safe integer; otherwise `undefined` (the record path then reports the row).
 */
function parseSeq(bytes: Buffer, start: number, end: number): number | undefined {
  const length = end - start;
  if (start < 0 || length < 1 || length > 16) return undefined;
  if (length > 1 && bytes[start] === 0x30) return undefined;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The row at `row` as the span record `traceRowToSpanRecord` builds from the same row read as JSON. */
function spanRecordOf(bytes: Buffer, row: number): SpanRecord {
  const r = new RowReader(bytes, row);
  const text = () => r.text();
  const [traceId, spanId, parentSpanId, traceState, name, kind, start, end] = Array.from({ length: 8 }, text);
  const [statusCode, statusMessage, scopeName, scopeVersion] = Array.from({ length: 4 }, text);
  const resourceAttributes = r.splitMap();
  const attributes = r.splitMap();
  const eventTimes = r.array(text);
  const eventNames = r.array(text);
  const eventAttributes = r.array(() => r.map());
  const linkTraceIds = r.array(text);
  const linkSpanIds = r.array(text);
  const linkTraceStates = r.array(text);
  const linkAttributes = r.array(() => r.map());
  return {
    traceId: traceId as string,
    spanId: spanId as string,
    parentSpanId: parentSpanId as string,
    traceState: traceState as string,
    name: name as string,
    kind: kind as string,
    startTimeUnixNano: start as string,
    endTimeUnixNano: end as string,
    statusCode: statusCode as string,
    statusMessage: statusMessage as string,
    attributes,
    resourceAttributes,
    scopeName: scopeName as string,
    scopeVersion: scopeVersion as string,
    events: eventTimes.map((time, i) => ({
      timeUnixNano: time,
      name: eventNames[i] ?? '',
      attributes: eventAttributes[i] ?? {},
    })),
    links: linkTraceIds.map((traceId, i) => ({
      traceId,
      spanId: linkSpanIds[i] ?? '',
      traceState: linkTraceStates[i] ?? '',
      attributes: linkAttributes[i] ?? {},
    })),
  };
}

/** Reads RowBinary values: LEB128 lengths and counts, length-prefixed strings. */
class RowReader {
  readonly bytes: Buffer;
  at: number;
  /** The last string's byte range. */
  start = 0;
  end = 0;

  constructor(bytes: Buffer, at = 0) {
    this.bytes = bytes;
    this.at = at;
  }

  count(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (this.at >= this.bytes.length) throw truncated();
      const byte = this.bytes[this.at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
      if (shift > 49) throw new StoreError('QUERY_FAILED', 'RowBinary length out of range');
    }
  }

  /** Reads a string; returns its start (its range is also in {@link start} and {@link end}). */
  string(): number {
    const length = this.count();
    this.start = this.at;
    this.end = this.at + length;
    if (this.end > this.bytes.length) throw truncated();
    this.at = this.end;
    return this.start;
  }

  text(): string {
    this.string();
    return this.bytes.toString('utf8', this.start, this.end);
  }

  skipMap(): void {
    for (let n = this.count(); n > 0; n--) {
      this.string();
      this.string();
    }
  }

  /** A Map value (count, then key and value pairs), built as a JSON reader builds it: a repeated key keeps its last value. */
  map(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let n = this.count(); n > 0; n--) define(out, this.text(), this.text());
    return out;
  }

  /** A map selected as `mapKeys(m), mapValues(m)`: its keys, then its values; built as {@link map} builds it. */
  splitMap(): Record<string, string> {
    const keys = this.array(() => this.text());
    const values = this.array(() => this.text());
    if (values.length !== keys.length) throw mismatched();
    const out: Record<string, string> = {};
    keys.forEach((key, i) => define(out, key, values[i] as string));
    return out;
  }

  array<T>(item: () => T): T[] {
    const out: T[] = [];
    for (let n = this.count(); n > 0; n--) out.push(item());
    return out;
  }
}

/** Sets a member as `JSON.parse` does (an own property even for `__proto__`; a repeated key keeps its place). */
function define(out: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

function mismatched(): StoreError {
  return new StoreError('QUERY_FAILED', 'RowBinary map keys and values differ in number');
}

function truncated(): StoreError {
  return new StoreError('QUERY_FAILED', 'RowBinary result ends inside a row');
}
