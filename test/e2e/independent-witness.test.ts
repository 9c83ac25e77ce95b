// Independent witness end to end, against the real litewitness (filippo.io/torchwood v0.6.1, `npm run witness:build`):
// serve submits the stored checkpoints of a stream, litewitness cosigns them; then the newest rows, their
// checkpoint, its stored cosignature AND the producer's witness file are deleted, and `verify` still names the
// stream and the size the witness cosigned. A checkpoint that rewrites the cosigned history is refused (422).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
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
let provider: TracerProvider | undefined;
const children: ChildProcess[] = [];

afterAll(async () => {
  await provider?.shutdown().catch(() => undefined);
  for (const child of children) child.kill('SIGTERM');
  if (workspace) await rm(workspace.dir, { recursive: true, force: true });
});

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}${result.stdout}`);
  return result.stdout + result.stderr;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
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

  const processor = await startProcessor(await loadConfig(workspace.configPath, { env: cleanEnv() }), {
    log: () => undefined,
  });
  provider = installTracing(
    new BatchSpanProcessor({
      exporter: new SigningSpanExporter({
        exporter: new OTLPTraceExporter({ url: `${processor.url}/v1/traces` }),
        key: workspace.key,
        streamId: STREAM,
        witness: new FileCheckpointWitness(workspace.witnessPath),
      }),
      scheduledDelayMillis: 60_000,
    }),
    'e2e-witness',
  );
  configureAudit({ hmacKey: 'e2e-witness-hmac-key-0123456789ab' });
  // Three exports, three checkpoints: sizes 10, 20 and 30.
  for (let batch = 0; batch < 3; batch++) {
    for (let i = 0; i < 10; i++) {
      decision({ modelId: 'scorer', version: '1', input: { batch, i } }, (d) => d.setOutcome('approve'));
    }
    await provider.forceFlush();
  }
  // Done when litewitness holds the newest size (the submitter runs every 100 ms beside the drain).
  while (witnessedSize(db, signer.origin) !== 30) await new Promise((resolve) => setTimeout(resolve, 100));
  while (!/outcome="cosigned"/u.test(processor.metrics.render()))
    await new Promise((resolve) => setTimeout(resolve, 100));
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
  const store = await openStore({ dataDir: workspace.dataDir, migrate: false });
  try {
    await store.client.command({
      query: `ALTER TABLE otel_traces DELETE
              WHERE toUInt64OrZero(SpanAttributes['audit.integrity.seq']) >= 20
                 OR SpanAttributes['audit.checkpoint.size'] = '30'`,
      clickhouse_settings: { mutations_sync: '2' },
    });
    for (const table of ['audit_checkpoints', 'audit_decisions']) {
      await store.client.command({
        query: `ALTER TABLE ${table} DELETE WHERE ${table === 'audit_checkpoints' ? 'tree_size = 30' : 'integrity_seq >= 20'}`,
        clickhouse_settings: { mutations_sync: '2' },
      });
    }
    await store.client.command({
      query: 'ALTER TABLE audit_cosignatures DELETE WHERE tree_size = 30',
      clickhouse_settings: { mutations_sync: '2' },
    });
  } finally {
    await store.close();
  }
  await rm(workspace.witnessPath);

  const cut = await runDecisiontrail(
    ['verify', '--config', workspace.configPath, '--no-witness', '--json'],
    dir,
  );
  expect(cut.code, cut.stdout + cut.stderr).toBe(1);
  const cutReport = parseJson<{
    ok: boolean;
    independentWitnesses: { findings: { code: string; stream: string; size: number; message: string }[] };
  }>(cut);
  expect(cutReport.ok).toBe(false);
  expect(cutReport.independentWitnesses.findings).toContainEqual(
    expect.objectContaining({ code: 'truncated', stream: STREAM, size: 30 }),
  );
  const text = await runDecisiontrail(['verify', '--config', workspace.configPath, '--no-witness'], dir);
  expect(text.stdout).toMatch(new RegExp(`stream ${STREAM}: witness ${WITNESS_NAME} cosigned size 30`, 'u'));

  // A rewritten history at the cosigned size, signed with the producer's own key: the witness refuses it.
  const forger = new StreamSigner({ key: workspace.key, streamId: STREAM });
  for (let i = 0; i < 30; i++) forger.append(hashLeafData(Buffer.from(`forged ${i}`)));
  const forged = forger.checkpoint()!;
  const witness = { name: WITNESS_NAME, url, key: parseCosignerKey(vkey) };
  expect(await addCheckpoint(witness, { oldSize: 30, proof: [], note: forged.note })).toMatchObject({
    kind: 'bad-proof',
  });
  expect(witnessedSize(db, signer.origin)).toBe(30);
}, 240_000);
