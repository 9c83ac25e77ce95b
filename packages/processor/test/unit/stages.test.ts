import { describe, expect, it } from 'vitest';
import { decodeProtobufRequest } from '@decisiontrail/processor';
import {
  ExportTraceServiceRequestType,
  PolicyStage,
  REDACTED_VALUE,
  annotateCompleteness,
} from '@decisiontrail/processor/internal';
import {
  ATTR_AUDIT_COMPLETENESS_MISSING,
  ATTR_AUDIT_INPUT_CAPTURE_MODE,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_INPUT_HASH,
  ATTR_AUDIT_INPUT_HASH_KEY_ID,
  ATTR_AUDIT_INTEGRITY_STREAM,
  ATTR_AUDIT_MODEL_VERSION,
  ATTR_USER_ID,
} from '@decisiontrail/semconv';
import type { SpanRecord } from '@decisiontrail/core';
import { verifierLeafHex } from '@decisiontrail/core/internal';
import { createHmac } from 'node:crypto';
import { decisionAttributes } from '../support/signed-batches.ts';

function record(attributes: Record<string, string>): SpanRecord {
  return {
    traceId: '01'.repeat(16),
    spanId: '02'.repeat(8),
    parentSpanId: '',
    traceState: '',
    name: 'audit.decision',
    kind: 'Internal',
    startTimeUnixNano: '1',
    endTimeUnixNano: '2',
    statusCode: 'Unset',
    statusMessage: '',
    attributes,
    resourceAttributes: {},
    scopeName: '',
    scopeVersion: '',
    events: [],
    links: [],
  };
}

const stringAttrs = (i: number): Record<string, string> =>
  Object.fromEntries(Object.entries(decisionAttributes(i)).map(([k, v]) => [k, String(v)]));

describe('policy stage', () => {
  const key = Buffer.alloc(32, 7);
  const policy = new PolicyStage({
    hash: [ATTR_AUDIT_INPUT_CONTENT, 'card.number'],
    redact: [ATTR_USER_ID],
    signedPlaintext: 'quarantine',
    hmacKey: key,
  });

  it('moves hashed content to the hash attributes and redacts, on unsigned spans', () => {
    const r = record({
      ...stringAttrs(0),
      [ATTR_AUDIT_INPUT_CONTENT]: 'hello',
      [ATTR_USER_ID]: 'bob',
      'card.number': '4111',
    });
    expect(policy.apply(r)).toEqual({
      action: 'applied',
      attributes: [ATTR_AUDIT_INPUT_CONTENT, ATTR_USER_ID, 'card.number'],
    });
    expect(r.attributes[ATTR_AUDIT_INPUT_CONTENT]).toBeUndefined();
    expect(r.attributes[ATTR_AUDIT_INPUT_HASH]).toBe(createHmac('sha256', key).update('hello').digest('hex'));
    expect(r.attributes[ATTR_AUDIT_INPUT_HASH_KEY_ID]).toBe(policy.keyId);
    expect(r.attributes[ATTR_AUDIT_INPUT_CAPTURE_MODE]).toBe('hash');
    expect(r.attributes[ATTR_USER_ID]).toBe(REDACTED_VALUE);
    expect(r.attributes['card.number']).toBe(createHmac('sha256', key).update('4111').digest('hex'));
  });

  it('quarantines a signed span without its plaintext, carrying the leaf it arrived with; or keeps it when configured', () => {
    const signed = record({ [ATTR_AUDIT_INTEGRITY_STREAM]: 's', [ATTR_USER_ID]: 'bob' });
    const arrived = verifierLeafHex(signed);
    const outcome = policy.apply(signed);
    expect(outcome).toMatchObject({ action: 'quarantine', attributes: [ATTR_USER_ID], leaf: arrived });
    expect(signed.attributes[ATTR_USER_ID]).toBe(REDACTED_VALUE);
    expect(verifierLeafHex(signed)).not.toBe(arrived);
    const keep = new PolicyStage({
      hash: [],
      redact: [ATTR_USER_ID],
      signedPlaintext: 'keep',
      hmacKey: undefined,
    });
    const kept = record({ [ATTR_AUDIT_INTEGRITY_STREAM]: 's', [ATTR_USER_ID]: 'bob' });
    expect(keep.apply(kept)).toEqual({ action: 'unchanged' });
    expect(kept.attributes[ATTR_USER_ID]).toBe('bob');
  });

  it('finds configured names in a protobuf body only where a span could carry one', () => {
    const body = (attributes: Record<string, string>): Uint8Array =>
      ExportTraceServiceRequestType.encode({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: Buffer.alloc(16, 1),
                    spanId: Buffer.alloc(8, 2),
                    name: 'x',
                    attributes: Object.entries(attributes).map(([key, value]) => ({
                      key,
                      value: { stringValue: value },
                    })),
                  },
                ],
              },
            ],
          },
        ],
      }).finish();
    expect(policy.mentionedIn(body({ [ATTR_USER_ID]: 'bob' }))).toBe(true);
    expect(policy.mentionedIn(body({ 'card.number': '1' }))).toBe(true);
    expect(policy.mentionedIn(body({ 'user.name': 'bob' }))).toBe(false);
    // A name inside a value is a false positive the decode then settles, never a miss.
    expect(policy.mentionedIn(body({ note: `see ${ATTR_USER_ID}` }))).toBe(true);
  });

  it('refuses hash rules without a key', () => {
    expect(
      () => new PolicyStage({ hash: ['x'], redact: [], signedPlaintext: 'keep', hmacKey: undefined }),
    ).toThrow(/HMAC key/);
  });
});

describe('completeness check', () => {
  it('lists required and applicable conditionally required attributes that are absent', () => {
    const attrs = stringAttrs(0);
    delete attrs[ATTR_AUDIT_MODEL_VERSION];
    delete attrs[ATTR_AUDIT_INPUT_HASH];
    const r = record({ ...attrs, [ATTR_AUDIT_COMPLETENESS_MISSING]: '["forged"]' });
    const missing = annotateCompleteness(r);
    expect(missing).toContain(ATTR_AUDIT_MODEL_VERSION);
    // capture mode `hash` makes the input hash required.
    expect(missing).toContain(ATTR_AUDIT_INPUT_HASH);
    expect(JSON.parse(r.attributes[ATTR_AUDIT_COMPLETENESS_MISSING]!)).toEqual(missing);
  });

  it('leaves complete spans and non-audit spans without the attribute', () => {
    const complete = record({ ...stringAttrs(1), [ATTR_AUDIT_COMPLETENESS_MISSING]: '["forged"]' });
    expect(annotateCompleteness(complete)).toEqual([]);
    expect(complete.attributes[ATTR_AUDIT_COMPLETENESS_MISSING]).toBeUndefined();
    expect(annotateCompleteness(record({ 'http.method': 'GET' }))).toEqual([]);
  });
});

describe('direct protobuf decoder', () => {
  const span = {
    traceId: Buffer.alloc(16, 1),
    spanId: Buffer.alloc(8, 2),
    name: 'x',
    attributes: [{ key: 'a', value: { intValue: 5 } }],
  };

  it('accepts fields in any order (resource after its spans, as protobuf merging allows)', () => {
    const spansFirst = ExportTraceServiceRequestType.encode({
      resourceSpans: [{ scopeSpans: [{ spans: [span] }] }],
    }).finish();
    // Concatenated messages merge: a second ResourceSpans field 1 would be a second resource, so build the
    // inner ResourceSpans by hand: scope_spans (field 2) first, then resource (field 1).
    const resource = ExportTraceServiceRequestType.encode({
      resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] } }],
    }).finish();
    const inner = Buffer.concat([spansFirst.subarray(2), resource.subarray(2)]);
    const body = Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
    const [decoded] = decodeProtobufRequest(body).records;
    expect(decoded).toMatchObject({ resourceAttributes: { 'service.name': 'svc' }, attributes: { a: '5' } });
  });

  it('refuses a known field with the wrong wire type and a length running past its message', () => {
    // resource_spans (field 1) as a varint instead of a message.
    expect(() => decodeProtobufRequest(Buffer.from([0x08, 0x01]))).toThrow(/wrong wire type/);
    const good = ExportTraceServiceRequestType.encode({
      resourceSpans: [{ scopeSpans: [{ spans: [span] }] }],
    }).finish();
    expect(() => decodeProtobufRequest(good.subarray(0, good.length - 1))).toThrow();
    expect(decodeProtobufRequest(good).records).toHaveLength(1);
  });
});
