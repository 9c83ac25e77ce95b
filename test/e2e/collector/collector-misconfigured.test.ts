import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionReference } from '@decisiontrail/instrumentation';
import type { VerificationReport } from '@decisiontrail/core';
import {
  collectorEnv,
  collectorPorts,
  MISSING_BINARY_MESSAGE,
  otelcolBinary,
  OtlpJsonSink,
  sleep,
  startCollector,
  type RunningCollector,
} from '../../integration/collector/otelcol-harness.ts';
import {
  AuditApp,
  runDecisiontrail,
  ServeProcess,
  writeGatewayWithAuditTransform,
} from './audit-pipeline-harness.ts';

// app ─► gateway.yaml + a transform on the audit branch ─► `decisiontrail serve` with its verify stage off
// Nothing stops the rewritten spans on the way in; `decisiontrail verify` over the stored rows names each one.

const binary = otelcolBinary();
if (binary === undefined) console.warn(MISSING_BINARY_MESSAGE);

const DECISIONS = 30;

describe.skipIf(binary === undefined)('a Collector pipeline that rewrites signed spans', () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-collector-misconfigured-'));
  let backend: OtlpJsonSink;
  let app: AuditApp;
  let serve: ServeProcess | undefined;
  let collector: RunningCollector | undefined;

  beforeAll(async () => {
    const ports = await collectorPorts();
    backend = await OtlpJsonSink.start();
    app = AuditApp.start({ collectorUrl: `http://127.0.0.1:${ports.http}`, dir });
    serve = await ServeProcess.start({ dir: join(dir, 'serve'), key: app.key, verifyOnIngest: false });
    const config = join(dir, 'gateway-with-transform.yaml');
    writeGatewayWithAuditTransform(config);
    collector = await startCollector({
      binary: binary as string,
      config,
      env: {
        ...collectorEnv(ports, join(dir, 'queue')),
        DECISIONTRAIL_PROCESSOR_ENDPOINT: serve.url,
        TEAM_BACKEND_ENDPOINT: backend.endpoint,
      },
      healthPort: ports.health,
      set: ['exporters::otlp_http/backend::encoding=json'],
    });
  });

  afterAll(async () => {
    await collector?.stop();
    await app?.shutdown();
    await serve?.stop();
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is caught by decisiontrail verify, which names every rewritten span', async () => {
    const references: DecisionReference[] = [];
    for (let index = 0; index < DECISIONS; index++) references.push(app.decide(index));
    await app.flush();
    // decide() answers "deny" for every third applicant: those are the spans the transform rewrites.
    const rewritten = references.filter((_, index) => index % 3 === 0).map((reference) => reference.spanId);

    const window = {
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date(Date.now() + 3_600_000).toISOString(),
    };
    let stored: { decisionId: string; outcome: string }[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && stored.length < DECISIONS) {
      stored = await (serve as ServeProcess).query('decisions', window);
      await sleep(250);
    }
    expect(stored).toHaveLength(DECISIONS);
    // The store holds what the Collector made of them: no "deny" is left.
    expect(stored.filter((row) => row.outcome === 'deny')).toEqual([]);

    const witness = join(dir, 'witness.jsonl');
    writeFileSync(
      witness,
      (await app.witnessCheckpoints()).map((note) => `${JSON.stringify({ note })}\n`).join(''),
    );
    const result = runDecisiontrail(
      ['verify', '--config', 'decisiontrail.yaml', '--witness', witness, '--json'],
      (serve as ServeProcess).dir,
    );
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as VerificationReport;
    const findings = report.streams.flatMap((stream) => stream.findings);
    expect(findings.filter((finding) => finding.code !== 'modified')).toEqual([]);
    expect(findings.map((finding) => finding.spanId).sort()).toEqual([...rewritten].sort());
  });
});
