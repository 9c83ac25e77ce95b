import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectorEnv,
  collectorPorts,
  exporterQueueSize,
  freePort,
  MISSING_BINARY_MESSAGE,
  otelcolBinary,
  OtlpJsonSink,
  sleep,
  startCollector,
  type CollectorPorts,
  type RunningCollector,
} from '../../integration/collector/otelcol-harness.ts';
import { AuditApp, Decisiontrail } from './audit-pipeline-harness.ts';

// Faults with the real Collector (gateway.yaml) between the app and `decisiontrail serve`: the
// processor away for a while, and the Collector killed with SIGKILL while the app keeps deciding.
// Afterwards every decision the app ended is in the store exactly once, and the stream verifies.

const binary = otelcolBinary();
if (binary === undefined) console.warn(MISSING_BINARY_MESSAGE);

describe.skipIf(binary === undefined)(
  'faults between the app and decisiontrail, through the Collector',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2e-collector-faults-'));
    const queueDir = join(dir, 'collector-queue');
    let ports: CollectorPorts;
    let backend: OtlpJsonSink;
    let decisiontrail: Decisiontrail;
    let app: AuditApp;
    let collector: RunningCollector | undefined;
    const decided: string[] = [];
    const started = new Date(Date.now() - 60_000);

    async function startGateway(): Promise<RunningCollector> {
      return startCollector({
        binary: binary as string,
        config: 'gateway.yaml',
        // The same queue directory every time: a restarted Collector resumes what it had acknowledged.
        env: {
          ...collectorEnv(ports, queueDir),
          DECISIONTRAIL_PROCESSOR_ENDPOINT: decisiontrail.url,
          TEAM_BACKEND_ENDPOINT: backend.endpoint,
        },
        healthPort: ports.health,
        set: ['exporters::otlp_http/backend::encoding=json'],
      });
    }

    /** Makes `count` decisions at about `perSecond`, while the batch processor exports every 100 ms. */
    async function decideAtRate(count: number, perSecond: number): Promise<void> {
      for (let index = 0; index < count; index++) {
        decided.push(app.decide(decided.length).decisionId);
        if (index % 10 === 9) await sleep((10 * 1000) / perSecond);
      }
    }

    /** Waits until every decision made so far is stored, then checks each is there exactly once and verifies. */
    async function expectEveryDecisionOnceAndVerified(): Promise<void> {
      await app.flush();
      const expected = [...decided].sort();
      let stored: string[] = [];
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        const rows = await decisiontrail.store.decisions({
          from: started,
          to: new Date(Date.now() + 3_600_000),
        });
        stored = rows.map((row) => row.decisionId).sort();
        if (stored.length >= expected.length) break;
        await sleep(250);
      }
      expect(stored).toEqual(expected);
      const raw = await decisiontrail.rawDecisionCounts();
      expect([...raw.entries()].filter(([, count]) => count !== 1)).toEqual([]);
      expect(raw.size).toBe(expected.length);

      const report = await decisiontrail.verify(app);
      expect(report.streams.flatMap((stream) => stream.findings)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.streams[0]?.verifiedSize).toBe(expected.length);
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
      collector = await startGateway();
    });

    afterAll(async () => {
      await collector?.stop();
      await app?.shutdown();
      await decisiontrail?.close();
      await backend?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps deciding while the processor is down; everything arrives once it is back', async () => {
      await decideAtRate(50, 200);
      await app.flush();
      await decisiontrail.stop();
      await decideAtRate(150, 200);
      await app.flush();
      // The Collector acknowledged all of it into its persistent queue and keeps retrying.
      await sleep(3_000);
      await decisiontrail.restart();
      await decideAtRate(50, 200);
      await expectEveryDecisionOnceAndVerified();
    });

    it('survives a SIGKILL of the Collector mid-load, restarted on its file_storage queue', async () => {
      const load = decideAtRate(600, 200);
      await sleep(500);
      // Hold the processor back so the Collector's queue is full of acknowledged spans when it dies.
      await decisiontrail.stop();
      await sleep(1_000);
      expect(await exporterQueueSize(ports.metrics, 'otlp_http/decisiontrail')).toBeGreaterThan(0);
      await collector?.kill();
      // The app's OTLP exporter meets connection refused now and retries.
      await sleep(500);
      collector = await startGateway();
      await sleep(500);
      await decisiontrail.restart();
      await load;
      await expectEveryDecisionOnceAndVerified();
    });
  },
);
