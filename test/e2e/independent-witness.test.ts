// Independent witness end to end, against the real litewitness (filippo.io/torchwood v0.6.1, `npm run witness:build`):
// serve submits the stored checkpoints of a stream, litewitness cosigns them; then the newest rows, their
// checkpoint, its stored cosignature AND the producer's witness file are deleted, and `verify` still names the
// stream and the size the witness cosigned; a stream removed from the store whose cosignatures remain is named
// with its cosigned size; a history rewritten under the producer's key is refused by the witness (422), counted
// by serve (outcome bad-proof) and named by verify (checkpoint-inconsistent).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, rm } from 'node:fs/promises';
import { freePort } from '../support/free-port.ts';
import path from 'node:path';
import { openStore } from '@decisiontrail/clickhouse';
import {
  FileCheckpointWitness,
  StreamSigner,
  addCheckpoint,
  exportPublicKey,
  hashLeafData,
  parseCosignerKey,
} from '@decisiontrail/core';
import { configureAudit, decision } from '@decisiontrail/instrumentation';
import { loadConfig, startProcessor } from '@decisiontrail/processor';
import { SigningSpanExporter } from '@decisiontrail/signing-exporter';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { context, trace } from '@opentelemetry/api';
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

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN_DIR = spawnSync(
  process.execPath,
  [path.join(ROOT, 'scripts/build-litewitness.mjs'), '--print-path'],
  {
    encoding: 'utf8',
  },
).stdout.trim();
const WITNESS_NAME = 'witness.e2e.test/w1';
const STREAM = 'e2e-witnessed-stream';

let workspace: E2eWorkspace | undefined;
const providers: TracerProvider[] = [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const provider of providers) await provider.shutdown().catch(() => undefined);
  for (const child of children) child.kill('SIGTERM');
  if (workspace) await rm(workspace.dir, { recursive: true, force: true });
});

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}${result.stdout}`);
  return result.stdout + result.stderr;
}

/** Starts a process and resolves with its stderr once `ready` matches it. */
function startUntil(command: string, args: string[], ready: RegExp): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let text = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (ready.test(text)) resolve(text);
    });
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code}: ${text}`)));
  });
}

function witnessedSize(db: string, origin: string): number {
  const line = run(path.join(BIN_DIR, 'witnessctl'), ['list-logs', '-db', db])
    .split('\n')
    .find((l) => l.includes(`"${origin}"`));
  return line === undefined ? -1 : (JSON.parse(line) as { size: number }).size;
}

it('keeps the size litewitness cosigned when the newest rows and the witness file are gone', async () => {
  // Fails (never skips) without the binaries: CI installs them with `npm run witness:build` before the tests.
  const missing = ['litewitness', 'witnessctl'].filter(
    (tool) => spawnSync(path.join(BIN_DIR, tool), ['-h']).error !== undefined,
  );
  expect(missing, `run npm run witness:build (looked in ${BIN_DIR})`).toEqual([]);

  workspace = await createWorkspace(await tempDir('witness'));
  const dir = workspace.dir;
  // The witness's own key, held by a dedicated ssh-agent as litewitness expects.
  const sshKey = path.join(dir, 'witness-ssh-key');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', sshKey]);
  const agentSocket = path.join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  children.push(agent);
  while (!existsSync(agentSocket)) await new Promise((resolve) => setTimeout(resolve, 50));
  run('ssh-add', [sshKey], { ...process.env, SSH_AUTH_SOCK: agentSocket });
  const fingerprint = run('ssh-keygen', ['-lf', `${sshKey}.pub`]).split(' ')[1]!;
  const db = path.join(dir, 'litewitness.db');
  const signer = new StreamSigner({ key: workspace.key, streamId: STREAM });
  run(path.join(BIN_DIR, 'witnessctl'), ['add-log', '-db', db, '-origin', signer.origin]);
  // The log's key keeps its name (the producer's key signs every stream); witnessctl only warns that it is not
  // the origin (docs/WITNESSES.md).
  run(path.join(BIN_DIR, 'witnessctl'), [
    'add-key',
    '-db',
    db,
    '-origin',
    signer.origin,
    '-key',
    exportPublicKey(workspace.key).vkey,
  ]);
  const port = await freePort();
  const started = await startUntil(
    path.join(BIN_DIR, 'litewitness'),
    [
      '-name',
      WITNESS_NAME,
      '-db',
      db,
      '-ssh-agent',
      agentSocket,
      '-key',
      fingerprint,
      '-listen',
      `127.0.0.1:${port}`,
    ],
    /msg=listening/u,
  );
  const vkey = /vkey=(\S+)/u.exec(started)![1]!;
  const url = `http://127.0.0.1:${port}`;
  await appendFile(
    workspace.configPath,
    [
      'witnesses:',
      '  intervalMs: 100',
      '  list:',
      `    - name: ${WITNESS_NAME}`,
      `      url: ${url}`,
      `      key: ${vkey}`,
      '',
    ].join('\n'),
  );

  const config = await loadConfig(workspace.configPath, { env: cleanEnv() });
  const processor = await startProcessor(config, { log: () => undefined });
  const provider = installTracing(
    new BatchSpanProcessor({
      exporter: new SigningSpanExporter({
        exporter: new OTLPTraceExporter({ url: `${processor.url}/v1/traces` }),
        key: workspace.key,
        streamId: STREAM,
        witness: new FileCheckpointWitness(workspace.witnessPath),
        // No count record between the batches: the checkpoint sizes stay 10, 20, 30.
        countIntervalMillis: 3_600_000,
      }),
      scheduledDelayMillis: 60_000,
    }),
    'e2e-witness',
  );
  providers.push(provider);
  configureAudit({ hmacKey: 'e2e-witness-hmac-key-0123456789ab' });
  // Three exports, three checkpoints: sizes 10, 20 and 30, each cosigned before the next is sent (the submitter
  // runs every 100 ms beside the drain; waiting for the witness's size keeps which sizes are cosigned fixed).
  for (let batch = 0; batch < 3; batch++) {
    for (let i = 0; i < 10; i++) {
      decision({ modelId: 'scorer', version: '1', input: { batch, i } }, (d) => d.setOutcome('approve'));
    }
    await provider.forceFlush();
    while (witnessedSize(db, signer.origin) !== 10 * (batch + 1))
      await new Promise((resolve) => setTimeout(resolve, 100));
  }
  while (!/outcome="cosigned"/u.test(processor.metrics.render()))
    await new Promise((resolve) => setTimeout(resolve, 100));
  // The provider stays up until the end: its shutdown would sign a count record the store never gets.
  await processor.close();

  const intact = await runDecisiontrail(['verify', '--config', workspace.configPath, '--json'], dir);
  expect(intact.code, intact.stdout + intact.stderr).toBe(0);
  const intactReport = parseJson<{
    independentWitnesses: {
      streams: {
        stream: string;
        newestSize: number;
        cosignedSize: number;
        storedCosigners: string[];
        confirmedBy: string[];
      }[];
    };
  }>(intact);
  expect(intactReport.independentWitnesses.streams).toEqual([
    {
      stream: STREAM,
      newestSize: 30,
      cosignedSize: 30,
      storedCosigners: [WITNESS_NAME],
      confirmedBy: [WITNESS_NAME],
    },
  ]);

  // The insider's cut: seq 20 on, the checkpoint of size 30, its stored cosignature, and the local witness file.
  await mutate([
    `ALTER TABLE otel_traces DELETE
     WHERE toUInt64OrZero(SpanAttributes['audit.integrity.seq']) >= 20 OR SpanAttributes['audit.checkpoint.size'] = '30'`,
    'ALTER TABLE audit_checkpoints DELETE WHERE tree_size = 30',
    'ALTER TABLE audit_decisions DELETE WHERE integrity_seq >= 20',
    'ALTER TABLE audit_cosignatures DELETE WHERE tree_size = 30',
  ]);
  await rm(workspace.witnessPath);

  const cut = await verifyFindings();
  expect(cut.code, cut.output).toBe(1);
  expect(cut.findings).toContainEqual(
    expect.objectContaining({ code: 'truncated', stream: STREAM, size: 30 }),
  );
  const text = await runDecisiontrail(['verify', '--config', workspace.configPath, '--no-witness'], dir);
  expect(text.stdout).toMatch(new RegExp(`stream ${STREAM}: witness ${WITNESS_NAME} cosigned size 30`, 'u'));

  // The whole stream removed from the store, its stored cosignatures (sizes 10 and 20 now) left behind: verify
  // cannot ask the witness without a checkpoint to send, but names the stream and the size its witnesses cosigned.
  await mutate([
    `ALTER TABLE otel_traces DELETE WHERE SpanAttributes['audit.integrity.stream'] = '${STREAM}'`,
    `ALTER TABLE audit_checkpoints DELETE WHERE stream = '${STREAM}'`,
    `ALTER TABLE audit_decisions DELETE WHERE integrity_stream = '${STREAM}'`,
  ]);
  const gone = await verifyFindings();
  expect(gone.code, gone.output).toBe(1);
  expect(gone.findings).toContainEqual(
    expect.objectContaining({
      code: 'truncated',
      stream: STREAM,
      size: 20,
      message: expect.stringMatching(/the store holds no checkpoint of this stream: the stream was removed/u),
    }),
  );
  const asked = await runDecisiontrail(
    ['verify', '--config', workspace.configPath, '--no-witness', '--stream', STREAM],
    dir,
  );
  expect(asked.code, asked.stdout + asked.stderr).toBe(1);
  expect(asked.stdout).toContain('the stream was removed');
  // With its cosignature rows gone too, only the witness's own record shows the stream (docs/WITNESSES.md): its
  // operator's front page lists each log it knows with its size.
  const front = await (await fetch(`${url}/`)).text();
  expect(front).toContain(`- ${signer.origin}\n  (size 30, root `);

  // A rewritten history: the insider re-signs 40 other decisions as the same stream with the producer's key and
  // feeds them through serve. Serve's submission is refused (bad-proof, counted); verify asks the witness about
  // the store's checkpoint at the witness's size (30) and names the rewrite there.
  // The insider also removes serve's own record of each stream's tree (its queue directory), which would flag
  // the rewrite on ingest.
  await rm(config.processor.queue.dir, { recursive: true, force: true });
  trace.disable();
  context.disable();
  const forging = await startProcessor(config, { log: () => undefined });
  const forgingProvider = installTracing(
    new BatchSpanProcessor({
      exporter: new SigningSpanExporter({
        exporter: new OTLPTraceExporter({ url: `${forging.url}/v1/traces` }),
        key: workspace.key,
        streamId: STREAM,
        witness: null,
        countIntervalMillis: 3_600_000,
      }),
      scheduledDelayMillis: 60_000,
    }),
    'e2e-witness',
  );
  providers.push(forgingProvider);
  for (let batch = 0; batch < 4; batch++) {
    for (let i = 0; i < 10; i++) {
      decision({ modelId: 'scorer', version: '1', input: { forged: batch, i } }, (d) => d.setOutcome('deny'));
    }
    await forgingProvider.forceFlush();
  }
  const refused = `decisiontrail_processor_witness_submissions_total{witness="${WITNESS_NAME}",outcome="bad-proof"}`;
  while (!forging.metrics.render().includes(refused))
    await new Promise((resolve) => setTimeout(resolve, 100));
  await forging.close();
  expect(witnessedSize(db, signer.origin)).toBe(30);

  const rewritten = await verifyFindings();
  expect(rewritten.code, rewritten.output).toBe(1);
  expect(rewritten.findings).toContainEqual(
    expect.objectContaining({
      code: 'checkpoint-inconsistent',
      stream: STREAM,
      size: 30,
      message: expect.stringMatching(
        new RegExp(`witness ${WITNESS_NAME} holds a different tree at size 30`, 'u'),
      ),
    }),
  );
  // The cosignatures stored for the old history (size 20 is the largest left) say it too, without asking anyone.
  expect(rewritten.findings).toContainEqual(
    expect.objectContaining({
      code: 'checkpoint-inconsistent',
      stream: STREAM,
      size: 20,
      message: expect.stringMatching(
        /cosigned size 20 with root .* \(stored cosignatures\), but the store's checkpoint/u,
      ),
    }),
  );

  // The same question at the cosigned size itself: the witness refuses a forged checkpoint of size 30.
  const forger = new StreamSigner({ key: workspace.key, streamId: STREAM });
  for (let i = 0; i < 30; i++) forger.append(hashLeafData(Buffer.from(`forged ${i}`)));
  const forged = forger.checkpoint()!;
  const witness = { name: WITNESS_NAME, url, key: parseCosignerKey(vkey) };
  expect(await addCheckpoint(witness, { oldSize: 30, proof: [], note: forged.note })).toMatchObject({
    kind: 'bad-proof',
  });
  expect(witnessedSize(db, signer.origin)).toBe(30);
}, 240_000);

/** Runs statements against the workspace's store (serve is stopped), waiting for each mutation. */
async function mutate(statements: string[]): Promise<void> {
  const store = await openStore({ dataDir: workspace!.dataDir, migrate: false });
  try {
    for (const query of statements)
      await store.client.command({ query, clickhouse_settings: { mutations_sync: '2' } });
  } finally {
    await store.close();
  }
}

/** `verify --no-witness --json` (the producer's witness file is gone): exit code and the independent witnesses' findings. */
async function verifyFindings() {
  const result = await runDecisiontrail(
    ['verify', '--config', workspace!.configPath, '--no-witness', '--json'],
    workspace!.dir,
  );
  const report = parseJson<{
    ok: boolean;
    independentWitnesses: { findings: { code: string; stream: string; size: number; message: string }[] };
  }>(result);
  return {
    code: result.code,
    output: result.stdout + result.stderr,
    findings: report.independentWitnesses.findings,
  };
}
