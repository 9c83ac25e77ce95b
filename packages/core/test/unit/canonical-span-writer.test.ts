import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SPAN_KIND_STRINGS,
  STATUS_CODE_STRINGS,
  canonicalJson,
  canonicalSpan,
  canonicalSpanBytes,
  canonicalSpanJson,
  leafHash,
  type SpanRecord,
} from '@decisiontrail/core';
import { pick, prng } from '../support/prng.ts';

// Every class of UTF-16 unit the writer treats apart: escapes, ASCII, 2- and 3-byte UTF-8, U+2028,
// surrogate pairs (4-byte UTF-8) and the edges of those ranges.
const UNITS = [
  '\u0000',
  '\u0008',
  '\t',
  '\n',
  '\u000b',
  '\u000c',
  '\r',
  '\u001f',
  ' ',
  '"',
  '\\',
  '/',
  'a',
  'Z',
  '0',
  '\u007f',
  '\u0080',
  '\u00e9',
  '\u07ff',
  '\u0800',
  '\u2028',
  '\u2029',
  '\ud7ff',
  '\ue000',
  '\uffff',
  '\ud800\udc00',
  '\ud83d\ude00',
  '\udbff\udfff',
];
const KEYS = [
  'audit.decision.id',
  'audit.integrity.seq',
  'audit.completeness.missing',
  'service.name',
  'service.version',
  'host.name',
  'a',
  'b',
  '10',
  '2',
  'é',
  '😀',
  '\uff5e',
  'audit.integrity',
  'audit.integrityx',
];

function text(random: () => number, max: number): string {
  let out = '';
  const n = pick(random, max + 1);
  for (let i = 0; i < n; i++)
    out += random() < 0.6 ? 'abcdef0123456789'[pick(random, 16)]! : UNITS[pick(random, UNITS.length)]!;
  return out;
}

function attributes(random: () => number): Record<string, string> {
  const out: Record<string, string> = {};
  const n = pick(random, 8);
  for (let i = 0; i < n; i++)
    out[random() < 0.7 ? KEYS[pick(random, KEYS.length)]! : text(random, 6)] = text(random, 20);
  return out;
}

function record(random: () => number): SpanRecord {
  return {
    traceId: text(random, 32),
    spanId: text(random, 16),
    parentSpanId: text(random, 16),
    traceState: text(random, 8),
    name: text(random, 12),
    kind: SPAN_KIND_STRINGS[pick(random, SPAN_KIND_STRINGS.length)]!,
    startTimeUnixNano: text(random, 19),
    endTimeUnixNano: text(random, 19),
    statusCode: STATUS_CODE_STRINGS[pick(random, STATUS_CODE_STRINGS.length)]!,
    statusMessage: text(random, 10),
    attributes: attributes(random),
    resourceAttributes: attributes(random),
    scopeName: text(random, 10),
    scopeVersion: text(random, 5),
    events: Array.from({ length: pick(random, 3) }, () => ({
      timeUnixNano: text(random, 19),
      name: text(random, 8),
      attributes: attributes(random),
    })),
    links: Array.from({ length: pick(random, 3) }, () => ({
      traceId: text(random, 32),
      spanId: text(random, 16),
      traceState: text(random, 8),
      attributes: attributes(random),
    })),
  };
}

describe('canonical span writer', () => {
  it('writes the bytes of the generic RFC 8785 serializer for 20,000 random spans', () => {
    const random = prng(8785);
    let previous: SpanRecord | undefined;
    for (let i = 0; i < 20_000; i++) {
      // Every other span reuses the previous one's attribute keys (the remembered member order), in the
      // same order or reversed.
      const r = record(random);
      if (previous !== undefined && i % 2 === 1) {
        const keys = Object.keys(previous.attributes);
        if (random() < 0.5) keys.reverse();
        r.attributes = Object.fromEntries(keys.map((key) => [key, text(random, 10)]));
      }
      previous = r;
      const expected = canonicalJson(canonicalSpan(r));
      expect(canonicalSpanJson(r), `span ${i}`).toBe(expected);
      expect(Buffer.from(canonicalSpanBytes(r)).equals(Buffer.from(expected, 'utf8'))).toBe(true);
      expect(Buffer.from(leafHash(r)).toString('hex')).toBe(
        createHash('sha256')
          .update(Buffer.from([0]))
          .update(expected, 'utf8')
          .digest('hex'),
      );
    }
  });

  it('rejects a lone surrogate anywhere, as the generic serializer does', () => {
    const random = prng(1);
    for (const lone of ['\ud800', '\udfff', '\udc00\ud800', 'x\ud83d']) {
      for (let i = 0; i < 50; i++) {
        const r = record(random);
        const where = pick(random, 4);
        if (where === 0) r.name = lone;
        else if (where === 1) r.attributes[lone] = 'v';
        else if (where === 2) r.attributes.k = `a${lone}`;
        else r.scopeVersion = lone;
        expect(() => canonicalJson(canonicalSpan(r))).toThrow(TypeError);
        expect(() => canonicalSpanJson(r)).toThrow('canonical JSON strings must be well-formed Unicode');
        expect(() => leafHash(r)).toThrow(TypeError);
      }
    }
  });

  it('grows its buffer for a span far larger than it started with', () => {
    const r = record(prng(2));
    r.attributes.big = '\u20ac'.repeat(100_000) + '"';
    expect(canonicalSpanJson(r)).toBe(canonicalJson(canonicalSpan(r)));
  });
});
