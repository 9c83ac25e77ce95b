// Truncation end to end: someone deletes the newest rows of the store together with the checkpoint that sealed
// them. What is left is internally consistent — every remaining span matches the older checkpoints — so only the
// witness, which kept every checkpoint outside the store, can tell; `decisiontrail verify` must use it and say so.
import { rm } from 'node:fs/promises';
import { openStore } from '@decisiontrail/clickhouse';
import { configureAudit, decision } from '@decisiontrail/instrumentation';
import { loadConfig, startProcessor } from '@decisiontrail/processor';
import { FileCheckpointWitness } from '@decisiontrail/core';
import { SigningSpanExporter } from '@decisiontrail/signing-exporter';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, type TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, expect, it } from 'vitest';
import {
  cleanEnv,
  createWorkspace,
  installTracing,
  parseJson,
  runDecisiontrail,
  tempDir,
  type E2eWorkspace,
} from './support/e2e-harness.ts';

let workspace: E2eWorkspace | undefined;
let provider: TracerProvider | undefined;

afterAll(async () => {
  await provider?.shutdown().catch(() => undefined);
  if (workspace) await rm(workspace.dir, { recursive: true, force: true });
});

it('reports a truncated stream against the witness when the newest rows and their checkpoint are deleted', async () => {
  workspace = await createWorkspace(await tempDir('truncate'));
  const processor = await startProcessor(await loadConfig(workspace.configPath, { env: cleanEnv() }), {
    log: () => undefined,
  });
  provider = installTracing(
    new BatchSpanProcessor({
      exporter: new SigningSpanExporter({
        exporter: new OTLPTraceExporter({ url: `${processor.url}/v1/traces` }),
        key: workspace.key,
        witness: new FileCheckpointWitness(workspace.witnessPath),
      }),
      scheduledDelayMillis: 60_000,
    }),
    'e2e-truncate',
  );
  configureAudit({ hmacKey: 'e2e-truncate-hmac-key-0123456789' });
  // Three exports, so three checkpoints: sizes 10, 20 and 30.
  for (let batch = 0; batch < 3; batch++) {
    for (let i = 0; i < 10; i++) {
      decision({ modelId: 'scorer', version: '1', input: { batch, i } }, (d) => d.setOutcome('approve'));
    }
    await provider.forceFlush();
  }
  while (!/^decisiontrail_processor_queue_entries 0$/m.test(processor.metrics.render())) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await processor.close();

  const intact = await runDecisiontrail(
    ['verify', '--config', workspace.configPath, '--json'],
    workspace.dir,
  );
  expect(intact.code, intact.stdout + intact.stderr).toBe(0);

  const store = await openStore({ dataDir: workspace.dataDir, migrate: false });
  try {
    // Everything from seq 20 on, and the checkpoint of size 30.
    await store.client.command({
      query: `ALTER TABLE otel_traces DELETE
              WHERE toUInt64OrZero(SpanAttributes['audit.integrity.seq']) >= 20
                 OR SpanAttributes['audit.checkpoint.size'] = '30'`,
      clickhouse_settings: { mutations_sync: '2' },
    });
  } finally {
    await store.close();
  }

  // Without the witness the shortened stream itself looks whole: that is why the witness exists. (Here the
  // audit tables, filled when the rows arrived, still betray the deletion; an insider who also cut those would
  // leave the witness as the only evidence.)
  const blind = parseJson<{
    streams: { findings: { code: string; tamper: boolean }[] }[];
    tables: { findings: { table: string; code: string }[] };
  }>(
    await runDecisiontrail(
      ['verify', '--config', workspace.configPath, '--no-witness', '--json'],
      workspace.dir,
    ),
  );
  expect(blind.streams[0]!.findings.filter((f) => f.tamper)).toEqual([]);
  expect(blind.tables.findings).toContainEqual(
    expect.objectContaining({ table: 'audit_decisions', code: 'extra' }),
  );

  const run = await runDecisiontrail(['verify', '--config', workspace.configPath, '--json'], workspace.dir);
  expect(run.code).toBe(1);
  const report = parseJson<{ ok: boolean; streams: { findings: { code: string }[] }[] }>(run);
  expect(report.ok).toBe(false);
  expect(report.streams[0]!.findings.map((f) => f.code)).toContain('truncated');
});
