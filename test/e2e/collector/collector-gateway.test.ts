import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionReference } from '@decisiontrail/instrumentation';
import {
  collectorEnv,
  collectorPorts,
  freePort,
  MISSING_BINARY_MESSAGE,
  otelcolBinary,
  OtlpJsonSink,
  startCollector,
  waitFor,
  type CollectorPorts,
  type RunningCollector,
} from '../../integration/collector/otelcol-harness.ts';
import { auditDeliveryProblems, toCollectorConfig } from '../../unit/collector/collector-config-model.ts';
import { AuditApp, Decisiontrail, writeGatewayWithAuditTransform } from './audit-pipeline-harness.ts';

// app (instrumentation + signing exporter) ─► Collector (gateway.yaml) ─┬─► decisiontrail serve ─► store
//                                                                        └─► the team's backend (a sink)

const binary = otelcolBinary();
if (binary === undefined) console.warn(MISSING_BINARY_MESSAGE);

const DECISIONS = 60;
const ORDINARY_TRACES = 150;

describe.skipIf(binary === undefined)('through the Collector gateway into decisiontrail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-collector-gateway-'));
  let ports: CollectorPorts;
  let backend: OtlpJsonSink;
  let decisiontrail: Decisiontrail;
  let app: AuditApp;
  let collector: RunningCollector | undefined;
  const started = new Date(Date.now() - 60_000);

  async function startGateway(config: string, storage: string): Promise<RunningCollector> {
    return startCollector({
      binary: binary as string,
      config,
      env: {
        ...collectorEnv(ports, join(dir, storage)),
        DECISIONTRAIL_PROCESSOR_ENDPOINT: decisiontrail.url,
        TEAM_BACKEND_ENDPOINT: backend.endpoint,
        TAIL_SAMPLING_DECISION_WAIT: '1s',
        SAMPLING_PERCENTAGE: '10',
      },
      healthPort: ports.health,
      set: ['exporters::otlp_http/backend::encoding=json'],
    });
  }

  async function storedDecisionIds(): Promise<string[]> {
    const rows = await decisiontrail.store.decisions({ from: started, to: new Date(Date.now() + 3_600_000) });
    return rows.map((row) => row.decisionId);
  }

  beforeAll(async () => {
    ports = await collectorPorts();
    backend = await OtlpJsonSink.start();
    app = AuditApp.start({ collectorUrl: `http://127.0.0.1:${ports.http}`, dir });
    decisiontrail = await Decisiontrail.start({
      dir: join(dir, 'decisiontrail'),
      port: await freePort(),
      key: app.key,
    });
    collector = await startGateway('gateway.yaml', 'queue-gateway');
  });

  afterAll(async () => {
    await collector?.stop();
    await app?.shutdown();
    await decisiontrail?.close();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every audit span verified, while tail sampling drops most ordinary traces', async () => {
    const references: DecisionReference[] = [];
    const ordinaryTraceIds: string[] = [];
    for (let index = 0; index < DECISIONS; index++) references.push(app.decide(index, index % 3 === 0));
    for (const reference of references.slice(0, 10)) app.override(reference);
    for (const reference of references.slice(10, 20)) app.feedback(reference);
    for (let index = 0; index < ORDINARY_TRACES; index++) ordinaryTraceIds.push(app.ordinaryTrace());
    await app.flush();

    const expected = references.map((reference) => reference.decisionId).sort();
    let stored: string[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && stored.length < expected.length) {
      stored = await storedDecisionIds();
      await new Promise((done) => setTimeout(done, 250));
    }
    expect(stored.sort()).toEqual(expected);
    for (const count of (await decisiontrail.rawDecisionCounts()).values()) expect(count).toBe(1);

    // Every stored signed span verifies against the app's key and witness: no Collector stage altered one.
    const report = await decisiontrail.verify(app);
    expect(report.streams.flatMap((stream) => stream.findings)).toEqual([]);
    expect(report.ok).toBe(true);
    const [stream] = report.streams;
    // Every span the app ended is a leaf: decisions, oversight, feedback, and the ordinary spans,
    // whose copies the gateway sent to decisiontrail while the backend sampled them. All sealed.
    expect(stream?.spanCount).toBe(app.spansEnded);
    expect(stream?.verifiedSize).toBe(app.spansEnded);
    expect(await decisiontrail.store.listQuarantine()).toEqual([]);

    // The backend got no audit span and about 10% of the ordinary traces, each one whole.
    await waitFor(() => backend.spans.length > 0, 20_000);
    await new Promise((done) => setTimeout(done, 3_000));
    expect(backend.spans.filter((span) => 'audit.record.type' in span.attributes)).toEqual([]);
    const keptTraces = new Set(backend.spans.map((span) => span.traceId));
    const keptOrdinary = ordinaryTraceIds.filter((traceId) => keptTraces.has(traceId));
    for (const traceId of keptOrdinary)
      expect(backend.spans.filter((s) => s.traceId === traceId)).toHaveLength(3);
    expect(keptOrdinary.length).toBeGreaterThanOrEqual(2);
    expect(keptOrdinary.length).toBeLessThanOrEqual(45);
  });

  it('catches a misconfigured pipeline whose transform rewrites an audit attribute', async () => {
    // gateway.yaml plus a transform on the audit branch: the mistake the README warns about.
    const misconfigured = join(dir, 'gateway-with-transform.yaml');
    const document = writeGatewayWithAuditTransform(misconfigured);
    // The wiring check would have refused it.
    expect(
      auditDeliveryProblems(
        toCollectorConfig('gateway-with-transform.yaml', document),
        'otlp_http/decisiontrail',
      ),
    ).toEqual(['pipeline traces/audit runs transform/normalize before otlp_http/decisiontrail']);

    await collector?.stop();
    collector = await startGateway(misconfigured, 'queue-misconfigured');
    const references: DecisionReference[] = [];
    for (let index = 0; index < 12; index++) references.push(app.decide(999 + index * 3)); // multiples of 3: all "deny"
    await app.flush();

    const altered = new Set(references.map((reference) => reference.spanId));
    let quarantined: Awaited<ReturnType<typeof decisiontrail.store.listQuarantine>> = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && quarantined.length < altered.size) {
      quarantined = await decisiontrail.store.listQuarantine();
      await new Promise((done) => setTimeout(done, 250));
    }
    // The processor's verify stage names every rewritten span and keeps it out of the store.
    expect(quarantined.map((entry) => entry.record.spanId).sort()).toEqual([...altered].sort());
    for (const entry of quarantined) {
      expect(entry.code).toBe('modified');
      expect(entry.record.attributes['audit.decision.outcome']).toBe('approve');
    }
    // And `verify` over the stored rows fails: the committed leaves of those spans are not in the store.
    const report = await decisiontrail.verify(app);
    expect(report.ok).toBe(false);
    const missing = report.streams
      .flatMap((stream) => stream.findings)
      .filter((finding) => finding.code === 'missing');
    expect(missing.length).toBeGreaterThan(0);
  });
});
