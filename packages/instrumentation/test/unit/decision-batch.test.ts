import { SpanStatusCode } from '@opentelemetry/api';
import { AlwaysOffSampler } from '@opentelemetry/sdk-trace';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AuditSampler,
  configureAudit,
  decisionBatch,
  DecisionRefusedError,
  InstrumentationError,
  withSubject,
} from '@decisiontrail/instrumentation';
import { installTestTracing } from '../helpers/tracing.ts';

// Everything not an audit record is sampled out: the batch span and its rows must be kept all the same.
const tracing = installTestTracing(new AuditSampler(new AlwaysOffSampler()));

beforeEach(() => {
  tracing.reset();
  configureAudit({ hmacKey: 'batch-key', models: { 'fraud-v3': { riskLevel: 'high' } } });
});

const score = (amount: number) => (amount > 500 ? 'block' : 'allow');

describe('decisionBatch()', () => {
  it('records one decision per row under one batch span, each with its own id, input, outcome and confidence', () => {
    const inputs = [{ amount: 20 }, { amount: 900 }, { amount: 60 }];
    const result = withSubject('card-1', () =>
      decisionBatch({ modelId: 'fraud-v3', version: '3.1', inputs }, (rows) =>
        rows.map((row, index) => {
          const outcome = score(inputs[index]!.amount);
          row.setOutcome(outcome);
          row.setConfidence(index === 1 ? 1 : 0.75);
          row.setOutput({ outcome });
          return outcome;
        }),
      ),
    );
    expect(result).toEqual(['allow', 'block', 'allow']);
    const spans = tracing.spans();
    expect(spans).toHaveLength(4);
    const batch = spans.find((span) => span.name === 'audit.batch fraud-v3')!;
    expect(batch.attributes).toMatchObject({
      'audit.record.type': 'batch',
      'audit.batch.size': 3,
      'audit.model.id': 'fraud-v3',
      'audit.model.version': '3.1',
      'audit.subject.id': 'card-1',
      'audit.input.capture_mode': 'hash',
    });
    const rows = spans
      .filter((span) => span.name === 'audit.decision fraud-v3')
      .sort((a, b) => Number(a.attributes['audit.batch.index']) - Number(b.attributes['audit.batch.index']));
    expect(rows.map((span) => span.attributes['audit.batch.index'])).toEqual([0, 1, 2]);
    expect(rows.map((span) => span.attributes['audit.decision.outcome'])).toEqual([
      'allow',
      'block',
      'allow',
    ]);
    expect(rows[1]!.attributes['audit.decision.confidence']).toBe(1);
    for (const row of rows) {
      expect(row.parentSpanContext?.spanId).toBe(batch.spanContext().spanId);
      expect(row.attributes).toMatchObject({
        'audit.record.type': 'decision',
        'audit.decision.risk_level': 'high',
        'audit.subject.id': 'card-1',
      });
    }
    expect(new Set(rows.map((span) => span.attributes['audit.decision.id'])).size).toBe(3);
    expect(new Set(rows.map((span) => span.attributes['audit.input.hash'])).size).toBe(3);
  });

  it('hands back references a review can use, one per row', () => {
    const references = decisionBatch({ modelId: 'fraud-v3', inputs: [1, 2] }, (rows) =>
      rows.map((row) => row.reference),
    );
    const rows = tracing.spans().filter((span) => span.attributes['audit.record.type'] === 'decision');
    expect(references.map((reference) => reference.decisionId).sort()).toEqual(
      rows.map((span) => span.attributes['audit.decision.id']).sort(),
    );
    expect(references.map((reference) => reference.spanId).sort()).toEqual(
      rows.map((span) => span.spanContext().spanId).sort(),
    );
  });

  it('ends the spans when an async batch settles, and records a rejection on the batch and every row', async () => {
    const failure = new Error('scoring service down');
    await expect(
      decisionBatch({ modelId: 'fraud-v3', inputs: [1, 2] }, async () => {
        await Promise.resolve();
        throw failure;
      }),
    ).rejects.toBe(failure);
    const spans = tracing.spans();
    expect(spans).toHaveLength(3);
    for (const span of spans) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBe('Error');
    }
  });

  it('an empty batch is a batch span of size 0 and no decision', () => {
    expect(decisionBatch({ modelId: 'fraud-v3', inputs: [] }, (rows) => rows.length)).toBe(0);
    const spans = tracing.spans();
    expect(spans.map((span) => span.attributes['audit.batch.size'])).toEqual([0]);
  });

  it('refuses inputs that are not an array before running the model', () => {
    let ran = false;
    const call = () =>
      decisionBatch({ modelId: 'fraud-v3', inputs: 'three rows' as unknown as unknown[] }, () => {
        ran = true;
      });
    expect(call).toThrow(InstrumentationError);
    expect(call).toThrow(/one input per row/);
    expect(ran).toBe(false);
    expect(tracing.spans()).toEqual([]);
  });

  it('fail-closed: refused before the model runs when the records cannot be kept', () => {
    configureAudit({
      hmacKey: 'batch-key',
      recordLossPolicy: 'fail-closed',
      recordAdmission: { canAccept: () => false },
    });
    let ran = false;
    expect(() =>
      decisionBatch({ modelId: 'fraud-v3', inputs: [1, 2, 3] }, () => {
        ran = true;
      }),
    ).toThrow(DecisionRefusedError);
    expect(ran).toBe(false);
    expect(tracing.spans()).toEqual([]);
  });
});

describe('decisionBatch() under fail-closed', () => {
  it('asks for room for every record the call ends: one per row and one for the batch span', () => {
    const asked: (number | undefined)[] = [];
    configureAudit({
      hmacKey: 'batch-key',
      recordLossPolicy: 'fail-closed',
      recordAdmission: {
        canAccept: (records?: number) => {
          asked.push(records);
          return (records ?? 1) <= 3;
        },
      },
    });
    expect(decisionBatch({ modelId: 'fraud-v3', inputs: [1, 2] }, (rows) => rows.length)).toBe(2);
    let ran = false;
    expect(() =>
      decisionBatch({ modelId: 'fraud-v3', inputs: [1, 2, 3] }, () => {
        ran = true;
      }),
    ).toThrow(DecisionRefusedError);
    expect(ran).toBe(false);
    expect(asked).toEqual([3, 4]);
    expect(tracing.spans()).toHaveLength(3);
  });
});
