import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '@decisiontrail/core';
import {
  collectorEnv,
  collectorPorts,
  gatewayTierProcessorOf,
  MISSING_BINARY_MESSAGE,
  otelcolBinary,
  OtlpJsonSink,
  sleep,
  startCollector,
  type RunningCollector,
} from '../../integration/collector/otelcol-harness.ts';
import { AuditApp, runDecisiontrail, ServeProcess } from './audit-pipeline-harness.ts';

// app (6 signing streams, as 6 replicas) ─► agent.yaml ─► gateway-tier.yaml ─┬─► decisiontrail serve #0
//                                                                            └─► decisiontrail serve #1
// Each stream must land whole on one processor, so each processor's store verifies on its own.

const binary = otelcolBinary();
if (binary === undefined) console.warn(MISSING_BINARY_MESSAGE);

const STREAMS = Array.from({ length: 6 }, (_, index) => `loan-service-replica-${index}`);
const DECISIONS = 120;

describe.skipIf(binary === undefined)(
  'agent and load-balanced gateway tier in front of two processors',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2e-collector-tier-'));
    const collectors: RunningCollector[] = [];
    let processors: ServeProcess[] = [];
    let backend: OtlpJsonSink;
    let app: AuditApp;

    beforeAll(async () => {
      backend = await OtlpJsonSink.start();
      const agentPorts = await collectorPorts();
      app = AuditApp.start({ collectorUrl: `http://127.0.0.1:${agentPorts.http}`, dir, streamIds: STREAMS });
      processors = await Promise.all(
        [0, 1].map((index) => {
          const processorDir = join(dir, `processor-${index}`);
          mkdirSync(processorDir, { recursive: true });
          return ServeProcess.start({ dir: processorDir, key: app.key });
        }),
      );
      const gatewayPorts = await collectorPorts();
      collectors.push(
        await startCollector({
          binary: binary as string,
          config: 'gateway-tier.yaml',
          env: {
            ...collectorEnv(gatewayPorts, join(dir, 'gateway-queue')),
            DECISIONTRAIL_PROCESSOR_0_ENDPOINT: processors[0]?.url as string,
            DECISIONTRAIL_PROCESSOR_1_ENDPOINT: processors[1]?.url as string,
            TEAM_BACKEND_ENDPOINT: backend.endpoint,
          },
          healthPort: gatewayPorts.health,
          set: ['exporters::otlp_http/backend::encoding=json'],
        }),
      );
      collectors.push(
        await startCollector({
          binary: binary as string,
          config: 'agent.yaml',
          env: {
            ...collectorEnv(agentPorts, join(dir, 'agent-queue')),
            GATEWAY_ENDPOINT: `127.0.0.1:${gatewayPorts.grpc}`,
            GATEWAY_INSECURE: 'true',
          },
          healthPort: agentPorts.health,
        }),
      );
    });

    afterAll(async () => {
      await Promise.all(collectors.map((collector) => collector.stop()));
      await app?.shutdown();
      await Promise.all(processors.map((processor) => processor.stop()));
      await backend?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** What the pipeline's parts said, for a failure message. */
    async function diagnostics(): Promise<string> {
      const parts = await Promise.all(
        processors.map(async (processor, index) => {
          const metrics = (await processor.metrics().catch((error: Error) => error.message))
            .split('\n')
            .filter((line) => line.startsWith('decisiontrail_processor_spans'))
            .join('\n');
          return `processor ${index}:\n${processor.output()}\n${metrics}`;
        }),
      );
      return [...parts, ...collectors.map((collector) => collector.output().slice(-4000))].join('\n----\n');
    }

    it('keeps every stream whole on one processor, and each processor verifies on its own', async () => {
      // The stream ids are fixed so that both processors get some: the test must be able to fail.
      expect(new Set(STREAMS.map(gatewayTierProcessorOf))).toEqual(new Set([0, 1]));

      const decided: string[] = [];
      for (let index = 0; index < DECISIONS; index++) {
        const reference = app.decide(index, index % 4 === 0);
        decided.push(reference.decisionId);
        if (index % 10 === 0) app.override(reference);
      }
      for (let index = 0; index < 40; index++) app.ordinaryTrace();
      await app.flush();

      const window = {
        from: new Date(Date.now() - 3_600_000).toISOString(),
        to: new Date(Date.now() + 3_600_000).toISOString(),
      };
      const decisionsOn = async (processor: ServeProcess) =>
        (await processor.query<{ decisionId: string }[]>('decisions', window)).map((row) => row.decisionId);
      let stored: string[][] = [];
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        stored = await Promise.all(processors.map(decisionsOn));
        if (stored.flat().length >= DECISIONS) break;
        await sleep(500);
      }
      // Every decision once, across the two stores.
      expect(stored.flat().sort(), await diagnostics()).toEqual([...decided].sort());

      for (const [index, processor] of processors.entries()) {
        const records = await processor.query<SpanRecord[]>('spansForVerification', {});
        const streams = new Set(records.map((record) => record.attributes['audit.integrity.stream']));
        // Exactly the streams FNV-1a assigns to this processor, checkpoints included.
        expect([...streams].sort()).toEqual(
          STREAMS.filter((stream) => gatewayTierProcessorOf(stream) === index).sort(),
        );
        expect(stored[index]?.length).toBeGreaterThan(0);

        // `decisiontrail verify` against this processor alone (through its serve endpoint), with the
        // witness of its streams: every stream it holds is complete and intact.
        const witness = join(processor.dir, 'witness.jsonl');
        writeFileSync(
          witness,
          (await app.witnessCheckpoints(streams as Set<string>))
            .map((note) => `${JSON.stringify({ note })}\n`)
            .join(''),
        );
        const result = runDecisiontrail(
          ['verify', '--config', 'decisiontrail.yaml', '--witness', 'witness.jsonl', '--json'],
          processor.dir,
        );
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
      }
    });
  },
);
