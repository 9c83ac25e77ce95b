// Fault end to end: the processor (`decisiontrail serve`, a real child process) is killed with SIGKILL while the
// application is sending, the application keeps deciding (its DurableSpanProcessor spools to disk and retries),
// the processor is started again on the same data, and the spool drains. Afterwards every decision the
// application made is in the store exactly once, and `decisiontrail verify` finds the stream intact.
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { freePort } from '../support/free-port.ts';
import path from 'node:path';
import { openStore } from '@decisiontrail/clickhouse';
import { configureAudit, decision } from '@decisiontrail/instrumentation';
import { FileCheckpointWitness } from '@decisiontrail/core';
import { DurableSpanProcessor } from '@decisiontrail/signing-exporter';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
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

const MAIN = path.resolve(import.meta.dirname, '../../packages/cli/src/main.ts');
const DECISIONS = 1_500;
const KILL_AFTER = 400;
const DOWNTIME_DECISIONS = 400;

let workspace: E2eWorkspace | undefined;
let serve: ChildProcess | undefined;
let provider: TracerProvider | undefined;

afterAll(async () => {
  await provider?.shutdown().catch(() => undefined);
  if (serve !== undefined && serve.exitCode === null) serve.kill('SIGKILL');
  if (workspace) await rm(workspace.dir, { recursive: true, force: true });
});

/** Starts `decisiontrail serve` directly on its entry point, so SIGKILL hits the process that holds the store. */
async function startServe(ws: E2eWorkspace, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@decisiontrail/source',
      '--disable-warning=ExperimentalWarning',
      MAIN,
      'serve',
      '--config',
      ws.configPath,
      '--port',
      String(port),
    ],
    { cwd: ws.dir, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('listening on')) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`serve did not start: ${stderr}`);
    await sleep(50);
  }
  return child;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function queueEntries(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = /^decisiontrail_processor_queue_entries (\d+)$/m.exec(text);
  if (match === null) throw new Error('no queue gauge in /metrics');
  return Number(match[1]);
}

it('loses and duplicates no decision when the processor is SIGKILLed mid-load and restarted', async () => {
  workspace = await createWorkspace(await tempDir('crash'));
  const port = await freePort();
  serve = await startServe(workspace, port);

  const durable = new DurableSpanProcessor({
    exporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces`, timeoutMillis: 1_000 }),
    key: workspace.key,
    spoolDir: path.join(workspace.dir, 'spool'),
    witness: new FileCheckpointWitness(workspace.witnessPath),
    batchSize: 100,
    sealIntervalMillis: 100,
    exportBatchSize: 100,
    initialRetryMillis: 50,
    maxRetryMillis: 500,
    exportTimeoutMillis: 60_000,
  });
  provider = installTracing(durable, 'e2e-crash');
  configureAudit({ hmacKey: 'e2e-crash-hmac-key-0123456789', models: { scorer: { riskLevel: 'high' } } });

  const sentIds: string[] = [];
  let killedAt: number | undefined;
  let spooledDuringOutage = 0;
  for (let index = 0; index < DECISIONS; index++) {
    // Mid-load: kill only while requests the processor acknowledged still wait in its write-ahead log.
    if (killedAt === undefined && index >= KILL_AFTER && index % 10 === 0) {
      if ((await queueEntries(port)) > 0) {
        serve.kill('SIGKILL');
        await new Promise((resolve) => serve!.once('exit', resolve));
        killedAt = index;
        // Longer than the OTLP exporter's own retries: the spool has to carry what is decided meanwhile.
        await sleep(1_500);
      }
    }
    if (killedAt !== undefined && index === killedAt + DOWNTIME_DECISIONS) {
      spooledDuringOutage = durable.spoolBytes;
      serve = await startServe(workspace, port);
    }
    sentIds.push(
      decision({ modelId: 'scorer', version: '1', input: { index } }, (handle) => {
        handle.setOutcome(index % 2 === 0 ? 'approve' : 'reject');
        handle.setConfidence(0.9);
        return handle.reference.decisionId;
      }),
    );
    // Let the shipper run between decisions, as it would between requests of a real service.
    if (index % 25 === 0) await sleep(5);
  }
  expect(killedAt, 'the processor never had acknowledged work pending, so it was never killed').toBeDefined();
  if (killedAt! + DOWNTIME_DECISIONS >= DECISIONS) serve = await startServe(workspace, port);
  expect(durable.stats.failedExports).toBeGreaterThan(0);
  await durable.forceFlush();
  // While the processor was down the spool held what was decided; afterwards it drained: every segment was
  // acknowledged by the restarted processor and deleted.
  expect(spooledDuringOutage).toBeGreaterThan(0);
  expect(durable.spoolBytes).toBe(0);
  expect(durable.stats.droppedAuditSpans).toBe(0);
  const deadline = Date.now() + 60_000;
  while ((await queueEntries(port)) > 0) {
    if (Date.now() > deadline) throw new Error('the restarted processor did not drain its queue');
    await sleep(50);
  }
  serve.kill('SIGTERM');
  await new Promise((resolve) => serve!.once('exit', resolve));

  const store = await openStore({ dataDir: workspace.dataDir, migrate: false });
  try {
    // Raw rows of otel_traces: every decision must be there, and nothing twice — the processor replays its
    // write-ahead log as the identical insert blocks and drops the exporter's resends of accepted spans, so even
    // readers that do not deduplicate (Grafana's trace view reads this table directly) see each span once.
    const rows = await (
      await store.client.query({
        query: `SELECT SpanAttributes['audit.decision.id'] AS id, count() AS copies
                FROM otel_traces WHERE SpanAttributes['audit.record.type'] = 'decision' GROUP BY id`,
        format: 'JSONEachRow',
      })
    ).json<{ id: string; copies: string }>();
    const stored = new Set(rows.map((row) => row.id));
    const sent = new Set(sentIds);
    expect({
      lost: sentIds.filter((id) => !stored.has(id)).length,
      unknown: [...stored].filter((id) => !sent.has(id)).length,
    }).toEqual({ lost: 0, unknown: 0 });
    const [raw] = await (
      await store.client.query({
        query: 'SELECT count() AS rows, uniqExact(SpanId) AS spans FROM otel_traces',
        format: 'JSONEachRow',
      })
    ).json<{ rows: string; spans: string }>();
    expect(Number(raw!.rows)).toBe(Number(raw!.spans));

    // What every reader of the store sees: each decision exactly once.
    const [view] = await (
      await store.client.query({
        query: 'SELECT count() AS n, uniqExact(decision_id) AS ids FROM audit_decisions FINAL',
        format: 'JSONEachRow',
      })
    ).json<{ n: string; ids: string }>();
    expect({ rows: Number(view!.n), ids: Number(view!.ids) }).toEqual({ rows: DECISIONS, ids: DECISIONS });
    const decisions = await store.decisions({
      from: new Date(0),
      to: new Date(Date.now() + 3_600_000),
      modelId: 'scorer',
      limit: DECISIONS * 2,
    });
    expect(decisions).toHaveLength(DECISIONS);
    expect(new Set(decisions.map((d) => d.decisionId)).size).toBe(DECISIONS);
    const verifiable = await store.spansForVerification();
    const spanIds = verifiable.map((record) => record.spanId);
    expect(new Set(spanIds).size).toBe(spanIds.length);
    expect(verifiable.filter((record) => record.name.startsWith('audit.decision')).length).toBe(DECISIONS);
  } finally {
    await store.close();
  }

  const verify = await runDecisiontrail(
    ['verify', '--config', workspace.configPath, '--json'],
    workspace.dir,
  );
  const report = parseJson<{ ok: boolean; streams: { spanCount: number; findings: unknown[] }[] }>(verify);
  expect(report.streams.map((s) => s.findings)).toEqual([[]]);
  expect(report.ok, verify.stdout).toBe(true);
  expect(verify.code).toBe(0);
});
