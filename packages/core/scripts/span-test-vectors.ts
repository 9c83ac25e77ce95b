import type { SpanRecord } from '@decisiontrail/core';

/**
 * The span records behind `test-vectors/spans.json`. Each exercises something a ClickHouse round
 * trip must preserve: unicode and escapes, events and links, resource attributes beyond
 * `service.*`, the integrity/completeness attributes that the leaf leaves out, and kind/status in
 * the spelling of older Collector exporters (`SPAN_KIND_*` / `STATUS_CODE_*`), which must give the
 * same leaf as the current spelling.
 */
const RECORDS: { name: string; description: string; record: SpanRecord }[] = [
  {
    name: 'minimal-root-span',
    description: 'A root span with no attributes, events or links.',
    record: {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: '',
      traceState: '',
      name: 'audit.decision',
      kind: 'Internal',
      startTimeUnixNano: '1764032400000000000',
      endTimeUnixNano: '1764032400000123456',
      statusCode: 'Unset',
      statusMessage: '',
      attributes: {},
      resourceAttributes: {},
      scopeName: '',
      scopeVersion: '',
      events: [],
      links: [],
    },
  },
  {
    name: 'decision-with-integrity',
    description:
      'A decision span carrying integrity, completeness and non-service resource attributes, all of which the leaf excludes.',
    record: {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      parentSpanId: '53995c3f42cd8ad8',
      traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
      name: 'chat gpt-4o-mini',
      kind: 'Client',
      startTimeUnixNano: '1764032401123456789',
      endTimeUnixNano: '1764032402987654321',
      statusCode: 'Ok',
      statusMessage: '',
      attributes: {
        'audit.record.type': 'decision',
        'audit.decision.id': '019ab3f0-8c1e-7c3a-9d2b-5e4f3a2b1c0d',
        'audit.decision.outcome': 'approve',
        'audit.decision.confidence': '0.93',
        'audit.decision.risk_level': 'high',
        'audit.input.size': '2048',
        'audit.feedback.correct': 'true',
        'gen_ai.response.finish_reasons': '["stop"]',
        'audit.integrity.stream': '019ab3f0-0000-7000-8000-000000000001',
        'audit.integrity.seq': '41',
        'audit.integrity.algorithm': 'rfc6962-sha256-jcs',
        'audit.integrity.key_id': '8a3f2c1d',
        'audit.completeness.missing': '["audit.subject.id"]',
      },
      resourceAttributes: {
        'service.name': 'loan-api',
        'service.version': '1.4.2',
        'host.name': 'ip-10-0-0-12',
        'telemetry.sdk.language': 'nodejs',
      },
      scopeName: '@decisiontrail/instrumentation',
      scopeVersion: '0.1.0',
      events: [],
      links: [],
    },
  },
  {
    name: 'error-span-with-events-links-unicode',
    description:
      'Error status, events, links, unicode, control characters and key order that differs by code unit.',
    record: {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: '',
      traceState: '',
      name: 'audit.oversight',
      kind: 'Server',
      startTimeUnixNano: '1764032403000000001',
      endTimeUnixNano: '1764032403000000002',
      statusCode: 'Error',
      statusMessage: 'reviewer said "no" \u2014 tab\there, newline\nthere',
      attributes: {
        'audit.oversight.reason': 'Zurückgewiesen: Einkommen < Schwelle & Risiko > 0,8 😀',
        'audit.oversight.action': 'override',
        '\uff5e': 'fullwidth tilde sorts before the emoji by bytes, after it by UTF-16 units',
        '😀': 'emoji key',
        control: '\u0000\u0001\u001f\u007f',
      },
      resourceAttributes: { 'service.name': 'review-ui' },
      scopeName: 'manual',
      scopeVersion: '',
      events: [
        {
          timeUnixNano: '1764032403000000001',
          name: 'exception',
          attributes: { 'exception.message': 'boom' },
        },
        { timeUnixNano: '1764032403000000002', name: 'note', attributes: {} },
      ],
      links: [
        {
          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          spanId: '00f067aa0ba902b7',
          traceState: '',
          attributes: { 'audit.decision.id': '019ab3f0-8c1e-7c3a-9d2b-5e4f3a2b1c0d' },
        },
      ],
    },
  },
];

const errorSpan = RECORDS.find(
  (vector) => vector.name === 'error-span-with-events-links-unicode',
) as (typeof RECORDS)[number];

/** The vectors: {@link RECORDS} plus the error span as an older exporter wrote it. */
export const SPAN_TEST_VECTOR_RECORDS: { name: string; description: string; record: SpanRecord }[] = [
  ...RECORDS,
  {
    name: 'error-span-legacy-kind-status-spelling',
    description:
      'The error span as Collector exporters before pdata String() wrote it (SPAN_KIND_SERVER, STATUS_CODE_ERROR): same canonical JSON and leaf as error-span-with-events-links-unicode.',
    record: { ...errorSpan.record, kind: 'SPAN_KIND_SERVER', statusCode: 'STATUS_CODE_ERROR' },
  },
];
