import {
  attributeValueToString,
  SPAN_KIND_STRINGS,
  SPAN_KIND_UNSPECIFIED,
  STATUS_CODE_STRINGS,
  type SpanRecord,
} from '@decisiontrail/core';

// A small reader of OTLP ExportTraceServiceRequest protobuf bodies, so tests can check what really
// went over the wire (ids, typed attribute values, times) — a stand-in for the Collector's decoder.

class Reader {
  offset = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  get done(): boolean {
    return this.offset >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.buf[this.offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  tag(): [number, number] {
    const tag = Number(this.varint());
    return [tag >>> 3, tag & 7];
  }
  bytes(): Buffer {
    const length = Number(this.varint());
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
  fixed64(): Buffer {
    const out = this.buf.subarray(this.offset, this.offset + 8);
    this.offset += 8;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.offset += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.offset += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function fields(buf: Buffer, visit: (field: number, wire: number, reader: Reader) => boolean): void {
  const reader = new Reader(buf);
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (!visit(field, wire, reader)) reader.skip(wire);
  }
}

/** AnyValue → the JS value the OTLP transformer started from (ints as numbers or BigInt). */
function anyValue(buf: Buffer): unknown {
  let value: unknown = undefined;
  fields(buf, (field, wire, r) => {
    if (field === 1 && wire === 2) value = r.bytes().toString('utf8');
    else if (field === 2 && wire === 0) value = r.varint() !== 0n;
    else if (field === 3 && wire === 0) {
      const big = BigInt.asIntN(64, r.varint());
      value =
        big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    } else if (field === 4 && wire === 1) value = r.fixed64().readDoubleLE(0);
    else if (field === 5 && wire === 2) {
      const values: unknown[] = [];
      fields(r.bytes(), (f, w, rr) =>
        f === 1 && w === 2 ? (values.push(anyValue(rr.bytes())), true) : false,
      );
      value = values;
    } else if (field === 6 && wire === 2) {
      value = keyValues(r.bytes(), 1);
    } else if (field === 7 && wire === 2) value = new Uint8Array(r.bytes());
    else return false;
    return true;
  });
  return value;
}

function keyValues(buf: Buffer, field: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fields(buf, (f, w, r) => {
    if (f !== field || w !== 2) return false;
    let key = '';
    let value: unknown;
    fields(r.bytes(), (kf, kw, kr) => {
      if (kf === 1 && kw === 2) key = kr.bytes().toString('utf8');
      else if (kf === 2 && kw === 2) value = anyValue(kr.bytes());
      else return false;
      return true;
    });
    out[key] = value;
    return true;
  });
  return out;
}

function stringMap(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = typeof value === 'bigint' ? value.toString() : attributeValueToString(value);
  }
  return out;
}

function attributesOf(buf: Buffer, field: number): Record<string, string> {
  return stringMap(keyValues(buf, field));
}

const nanos = (buf: Buffer): string => buf.readBigUInt64LE(0).toString();

/** Decodes an OTLP/protobuf ExportTraceServiceRequest into SpanRecords (what the Collector would store). */
export function decodeTraceRequest(body: Buffer): SpanRecord[] {
  const records: SpanRecord[] = [];
  fields(body, (field, wire, r) => {
    if (field !== 1 || wire !== 2) return false;
    const resourceSpans = r.bytes();
    let resourceAttributes: Record<string, string> = {};
    fields(resourceSpans, (f, w, rr) => {
      if (f === 1 && w === 2) resourceAttributes = attributesOf(rr.bytes(), 1);
      else if (f === 2 && w === 2) {
        let scopeName = '';
        let scopeVersion = '';
        const spans: Buffer[] = [];
        fields(rr.bytes(), (sf, sw, sr) => {
          if (sf === 1 && sw === 2) {
            fields(sr.bytes(), (cf, cw, cr) => {
              if (cf === 1 && cw === 2) scopeName = cr.bytes().toString('utf8');
              else if (cf === 2 && cw === 2) scopeVersion = cr.bytes().toString('utf8');
              else return false;
              return true;
            });
          } else if (sf === 2 && sw === 2) spans.push(sr.bytes());
          else return false;
          return true;
        });
        for (const span of spans) records.push(decodeSpan(span, resourceAttributes, scopeName, scopeVersion));
      } else return false;
      return true;
    });
    return true;
  });
  return records;
}

function decodeSpan(
  buf: Buffer,
  resourceAttributes: Record<string, string>,
  scopeName: string,
  scopeVersion: string,
): SpanRecord {
  const record: SpanRecord = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    name: '',
    kind: SPAN_KIND_UNSPECIFIED,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    statusCode: STATUS_CODE_STRINGS[0],
    statusMessage: '',
    attributes: attributesOf(buf, 9),
    resourceAttributes,
    scopeName,
    scopeVersion,
    events: [],
    links: [],
  };
  fields(buf, (f, w, r) => {
    if (f === 1 && w === 2) record.traceId = r.bytes().toString('hex');
    else if (f === 2 && w === 2) record.spanId = r.bytes().toString('hex');
    else if (f === 3 && w === 2) record.traceState = r.bytes().toString('utf8');
    else if (f === 4 && w === 2) record.parentSpanId = r.bytes().toString('hex');
    else if (f === 5 && w === 2) record.name = r.bytes().toString('utf8');
    else if (f === 6 && w === 0)
      record.kind = SPAN_KIND_STRINGS[Number(r.varint()) - 1] ?? SPAN_KIND_UNSPECIFIED;
    else if (f === 7 && w === 1) record.startTimeUnixNano = nanos(r.fixed64());
    else if (f === 8 && w === 1) record.endTimeUnixNano = nanos(r.fixed64());
    else if (f === 11 && w === 2) {
      const event = r.bytes();
      const out = { timeUnixNano: '0', name: '', attributes: attributesOf(event, 3) };
      fields(event, (ef, ew, er) => {
        if (ef === 1 && ew === 1) out.timeUnixNano = nanos(er.fixed64());
        else if (ef === 2 && ew === 2) out.name = er.bytes().toString('utf8');
        else return false;
        return true;
      });
      record.events.push(out);
    } else if (f === 13 && w === 2) {
      const link = r.bytes();
      const out = { traceId: '', spanId: '', traceState: '', attributes: attributesOf(link, 4) };
      fields(link, (lf, lw, lr) => {
        if (lf === 1 && lw === 2) out.traceId = lr.bytes().toString('hex');
        else if (lf === 2 && lw === 2) out.spanId = lr.bytes().toString('hex');
        else if (lf === 3 && lw === 2) out.traceState = lr.bytes().toString('utf8');
        else return false;
        return true;
      });
      record.links.push(out);
    } else if (f === 15 && w === 2) {
      fields(r.bytes(), (sf, sw, sr) => {
        if (sf === 2 && sw === 2) record.statusMessage = sr.bytes().toString('utf8');
        else if (sf === 3 && sw === 0)
          record.statusCode = STATUS_CODE_STRINGS[Number(sr.varint())] ?? STATUS_CODE_STRINGS[0];
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
  return record;
}
