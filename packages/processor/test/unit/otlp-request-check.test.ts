import { describe, expect, it } from 'vitest';
import { decodeProtobufRequest } from '@decisiontrail/processor';
import {
  ExportTraceServiceRequestType,
  checkProtobufRequest,
  uint64Decimal,
} from '@decisiontrail/processor/internal';
import { prng } from '../../../core/test/support/prng.ts';
import { richSpans, toProtobuf } from '../support/sdk-spans.ts';

type Outcome = { spans: number; rejected: number; rejectReasons: string[] } | { error: string };

function decoded(body: Uint8Array): Outcome {
  try {
    const { records, rejected, rejectReasons } = decodeProtobufRequest(body);
    return { spans: records.length, rejected, rejectReasons };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function checked(body: Uint8Array): Outcome {
  try {
    return checkProtobufRequest(body);
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** Valid spans, spans a decode rejects (bad ids, no name) and values a check must walk like a decode. */
function mixedRequest(): Uint8Array {
  const span = { traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'x', kind: 2 };
  const value = (v: object) => ({ key: 'k', value: v });
  return ExportTraceServiceRequestType.encode({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [
          {
            scope: { name: 'scope', version: '1' },
            spans: [
              span,
              { ...span, traceId: Buffer.alloc(15, 1) },
              { ...span, spanId: Buffer.alloc(8, 0) },
              { ...span, parentSpanId: Buffer.alloc(3, 1) },
              { ...span, name: '' },
              { ...span, links: [{ traceId: Buffer.alloc(16, 0), spanId: Buffer.alloc(8, 3) }] },
              {
                ...span,
                startTimeUnixNano: '1700000000000000001',
                endTimeUnixNano: '18446744073709551615',
                attributes: [
                  value({ arrayValue: { values: [{ doubleValue: Number.NaN }, { stringValue: 'a' }] } }),
                  value({
                    kvlistValue: { values: [{ key: 'b', value: { bytesValue: Buffer.from([1, 2]) } }] },
                  }),
                  value({ intValue: -5 }),
                  value({ boolValue: true }),
                ],
                events: [{ timeUnixNano: '5', name: 'e', attributes: [value({ stringValue: 'v' })] }],
                status: { code: 2, message: 'failed' },
              },
            ],
          },
        ],
      },
    ],
  }).finish();
}

describe('checking a protobuf request without decoding it', () => {
  it('counts what a decode accepts and rejects, with the same reasons', async () => {
    const bodies = [toProtobuf(await richSpans()), mixedRequest(), new Uint8Array(0)];
    for (const body of bodies) expect(checked(body)).toEqual(decoded(body));
    expect(checked(mixedRequest())).toMatchObject({ spans: 2, rejected: 5 });
  });

  it('refuses exactly the bodies a decode refuses, with the same error (10,000 mutated bodies)', async () => {
    const random = prng(6);
    const seeds = [toProtobuf(await richSpans()), mixedRequest()];
    const outcomes = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const body = Uint8Array.from(seeds[i % seeds.length]!);
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
      const cut = random() < 0.2 ? body.subarray(0, Math.floor(random() * body.length)) : body;
      const expected = decoded(cut);
      outcomes.add('error' in expected ? 'error' : `${expected.spans}/${expected.rejected}`);
      expect(checked(cut), `case ${i}`).toEqual(expected);
    }
    // The mutations reach refusals, rejections and clean decodes alike.
    expect(outcomes.has('error')).toBe(true);
    expect(outcomes.size).toBeGreaterThan(3);
  });
});

describe('uint64Decimal', () => {
  it('writes fixed64 values exactly, as BigInt does', () => {
    const random = prng(64);
    const words = [0, 1, 999_999_999, 1_000_000_000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];
    const cases: [number, number][] = [];
    for (const hi of words) for (const lo of words) cases.push([hi, lo]);
    for (let i = 0; i < 20_000; i++)
      cases.push([Math.floor(random() * 2 ** 32), Math.floor(random() * 2 ** 32)]);
    for (const [hi, lo] of cases)
      expect(uint64Decimal(hi, lo)).toBe(((BigInt(hi) << 32n) | BigInt(lo)).toString());
  });
});
