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
const v1Path = writeCreditModel(join(dir, 'credit-v1.onnx'), 'v1');
const v2Path = writeCreditModel(join(dir, 'credit-v2.onnx'), 'v2');
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
    expect(probabilities[1]).toBeCloseTo(creditApprovalProbability(applicant, 'v1'), 5);
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
    const v2 = await ort.InferenceSession.create(buildCreditModel('v2'));
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
