import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { spanRecordToReadableSpan } from '@decisiontrail/processor';
import type { SpanRecord } from '@decisiontrail/core';

const record: SpanRecord = {
  traceId: '0102030405060708090a0b0c0d0e0f10',
  spanId: '0102030405060708',
  parentSpanId: '',
  traceState: '',
  name: 'audit.decision',
  kind: 'Server',
  startTimeUnixNano: '1700000000000000001',
  endTimeUnixNano: '1700000000000000002',
  statusCode: 'Error',
  statusMessage: 'boom',
  attributes: {},
  resourceAttributes: { 'service.name': 'svc' },
  scopeName: 's',
  scopeVersion: '',
  events: [],
  links: [],
};

describe('spanRecordToReadableSpan', () => {
  it('forwards kind and status of both exporter spellings as the same SDK values', () => {
    for (const spelled of [
      record,
      { ...record, kind: 'SPAN_KIND_SERVER', statusCode: 'STATUS_CODE_ERROR' },
    ]) {
      const span = spanRecordToReadableSpan(spelled);
      expect(span.kind).toBe(SpanKind.SERVER);
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    }
    const client = spanRecordToReadableSpan({ ...record, kind: 'Client', statusCode: 'Ok' });
    expect([client.kind, client.status.code]).toEqual([SpanKind.CLIENT, SpanStatusCode.OK]);
  });
});
