// Privacy at rest, with nothing in between faked: decision() spans from the OTel SDK → DurableSpanProcessor (its
// spool on disk) → OTLP/HTTP protobuf → the processor (receiver, policy at receipt, write-ahead log, verify
// stage, embedded ClickHouse store) → `decisiontrail erase` and `timeline` as child processes through serve.
// Every file under the data, queue and spool directories is then read byte for byte for the plaintext.
import { randomInt } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileKeyStore, configureAudit, decision, withAuditContext } from '@decisiontrail/instrumentation';
import { loadConfig, startProcessor, type ProcessorHandle } from '@decisiontrail/processor';
import {
  ATTR_AUDIT_DECISION_ID,
  ATTR_AUDIT_DECISION_OUTCOME,
  ATTR_AUDIT_INPUT_CAPTURE_MODE,
  ATTR_AUDIT_INPUT_CONTENT,
  ATTR_AUDIT_MODEL_ID,
  ATTR_AUDIT_RECORD_TYPE,
  AUDIT_RECORD_TYPE_VALUES,
  SPAN_NAME_AUDIT_DECISION,
} from '@decisiontrail/semconv';
import { FileCheckpointWitness, exportPublicKey, generateSigningKeyFile } from '@decisiontrail/core';
import { DurableSpanProcessor } from '@decisiontrail/signing-exporter';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanEnv,
  installTracing,
  parseJson,
  runDecisiontrail,
  tempDir,
} from '../../e2e/support/e2e-harness.ts';
import { fileHolds } from './stored-bytes.ts';

/** A marker no stored text holds by chance: letters only, so no redaction rule of the SDK (digits) touches it. */
function marker(label: string): string {
  return `${label}${Array.from({ length: 20 }, () => String.fromCharCode(97 + randomInt(26))).join('')}`;
}

const MODEL = 'credit-scorer';
/** Captured in full by the app; the processor's policy redacts `audit.input.content`. */
const SIGNED_PLAINTEXT = marker('QZsigned');
const UNSIGNED_PLAINTEXT = marker('QZunsigned');
/** Stored on purpose (an outcome): the grep must find it, or it could not find anything. */
const KEPT = marker('QZkept');
/** Recorded in encrypt mode for the subject that is then erased. */
const SECRET = marker('QZsecret');
const SUBJECT = marker('subject');
const HOSTILE_OUTCOME = 'deny\u001b[2J\u001b]0;owned\u0007';

let root: string;
let dirs: { data: string; queue: string; spool: string; keys: string };
let processor: ProcessorHandle | undefined;
let provider: TracerProvider | undefined;
let hostileDecisionId: string;
let unsignedDecisionId: string;

/** Every regular file under `dir`, recursively (the engine's temporary directories may vanish meanwhile). */
async function filesUnder(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/**
 * The files under the data, queue and spool directories that hold `text` (UTF-8), as stored or inside the
 * engine's compressed blocks.
 */
async function filesHolding(text: string, where = [dirs.data, dirs.queue, dirs.spool]): Promise<string[]> {
  const needle = Buffer.from(text, 'utf8');
  const found: string[] = [];
  for (const dir of where) {
    for (const file of await filesUnder(dir)) {
      if (await fileHolds(file, needle)) found.push(path.relative(root, file));
    }
  }
  return found;
}

async function query<T>(name: string, params: unknown): Promise<T> {
  const res = await fetch(`${processor!.url}/v1/query/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  const body = (await res.json()) as { result: T };
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.result;
}

async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** An unsigned decision span (no signing exporter), sent as its own OTLP request. */
async function sendUnsigned(url: string): Promise<string> {
  const memory = new InMemorySpanExporter();
  const tracing = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
  const decisionId = '019ab3f0-0000-7000-8000-0000000000aa';
  tracing
    .getTracer('privacy-test')
    .startSpan(SPAN_NAME_AUDIT_DECISION, {
      attributes: {
        [ATTR_AUDIT_RECORD_TYPE]: AUDIT_RECORD_TYPE_VALUES.DECISION,
        [ATTR_AUDIT_DECISION_ID]: decisionId,
        [ATTR_AUDIT_MODEL_ID]: MODEL,
        [ATTR_AUDIT_DECISION_OUTCOME]: 'approve',
        [ATTR_AUDIT_INPUT_CAPTURE_MODE]: 'full',
        [ATTR_AUDIT_INPUT_CONTENT]: JSON.stringify({ note: UNSIGNED_PLAINTEXT }),
      },
    })
    .end();
  await tracing.forceFlush();
  const exporter = new OTLPTraceExporter({ url: `${url}/v1/traces` });
  await new Promise<void>((resolve, reject) =>
    exporter.export(memory.getFinishedSpans(), (result) =>
      result.code === ExportResultCode.SUCCESS ? resolve() : reject(result.error),
    ),
  );
  await exporter.shutdown();
  await tracing.shutdown();
  return decisionId;
}

beforeAll(async () => {
  root = await tempDir('privacy');
  dirs = {
    data: path.join(root, 'data'),
    queue: path.join(root, 'queue'),
    spool: path.join(root, 'spool'),
    keys: path.join(root, 'keys'),
  };
  await mkdir(dirs.keys, { mode: 0o700 });
  const key = await generateSigningKeyFile(path.join(dirs.keys, 'signing.key'));
  await writeFile(path.join(dirs.keys, 'signing.pub'), `${exportPublicKey(key).vkey}\n`, { mode: 0o600 });
  const configPath = path.join(root, 'decisiontrail.yaml');
  await writeFile(
    configPath,
    [
      'storage:',
      '  dataDir: data',
      'keys:',
      '  dir: keys',
      '  witness: keys/checkpoints.witness.jsonl',
      'processor:',
      '  receiver:',
      '    port: 0',
      '  queue:',
      '    dir: queue',
      '  stages:',
      '    policy:',
      `      redact: [${ATTR_AUDIT_INPUT_CONTENT}]`,
      '',
    ].join('\n'),
  );
  processor = await startProcessor(await loadConfig(configPath, { env: cleanEnv() }), {
    log: () => undefined,
  });
  const durable = new DurableSpanProcessor({
    exporter: new OTLPTraceExporter({ url: `${processor.url}/v1/traces` }),
    key,
    spoolDir: dirs.spool,
    witness: new FileCheckpointWitness(path.join(dirs.keys, 'checkpoints.witness.jsonl')),
    batchSize: 10,
    sealIntervalMillis: 50,
    initialRetryMillis: 50,
  });
  provider = installTracing(durable, 'loan-api');
  configureAudit({
    hmacKey: 'privacy-test-hmac-key-0123456789',
    captureInput: 'full',
    captureOutput: 'none',
    keyStore: new FileKeyStore(dirs.keys),
    models: { [MODEL]: { riskLevel: 'high', decisionType: 'classification' } },
  });
  // Signed, input captured in plaintext: the policy names it, so the span is quarantined without it.
  decision({ modelId: MODEL, version: '1', input: { note: SIGNED_PLAINTEXT } }, (handle) => {
    handle.setOutcome(KEPT);
    handle.setConfidence(0.7);
  });
  // Signed, input encrypted under the subject's key: stored and verified, then erased by shredding the key.
  withAuditContext({ subjectId: SUBJECT }, () =>
    decision({ modelId: MODEL, version: '1', input: { note: SECRET }, captureInput: 'encrypt' }, (handle) => {
      handle.setOutcome('approve');
      handle.setConfidence(0.9);
    }),
  );
  // Signed, no content: an outcome that holds terminal control sequences.
  hostileDecisionId = decision(
    { modelId: MODEL, version: '1', input: { n: 1 }, captureInput: 'hash' },
    (handle) => {
      handle.setOutcome(HOSTILE_OUTCOME);
      handle.setConfidence(0.5);
      return handle.reference.decisionId;
    },
  );
  unsignedDecisionId = await sendUnsigned(processor.url);
  await durable.forceFlush();
  expect(durable.spoolBytes).toBe(0);
}, 180_000);

afterAll(async () => {
  await provider?.shutdown().catch(() => undefined);
  await processor?.close();
});

describe('privacy at rest', () => {
  it('never writes plaintext the policy redacts: not to the log while acknowledged, nor to the store', async () => {
    // Everything is acknowledged (durable in the log) now; the drain may not have run yet.
    expect(await filesHolding(SIGNED_PLAINTEXT)).toEqual([]);
    expect(await filesHolding(UNSIGNED_PLAINTEXT)).toEqual([]);
    await until('the unsigned decision to be stored', async () => {
      const rows = await query<unknown[]>('decisions', { from: 0, to: Date.now() + 60_000, modelId: MODEL });
      return rows.length === 3;
    });
    await until('the signed plaintext span to be quarantined', async () => {
      const rows = await query<unknown[]>('listQuarantine', {});
      return rows.length === 1;
    });
    const [quarantined] = await query<{ code: string; record: { attributes: Record<string, string> } }[]>(
      'listQuarantine',
      {},
    );
    expect(quarantined!.code).toBe('POLICY_SIGNED_PLAINTEXT');
    expect(quarantined!.record.attributes[ATTR_AUDIT_INPUT_CONTENT]).toBe('[REDACTED]');
    const timeline = await query<{ attributes: Record<string, string> }[]>('decisionTimeline', {
      decisionId: unsignedDecisionId,
    });
    expect(timeline.length).toBeGreaterThan(0);
    expect(await filesHolding(SIGNED_PLAINTEXT)).toEqual([]);
    expect(await filesHolding(UNSIGNED_PLAINTEXT)).toEqual([]);
    // The same grep finds what is stored on purpose (the quarantined span's outcome), so it can see the store.
    expect((await filesHolding(KEPT, [dirs.data])).length).toBeGreaterThan(0);
  });

  it('prints a stored outcome with terminal control sequences visibly escaped', async () => {
    const run = await runDecisiontrail(['timeline', hostileDecisionId], root);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('deny\\x1b[2J\\x1b]0;owned\\x07');
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).not.toContain('\u0007');
  });

  it('leaves no plaintext of an erased subject, and nothing drained in the log or the spool', async () => {
    const erased = parseJson<{ keyDestroyed: boolean; decisions: string[] }>(
      await runDecisiontrail(['erase', '--subject', SUBJECT, '--reason', 'art. 17 request', '--json'], root),
    );
    expect(erased.keyDestroyed).toBe(true);
    expect(erased.decisions).toHaveLength(1);
    // Closing drains what is left and retires the log's last segment.
    await processor!.close();
    processor = undefined;
    expect(await filesHolding(SECRET, [dirs.data, dirs.queue, dirs.spool, dirs.keys])).toEqual([]);
    expect(await filesHolding(SIGNED_PLAINTEXT)).toEqual([]);
    expect(await filesHolding(UNSIGNED_PLAINTEXT)).toEqual([]);
    // The subject's records stay in the store by design (crypto-shredding); no copy stays in the log or spool.
    expect((await filesHolding(SUBJECT, [dirs.data])).length).toBeGreaterThan(0);
    expect(await filesHolding(SUBJECT, [dirs.queue, dirs.spool])).toEqual([]);
    expect(await filesHolding(KEPT, [dirs.queue, dirs.spool])).toEqual([]);
  });

  it('keeps the log, spool and keys owner-only, and the data directory closed to others', async () => {
    for (const dir of [dirs.queue, dirs.spool, dirs.keys, dirs.data]) {
      expect([path.relative(root, dir), (await stat(dir)).mode & 0o777]).toEqual([
        path.relative(root, dir),
        0o700,
      ]);
    }
    for (const dir of [dirs.queue, dirs.spool, dirs.keys]) {
      for (const file of await filesUnder(dir)) {
        expect([path.relative(root, file), (await stat(file)).mode & 0o777]).toEqual([
          path.relative(root, file),
          0o600,
        ]);
      }
    }
  });
});
