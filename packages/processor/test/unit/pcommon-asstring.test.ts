import { describe, expect, it } from 'vitest';
import { decodeJsonRequest, decodeProtobufRequest } from '@decisiontrail/processor';
import { ExportTraceServiceRequestType } from '@decisiontrail/processor/internal';
import { PCOMMON_INPUTS, PCOMMON_VECTORS } from '../../../core/test/support/pcommon-vectors.ts';

// The receiver turns OTLP AnyValues into pcommon's AsString form on two paths of its own (protobuf
// on the wire, JSON through objects); both must give what the Collector's pcommon gives, which is
// what the producer signed (core's attributeValueToString, held to the same Go vectors).

/** A JavaScript value as the OTLP AnyValue the JS OTLP transformer makes of it (protobuf JSON spelling). */
function anyValue(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return { intValue: BigInt(value).toString() };
    return { doubleValue: Number.isFinite(value) ? value : String(value) };
  }
  if (value instanceof Uint8Array) return { bytesValue: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
  const record = value as Record<string, unknown>;
  return {
    kvlistValue: { values: Object.keys(record).map((key) => ({ key, value: anyValue(record[key]) })) },
  };
}

function request(): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [] },
        scopeSpans: [
          {
            scope: { name: 'pcommon' },
            spans: [
              {
                traceId: '0102030405060708090a0b0c0d0e0f10',
                spanId: '0102030405060708',
                name: 'values',
                kind: 1,
                startTimeUnixNano: '1700000000000000001',
                endTimeUnixNano: '1700000000000000002',
                attributes: Object.keys(PCOMMON_INPUTS).map((key) => ({
                  key,
                  value: anyValue(PCOMMON_INPUTS[key]),
                })),
              },
            ],
          },
        ],
      },
    ],
  };
}

const expected = Object.fromEntries(PCOMMON_VECTORS.map((vector) => [vector.name, vector.asString]));

describe('the receiver writes attributes as pcommon AsString does', () => {
  it('over OTLP/JSON', () => {
    const decoded = decodeJsonRequest(new TextEncoder().encode(JSON.stringify(request())));
    expect(decoded.records[0]!.attributes).toEqual(expected);
  });

  it('over OTLP/protobuf', () => {
    // protobufjs's fromObject reads the same protobuf JSON spelling (ids as base64 there, so set as bytes).
    const message = request() as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const span = message.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    span['traceId'] = Buffer.from(span['traceId'] as string, 'hex');
    span['spanId'] = Buffer.from(span['spanId'] as string, 'hex');
    const body = ExportTraceServiceRequestType.encode(
      ExportTraceServiceRequestType.fromObject(message),
    ).finish();
    expect(decodeProtobufRequest(body).records[0]!.attributes).toEqual(expected);
  });
});
