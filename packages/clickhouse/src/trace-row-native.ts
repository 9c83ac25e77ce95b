import type { SpanRecord } from '@decisiontrail/core';
import { ATTR_SERVICE_NAME } from '@decisiontrail/semconv';
import { StoreError } from './errors.ts';
import { TRACE_ROW_INSERT_COLUMNS } from './trace-row.ts';

type InsertColumn = (typeof TRACE_ROW_INSERT_COLUMNS)[number];

/** `otel_traces` types of the exporter's insert columns: the block carries the table's own types. */
const COLUMN_TYPES: Record<InsertColumn, string> = {
  Timestamp: 'DateTime64(9)',
  TraceId: 'String',
  SpanId: 'String',
  ParentSpanId: 'String',
  TraceState: 'String',
  SpanName: 'LowCardinality(String)',
  SpanKind: 'LowCardinality(String)',
  ServiceName: 'LowCardinality(String)',
  ResourceAttributes: 'Map(LowCardinality(String), String)',
  ScopeName: 'String',
  ScopeVersion: 'String',
  SpanAttributes: 'Map(LowCardinality(String), String)',
  Duration: 'UInt64',
  StatusCode: 'LowCardinality(String)',
  StatusMessage: 'String',
  'Events.Timestamp': 'Array(DateTime64(9))',
  'Events.Name': 'Array(LowCardinality(String))',
  'Events.Attributes': 'Array(Map(LowCardinality(String), String))',
  'Links.TraceId': 'Array(String)',
  'Links.SpanId': 'Array(String)',
  'Links.TraceState': 'Array(String)',
  'Links.Attributes': 'Array(Map(LowCardinality(String), String))',
};

/** `name type, …` of the blocks {@link encodeTraceRowsNative} writes: the structure to read them with. */
export const TRACE_ROW_NATIVE_STRUCTURE = TRACE_ROW_INSERT_COLUMNS.map(
  (column) => `\`${column}\` ${COLUMN_TYPES[column]}`,
).join(', ');

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NANOS = /^-?\d{1,19}$/;

const STRING_FIELDS = [
  'traceId',
  'spanId',
  'parentSpanId',
  'traceState',
  'name',
  'kind',
  'scopeName',
  'scopeVersion',
  'statusCode',
  'statusMessage',
] as const;

/** Version of the LowCardinality stream: keys shared across granules, extra keys per granule. */
const LOW_CARDINALITY_VERSION = 1;
/** LowCardinality granule flags: the granule carries its own keys and they replace the dictionary. */
const LOW_CARDINALITY_FLAGS = (1 << 9) | (1 << 10);

/** A growable byte buffer with the few primitives the Native format needs. */
class ByteSink {
  buffer: Buffer;
  length = 0;

  constructor(initialBytes: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(64, initialBytes));
  }

  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  varUInt(value: number): void {
    this.reserve(5);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buffer[this.length++] = rest;
  }

  /** Little-endian UInt64 of a non-negative safe integer (sizes, offsets, counts). */
  uint64(value: number): void {
    this.reserve(8);
    this.buffer.writeUInt32LE(value % 0x1_0000_0000, this.length);
    this.buffer.writeUInt32LE(Math.floor(value / 0x1_0000_0000), this.length + 4);
    this.length += 8;
  }

  int64(value: bigint): void {
    this.reserve(8);
    this.buffer.writeBigInt64LE(value, this.length);
    this.length += 8;
  }

  /** Length-prefixed UTF-8. */
  string(value: string): void {
    const length = value.length;
    // ASCII (ids, hashes, names, numbers: nearly every value) is copied by a plain loop, which for
    // strings this short costs a fraction of a call into the UTF-8 encoder.
    if (length < 0x80) {
      this.reserve(1 + length);
      const buffer = this.buffer;
      const start = this.length;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        buffer[start + 1 + i] = code;
      }
      if (i === length) {
        buffer[start] = length;
        this.length = start + 1 + length;
        return;
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varUInt(bytes);
    this.reserve(bytes);
    this.length += this.buffer.write(value, this.length, 'utf8');
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** A `LowCardinality(String)` column: a dictionary of this block's distinct values and one index per row. */
class LowCardinalityColumn {
  // The engine's own blocks start the dictionary with the type's default value.
  readonly #dictionary = new Map<string, number>([['', 0]]);
  readonly #keys: string[] = [''];
  #indexes: Uint32Array;
  #rows = 0;
  /** The value {@link push} took last, and its index. */
  #lastValue = '';
  #lastIndex = 0;

  constructor(initialRows: number) {
    this.#indexes = new Uint32Array(Math.max(16, initialRows));
  }

  /** Adds a row of `value`; returns its dictionary index. */
  push(value: string): number {
    // Most rows of a block repeat the row before (one service, one span name, one status).
    if (value === this.#lastValue) {
      this.pushIndex(this.#lastIndex);
      return this.#lastIndex;
    }
    let index = this.#dictionary.get(value);
    if (index === undefined) {
      index = this.#keys.length;
      this.#dictionary.set(value, index);
      this.#keys.push(value);
    }
    this.#lastValue = value;
    this.#lastIndex = index;
    this.pushIndex(index);
    return index;
  }

  /** Adds a row of the value at `index`, one {@link push} returned. */
  pushIndex(index: number): void {
    if (this.#rows === this.#indexes.length) {
      const grown = new Uint32Array(this.#indexes.length * 2);
      grown.set(this.#indexes);
      this.#indexes = grown;
    }
    this.#indexes[this.#rows++] = index;
  }

  /** The column's data (after the stream's version prefix); nothing at all for zero rows. */
  writeTo(out: ByteSink): void {
    if (this.#rows === 0) return;
    const keys = this.#keys.length;
    const indexType = keys <= 0x100 ? 0 : keys <= 0x1_0000 ? 1 : 2;
    out.uint64(indexType | LOW_CARDINALITY_FLAGS);
    out.uint64(keys);
    for (const key of this.#keys) out.string(key);
    out.uint64(this.#rows);
    const width = 1 << indexType;
    out.reserve(this.#rows * width);
    const { buffer } = out;
    let at = out.length;
    for (let i = 0; i < this.#rows; i++) {
      const index = this.#indexes[i] as number;
      if (width === 1) buffer[at] = index;
      else if (width === 2) buffer.writeUInt16LE(index, at);
      else buffer.writeUInt32LE(index, at);
      at += width;
    }
    out.length = at;
  }
}

/** Cumulative element counts of an `Array`/`Map` column, one per row. */
class Offsets {
  readonly out: ByteSink;
  #total = 0;

  constructor(initialRows: number) {
    this.out = new ByteSink(initialRows * 8);
  }

  push(elements: number): void {
    this.#total += elements;
    this.out.uint64(this.#total);
  }
}

/** A `Map(LowCardinality(String), String)` column (`Array(Tuple(key, value))` on the wire). */
class MapColumn {
  readonly offsets: Offsets;
  readonly keys: LowCardinalityColumn;
  readonly values: ByteSink;

  /** The keys of the last row that had them, by position, and their dictionary indexes. */
  readonly #recentKeys: string[] = [];
  readonly #recentIndexes: number[] = [];

  constructor(initialRows: number, entriesPerRow: number) {
    this.offsets = new Offsets(initialRows);
    this.keys = new LowCardinalityColumn(initialRows * entriesPerRow);
    this.values = new ByteSink(initialRows * entriesPerRow * 24);
  }

  /**
   * A row's key at `position`: spans of one service carry the same keys in the same order, so the key the
   * last row had there is compared first (the decoder hands back one string per key) and its index reused.
   */
  key(key: string, position: number): void {
    if (this.#recentKeys[position] === key) {
      this.keys.pushIndex(this.#recentIndexes[position] as number);
      return;
    }
    this.#recentIndexes[position] = this.keys.push(key);
    this.#recentKeys[position] = key;
  }

  writeTo(out: ByteSink): void {
    appendBytes(out, this.offsets.out.bytes());
    this.keys.writeTo(out);
    appendBytes(out, this.values.bytes());
  }
}

function appendBytes(out: ByteSink, bytes: Buffer): void {
  out.reserve(bytes.length);
  bytes.copy(out.buffer, out.length);
  out.length += bytes.length;
}

/**
 * Encodes spans as one block of ClickHouse's `Native` format with the exporter's insert columns
 * ({@link TRACE_ROW_INSERT_COLUMNS}, typed as `otel_traces`).
 *
 * The columnar binary block is the sink's hot path on both sides of the insert: building it in
 * JavaScript costs about what building JSON did, but the engine reads it without parsing text —
 * attribute keys arrive as dictionary indexes, numbers and times as fixed-width integers — on the
 * same two cores that then write the parts. Every span is validated before anything is returned: a
 * bad one throws {@link StoreError} `INVALID_ARGUMENT` naming it.
 */
export function encodeTraceRowsNative(records: readonly SpanRecord[]): Buffer {
  const block = new NativeBlock(records.length);
  for (const record of records) block.addSpan(record);
  return block.finish();
}

/**
 * One `Native` block of {@link encodeTraceRowsNative}'s form, built a span at a time (`addSpan`, then `finish`):
 * a caller that streams its spans can drop each one once it is added. A span that throws leaves the block
 * unusable; nothing of it may be sent.
 */
export class NativeBlock {
  /** Spans added so far: the block's row count. */
  #rows = 0;
  readonly #timestamp: ByteSink;
  readonly #strings: Record<
    'TraceId' | 'SpanId' | 'ParentSpanId' | 'TraceState' | 'ScopeName' | 'ScopeVersion' | 'StatusMessage',
    ByteSink
  >;
  readonly #lowCardinality: Record<
    'SpanName' | 'SpanKind' | 'ServiceName' | 'StatusCode',
    LowCardinalityColumn
  >;
  readonly #resource: MapColumn;
  readonly #attributes: MapColumn;
  readonly #duration: ByteSink;
  readonly #events: Offsets;
  readonly #eventTimes: ByteSink;
  readonly #eventNames: LowCardinalityColumn;
  readonly #eventAttributes: MapColumn;
  readonly #links: Offsets;
  readonly #linkStrings: [ByteSink, ByteSink, ByteSink];
  readonly #linkAttributes: MapColumn;
  #spanId = '';

  /** `rows` sizes the column buffers (they grow if more are added). */
  constructor(rows: number) {
    this.#timestamp = new ByteSink(rows * 8);
    const strings = (bytesPerRow: number) => new ByteSink(rows * bytesPerRow);
    this.#strings = {
      TraceId: strings(33),
      SpanId: strings(17),
      ParentSpanId: strings(17),
      TraceState: strings(1),
      ScopeName: strings(24),
      ScopeVersion: strings(6),
      StatusMessage: strings(1),
    };
    this.#lowCardinality = {
      SpanName: new LowCardinalityColumn(rows),
      SpanKind: new LowCardinalityColumn(rows),
      ServiceName: new LowCardinalityColumn(rows),
      StatusCode: new LowCardinalityColumn(rows),
    };
    this.#resource = new MapColumn(rows, 6);
    this.#attributes = new MapColumn(rows, 24);
    this.#duration = new ByteSink(rows * 8);
    this.#events = new Offsets(rows);
    this.#eventTimes = new ByteSink(64);
    this.#eventNames = new LowCardinalityColumn(16);
    this.#eventAttributes = new MapColumn(16, 2);
    this.#links = new Offsets(rows);
    this.#linkStrings = [new ByteSink(64), new ByteSink(64), new ByteSink(16)];
    this.#linkAttributes = new MapColumn(16, 2);
  }

  /** The block, once every one of its rows was added. */
  finish(): Buffer {
    const out = new ByteSink(this.#rows * 1024 + 4096);
    out.varUInt(TRACE_ROW_INSERT_COLUMNS.length);
    out.varUInt(this.#rows);
    const column = (name: InsertColumn, write: () => void) => {
      out.string(name);
      out.string(COLUMN_TYPES[name]);
      write();
    };
    const lowCardinality = (name: InsertColumn, data: LowCardinalityColumn) =>
      column(name, () => {
        out.uint64(LOW_CARDINALITY_VERSION);
        data.writeTo(out);
      });
    const map = (name: InsertColumn, data: MapColumn) =>
      column(name, () => {
        out.uint64(LOW_CARDINALITY_VERSION);
        data.writeTo(out);
      });
    const bytes = (name: InsertColumn, data: ByteSink) => column(name, () => appendBytes(out, data.bytes()));
    const strings = this.#strings;
    column('Timestamp', () => appendBytes(out, this.#timestamp.bytes()));
    bytes('TraceId', strings.TraceId);
    bytes('SpanId', strings.SpanId);
    bytes('ParentSpanId', strings.ParentSpanId);
    bytes('TraceState', strings.TraceState);
    lowCardinality('SpanName', this.#lowCardinality.SpanName);
    lowCardinality('SpanKind', this.#lowCardinality.SpanKind);
    lowCardinality('ServiceName', this.#lowCardinality.ServiceName);
    map('ResourceAttributes', this.#resource);
    bytes('ScopeName', strings.ScopeName);
    bytes('ScopeVersion', strings.ScopeVersion);
    map('SpanAttributes', this.#attributes);
    bytes('Duration', this.#duration);
    lowCardinality('StatusCode', this.#lowCardinality.StatusCode);
    bytes('StatusMessage', strings.StatusMessage);
    const events = this.#events.out.bytes();
    column('Events.Timestamp', () => {
      appendBytes(out, events);
      appendBytes(out, this.#eventTimes.bytes());
    });
    column('Events.Name', () => {
      out.uint64(LOW_CARDINALITY_VERSION);
      appendBytes(out, events);
      this.#eventNames.writeTo(out);
    });
    column('Events.Attributes', () => {
      out.uint64(LOW_CARDINALITY_VERSION);
      appendBytes(out, events);
      this.#eventAttributes.writeTo(out);
    });
    const links = this.#links.out.bytes();
    const [linkTraceIds, linkSpanIds, linkStates] = this.#linkStrings;
    column('Links.TraceId', () => {
      appendBytes(out, links);
      appendBytes(out, linkTraceIds.bytes());
    });
    column('Links.SpanId', () => {
      appendBytes(out, links);
      appendBytes(out, linkSpanIds.bytes());
    });
    column('Links.TraceState', () => {
      appendBytes(out, links);
      appendBytes(out, linkStates.bytes());
    });
    column('Links.Attributes', () => {
      out.uint64(LOW_CARDINALITY_VERSION);
      appendBytes(out, links);
      this.#linkAttributes.writeTo(out);
    });
    return Buffer.from(out.bytes());
  }

  addSpan(record: SpanRecord): void {
    this.#spanId = typeof record?.spanId === 'string' ? record.spanId : '(no span id)';
    if (typeof record !== 'object' || record === null) throw this.#invalid('record', 'must be an object');
    const start = this.#nanos(record.startTimeUnixNano, 'startTimeUnixNano');
    const end = this.#nanos(record.endTimeUnixNano, 'endTimeUnixNano');
    if (end < start) throw new StoreError('INVALID_ARGUMENT', `span ${this.#spanId} ends before it starts`);
    const events = this.#list(record.events, 'events');
    const links = this.#list(record.links, 'links');
    const resource = this.#object(record.resourceAttributes, 'resourceAttributes');
    // A bad span throws half-way through its row; the whole block is dropped with it, so nothing
    // of the call is ever inserted.
    for (const field of STRING_FIELDS) {
      if (typeof record[field] !== 'string') throw this.#invalid(field, 'must be a string');
    }
    const eventTimes = events.map((event, i) => {
      if (typeof event?.name !== 'string') throw this.#invalid(`events[${i}].name`, 'must be a string');
      return this.#nanos(event.timeUnixNano, `events[${i}].timeUnixNano`);
    });
    links.forEach((link, i) => {
      for (const field of ['traceId', 'spanId', 'traceState'] as const) {
        if (typeof link?.[field] !== 'string')
          throw this.#invalid(`links[${i}].${field}`, 'must be a string');
      }
    });
    const serviceName = resource[ATTR_SERVICE_NAME] ?? '';
    if (typeof serviceName !== 'string') throw this.#invalid(ATTR_SERVICE_NAME, 'must be a string');

    this.#timestamp.int64(start);
    const strings = this.#strings;
    strings.TraceId.string(record.traceId);
    strings.SpanId.string(record.spanId);
    strings.ParentSpanId.string(record.parentSpanId);
    strings.TraceState.string(record.traceState);
    this.#lowCardinality.SpanName.push(record.name);
    this.#lowCardinality.SpanKind.push(record.kind);
    this.#lowCardinality.ServiceName.push(serviceName);
    this.#mapRow(this.#resource, resource, 'resourceAttributes');
    strings.ScopeName.string(record.scopeName);
    strings.ScopeVersion.string(record.scopeVersion);
    this.#mapRow(this.#attributes, this.#object(record.attributes, 'attributes'), 'attributes');
    this.#duration.int64(end - start);
    this.#lowCardinality.StatusCode.push(record.statusCode);
    strings.StatusMessage.string(record.statusMessage);
    this.#events.push(events.length);
    events.forEach((event, i) => {
      this.#eventTimes.int64(eventTimes[i] as bigint);
      this.#eventNames.push(event.name);
      this.#mapRow(
        this.#eventAttributes,
        this.#object(event.attributes, 'events.attributes'),
        'events.attributes',
      );
    });
    this.#links.push(links.length);
    const [linkTraceIds, linkSpanIds, linkStates] = this.#linkStrings;
    for (const link of links) {
      linkTraceIds.string(link.traceId);
      linkSpanIds.string(link.spanId);
      linkStates.string(link.traceState);
      this.#mapRow(
        this.#linkAttributes,
        this.#object(link.attributes, 'links.attributes'),
        'links.attributes',
      );
    }
    this.#rows++;
  }

  #mapRow(column: MapColumn, map: Record<string, string>, field: string): void {
    let entries = 0;
    for (const key in map) {
      const value = map[key];
      if (typeof value !== 'string') throw this.#invalid(`${field}[${key}]`, 'must be a string');
      column.key(key, entries);
      column.values.string(value);
      entries++;
    }
    column.offsets.push(entries);
  }

  #invalid(field: string, what: string): StoreError {
    return new StoreError('INVALID_ARGUMENT', `span ${this.#spanId}: ${field} ${what}`);
  }

  #nanos(value: unknown, field: string): bigint {
    if (typeof value !== 'string' || !NANOS.test(value))
      throw this.#invalid(field, 'must be decimal nanoseconds');
    const nanos = BigInt(value);
    if (nanos < INT64_MIN || nanos > INT64_MAX) throw this.#invalid(field, 'is out of the DateTime64 range');
    return nanos;
  }

  #list<T>(value: readonly T[], field: string): readonly T[] {
    if (!Array.isArray(value)) throw this.#invalid(field, 'must be an array');
    return value;
  }

  #object<T extends object>(value: T, field: string): T {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.#invalid(field, 'must be an object of strings');
    }
    return value;
  }
}
