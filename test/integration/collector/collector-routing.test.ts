import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  collectorEnv,
  collectorPorts,
  gatewayTierProcessorOf,
  MISSING_BINARY_MESSAGE,
  otelcolBinary,
  OtlpJsonSink,
  sendOtlpJson,
  sleep,
  startCollector,
  waitFor,
  type ReceivedSpan,
  type RunningCollector,
  type SpanToSend,
} from './otelcol-harness.ts';

// Routing, sampling and stream affinity of the shipped configs, through the real Collector. The
// processors and the team's backend are OTLP/JSON sinks here (the exporters are switched to JSON
// with --set); the end-to-end tests in test/e2e/collector put the real processor behind it.

const binary = otelcolBinary();
if (binary === undefined) console.warn(MISSING_BINARY_MESSAGE);

const SAMPLING = { TAIL_SAMPLING_DECISION_WAIT: '1s', SAMPLING_PERCENTAGE: '10' };
const ORDINARY_TRACES = 200;
const SPANS_PER_ORDINARY_TRACE = 3;
const ERROR_TRACES = 10;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

function ordinaryTraces(count: number, errors: number): SpanToSend[][] {
  return Array.from({ length: count }, (_, index) => {
    const traceId = hex(16);
    return Array.from({ length: SPANS_PER_ORDINARY_TRACE }, (_, spanIndex) => ({
      traceId,
      spanId: hex(8),
      name: spanIndex === 0 ? 'GET /orders' : `db.query ${spanIndex}`,
      attributes: { 'url.path': '/orders', 'http.request.header.authorization': 'Bearer secret' },
      error: index < errors && spanIndex === 0,
    }));
  });
}

function decisionSpan(stream: string | undefined, seq: number, traceId = hex(16)): SpanToSend {
  return {
    traceId,
    spanId: hex(8),
    name: 'audit.decision credit-model',
    attributes: {
      'audit.record.type': 'decision',
      'audit.decision.id': `0193${hex(14)}`,
      'audit.decision.confidence': 0.875,
      'audit.model.inference.seed': 42,
      'audit.feedback.correct': true,
      ...(stream === undefined ? {} : { 'audit.integrity.stream': stream, 'audit.integrity.seq': seq }),
    },
  };
}

function byTrace(spans: ReceivedSpan[]): Map<string, ReceivedSpan[]> {
  const traces = new Map<string, ReceivedSpan[]>();
  for (const span of spans) traces.set(span.traceId, [...(traces.get(span.traceId) ?? []), span]);
  return traces;
}

/** Waits until `spans` stops growing for `quietMs`, so a count is final. */
async function settled(spans: unknown[], quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    if (spans.length !== last) {
      last = spans.length;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
    await sleep(100);
  }
}

const isAudit = (span: ReceivedSpan): boolean => 'audit.record.type' in span.attributes;

describe.skipIf(binary === undefined)('Collector routing of the shipped configs', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'otelcol-routing-'));
  const sinks: OtlpJsonSink[] = [];
  let collectors: RunningCollector[] = [];

  afterEach(async () => {
    await Promise.all(collectors.map((collector) => collector.stop()));
    collectors = [];
    await Promise.all(sinks.splice(0).map((sink) => sink.close()));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  async function start(config: string, env: Record<string, string>, jsonExporters: string[]) {
    const ports = await collectorPorts();
    const collector = await startCollector({
      binary: binary as string,
      config,
      env: { ...collectorEnv(ports, mkdtempSync(join(scratch, 'storage-'))), ...SAMPLING, ...env },
      healthPort: ports.health,
      set: jsonExporters.map((id) => `exporters::${id}::encoding=json`),
    });
    collectors.push(collector);
    return { collector, ports };
  }

  async function sink(): Promise<OtlpJsonSink> {
    const started = await OtlpJsonSink.start();
    sinks.push(started);
    return started;
  }

  it('gateway.yaml: audit spans untouched to decisiontrail; others filtered, scrubbed and tail-sampled to the backend', async () => {
    const decisiontrail = await sink();
    const backend = await sink();
    const { ports } = await start(
      'gateway.yaml',
      { DECISIONTRAIL_PROCESSOR_ENDPOINT: decisiontrail.endpoint, TEAM_BACKEND_ENDPOINT: backend.endpoint },
      ['otlp_http/decisiontrail', 'otlp_http/backend'],
    );

    const ordinary = ordinaryTraces(ORDINARY_TRACES, ERROR_TRACES);
    const healthChecks = Array.from({ length: 20 }, () => ({
      traceId: hex(16),
      spanId: hex(8),
      name: 'GET /healthz',
      attributes: { 'url.path': '/healthz' },
    }));
    // Audit spans inside ordinary traces, and one carrying the very attribute the backend branch scrubs.
    const audit = ordinary
      .slice(0, 30)
      .map((trace, index) => decisionSpan('stream-a', index, trace[0]?.traceId));
    const auditWithHeader: SpanToSend = decisionSpan('stream-a', 30);
    auditWithHeader.attributes['http.request.header.authorization'] = 'kept-on-audit-spans';
    audit.push(auditWithHeader);
    // Ordinary spans of an app that signs all its spans: leaves of its stream, so decisiontrail gets
    // a copy, unscrubbed, while the backend gets them like any ordinary span.
    const signedOrdinary = ordinaryTraces(20, 0).map((trace) =>
      trace.map((span, index) => ({
        ...span,
        attributes: {
          ...span.attributes,
          'audit.integrity.stream': 'stream-a',
          'audit.integrity.seq': 100 + index,
        },
      })),
    );
    const toDecisiontrail = [...audit, ...signedOrdinary.flat()];

    for (let batch = 0; batch < 10; batch++) {
      const spans = ordinary.slice(batch * 20, batch * 20 + 20).flat();
      await sendOtlpJson(ports.http, 'checkout', [...spans, ...audit.slice(batch * 3, batch * 3 + 3)]);
    }
    await sendOtlpJson(ports.http, 'checkout', [
      ...healthChecks,
      ...audit.slice(30),
      ...signedOrdinary.flat(),
    ]);

    expect(await waitFor(() => decisiontrail.spans.length >= toDecisiontrail.length, 20_000)).toBe(true);
    // Decisions come after decision_wait; the error traces are the ones sure to be kept.
    const errorSpanIds = ordinary.slice(0, ERROR_TRACES).flatMap((trace) => trace.map((span) => span.spanId));
    await waitFor(() => errorSpanIds.every((id) => backend.spans.some((span) => span.spanId === id)), 20_000);
    await settled(backend.spans, 2_500, 20_000);

    // Every audit and signed span reached decisiontrail once, with attributes exactly as sent; nothing else did.
    expect(decisiontrail.spans.map((span) => span.spanId).sort()).toEqual(
      toDecisiontrail.map((span) => span.spanId).sort(),
    );
    for (const sent of toDecisiontrail) {
      expect(decisiontrail.spans.find((span) => span.spanId === sent.spanId)?.attributes).toEqual(
        sent.attributes,
      );
    }
    // The backend never sees audit spans nor health checks, and sees no authorization header.
    expect(backend.spans.filter(isAudit)).toEqual([]);
    expect(backend.spans.filter((span) => span.name === 'GET /healthz')).toEqual([]);
    expect(backend.spans.filter((span) => 'http.request.header.authorization' in span.attributes)).toEqual(
      [],
    );
    // Tail sampling keeps whole traces (signed ones too): every error trace, and about 10% of the rest.
    const kept = byTrace(backend.spans);
    for (const spans of kept.values()) expect(spans).toHaveLength(SPANS_PER_ORDINARY_TRACE);
    for (const trace of ordinary.slice(0, ERROR_TRACES))
      expect(kept.has(trace[0]?.traceId as string)).toBe(true);
    const keptOrdinary = kept.size - ERROR_TRACES;
    expect(keptOrdinary).toBeGreaterThanOrEqual(3);
    expect(keptOrdinary).toBeLessThanOrEqual(60);
  });

  it('tail-sampling.yaml: decisiontrail gets every audit span; the backend keeps every trace that has one', async () => {
    const decisiontrail = await sink();
    const backend = await sink();
    const { ports } = await start(
      'tail-sampling.yaml',
      { DECISIONTRAIL_PROCESSOR_ENDPOINT: decisiontrail.endpoint, TEAM_BACKEND_ENDPOINT: backend.endpoint },
      ['otlp_http/decisiontrail', 'otlp_http/backend'],
    );

    const ordinary = ordinaryTraces(ORDINARY_TRACES, 0);
    const withAudit = ordinary.slice(0, 20);
    const audit = withAudit.map((trace, index) => decisionSpan('stream-b', index, trace[0]?.traceId));
    await sendOtlpJson(ports.http, 'checkout', [...ordinary.flat(), ...audit]);

    // After the decision wait: oversight spans in traces of their own (linked to the decision, the
    // usual case), and feedback spans added to ordinary traces the sampler has already judged.
    await sleep(3_000);
    const oversight = audit.slice(0, 10).map((decision, index) => ({
      ...decisionSpan('stream-b', 20 + index),
      name: 'audit.oversight',
      attributes: {
        'audit.record.type': 'oversight',
        'audit.decision.id': decision.attributes['audit.decision.id'] as string,
        'audit.integrity.stream': 'stream-b',
      },
    }));
    const lateInJudgedTraces = ordinary.slice(100, 110).map((trace, index) => ({
      ...decisionSpan('stream-b', 30 + index, trace[0]?.traceId),
      name: 'audit.feedback',
      attributes: { 'audit.record.type': 'feedback', 'audit.integrity.stream': 'stream-b' },
    }));
    await sendOtlpJson(ports.http, 'review-ui', [...oversight, ...lateInJudgedTraces]);

    const allAudit = [...audit, ...oversight, ...lateInJudgedTraces];
    expect(await waitFor(() => decisiontrail.spans.length >= allAudit.length, 20_000)).toBe(true);
    const oversightIds = oversight.map((span) => span.spanId);
    await waitFor(() => oversightIds.every((id) => backend.spans.some((span) => span.spanId === id)), 20_000);
    await settled(backend.spans, 2_500, 20_000);

    // decisiontrail's copy never passes the sampler: every audit span, including the late ones.
    expect(decisiontrail.spans.map((span) => span.spanId).sort()).toEqual(
      allAudit.map((s) => s.spanId).sort(),
    );
    // The backend keeps every trace that has an audit span when it is judged, whole.
    const backendIds = new Set(backend.spans.map((span) => span.spanId));
    for (const span of [...audit, ...oversight]) expect(backendIds.has(span.spanId), span.name).toBe(true);
    for (const trace of withAudit) for (const span of trace) expect(backendIds.has(span.spanId)).toBe(true);
    const ordinaryOnly = [...byTrace(backend.spans).values()].filter((spans) => !spans.some(isAudit));
    expect(ordinaryOnly.length).toBeGreaterThanOrEqual(3);
    expect(ordinaryOnly.length).toBeLessThanOrEqual(60);
  });

  it('agent.yaml + gateway-tier.yaml: each stream lands on one processor, whichever gateway receives it', async () => {
    const processors = [await sink(), await sink()];
    const backend = await sink();
    const tierEnv = {
      DECISIONTRAIL_PROCESSOR_0_ENDPOINT: processors[0]?.endpoint as string,
      DECISIONTRAIL_PROCESSOR_1_ENDPOINT: processors[1]?.endpoint as string,
      TEAM_BACKEND_ENDPOINT: backend.endpoint,
    };
    const jsonExporters = ['otlp_http/processor_0', 'otlp_http/processor_1', 'otlp_http/backend'];
    const gatewayA = await start('gateway-tier.yaml', tierEnv, jsonExporters);
    const gatewayB = await start('gateway-tier.yaml', tierEnv, jsonExporters);
    const agent = await start(
      'agent.yaml',
      { GATEWAY_ENDPOINT: `127.0.0.1:${gatewayA.ports.grpc}`, GATEWAY_INSECURE: 'true' },
      [],
    );

    // 24 streams; half of each stream's spans enter through the agent (to gateway A), half straight
    // into gateway B. Checkpoint spans carry the stream too. Unsigned audit spans have no stream.
    const streams = Array.from({ length: 24 }, (_, index) => `svc-${index}-${hex(4)}`);
    const viaAgent: SpanToSend[] = [];
    const viaGatewayB: SpanToSend[] = [];
    for (const stream of streams) {
      for (let seq = 0; seq < 6; seq++)
        (seq % 2 === 0 ? viaAgent : viaGatewayB).push(decisionSpan(stream, seq));
      viaGatewayB.push({
        traceId: hex(16),
        spanId: hex(8),
        name: 'audit.checkpoint',
        attributes: {
          'audit.record.type': 'checkpoint',
          'audit.integrity.stream': stream,
          'audit.checkpoint.size': 6,
        },
      });
    }
    const unsigned = [decisionSpan(undefined, 0), decisionSpan(undefined, 0)];
    const ordinary = ordinaryTraces(40, 0).flat();
    await sendOtlpJson(agent.ports.http, 'scoring', [...viaAgent, ...ordinary.slice(0, 60)]);
    await sendOtlpJson(gatewayB.ports.http, 'scoring', [...viaGatewayB, ...unsigned, ...ordinary.slice(60)]);

    const allAudit = [...viaAgent, ...viaGatewayB, ...unsigned];
    const received = () => (processors[0]?.spans.length ?? 0) + (processors[1]?.spans.length ?? 0);
    expect(await waitFor(() => received() >= allAudit.length, 30_000)).toBe(true);
    await sleep(500);
    expect(received()).toBe(allAudit.length);

    const landedOn = (spanId: string): number =>
      processors.findIndex((processor) => processor?.spans.some((span) => span.spanId === spanId));
    for (const stream of streams) {
      const expected = gatewayTierProcessorOf(stream);
      const spans = allAudit.filter((span) => span.attributes['audit.integrity.stream'] === stream);
      expect(
        spans.map((span) => landedOn(span.spanId)),
        stream,
      ).toEqual(spans.map(() => expected));
    }
    expect(new Set(streams.map(gatewayTierProcessorOf)).size).toBe(2);
    for (const span of unsigned) expect(landedOn(span.spanId)).toBe(0);
    for (const processor of processors) expect(processor?.spans.every(isAudit)).toBe(true);
    expect(backend.spans.filter(isAudit)).toEqual([]);
  });
});
