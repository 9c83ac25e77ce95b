import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { describe, expect, it, vi } from 'vitest';
import { OtlpDecodeError, decodeJsonRequest, decodeProtobufRequest } from '@decisiontrail/processor';
import { ExportTraceServiceRequestType, anyValueAsString } from '@decisiontrail/processor/internal';
import { richSpans, toJson, toProtobuf } from '../support/sdk-spans.ts';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

function jsonRequest(spans: unknown[]): Uint8Array {
  return json({
    resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans }] }],
  });
}

const validSpan = {
  traceId: '0102030405060708090a0b0c0d0e0f10',
  spanId: '0102030405060708',
  name: 'audit.decision',
  kind: 1,
  startTimeUnixNano: '1700000000000000001',
  endTimeUnixNano: 1700000000000000,
};

describe('OTLP decoding', () => {
  it('turns a protobuf request from the OTel exporter into exactly the SDK-side SpanRecord', async () => {
    const spans = await richSpans();
    const decoded = decodeProtobufRequest(toProtobuf(spans));
    expect(decoded.rejected).toBe(0);
    expect(decoded.records).toEqual(spans.map(spanRecordFromReadableSpan));
    const child = decoded.records.find((r) => r.name === 'chat gpt-4o')!;
    expect(child.attributes.strs).toBe('["stop","length<"]');
    expect(child.attributes.big).toBe(String(2 ** 53 + 2));
    // The Collector ClickHouse exporter's spelling (pdata String()), not the protobuf enum names.
    expect(child.kind).toBe('Client');
    expect(child.statusCode).toBe('Error');
    expect(child.parentSpanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('gives the same records for the OTLP/JSON encoding of the same spans', async () => {
    const spans = await richSpans();
    expect(decodeJsonRequest(toJson(spans))).toEqual(decodeProtobufRequest(toProtobuf(spans)));
  });

  it('accepts int64 as string or number, enum names and snake_case field names in JSON', () => {
    const decoded = decodeJsonRequest(
      json({
        resource_spans: [
          {
            scope_spans: [
              {
                spans: [
                  { ...validSpan, kind: 'SPAN_KIND_SERVER', status: { code: 'STATUS_CODE_OK' } },
                  {
                    trace_id: validSpan.traceId,
                    span_id: '0102030405060709',
                    name: 'n',
                    start_time_unix_nano: 5,
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(
      decoded.records.map((r) => [r.kind, r.statusCode, r.startTimeUnixNano, r.endTimeUnixNano]),
    ).toEqual([
      ['Server', 'Ok', '1700000000000000001', '1700000000000000'],
      ['Unspecified', 'Unset', '5', '0'],
    ]);
  });

  it('takes only protobuf enum names in JSON, not the stored spelling', () => {
    expect(() => decodeJsonRequest(jsonRequest([{ ...validSpan, kind: 'Server' }]))).toThrow(OtlpDecodeError);
    expect(() => decodeJsonRequest(jsonRequest([{ ...validSpan, status: { code: 'Error' } }]))).toThrow(
      OtlpDecodeError,
    );
  });

  it('rejects only the spans with invalid ids or no name (partial success)', () => {
    const decoded = decodeJsonRequest(
      jsonRequest([
        validSpan,
        { ...validSpan, traceId: 'abc' },
        { ...validSpan, spanId: '0000000000000000' },
        { ...validSpan, parentSpanId: 'zz' },
        { ...validSpan, name: '' },
      ]),
    );
    expect(decoded.records).toHaveLength(1);
    expect(decoded.rejected).toBe(4);
    expect(decoded.rejectReasons).toHaveLength(3);
  });

  it('refuses structurally wrong bodies as a whole', () => {
    const bad = [
      jsonRequest([{ ...validSpan, name: 5 }]),
      jsonRequest([{ ...validSpan, attributes: { a: 1 } }]),
      jsonRequest([{ ...validSpan, attributes: [{ key: 'a', value: { intValue: '1.5' } }] }]),
      jsonRequest([{ ...validSpan, startTimeUnixNano: '-1' }]),
      jsonRequest([{ ...validSpan, kind: 'SERVER' }]),
      json({ resourceSpans: {} }),
      json([1]),
      new TextEncoder().encode('{"resourceSpans":'),
      new Uint8Array([0xff, 0xfe]),
    ];
    for (const body of bad) expect(() => decodeJsonRequest(body)).toThrow(OtlpDecodeError);
    expect(() => decodeProtobufRequest(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(
      OtlpDecodeError,
    );
  });

  it('renders AnyValue like pcommon AsString, including nested maps and non-finite doubles', () => {
    expect(anyValueAsString({ doubleValue: 'NaN' }, 'v')).toBe('NaN');
    expect(anyValueAsString({ doubleValue: '-Infinity' }, 'v')).toBe('-Infinity');
    expect(anyValueAsString({ bytesValue: 'AQID' }, 'v')).toBe('AQID');
    expect(
      anyValueAsString(
        {
          kvlistValue: {
            values: [
              { key: 'z', value: { intValue: '1' } },
              { key: 'a', value: { arrayValue: { values: [{ boolValue: true }, {}] } } },
            ],
          },
        },
        'v',
      ),
    ).toBe('{"a":[true,null],"z":1}');
    expect(anyValueAsString({ arrayValue: { values: [{ doubleValue: 'Infinity' }] } }, 'v')).toBe('');
    let deep: unknown = { stringValue: 'x' };
    for (let i = 0; i < 100; i += 1) deep = { arrayValue: { values: [deep] } };
    expect(() => anyValueAsString(deep, 'v')).toThrow(OtlpDecodeError);
  });

  it('decodes attribute keys met before to exactly the keys of this body, however many and long', () => {
    // Keys a cache of decoded keys could confuse: one byte apart at every position, the same bytes in another
    // order, non-ASCII, longer than anything worth keeping, and more distinct keys than it keeps.
    const base = 'audit.decision.key';
    const keys = [
      // Two keys of the same length whose 32-bit FNV-1a-style hashes (the length as the seed) are equal.
      'key.00pwu',
      'key.0b5fa',
      base,
      ...Array.from(
        base,
        (_, i) => base.slice(0, i) + String.fromCharCode(base.charCodeAt(i) + 1) + base.slice(i + 1),
      ),
      [...base].reverse().join(''),
      'clé.décision',
      'κλειδί',
      'キー',
      'emoji.\u{1F600}',
      'long.'.repeat(60),
      `${'long.'.repeat(60)}x`,
      ...Array.from({ length: 5000 }, (_, i) => `k${i}`),
    ];
    const request = (offset: number) =>
      ExportTraceServiceRequestType.encode({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
            scopeSpans: [
              {
                spans: [0, 1].map((n) => ({
                  traceId: Buffer.alloc(16, 1),
                  spanId: Buffer.alloc(8, n + 2),
                  name: 'x',
                  attributes: keys.map((key, i) => ({
                    key,
                    value: { stringValue: `${key}=${i + offset + n}` },
                  })),
                })),
              },
            ],
          },
        ],
      }).finish();
    for (const offset of [0, 7, 0]) {
      const { records } = decodeProtobufRequest(request(offset));
      records.forEach((record, n) => {
        expect(record.attributes).toEqual(
          Object.fromEntries(keys.map((key, i) => [key, `${key}=${i + offset + n}`])),
        );
        expect(record.resourceAttributes).toEqual({ 'service.name': 'svc' });
      });
    }
  });

  it('decodes every attribute value as its own bytes say, however often a key had another value before', async () => {
    // A decoder of its own: the test before this one filled the shared one's key cache (no value is kept for a key
    // it does not keep).
    vi.resetModules();
    const { decodeProtobufRequest: decode } = await import('@decisiontrail/processor');
    // Values a cache of each key's last value could confuse: the same value again, one byte apart, other types with
    // the same text, a new value every span (more than it waits before it learns a new one), long ones, non-ASCII,
    // and the same key in events with values of their own.
    const value = (n: number): [Record<string, unknown>, string] => {
      if (n < 5 || n === 6) return [{ stringValue: 'same' }, 'same'];
      if (n === 5) return [{ stringValue: 'samf' }, 'samf'];
      if (n === 7) return [{ intValue: 5 }, '5'];
      if (n === 8) return [{ stringValue: '5' }, '5'];
      if (n === 9) return [{ boolValue: true }, 'true'];
      if (n === 10) return [{ stringValue: 'true' }, 'true'];
      if (n <= 40) return [{ stringValue: `u${n}` }, `u${n}`];
      if (n <= 45) return [{ stringValue: 'x'.repeat(100) }, 'x'.repeat(100)];
      if (n === 46) return [{ stringValue: `${'x'.repeat(99)}y` }, `${'x'.repeat(99)}y`];
      if (n <= 50) return [{ stringValue: 'clé' }, 'clé'];
      if (n === 51) return [{ stringValue: 'cle' }, 'cle'];
      return [{ arrayValue: { values: [{ stringValue: 'a' }, { intValue: n }] } }, `["a",${n}]`];
    };
    const spans = 60;
    const body = ExportTraceServiceRequestType.encode({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: Array.from({ length: spans }, (_, n) => ({
                traceId: Buffer.alloc(16, 1),
                spanId: Buffer.alloc(8, n + 1),
                name: 'x',
                attributes: [{ key: 'k', value: value(n)[0] }],
                events: [{ name: 'e', attributes: [{ key: 'k', value: { stringValue: `event${n}` } }] }],
              })),
            },
          ],
        },
      ],
    }).finish();
    for (let pass = 0; pass < 2; pass++) {
      const { records } = decode(body);
      expect(records).toHaveLength(spans);
      records.forEach((record, n) => {
        expect(record.attributes).toEqual({ k: value(n)[1] });
        expect(record.events[0]!.attributes).toEqual({ k: `event${n}` });
      });
    }
  });

  it('decodes what our own schema encodes (round trip of the proto definitions)', () => {
    const body = ExportTraceServiceRequestType.encode({
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'x', kind: 3 }] },
          ],
        },
      ],
    }).finish();
    expect(decodeProtobufRequest(body).records[0]).toMatchObject({
      traceId: '01'.repeat(16),
      spanId: '02'.repeat(8),
      kind: 'Client',
    });
  });
});
