import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  configureAudit,
  decision,
  formatDecisionReference,
  parseDecisionReference,
  recordDeployment,
  recordFeedback,
  recordOversight,
  withAuditContext,
  withSubject,
} from '@decisiontrail/instrumentation';
import type { DataKey, KeyStore } from '@decisiontrail/instrumentation';
import { installTestTracing } from '../helpers/tracing.ts';

const tracing = installTestTracing();
const KEY = 'unit-test-hmac-key';

beforeEach(() => {
  tracing.reset();
  configureAudit({
    hmacKey: KEY,
    hmacKeyId: 'unit-key',
    models: { 'credit-v1': { riskLevel: 'high', purpose: 'credit scoring' } },
  });
});

describe('decision()', () => {
  it('records a synchronous decision with audit attributes from options, config and context', () => {
    const result = withAuditContext(
      { subjectId: 'subj-1', actorId: 'clerk-7', sessionId: 'sess-9', fairnessGroup: 'g1' },
      () =>
        decision(
          {
            modelId: 'credit-v1',
            version: '1.0.0',
            input: { income: 52000 },
            attributes: { 'app.branch': 'north', 'audit.record.type': 'spoofed' },
          },
          (handle) => {
            handle.setOutcome('approve');
            handle.setConfidence(0.87);
            handle.setExplanation('income above threshold');
            handle.setOutput({ score: 0.87 });
            return 'approved';
          },
        ),
    );
    expect(result).toBe('approved');
    const [span] = tracing.spans();
    expect(span?.name).toBe('audit.decision credit-v1');
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    expect(span?.attributes).toMatchObject({
      'audit.record.type': 'decision',
      'app.branch': 'north',
      'audit.model.id': 'credit-v1',
      'audit.model.version': '1.0.0',
      'audit.decision.risk_level': 'high',
      'audit.decision.purpose': 'credit scoring',
      'audit.decision.outcome': 'approve',
      'audit.decision.confidence': 0.87,
      'audit.decision.explanation': 'income above threshold',
      'audit.subject.id': 'subj-1',
      'audit.actor.id': 'clerk-7',
      'audit.actor.type': 'user',
      'session.id': 'sess-9',
      'audit.fairness.group': 'g1',
      'audit.input.hash_key_id': 'unit-key',
      'audit.input.capture_mode': 'hash',
      'audit.output.capture_mode': 'hash',
    });
    expect(span?.attributes['audit.decision.id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(span?.attributes['audit.input.hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(span?.attributes)).not.toContain('52000');
  });

  it('returns the promise of an async fn and ends the span when it settles', async () => {
    const promise = decision({ modelId: 'm' }, async (handle) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(trace.getActiveSpan()?.spanContext().spanId).toBe(handle.reference.spanId);
      return 42;
    });
    expect(tracing.spans()).toHaveLength(0);
    await expect(promise).resolves.toBe(42);
    expect(tracing.spans()).toHaveLength(1);
    // Without input or output, both capture modes still say what was recorded: nothing.
    expect(tracing.spans()[0]?.attributes).toMatchObject({
      'audit.input.capture_mode': 'none',
      'audit.output.capture_mode': 'none',
    });
  });

  it('records thrown and rejected errors and passes them on unchanged', async () => {
    const boom = new RangeError('bad feature');
    expect(() =>
      decision({ modelId: 'm' }, () => {
        throw boom;
      }),
    ).toThrow(boom);
    await expect(decision({ modelId: 'm' }, () => Promise.reject(new TypeError('late')))).rejects.toThrow(
      'late',
    );
    const [sync, async] = tracing.spans();
    expect(sync?.status.code).toBe(SpanStatusCode.ERROR);
    expect(sync?.attributes['error.type']).toBe('RangeError');
    expect(async?.attributes['error.type']).toBe('TypeError');
  });

  it('fails open: a keystore that throws costs the record its content, never the caller its result', () => {
    const broken: KeyStore = {
      getOrCreateKey: (): DataKey => {
        throw new Error('keystore offline');
      },
      getKey: () => undefined,
      deleteSubjectKey: () => false,
      listKeyIds: () => [],
    };
    configureAudit({ hmacKey: KEY, captureInput: 'encrypt', captureOutput: 'encrypt', keyStore: broken });
    const result = decision({ modelId: 'm', input: 'x' }, (handle) => {
      handle.setOutput('y');
      return 'ok';
    });
    expect(result).toBe('ok');
    // The decision is still recorded, with its hashes, only without the ciphertext.
    const [span] = tracing.spans();
    expect(span?.attributes).toMatchObject({
      'audit.input.capture_mode': 'none',
      'audit.output.capture_mode': 'none',
    });
    expect(span?.attributes['audit.input.hash']).toBeUndefined();
    expect(span?.attributes['audit.input.ciphertext']).toBeUndefined();
  });

  it('keeps hashes stable under one key and different under another', () => {
    const hashOf = () => {
      tracing.reset();
      decision({ modelId: 'm', input: 'same input' }, () => undefined);
      return tracing.spans()[0]?.attributes['audit.input.hash'];
    };
    const first = hashOf();
    expect(hashOf()).toBe(first);
    configureAudit({ hmacKey: 'another key' });
    expect(hashOf()).not.toBe(first);
  });
});

describe('oversight, feedback and deployment records', () => {
  it('link to the decision by id and span link, from a serialized reference', () => {
    const reference = withSubject('subj-2', () =>
      decision({ modelId: 'credit-v1' }, (handle) => handle.reference),
    );
    const wire = formatDecisionReference(reference);
    expect(parseDecisionReference(wire)).toEqual(reference);
    expect(parseDecisionReference(JSON.stringify(reference))).toEqual(reference);

    recordOversight({
      decision: parseDecisionReference(wire),
      action: 'override',
      reviewer: 'r-1',
      reason: 'docs',
      newOutcome: 'reject',
    });
    recordFeedback({ decision: reference, correct: false, actualOutcome: 'default', source: 'collections' });
    const deploymentId = recordDeployment({
      modelId: 'credit-v1',
      version: '2.0.0',
      previousVersion: '1.0.0',
      environment: 'prod',
      changelog: 'retrained',
      weightsHash: 'sha256:9f2c',
      configHash: 'sha256:41aa',
    });

    const [, oversight, feedback, deployment] = tracing.spans();
    expect(oversight?.name).toBe('audit.oversight');
    expect(oversight?.attributes).toMatchObject({
      'audit.record.type': 'oversight',
      'audit.decision.id': reference.decisionId,
      'audit.oversight.action': 'override',
      'audit.oversight.reviewer': 'r-1',
      'audit.oversight.reason': 'docs',
      'audit.oversight.new_outcome': 'reject',
    });
    expect(oversight?.links[0]?.context).toMatchObject({
      traceId: reference.traceId,
      spanId: reference.spanId,
    });
    expect(feedback?.attributes).toMatchObject({
      'audit.record.type': 'feedback',
      'audit.decision.id': reference.decisionId,
      'audit.feedback.correct': false,
      'audit.feedback.actual_outcome': 'default',
    });
    expect(feedback?.links[0]?.context.spanId).toBe(reference.spanId);
    expect(deployment?.attributes).toMatchObject({
      'audit.record.type': 'deployment',
      'audit.deployment.id': deploymentId,
      'audit.model.id': 'credit-v1',
      'audit.model.version': '2.0.0',
      'audit.deployment.previous_version': '1.0.0',
      'audit.model.weights_hash': 'sha256:9f2c',
      'audit.model.config_hash': 'sha256:41aa',
    });
  });

  it('carry the decided model from the reference, also through its string form', () => {
    const reference = decision({ modelId: 'credit.v2', version: '3.1.0' }, (handle) => handle.reference);
    expect(reference).toMatchObject({ modelId: 'credit.v2', modelVersion: '3.1.0' });
    const wire = formatDecisionReference(reference);
    expect(wire.split('.')).toHaveLength(7);
    expect(parseDecisionReference(wire)).toEqual(reference);
    expect(parseDecisionReference(JSON.stringify(reference))).toEqual(reference);

    recordOversight({ decision: parseDecisionReference(wire), action: 'review', reviewer: 'r-2' });
    recordFeedback({ decision: reference, correct: true });
    const [, oversight, feedback] = tracing.spans();
    for (const span of [oversight, feedback]) {
      expect(span?.attributes).toMatchObject({
        'audit.decision.id': reference.decisionId,
        'audit.model.id': 'credit.v2',
        'audit.model.version': '3.1.0',
      });
    }
  });

  it('accept references from older callers without a model, and record no model then', () => {
    const { decisionId, traceId, spanId, traceFlags } = decision(
      { modelId: 'm' },
      (handle) => handle.reference,
    );
    const older = `dt1.${decisionId}.${traceId}.${spanId}.${traceFlags.toString(16).padStart(2, '0')}`;
    expect(parseDecisionReference(older)).toEqual({ decisionId, traceId, spanId, traceFlags });
    recordOversight({ decision: parseDecisionReference(older), action: 'approve', reviewer: 'r-3' });
    recordFeedback({ decision: { decisionId, traceId, spanId, traceFlags }, correct: false });
    const [, oversight, feedback] = tracing.spans();
    expect(oversight?.attributes['audit.decision.id']).toBe(decisionId);
    expect(oversight?.attributes).not.toHaveProperty('audit.model.id');
    expect(feedback?.attributes).not.toHaveProperty('audit.model.id');
    expect(feedback?.attributes).not.toHaveProperty('audit.model.version');
  });

  it('rejects malformed references and unknown actions with typed errors', () => {
    expect(() => parseDecisionReference('dt1.nope')).toThrow(
      expect.objectContaining({ code: 'INVALID_DECISION_REFERENCE' }),
    );
    expect(() => parseDecisionReference('{"decisionId":1}')).toThrow(
      expect.objectContaining({ code: 'INVALID_DECISION_REFERENCE' }),
    );
    const valid = formatDecisionReference(decision({ modelId: 'm' }, (handle) => handle.reference));
    // Six segments (a model without its version field) and an undecodable model are refused.
    expect(() => parseDecisionReference(valid.split('.').slice(0, 6).join('.'))).toThrow(
      expect.objectContaining({ code: 'INVALID_DECISION_REFERENCE' }),
    );
    expect(() => parseDecisionReference(`${valid.split('.').slice(0, 5).join('.')}.%E0%A4%A.1`)).toThrow(
      expect.objectContaining({ code: 'INVALID_DECISION_REFERENCE' }),
    );
    const { decisionId, traceId, spanId, traceFlags } = parseDecisionReference(valid);
    expect(() =>
      parseDecisionReference(JSON.stringify({ decisionId, traceId, spanId, traceFlags, modelId: 7 })),
    ).toThrow(expect.objectContaining({ code: 'INVALID_DECISION_REFERENCE' }));
    const reference = decision({ modelId: 'm' }, (handle) => handle.reference);
    expect(() => recordOversight({ decision: reference, action: 'shrug' as never, reviewer: 'r' })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});
