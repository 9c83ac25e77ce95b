import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SpanKind, SpanStatusCode, TraceFlags, createTraceState } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '@decisiontrail/core';
import {
  SigningError,
  SPAN_KIND_STRINGS,
  SPAN_KIND_UNSPECIFIED,
  STATUS_CODE_STRINGS,
  canonicalSpan,
  canonicalSpanBytes,
  canonicalSpanJson,
  generateSigningKey,
  leafHash,
  normalizeSpanKind,
  normalizeStatusCode,
  verifySpans,
} from '@decisiontrail/core';
import { type SpanRecord } from '@decisiontrail/core';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import { makeSpans, signInBatches } from '../support/signed-stream.ts';

interface SpanVector {
  name: string;
  record: SpanRecord;
  canonicalJson: string;
  leafHash: string;
}
const file = JSON.parse(
  readFileSync(new URL('../../../core/test-vectors/spans.json', import.meta.url), 'utf8'),
) as {
  vectors: SpanVector[];
};

describe('canonical JSON (RFC 8785 subset)', () => {
  it('sorts members by UTF-16 code units and escapes like ECMAScript', () => {
    expect(
      canonicalJson({ b: 'x', a: ['\u0000', '\u001f', '"\\', '\u2028', '€'], '😀': {}, '\uff5e': '' }),
    ).toBe('{"a":["\\u0000","\\u001f","\\"\\\\","\u2028","€"],"b":"x","😀":{},"～":""}');
  });
  it('rejects lone surrogates', () => {
    expect(() => canonicalJson('\ud800')).toThrow(TypeError);
  });
});

describe('span test vectors', () => {
  for (const vector of file.vectors) {
    it(`${vector.name}: canonical bytes and leaf are stable`, () => {
      expect(Buffer.from(canonicalSpanBytes(vector.record)).toString('utf8')).toBe(vector.canonicalJson);
      expect(Buffer.from(leafHash(vector.record)).toString('hex')).toBe(vector.leafHash);
      // The fast serializer agrees with the generic RFC 8785 one.
      expect(canonicalSpanJson(vector.record)).toBe(canonicalJson(canonicalSpan(vector.record)));
      expect(Buffer.from(leafHash(vector.record)).toString('hex')).toBe(
        createHash('sha256')
          .update(Buffer.from([0]))
          .update(canonicalJson(canonicalSpan(vector.record)))
          .digest('hex'),
      );
    });
  }

  it('the hand-written canonical form of the minimal span', () => {
    const minimal = file.vectors.find((vector) => vector.name === 'minimal-root-span') as SpanVector;
    expect(minimal.canonicalJson).toBe(
      '{"attributes":{},"endTimeUnixNano":"1764032400000123456","events":[],"kind":"Internal","links":[],' +
        '"name":"audit.decision","parentSpanId":"","resource":{},"scopeName":"","scopeVersion":"",' +
        '"spanId":"b7ad6b7169203331","startTimeUnixNano":"1764032400000000000","statusCode":"Unset",' +
        '"statusMessage":"","traceId":"0af7651916cd43dd8448eb211c80319c","traceState":""}',
    );
  });

  it('excludes audit.integrity.*, audit.completeness.* and non-service resource attributes from the leaf', () => {
    const vector = file.vectors.find((v) => v.name === 'decision-with-integrity') as SpanVector;
    const stripped: SpanRecord = structuredClone(vector.record);
    for (const key of Object.keys(stripped.attributes)) {
      if (key.startsWith('audit.integrity.') || key.startsWith('audit.completeness.'))
        delete stripped.attributes[key];
    }
    stripped.resourceAttributes = { 'service.name': 'loan-api', 'service.version': '1.4.2' };
    expect(Buffer.from(leafHash(stripped)).toString('hex')).toBe(vector.leafHash);
    const changed = structuredClone(vector.record);
    changed.attributes['audit.decision.outcome'] = 'deny';
    expect(Buffer.from(leafHash(changed)).toString('hex')).not.toBe(vector.leafHash);
  });
});

describe('kind and status spellings of older and newer Collector exporters', () => {
  const minimal = (file.vectors.find((vector) => vector.name === 'minimal-root-span') as SpanVector).record;
  const hex = (record: SpanRecord): string => Buffer.from(leafHash(record)).toString('hex');

  it('the legacy-spelling vector has the same canonical JSON and leaf as the current one', () => {
    const current = file.vectors.find((v) => v.name === 'error-span-with-events-links-unicode') as SpanVector;
    const legacy = file.vectors.find(
      (v) => v.name === 'error-span-legacy-kind-status-spelling',
    ) as SpanVector;
    expect([current.record.kind, current.record.statusCode]).toEqual(['Server', 'Error']);
    expect([legacy.record.kind, legacy.record.statusCode]).toEqual(['SPAN_KIND_SERVER', 'STATUS_CODE_ERROR']);
    expect(legacy.canonicalJson).toBe(current.canonicalJson);
    expect(legacy.leafHash).toBe(current.leafHash);
  });

  it('every kind and status code gives one leaf for both spellings, and distinct values differ', () => {
    const leaves = new Set<string>();
    for (const kind of [SPAN_KIND_UNSPECIFIED, ...SPAN_KIND_STRINGS]) {
      for (const code of STATUS_CODE_STRINGS) {
        const current = { ...minimal, kind, statusCode: code };
        const legacy = {
          ...minimal,
          kind: `SPAN_KIND_${kind.toUpperCase()}`,
          statusCode: `STATUS_CODE_${code.toUpperCase()}`,
        };
        expect(normalizeSpanKind(legacy.kind)).toBe(kind);
        expect(normalizeStatusCode(legacy.statusCode)).toBe(code);
        expect(canonicalSpanJson(legacy)).toBe(canonicalSpanJson(current));
        expect(canonicalJson(canonicalSpan(legacy))).toBe(canonicalSpanJson(current));
        expect(hex(legacy)).toBe(hex(current));
        leaves.add(hex(current));
      }
    }
    expect(leaves.size).toBe(6 * 3);
  });

  it('rejects kinds and status codes in neither spelling instead of guessing', () => {
    for (const record of [
      { ...minimal, kind: 'server' },
      { ...minimal, kind: 'SPAN_KIND_Server' },
      { ...minimal, kind: '2' },
      { ...minimal, statusCode: 'ERROR' },
      { ...minimal, statusCode: '' },
    ]) {
      for (const run of [() => leafHash(record), () => canonicalSpan(record)]) {
        expect(run).toThrow(SigningError);
        try {
          run();
        } catch (error) {
          expect((error as SigningError).code).toBe('SPAN_INVALID');
        }
      }
    }
  });

  it('a store mixing both spellings verifies; an unknown spelling is reported as modified', async () => {
    const key = generateSigningKey();
    const { records } = await signInBatches(await makeSpans(12), { key, batchSize: 5 });
    const isLeaf = (record: SpanRecord): boolean => record.attributes['audit.record.type'] !== 'checkpoint';
    // Every other leaf row as an older exporter would have written it.
    const mixed = records.map((record, i) =>
      isLeaf(record) && i % 2 === 0
        ? {
            ...record,
            kind: `SPAN_KIND_${record.kind.toUpperCase()}`,
            statusCode: `STATUS_CODE_${record.statusCode.toUpperCase()}`,
          }
        : record,
    );
    expect(mixed.some((record) => record.statusCode === 'STATUS_CODE_ERROR')).toBe(true);
    const report = verifySpans(mixed, { publicKeys: [key.verifierKey] });
    expect(report.ok).toBe(true);
    expect(report.streams[0]?.verifiedSize).toBe(12);

    const target = mixed.findIndex(isLeaf);
    const tampered = mixed.map((record, i) => (i === target ? { ...record, kind: 'Sever' } : record));
    const findings = verifySpans(tampered, { publicKeys: [key.verifierKey] }).streams[0]?.findings ?? [];
    expect(findings).toEqual([
      expect.objectContaining({
        code: 'modified',
        spanId: mixed[target]?.spanId,
        message: expect.stringContaining('unknown span kind "Sever"'),
      }),
    ]);
  });
});

describe('spanRecordFromReadableSpan', () => {
  it('maps an SDK span to the otel_traces string form', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'svc', 'host.name': 'h1' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('scope-a', '2.0.0');
    const linked = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      traceState: createTraceState('k=v'),
    };
    const span = tracer.startSpan('op', {
      kind: SpanKind.PRODUCER,
      startTime: [1764032400, 5],
      attributes: { s: 'x', i: 7, d: 0.5, b: false, arr: ['a', 'b'], n: [1, 2] },
      links: [{ context: linked, attributes: { why: 'because' } }],
    });
    span.addEvent('evt', { e: 1.25 }, [1764032400, 999_999_999]);
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'bad' });
    span.end([1764032401, 1]);
    await provider.forceFlush();
    const [finished] = exporter.getFinishedSpans();
    const record = spanRecordFromReadableSpan(finished!);
    expect(record).toMatchObject({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: '',
      traceState: '',
      name: 'op',
      kind: 'Producer',
      startTimeUnixNano: '1764032400000000005',
      endTimeUnixNano: '1764032401000000001',
      statusCode: 'Error',
      statusMessage: 'bad',
      attributes: { s: 'x', i: '7', d: '0.5', b: 'false', arr: '["a","b"]', n: '[1,2]' },
      scopeName: 'scope-a',
      scopeVersion: '2.0.0',
      events: [{ timeUnixNano: '1764032400999999999', name: 'evt', attributes: { e: '1.25' } }],
      links: [
        {
          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          spanId: '00f067aa0ba902b7',
          traceState: 'k=v',
          attributes: { why: 'because' },
        },
      ],
    });
    expect(record.resourceAttributes).toMatchObject({ 'service.name': 'svc', 'host.name': 'h1' });
    await provider.shutdown();
  });
});
