import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AiAuditInstrumentation,
  decision,
  DecisionRefusedError,
  recordDeployment,
  withSubject,
} from '@decisiontrail/instrumentation';
import {
  buildCreditModel,
  CREDIT_LABELS,
  CREDIT_MODEL_ID,
  creditApprovalProbability,
  writeCreditModel,
} from '../../../../test/support/onnx/credit-model.ts';
import { installTestTracing, waitForSpans } from '../helpers/tracing.ts';

const tracing = installTestTracing();
const instrumentation = new AiAuditInstrumentation({
  hmacKey: 'onnx-key',
  models: {
    [CREDIT_MODEL_ID]: { riskLevel: 'high', purpose: 'consumer credit', labels: [...CREDIT_LABELS] },
  },
});
instrumentation.manuallyInstrument(ort);

const dir = mkdtempSync(join(tmpdir(), 'dt-onnx-'));
const v1Path = writeCreditModel(join(dir, 'credit-v1.onnx'), '1.0.0');
const v2Path = writeCreditModel(join(dir, 'credit-v2.onnx'), '2.0.0');
afterAll(() => {
  instrumentation.disable();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => tracing.reset());

const applicant = [4.5, 0.45, 1, 3];
const features = (values: number[]) => ({
  features: new ort.Tensor('float32', Float32Array.from(values), [1, 4]),
});

describe('onnxruntime-node InferenceSession.run', () => {
  it('records an in-process classifier decision with metadata, weights hash, confidence and outcome', async () => {
    const session = await ort.InferenceSession.create(v1Path);
    const outputs = await withSubject('applicant-1', () => session.run(features(applicant)));
    const probabilities = outputs['probabilities']!.data as Float32Array;
    expect(probabilities[1]).toBeCloseTo(creditApprovalProbability(applicant, '1.0.0'), 5);
    const [span] = await waitForSpans(tracing, (spans) => spans.length === 1);
    expect(span!.name).toBe(`audit.decision ${CREDIT_MODEL_ID}`);
    expect(span!.kind).toBe(SpanKind.INTERNAL);
    expect(span!.attributes).toMatchObject({
      'audit.record.type': 'decision',
      'audit.decision.type': 'classification',
      'audit.decision.risk_level': 'high',
      'audit.decision.purpose': 'consumer credit',
      'audit.decision.outcome': 'reject',
      'audit.model.id': CREDIT_MODEL_ID,
      'audit.model.version': '1.0.0',
      'audit.model.type': 'classifier',
      'audit.model.framework': 'onnxruntime',
      'audit.model.framework_version': '1.30.0',
      'audit.model.weights_hash': createHash('sha256').update(readFileSync(v1Path)).digest('hex'),
      'audit.subject.id': 'applicant-1',
    });
    expect(span!.attributes['audit.decision.confidence']).toBeCloseTo(
      Math.max(probabilities[0]!, probabilities[1]!),
      5,
    );
    expect(span!.attributes['audit.input.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(span!.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tells v1 and v2 apart by version and weights hash, also for models loaded from bytes', async () => {
    const v1 = await ort.InferenceSession.create(v1Path);
    const v2 = await ort.InferenceSession.create(buildCreditModel('2.0.0'));
    await v1.run(features(applicant));
    await v2.run(features(applicant));
    const [first, second] = await waitForSpans(tracing, (spans) => spans.length === 2);
    expect(first!.attributes['audit.model.version']).toBe('1.0.0');
    expect(second!.attributes['audit.model.version']).toBe('2.0.0');
    expect(second!.attributes['audit.model.weights_hash']).toBe(
      createHash('sha256').update(readFileSync(v2Path)).digest('hex'),
    );
    // The worse model approves the risky applicant v1 rejects.
    expect(first!.attributes['audit.decision.outcome']).toBe('reject');
    expect(second!.attributes['audit.decision.outcome']).toBe('approve');
  });

  it('records a failed run as an error span and rethrows', async () => {
    const session = await ort.InferenceSession.create(v1Path);
    await expect(session.run({ wrong_input: features(applicant).features })).rejects.toThrow();
    const [span] = await waitForSpans(tracing, (spans) => spans.length === 1);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBeTypeOf('string');
  });

  it('nests under a manual decision() and sits next to deployment records', async () => {
    const session = await ort.InferenceSession.create(v1Path);
    recordDeployment({ modelId: CREDIT_MODEL_ID, version: '1.0.0', environment: 'test' });
    await decision({ modelId: 'loan-officer-policy', input: { applicant } }, async (handle) => {
      await session.run(features(applicant));
      handle.setOutcome('refer to human');
    });
    const spans = await waitForSpans(tracing, (all) => all.length === 3);
    const policy = spans.find((span) => span.name === 'audit.decision loan-officer-policy')!;
    const model = spans.find((span) => span.name === `audit.decision ${CREDIT_MODEL_ID}`)!;
    expect(model.parentSpanContext?.spanId).toBe(policy.spanContext().spanId);
  });
});

describe('training data from the model metadata', () => {
  /** One `metadata_props` entry (ModelProto field 14), appended to a model: protobuf fields may come in any order. */
  const metadataEntry = (key: string, value: string): Buffer => {
    const text = (field: number, s: string) => {
      const bytes = Buffer.from(s, 'utf8');
      return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
    };
    const entry = Buffer.concat([text(1, key), text(2, value)]);
    return Buffer.concat([Buffer.from([(14 << 3) | 2, entry.length]), entry]);
  };

  it('records the data set the ONNX metadata names: id (also as training_dataset), version, hash', async () => {
    // The credit model names its data set under the plain `training_dataset` key.
    const plain = await ort.InferenceSession.create(v1Path);
    await plain.run(features(applicant));
    const [first] = await waitForSpans(tracing, (spans) => spans.length === 1);
    expect(first!.attributes['audit.model.training.dataset.id']).toBe('loans-2024q4');
    expect(first!.attributes['audit.model.training.dataset.version']).toBeUndefined();
    tracing.reset();
    const full = await ort.InferenceSession.create(
      Buffer.concat([
        buildCreditModel('1.0.0'),
        metadataEntry('training_dataset_id', 'loans'),
        metadataEntry('training_dataset_version', '2024q4-r2'),
        metadataEntry('training_dataset_hash', 'sha256:' + 'c'.repeat(64)),
      ]),
    );
    await full.run(features(applicant));
    const [second] = await waitForSpans(tracing, (spans) => spans.length === 1);
    expect(second!.attributes).toMatchObject({
      'audit.model.training.dataset.id': 'loans',
      'audit.model.training.dataset.version': '2024q4-r2',
      'audit.model.training.dataset.hash': 'sha256:' + 'c'.repeat(64),
    });
  });

  it('the model configuration wins where it names the data set; the metadata fills what it leaves out', async () => {
    const config = instrumentation.getConfig();
    instrumentation.setConfig({
      ...config,
      models: {
        [CREDIT_MODEL_ID]: {
          labels: [...CREDIT_LABELS],
          provenance: { trainingDataset: { version: 'pinned-7' } },
        },
      },
    });
    try {
      const session = await ort.InferenceSession.create(v1Path);
      await session.run(features(applicant));
      const [span] = await waitForSpans(tracing, (spans) => spans.length === 1);
      expect(span!.attributes['audit.model.training.dataset.id']).toBe('loans-2024q4');
      expect(span!.attributes['audit.model.training.dataset.version']).toBe('pinned-7');
    } finally {
      instrumentation.setConfig(config);
    }
  });
});

describe('drift features', () => {
  it('records the allow-listed columns of the input row by the model’s features metadata, and nothing else', async () => {
    const config = instrumentation.getConfig();
    instrumentation.setConfig({
      ...config,
      captureInput: 'hash',
      models: {
        [CREDIT_MODEL_ID]: {
          labels: [...CREDIT_LABELS],
          // years_employed is not in the model's features: it has no column to come from.
          driftFeatures: ['late_payments', 'income_10k', 'employer'],
        },
      },
    });
    try {
      const session = await ort.InferenceSession.create(v1Path);
      await session.run(features(applicant));
      const [span] = await waitForSpans(tracing, (spans) => spans.length === 1);
      // The credit model's columns: income_10k, debt_to_income, years_employed, late_payments (float32 values).
      expect(JSON.parse(String(span!.attributes['audit.input.features']))).toEqual({
        income_10k: Math.fround(applicant[0]!),
        late_payments: Math.fround(applicant[3]!),
      });
      expect(Object.keys(JSON.parse(String(span!.attributes['audit.input.features'])))).toEqual([
        'income_10k',
        'late_payments',
      ]);
    } finally {
      instrumentation.setConfig(config);
    }
  });

  it('records no features for a model that allow-lists none', async () => {
    const session = await ort.InferenceSession.create(v1Path);
    await session.run(features(applicant));
    const [span] = await waitForSpans(tracing, (spans) => spans.length === 1);
    expect(span!.attributes['audit.input.features']).toBeUndefined();
  });
});

describe('record loss policy', () => {
  it('fail-closed: a run whose record cannot be kept is refused before the session runs', async () => {
    const config = instrumentation.getConfig();
    instrumentation.setConfig({
      ...config,
      recordLossPolicy: 'fail-closed',
      recordAdmission: { canAccept: () => false },
    });
    try {
      const session = await ort.InferenceSession.create(v1Path);
      // Had the session run, these feeds would have made onnxruntime reject with its own error.
      const error = await session
        .run({ wrong_input: features(applicant).features })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DecisionRefusedError);
      expect(error).toMatchObject({ code: 'DECISION_REFUSED', modelId: CREDIT_MODEL_ID });
      expect(tracing.spans()).toEqual([]);
    } finally {
      instrumentation.setConfig(config);
    }
  });
});

describe('batch runs: one decision per row', () => {
  // Late payments this high push the approval probability below float32's smallest value: p(reject) = 1.00.
  const certainReject = [0, 0.9, 0, 100];
  const rowsOf = (count: number, special: Record<number, number[]> = {}) =>
    Array.from(
      { length: count },
      (_, i) => special[i] ?? [2 + (i % 9), (i % 7) / 10, i % 5, i % 4 === 0 ? 2 : 0],
    );
  const batchFeeds = (rows: number[][]) => ({
    features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 4]),
  });
  const expectedOutcome = (row: number[]) =>
    creditApprovalProbability(row, '1.0.0') >= 0.5 ? 'approve' : 'reject';
  // The model's own ArgMax output, the label it gives each row.
  const labelOf = (outputs: Record<string, ort.Tensor>, index: number) =>
    CREDIT_LABELS[Number((outputs['label']!.data as BigInt64Array)[index])];

  async function runBatch(rows: number[][]) {
    const session = await ort.InferenceSession.create(v1Path);
    const outputs = await withSubject('batch-owner', () => session.run(batchFeeds(rows)));
    const spans = await waitForSpans(
      tracing,
      (all) => all.length === rows.length + (rows.length > 1 ? 1 : 0),
    );
    return { outputs, spans };
  }

  function rowsOfBatch(spans: ReturnType<typeof tracing.spans>, size: number) {
    const batch = spans.filter((span) => span.attributes['audit.record.type'] === 'batch');
    expect(batch).toHaveLength(1);
    expect(batch[0]!.name).toBe(`audit.batch ${CREDIT_MODEL_ID}`);
    expect(batch[0]!.attributes).toMatchObject({
      'audit.batch.size': size,
      'audit.model.id': CREDIT_MODEL_ID,
      'audit.model.version': '1.0.0',
      'audit.model.framework': 'onnxruntime',
      'audit.subject.id': 'batch-owner',
    });
    expect(batch[0]!.attributes['audit.decision.id']).toBeUndefined();
    const decisions = spans
      .filter((span) => span.attributes['audit.record.type'] === 'decision')
      .sort((a, b) => Number(a.attributes['audit.batch.index']) - Number(b.attributes['audit.batch.index']));
    expect(decisions).toHaveLength(size);
    for (const [index, span] of decisions.entries()) {
      expect(span.attributes['audit.batch.index']).toBe(index);
      expect(span.parentSpanContext?.spanId).toBe(batch[0]!.spanContext().spanId);
      expect(span.spanContext().traceId).toBe(batch[0]!.spanContext().traceId);
    }
    return { batch: batch[0]!, decisions };
  }

  it('a run on one row stays one decision span, with no batch span', async () => {
    const { spans } = await runBatch([applicant]);
    expect(spans).toHaveLength(1);
    expect(spans[0]!.name).toBe(`audit.decision ${CREDIT_MODEL_ID}`);
    expect(spans[0]!.attributes['audit.batch.index']).toBeUndefined();
    expect(spans[0]!.attributes['audit.decision.outcome']).toBe(expectedOutcome(applicant));
  });

  it('a run on 3 rows records 3 decisions under one batch span, the middle one a reject at p = 1.00', async () => {
    const rows = rowsOf(3, { 1: certainReject });
    const { outputs, spans } = await runBatch(rows);
    const { batch, decisions } = rowsOfBatch(spans, 3);
    const probabilities = outputs['probabilities']!.data as Float32Array;
    expect(probabilities[2]).toBe(1);
    expect(decisions[1]!.attributes['audit.decision.outcome']).toBe('reject');
    expect(decisions[1]!.attributes['audit.decision.confidence']).toBe(1);
    for (const [index, span] of decisions.entries()) {
      expect(span.name).toBe(`audit.decision ${CREDIT_MODEL_ID}`);
      expect(span.attributes).toMatchObject({
        'audit.decision.type': 'classification',
        'audit.decision.risk_level': 'high',
        'audit.decision.outcome': labelOf(outputs, index),
        'audit.model.weights_hash': batch.attributes['audit.model.weights_hash'],
        'audit.subject.id': 'batch-owner',
      });
      expect(span.attributes['audit.decision.confidence']).toBeCloseTo(
        Math.max(probabilities[index * 2]!, probabilities[index * 2 + 1]!),
        6,
      );
      expect(span.attributes['audit.input.hash']).toMatch(/^[0-9a-f]{64}$/);
      expect(span.attributes['audit.output.hash']).toMatch(/^[0-9a-f]{64}$/);
    }
    const distinct = (name: string) => new Set(decisions.map((span) => span.attributes[name])).size;
    expect(distinct('audit.decision.id')).toBe(3);
    expect(distinct('audit.input.hash')).toBe(3);
    expect(distinct('audit.output.hash')).toBe(3);
    // The call's own hash is of all rows together: none of the rows'.
    expect(batch.attributes['audit.input.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(decisions.map((span) => span.attributes['audit.input.hash'])).not.toContain(
      batch.attributes['audit.input.hash'],
    );

    // A row's input hash is the hash of that row run on its own.
    tracing.reset();
    const alone = await runBatch([certainReject]);
    expect(alone.spans[0]!.attributes['audit.input.hash']).toBe(decisions[1]!.attributes['audit.input.hash']);
  });

  it('a run on 1,000 rows records 1,000 decisions, each with its own row’s outcome and confidence', async () => {
    const rows = rowsOf(1000, { 500: certainReject });
    const { outputs, spans } = await runBatch(rows);
    expect(spans).toHaveLength(1001);
    const { decisions } = rowsOfBatch(spans, 1000);
    const probabilities = outputs['probabilities']!.data as Float32Array;
    for (const [index, span] of decisions.entries()) {
      expect(span.attributes['audit.decision.outcome']).toBe(labelOf(outputs, index));
      expect(span.attributes['audit.decision.confidence']).toBeCloseTo(
        Math.max(probabilities[index * 2]!, probabilities[index * 2 + 1]!),
        6,
      );
    }
    expect(decisions[500]!.attributes).toMatchObject({
      'audit.decision.outcome': 'reject',
      'audit.decision.confidence': 1,
    });
    expect(new Set(decisions.map((span) => span.attributes['audit.decision.id'])).size).toBe(1000);
    const outcomes = new Set(decisions.map((span) => span.attributes['audit.decision.outcome']));
    expect(outcomes).toEqual(new Set(['approve', 'reject']));
  });

  it('a failed batch run marks the batch span and every row failed, with no outcome', async () => {
    const session = await ort.InferenceSession.create(v1Path);
    const rows = rowsOf(3);
    // Three rows of five features: the model takes four, so onnxruntime rejects the run.
    const bad = { features: new ort.Tensor('float32', new Float32Array(15), [3, 5]) };
    await expect(session.run(bad)).rejects.toThrow();
    const spans = await waitForSpans(tracing, (all) => all.length === rows.length + 1);
    for (const span of spans) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBeTypeOf('string');
      expect(span.attributes['audit.decision.outcome']).toBeUndefined();
    }
    expect(spans.filter((span) => span.attributes['audit.record.type'] === 'decision')).toHaveLength(3);
  });

  it('tells onDecision of every row', async () => {
    const config = instrumentation.getConfig();
    const seen: string[] = [];
    instrumentation.setConfig({ ...config, onDecision: (reference) => seen.push(reference.decisionId) });
    try {
      const { spans } = await runBatch(rowsOf(3));
      const { decisions } = rowsOfBatch(spans, 3);
      expect(seen.sort()).toEqual(decisions.map((span) => span.attributes['audit.decision.id']).sort());
    } finally {
      instrumentation.setConfig(config);
    }
  });
});

describe('record loss policy for batch runs', () => {
  it('fail-closed: a batch run asks room for every row and the call, and is refused whole before it runs', async () => {
    const config = instrumentation.getConfig();
    const asked: (number | undefined)[] = [];
    instrumentation.setConfig({
      ...config,
      recordLossPolicy: 'fail-closed',
      recordAdmission: {
        canAccept: (records?: number) => {
          asked.push(records);
          return (records ?? 1) <= 3;
        },
      },
    });
    try {
      const session = await ort.InferenceSession.create(v1Path);
      await session.run(features(applicant));
      const threeRows = {
        features: new ort.Tensor(
          'float32',
          Float32Array.from([...applicant, ...applicant, ...applicant]),
          [3, 4],
        ),
      };
      const error = await session.run(threeRows).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DecisionRefusedError);
      expect(asked).toEqual([1, 4]);
      const spans = await waitForSpans(tracing, (all) => all.length >= 1);
      expect(spans.map((span) => span.attributes['audit.batch.index'])).toEqual([undefined]);
    } finally {
      instrumentation.setConfig(config);
    }
  });
});
