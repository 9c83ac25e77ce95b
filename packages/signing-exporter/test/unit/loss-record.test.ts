import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LogVerifier,
  generateSigningKey,
  verifySpans,
  type SigningKey,
  type SpanRecord,
} from '@decisiontrail/core';
import { makeSpans, signInBatches } from '../support/signed-stream.ts';

/** A copy of `span` that claims to be an `audit.loss` record. */
function asLoss(span: ReadableSpan, count: number, decisions: number): ReadableSpan {
  return {
    ...span,
    spanContext: () => span.spanContext(),
    name: 'audit.loss',
    attributes: {
      'audit.record.type': 'loss',
      'audit.loss.count': count,
      'audit.loss.decision_count': decisions,
      'audit.loss.reason': 'spool_full',
    },
  };
}

let key: SigningKey;
let records: SpanRecord[];
const seqOf = (record: SpanRecord): number => Number(record.attributes['audit.integrity.seq']);

beforeAll(async () => {
  key = generateSigningKey();
  const spans = await makeSpans(12);
  spans[5] = asLoss(spans[5]!, 7, 4);
  records = (await signInBatches(spans, { key, batchSize: 4 })).records;
});

describe('records-lost', () => {
  it('is reported for a signed audit.loss record, which makes the stream not ok', () => {
    const report = verifySpans(records, { publicKeys: [key.verifierKey] });
    expect(report.ok).toBe(false);
    expect(report.streams[0]).toMatchObject({ sealedSize: 12, verifiedSize: 12 });
    const loss = records.find((record) => record.name === 'audit.loss')!;
    expect(report.streams[0]!.findings).toEqual([
      expect.objectContaining({ code: 'records-lost', tamper: true, count: 7, seq: 5, spanId: loss.spanId }),
    ]);
    expect(report.streams[0]!.findings[0]!.message).toMatch(
      /^7 audit record\(s\) \(4 decision\(s\)\) lost to spool_full between \d{4}-\d\d-\d\dT.* and .*, just before seq 5/u,
    );
  });

  it('is reported once for a stored duplicate, and the same when read in slices', () => {
    const loss = records.find((record) => record.name === 'audit.loss')!;
    const verifier = new LogVerifier({ publicKeys: [key.verifierKey] });
    for (let i = 0; i < records.length; i += 3) verifier.add(records.slice(i, i + 3));
    verifier.add([loss]);
    const codes = verifier.finish().streams[0]!.findings.map((f) => f.code);
    expect(codes).toEqual(['records-lost']);
  });

  it('is not reported for a loss record the stream never signed: that is a forgery, found as such', () => {
    const withoutLoss = records.filter((record) => record.name !== 'audit.loss');
    const original = records.find((record) => record.name === 'audit.loss')!;
    const other = withoutLoss.find((record) => seqOf(record) === 6)!;
    // An edited record that now claims a loss, at a sequence number whose leaf says otherwise.
    const forged: SpanRecord = {
      ...other,
      name: 'audit.loss',
      attributes: { ...other.attributes, ...original.attributes, 'audit.integrity.seq': '6' },
    };
    const report = verifySpans(
      withoutLoss.map((record) => (record === other ? forged : record)),
      { publicKeys: [key.verifierKey] },
    );
    const codes = report.streams[0]!.findings.map((f) => f.code);
    expect(codes).not.toContain('records-lost');
    expect(codes).toContain('modified');
  });
});
