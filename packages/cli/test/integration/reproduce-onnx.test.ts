import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@decisiontrail/clickhouse';
import {
  AiAuditInstrumentation,
  AuditSampler,
  FileKeyStore,
  withSubject,
} from '@decisiontrail/instrumentation';
import { spanRecordFromReadableSpan } from '@decisiontrail/signing-exporter';
import {
  CREDIT_LABELS,
  CREDIT_MODEL_ID,
  creditApprovalProbability,
  writeCreditModel,
} from '../../../../test/support/onnx/credit-model.ts';
import { isOneLineError, json, runBin } from '../support/run-bin.ts';

// Real ONNX decisions — the credit model run by onnxruntime-node under the instrumentation, through the OTel SDK
// into an embedded store — re-run by `decisiontrail reproduce --model`.

const root = mkdtempSync(path.join(tmpdir(), 'decisiontrail-reproduce-'));
const keysDir = path.join(root, '.decisiontrail', 'keys');
const v1 = writeCreditModel(path.join(root, 'credit-v1.onnx'), '1.0.0');
const v2 = writeCreditModel(path.join(root, 'credit-v2.onnx'), '2.0.0');
const run = (...args: string[]) => runBin(args, { cwd: root });

/** Features of the applicants; v1 rejects the first and approves the second, v2 approves both. */
const RISKY = [4.5, 0.45, 1, 3];
const SOUND = [9, 0.1, 6, 0];

/** What v1 decides, computed from the model's own formula rather than by the code under test. */
function v1Outcome(features: number[]): { outcome: string; confidence: number } {
  const p = creditApprovalProbability(features, '1.0.0');
  return { outcome: p >= 0.5 ? 'approve' : 'reject', confidence: Math.max(p, 1 - p) };
}

const ids = { full: '', encrypted: '', hashed: '' };

interface ReproduceJson {
  decisionId: string;
  expected: { outcome: string; confidence: string };
  rerun: {
    verdict: string;
    reasons: string[];
    model: { weightsHash: string | null; recordedWeightsHash: string | null; weightsMatch: boolean | null };
    recorded: { outcome: string; confidence: number | null };
    rerun: { outcome: string; classIndex: string; confidence: number | null } | null;
  };
}

beforeAll(async () => {
  mkdirSync(keysDir, { recursive: true });
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler: new AuditSampler(new AlwaysOnSampler()),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  const base = {
    hmacKey: 'reproduce-test-key',
    keyStore: new FileKeyStore(keysDir),
    models: { [CREDIT_MODEL_ID]: { riskLevel: 'high' as const, labels: [...CREDIT_LABELS] } },
  };
  const instrumentation = new AiAuditInstrumentation({ ...base, captureInput: 'full' });
  instrumentation.manuallyInstrument(ort);
  const session = await ort.InferenceSession.create(v1);
  const feeds = (values: number[]) => ({
    features: new ort.Tensor('float32', Float32Array.from(values), [1, 4]),
  });
  const decide = async (values: number[], subject: string): Promise<string> => {
    exporter.reset();
    await withSubject(subject, () => session.run(feeds(values)));
    await provider.forceFlush();
    const span = exporter.getFinishedSpans().find((s) => s.attributes['audit.decision.id'] !== undefined);
    return String(span!.attributes['audit.decision.id']);
  };
  const spans = [];
  ids.full = await decide(RISKY, 'applicant-full');
  spans.push(...exporter.getFinishedSpans());
  instrumentation.setConfig({ ...base, captureInput: 'encrypt' });
  ids.encrypted = await decide(SOUND, 'applicant-encrypted');
  spans.push(...exporter.getFinishedSpans());
  instrumentation.setConfig({ ...base, captureInput: 'hash' });
  ids.hashed = await decide(SOUND, 'applicant-hashed');
  spans.push(...exporter.getFinishedSpans());
  instrumentation.disable();
  await provider.shutdown();
  const store = await openStore({ dataDir: path.join(root, '.decisiontrail', 'data') });
  try {
    await store.insertSpans(spans.map(spanRecordFromReadableSpan));
  } finally {
    await store.close();
  }
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('reproduce --model (ONNX)', () => {
  it('re-runs a fully captured decision with the recorded model: same weights, same outcome, exit 0', async () => {
    const result = await run('reproduce', ids.full, '--model', 'credit-v1.onnx', '--json');
    expect(result.code, result.stderr).toBe(0);
    const out = json<ReproduceJson>(result);
    const expected = v1Outcome(RISKY);
    const sha = createHash('sha256').update(readFileSync(v1)).digest('hex');
    expect(out.rerun).toMatchObject({
      verdict: 'reproduced',
      reasons: [],
      model: { weightsHash: sha, recordedWeightsHash: sha, weightsMatch: true },
      recorded: { outcome: expected.outcome },
      rerun: {
        outcome: expected.outcome,
        classIndex: String(CREDIT_LABELS.indexOf(expected.outcome as 'reject')),
      },
    });
    expect(out.rerun.rerun!.confidence).toBeCloseTo(expected.confidence, 5);
    const text = await run('reproduce', ids.full, '--model', 'credit-v1.onnx');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`weights        ${sha} (the recorded hash)`);
    expect(text.stdout).toMatch(
      new RegExp(`^ {2}outcome {8}${expected.outcome} \\(class \\d\\); recorded ${expected.outcome}$`, 'm'),
    );
    expect(text.stdout).toContain(
      'Reproduced: the recorded model gave the recorded outcome on the recorded input.',
    );
  });

  it('reads the outcome as labelled: labels in another order decide otherwise — not reproduced, exit 1', async () => {
    const result = await run(
      'reproduce',
      ids.full,
      '--model',
      'credit-v1.onnx',
      '--labels',
      'approve,reject',
      '--json',
    );
    expect(result.code).toBe(1);
    const out = json<ReproduceJson>(result);
    const expected = v1Outcome(RISKY).outcome;
    const swapped = expected === 'approve' ? 'reject' : 'approve';
    expect(out.rerun.verdict).toBe('not reproduced');
    expect(out.rerun.rerun!.outcome).toBe(swapped);
    expect(out.rerun.reasons[0]).toContain(`the record says ${expected}`);
  });

  it('another model file is not the recorded model: cannot re-run, exit 9, nothing run', async () => {
    const result = await run('reproduce', ids.full, '--model', 'credit-v2.onnx', '--json');
    expect(result.code).toBe(9);
    const out = json<ReproduceJson>(result);
    expect(out.rerun.verdict).toBe('cannot re-run');
    expect(out.rerun.model.weightsMatch).toBe(false);
    expect(out.rerun.model.weightsHash).toBe(createHash('sha256').update(readFileSync(v2)).digest('hex'));
    expect(out.rerun.rerun).toBeNull();
    expect(out.rerun.reasons[0]).toMatch(/^the file is not the model that decided/);
  });

  it('a missing file, or one that is not ONNX: cannot re-run, exit 9', async () => {
    const missing = await run('reproduce', ids.full, '--model', 'nowhere.onnx');
    expect(missing.code).toBe(9);
    expect(missing.stdout).toMatch(/^Cannot re-run: the model file cannot be read: .*nowhere\.onnx/m);
    const notOnnx = await run('reproduce', ids.full, '--model', '.decisiontrail/keys', '--json');
    expect(notOnnx.code).toBe(9);
  });

  it('decrypts an encrypted input with the subject’s key; once the key is erased it cannot', async () => {
    const before = await run('reproduce', ids.encrypted, '--model', 'credit-v1.onnx', '--json');
    expect(before.code, before.stdout + before.stderr).toBe(0);
    expect(json<ReproduceJson>(before).rerun.rerun!.outcome).toBe(v1Outcome(SOUND).outcome);
    expect((await run('erase', '--subject', 'applicant-encrypted', '--reason', 'test')).code).toBe(0);
    const after = await run('reproduce', ids.encrypted, '--model', 'credit-v1.onnx', '--json');
    expect(after.code).toBe(9);
    const out = json<ReproduceJson>(after);
    expect(out.rerun.reasons[0]).toMatch(/^the recorded input is not readable: key \S+ is not held/);
  });

  it('an input kept only as a keyed hash cannot be re-run, exit 9', async () => {
    const result = await run('reproduce', ids.hashed, '--model', 'credit-v1.onnx');
    expect(result.code).toBe(9);
    expect(result.stdout).toContain(
      'Cannot re-run: the input was captured as hash, not in full or encrypted',
    );
  });

  it('without --model prints the recipe only (exit 0); --labels alone is a usage error', async () => {
    expect((await run('reproduce', ids.hashed)).code).toBe(0);
    const bad = await run('reproduce', ids.full, '--labels', 'a,b');
    expect(bad.code).toBe(2);
    expect(isOneLineError(bad)).toBe(true);
  });
});

describe('provenance of an ONNX decision', () => {
  interface Fact {
    value: string;
    from: string;
  }
  interface TimelineJson {
    decision: { provenance: Record<string, Fact | null> | null };
  }

  it('the timeline shows the weights hash of the file and the training data its metadata names', async () => {
    const result = await run('timeline', ids.full, '--json');
    expect(result.code, result.stderr).toBe(0);
    const provenance = json<TimelineJson>(result).decision.provenance!;
    expect(provenance['weightsHash']).toEqual({
      value: createHash('sha256').update(readFileSync(v1)).digest('hex'),
      from: 'decision',
    });
    // The credit model's metadata_props say training_dataset = loans-2024q4 for v1, and nothing of version or hash.
    expect(provenance['trainingDataset']).toEqual({
      value: 'loans-2024q4 (version not recorded; hash not recorded)',
      from: 'decision',
    });
    expect(provenance['configHash']).toBeNull();
    const text = await run('timeline', ids.full);
    expect(text.stdout).toMatch(
      /^ {2}provenance {3}weights hash: [0-9a-f]{64} · training data set: loans-2024q4 \(version not recorded; hash not recorded\)/m,
    );
    expect(text.stdout).toMatch(/^ {2}provenance .* · not recorded: config hash, /m);
    const noVerify = json<TimelineJson>(await run('timeline', ids.full, '--no-verify', '--json'));
    expect(noVerify.decision.provenance).toBeNull();
  });
});
