import type { HashedLeafRecord, SpanRecord } from '@decisiontrail/core';
import { EncodedSpan, SPAN_FIELD, encodedLeafHex } from '@decisiontrail/core/internal';
import {
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
 * plus duration in Int128 (exact, as the span record path's BigInt sum).
 */
const BINARY_COLUMNS = `
  TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
  toString(toUnixTimestamp64Nano(Timestamp)) AS start_ns,
  toString(toInt128(toUnixTimestamp64Nano(Timestamp)) + toInt128(Duration)) AS end_ns,
  StatusCode, StatusMessage, ScopeName, ScopeVersion, ResourceAttributes, SpanAttributes,
  arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS event_times_ns,
  Events.Name AS event_names, Events.Attributes AS event_attributes,
  Links.TraceId AS link_trace_ids, Links.SpanId AS link_span_ids, Links.TraceState AS link_trace_states,
  Links.Attributes AS link_attributes`;

/**
 * The stored spans `spansForVerification` reads — the same statement, rows and order — decoded from
 * RowBinary: a plain leaf record becomes a {@link HashedLeafRecord} whose leaf is computed from the stored
 * bytes (`encodedLeafHex`) without building its span record; checkpoints, loss records and any row that
 * writer declines become span records exactly as the JSON reader builds them. What the verifier concludes is
 * the same either way; this path turns far fewer values into JavaScript strings.
 */
export async function verificationRecords(
  ctx: QueryContext,
  query: VerificationQuery = {},
): Promise<VerificationRecord[]> {
  const bytes = await ctx.bytes(
    verificationStatement(BINARY_COLUMNS),
    'RowBinary',
    verificationParams(query),
  );
  return decodeVerificationRows(bytes);
}

const utf8 = new TextEncoder();
const STREAM_KEY = utf8.encode(ATTR_AUDIT_INTEGRITY_STREAM);
const SEQ_KEY = utf8.encode(ATTR_AUDIT_INTEGRITY_SEQ);
const TYPE_KEY = utf8.encode(ATTR_AUDIT_RECORD_TYPE);
/** Record types read as span records: their attributes matter beyond the leaf. */
const RECORD_PATH_TYPES = [AUDIT_RECORD_TYPE_VALUES.CHECKPOINT, AUDIT_RECORD_TYPE_VALUES.LOSS].map((t) =>
  utf8.encode(t),
);

/** Decodes the rows of {@link BINARY_COLUMNS} in RowBinary. Exported for tests. */
export function decodeVerificationRows(bytes: Buffer): VerificationRecord[] {
  const reader = new RowReader(bytes);
  const span = new EncodedSpan();
  const records: VerificationRecord[] = [];
  let lastStream: { start: number; end: number; text: string } | undefined;
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
    for (const slot of [
      SPAN_FIELD.statusCode,
      SPAN_FIELD.statusMessage,
      SPAN_FIELD.scopeName,
      SPAN_FIELD.scopeVersion,
    ]) {
      reader.string();
      span.setField(slot, reader.start, reader.end);
    }
    for (let n = reader.count(); n > 0; n--) {
      const [k0, k1] = [reader.string(), reader.end];
      const v0 = reader.string();
      span.addResource(k0, k1, v0, reader.end);
    }
    // The attributes the verifier routes by; a repeated key counts as its last value, as a JSON reader keeps it.
    let [stream0, stream1, seq0, seq1] = [-1, -1, -1, -1];
    let recordPath = false;
    for (let n = reader.count(); n > 0; n--) {
      const [k0, k1] = [reader.string(), reader.end];
      const [v0, v1] = [reader.string(), reader.end];
      span.addAttribute(k0, k1, v0, v1);
      if (equalBytes(bytes, k0, k1, STREAM_KEY)) [stream0, stream1] = [v0, v1];
      else if (equalBytes(bytes, k0, k1, SEQ_KEY)) [seq0, seq1] = [v0, v1];
      else if (equalBytes(bytes, k0, k1, TYPE_KEY)) {
        recordPath = RECORD_PATH_TYPES.some((type) => equalBytes(bytes, v0, v1, type));
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
    const seq = stream0 < stream1 ? parseSeq(bytes, seq0, seq1) : undefined;
    const leafHex = recordPath || seq === undefined ? undefined : encodedLeafHex(span);
    if (leafHex === undefined) {
      records.push(spanRecordOf(bytes, row));
      continue;
    }
    if (lastStream === undefined || !sameBytes(bytes, lastStream.start, lastStream.end, stream0, stream1)) {
      lastStream = { start: stream0, end: stream1, text: bytes.toString('utf8', stream0, stream1) };
    }
    records.push({
      stream: lastStream.text,
      seq: seq as number,
      spanId: bytes.toString(
        'utf8',
        span.fields[2 * SPAN_FIELD.spanId],
        span.fields[2 * SPAN_FIELD.spanId + 1],
      ),
      leafHex,
    });
  }
  return records;
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

function equalBytes(bytes: Buffer, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[start + i] !== expected[i]) return false;
  return true;
}

function sameBytes(bytes: Buffer, a0: number, a1: number, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let i = 0; i < a1 - a0; i++) if (bytes[a0 + i] !== bytes[b0 + i]) return false;
  return true;
}

/** The row at `row` as the span record `traceRowToSpanRecord` builds from the same row read as JSON. */
function spanRecordOf(bytes: Buffer, row: number): SpanRecord {
  const r = new RowReader(bytes, row);
  const text = () => r.text();
  const [traceId, spanId, parentSpanId, traceState, name, kind, start, end] = Array.from({ length: 8 }, text);
  const [statusCode, statusMessage, scopeName, scopeVersion] = Array.from({ length: 4 }, text);
  const resourceAttributes = r.map();
  const attributes = r.map();
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

  /** A map as a JSON reader builds it: a repeated key keeps its last value. */
  map(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let n = this.count(); n > 0; n--) {
      const key = this.text();
      Object.defineProperty(out, key, {
        value: this.text(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  array<T>(item: () => T): T[] {
    const out: T[] = [];
    for (let n = this.count(); n > 0; n--) out.push(item());
    return out;
  }
}

function truncated(): StoreError {
  return new StoreError('QUERY_FAILED', 'RowBinary result ends inside a row');
}
